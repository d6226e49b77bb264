#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# cftcp against the Linux TCP stack itself, through tools/cftcp-bridge: a
# cftcp namespace (10.20.0.1) and a Linux TCP namespace (10.20.0.2) joined
# by a veth pair whose TCP end carries the bridge's tc programs (253 -> 6
# on the way in, 6 -> 253 on the way out).  cftcp_xfer moves a verified
# byte pattern both ways at once (each end half-closes when it has sent
# all), over cftcp on one side and AF_INET TCP on the other:
#   cftcp_to_tcp       cftcp client, TCP server, 16 MiB each way; the
#                      client closes first and is in TIME_WAIT in
#                      /proc/net/cftcp
#   cftcp_to_tcp_pc    the same with the TCP server closing first: TIME_WAIT
#                      in /proc/net/tcp
#   tcp_to_cftcp       TCP client, cftcp server, 16 MiB each way, the
#                      client closes first: TIME_WAIT in /proc/net/tcp
#   tcp_to_cftcp_pc    the cftcp server closes first: TIME_WAIT in
#                      /proc/net/cftcp
#   netem              2% loss and 25% reordering both ways, 2 MiB each
#                      way in both directions of opening; cftcp and TCP
#                      both retransmitted (RetransSegs)
#   no_bridge          without the bridge the same connect fails (the
#                      programs are what makes it work)

. "$(dirname "$0")/lib.sh"

A=cfbr-a-$$
B=cfbr-b-$$
BRIDGE=$here/cftcp-bridge
export CFTCP_BRIDGE_OBJ=$here/cftcp_bridge.bpf.o
SIZE=16M

ns_new $A && ns_new $B || { echo "FAIL: namespaces"; exit 1; }
veth_pair $A 10.20.0.1 $B 10.20.0.2 || { echo "FAIL: veth pair"; exit 1; }
# Permanent neighbours: netem must not eat the ARP of a connect.
mac0=$(ip -n $A link show veth0 | awk '/ether/ { print $2 }')
mac1=$(ip -n $B link show veth1 | awk '/ether/ { print $2 }')
ip -n $A neigh replace 10.20.0.2 lladdr "$mac1" dev veth0 nud permanent
ip -n $B neigh replace 10.20.0.1 lladdr "$mac0" dev veth1 nud permanent

if ! ip netns exec $B "$BRIDGE" attach veth1 >"$tmp/attach" 2>&1; then
	echo "FAIL: cftcp-bridge attach:"
	show "$tmp/attach"
	exit 1
fi
ip netns exec $B "$BRIDGE" status veth1 >"$tmp/status" 2>&1
if grep -q 'cftcp_to_tcp' "$tmp/status" && grep -q 'tcp_to_cftcp' "$tmp/status"; then
	pass "cftcp-bridge attach: ingress cftcp_to_tcp, egress tcp_to_cftcp on veth1"
else
	fail "cftcp-bridge status does not show both programs"
	show "$tmp/status"
fi

counter()
{
	in_ns "$1" awk -v n="$3" -v pre="$2:" '
	$1 == pre && !names { for (i = 2; i <= NF; i++) idx[$i] = i; names = 1; next }
	$1 == pre && names { print $(idx[n]); exit }' "$4"
}

# xfer NAME SERVER_NS SERVER_FAM CLIENT_NS CLIENT_FAM SERVER_ADDR PORT
#      SIZE PASSIVE(server|client) TW_NS TW_TABLE (- -: no TIME_WAIT check)
xfer()
{
	name=$1 sns=$2 sfam=$3 cns=$4 cfam=$5 addr=$6 port=$7 size=$8
	pc=$9 twns=${10} twtab=${11}
	sflags="" cflags=""
	[ "$pc" = server ] && sflags=-P
	[ "$pc" = client ] && cflags=-P
	ip netns exec "$sns" "$XFER" -f "$sfam" -s -b "$addr" -p "$port" \
		-n "$size" -t 120 $sflags >"$tmp/$name.s" 2>&1 &
	spid=$!
	bg_add $spid
	ip netns exec "$cns" "$XFER" -f "$cfam" -c "$addr" -p "$port" \
		-n "$size" -w 10 -t 120 $cflags >"$tmp/$name.c" 2>&1
	crc=$?
	bg_wait $spid
	src=$?
	if [ $crc -ne 0 ] || [ $src -ne 0 ]; then
		fail "$name: client exit $crc, server exit $src"
		show "$tmp/$name.c" "$tmp/$name.s"
		return 1
	fi
	if [ "$twtab" = - ]; then
		pass "$name: $size each way verified ($cfam client, $sfam server)"
		return 0
	fi
	hex=$(printf '%04X' "$port")
	if in_ns "$twns" awk -v p=":$hex" 'NR > 1 && ($2 ~ p "$" || $3 ~ p "$") && $4 == "06"' \
			"$twtab" | grep -q .; then
		pass "$name: $size each way verified ($cfam client, $sfam server), TIME_WAIT in $twtab"
	else
		fail "$name: no TIME_WAIT entry in $twtab"
		in_ns "$twns" cat "$twtab" | show
		return 1
	fi
}

XFER="$here/cftcp_xfer"
xfer cftcp_to_tcp $B tcp $A cftcp 10.20.0.2 6001 $SIZE server $A /proc/net/cftcp
xfer cftcp_to_tcp_pc $B tcp $A cftcp 10.20.0.2 6002 $SIZE client $B /proc/net/tcp
xfer tcp_to_cftcp $A cftcp $B tcp 10.20.0.1 6003 $SIZE server $B /proc/net/tcp
xfer tcp_to_cftcp_pc $A cftcp $B tcp 10.20.0.1 6004 $SIZE client $A /proc/net/cftcp

# --- netem on both ends: loss and reordering; lower RTO floors both sides.
echo 20 | ip netns exec $A tee /proc/sys/net/cftcp/rto_min_ms >/dev/null
echo 100 | ip netns exec $A tee /proc/sys/net/cftcp/rto_initial_ms >/dev/null
ip -n $B route replace 10.20.0.0/24 dev veth1 rto_min 20ms
ip -n $A route replace 10.20.0.0/24 dev veth0 rto_min 20ms
tc -n $A qdisc add dev veth0 root netem loss 2% delay 1ms reorder 75% 50%
# veth1 holds the bridge's clsact; netem goes at its root, a separate hook.
tc -n $B qdisc add dev veth1 root netem loss 2% delay 1ms reorder 75% 50%
cf_before=$(counter $A CfTcp RetransSegs /proc/net/cftcp_stat)
tcp_before=$(counter $B Tcp RetransSegs /proc/net/snmp)
ok_netem=1
# No TIME_WAIT check here: a segment the netem queue held back past the
# passive closer's last ACK draws a RST, which ends the active closer's
# TIME_WAIT (rfc1337 off), as between two Linux TCP hosts.
xfer netem_cftcp_to_tcp $B tcp $A cftcp 10.20.0.2 6005 2M server - - ||
	ok_netem=0
xfer netem_tcp_to_cftcp $A cftcp $B tcp 10.20.0.1 6006 2M server - - ||
	ok_netem=0
cf_after=$(counter $A CfTcp RetransSegs /proc/net/cftcp_stat)
tcp_after=$(counter $B Tcp RetransSegs /proc/net/snmp)
if [ $ok_netem = 1 ] && [ "$cf_after" -gt "$cf_before" ] &&
   [ "$tcp_after" -gt "$tcp_before" ]; then
	pass "netem: cftcp retransmitted $((cf_after - cf_before)), TCP $((tcp_after - tcp_before)) segments, all verified"
else
	fail "netem: cftcp RetransSegs $cf_before -> $cf_after, TCP $tcp_before -> $tcp_after"
fi
tc -n $A qdisc del dev veth0 root
tc -n $B qdisc del dev veth1 root

# --- without the bridge, the cftcp client's SYN reaches no TCP listener.
ip netns exec $B "$BRIDGE" detach veth1
ip netns exec $B "$XFER" -f tcp -s -b 10.20.0.2 -p 6007 -n 1K -t 10 \
	>"$tmp/nb.s" 2>&1 &
spid=$!
bg_add $spid
ip netns exec $A "$XFER" -f cftcp -c 10.20.0.2 -p 6007 -n 1K -t 5 >"$tmp/nb.c" 2>&1
crc=$?
kill $spid 2>/dev/null
bg_wait $spid
if [ $crc -ne 0 ]; then
	pass "no_bridge: without the programs the cftcp client does not connect (exit $crc)"
else
	fail "no_bridge: the cftcp client connected without the bridge"
fi

finish

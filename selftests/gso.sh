#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Super-packets (GSO): 16 MiB each way, every byte verified by cftcp_xfer,
# over a veth pair between two namespaces:
#   - veth_gso: offloads as veth has them: veth passes super-packets on
#     whole, so each end receives far fewer skbs than segments (InSegs,
#     counted per skb as Linux does, below half of SIZE / MSS) while
#     OutSegs counts every segment;
#   - veth_nogso: ethtool -K gso off tso off on both ends: one segment
#     per packet (InSegs at least SIZE / MSS), cut from super-packets in
#     software below IP (IP's bytes out over MTU times its skbs out), as
#     Linux gives TCP segmentation whatever the device;
#   - veth_gro: the same with gro on, so that veth receives through NAPI
#     and GRO, and a 2 ms gro_flush_timeout, so that GRO holds a segment
#     for the next poll as under a NIC's interrupt moderation (veth polls
#     after each segment sent from a process): the segments sent one by
#     one arrive merged (InSegs below half of SIZE / MSS);
#   - veth_swcsum: ethtool -K tx off: super-packets are cut in software
#     before veth, checksums summed in software, and the receiver checks
#     every one (no InCsumErrors);
#   - netem: netem loss, delay, reorder and corrupt on both ends with the
#     offloads on; corrupt makes netem segment super-packets (the GSO
#     callback runs), and the transfer still verifies; checksum errors
#     are seen (InCsumErrors) and lost data resent (RetransSegs).
# With cftcp, two more over a tun device with IFF_VNET_HDR, where tunpeer
# plays the peer and checks what the driver gets (see tunpeer.c):
#   - tun_tso: TUNSETOFFLOAD csum+tso4, a device offering TSO: MSS-sized
#     protocol-253 segments, no GSO request, checksums right once finished
#     as the header asks, sequence numbers and data in order, PSH on the
#     last segment of each 30000-byte write (a super-packet of 21
#     segments) and nowhere else, FIN only at the end; no segment asks
#     the device for its checksum (NEEDS_CSUM), though it offers them;
#   - tun_nocsum: no offloads: the same, every checksum complete.
# The TCP run does the veth cases with Linux TCP, which passes them too.
#
#   gso.sh [cftcp|tcp]      GSO_SIZE overrides the 16M

. "$(dirname "$0")/lib.sh"

fam=${1:-cftcp}
case $fam in
cftcp|tcp) ;;
*) echo "usage: $0 [cftcp|tcp]"; exit 2 ;;
esac
size=${GSO_SIZE:-16M}
bytes=$(echo "$size" | awk '/M$/ { print $0 * 1048576; next }
			      /K$/ { print $0 * 1024; next } { print $0 }')
port=5001
a=gsa-$$
b=gsb-$$
tunpeer=$here/tunpeer
sockctl=$here/sockctl_$fam
[ -x "$sockctl" ] || sockctl=$here/sockctl

tc qdisc add dev lo root netem loss 0% 2>/dev/null &&
	tc qdisc del dev lo root 2>/dev/null ||
	skip "tc netem is not available"

snap()
{
	for x in InSegs OutSegs InCsumErrors RetransSegs; do
		eval "$2_$x=$(counter "$1" "$fam" $x)"
	done
}

# delta WHAT0 WHAT1 NAME
delta()
{
	eval "echo \$((\$$2_$3 - \$$1_$3))"
}

# Neither end saw a segment fail its checksum.
no_csum_errors()
{
	if [ "$(delta a0 a1 InCsumErrors)" -eq 0 ] &&
	   [ "$(delta b0 b1 InCsumErrors)" -eq 0 ]; then
		pass "$what: no checksum errors"
	else
		fail "$what: checksum errors"
	fi
}

# veth_case NAME ETHTOOL NETEM_A NETEM_B
veth_case()
{
	name=$1
	what="$fam $name, $size each way"
	if ! ns_new $a || ! ns_new $b || ! veth_pair $a 10.0.5.1 $b 10.0.5.2
	then
		fail "$what: namespaces and veth"
		ns_del $a
		ns_del $b
		return
	fi
	for x in "$a veth0" "$b veth1"; do
		set -- $x
		if [ -n "$eth" ] &&
		   ! ip netns exec "$1" ethtool -K "$2" $eth >/dev/null 2>&1; then
			fail "$what: ethtool -K $2 $eth"
		fi
		if [ "$name" = veth_gro ] &&
		   ! ip netns exec "$1" sh -c \
			"echo 2000000 >/sys/class/net/$2/gro_flush_timeout"
		then
			fail "$what: gro_flush_timeout on $2"
		fi
		if [ -n "$netem" ]; then
			# shellcheck disable=SC2086 # netem holds several words
			ip netns exec "$1" tc qdisc add dev "$2" root netem \
				$netem || fail "$what: netem $netem"
			if [ "$fam" = cftcp ]; then
				ip netns exec "$1" sh -c \
					'echo 20 >/proc/sys/net/cftcp/rto_min_ms
					 echo 100 >/proc/sys/net/cftcp/rto_initial_ms'
			else
				ip -n "$1" route change 10.0.5.0/24 dev "$2" \
					proto kernel scope link rto_min 20ms
			fi
		fi
	done
	snap $a a0
	snap $b b0
	ip netns exec $a "$XFER" -f "$fam" -s -b 10.0.5.1 -p $port \
		-n "$size" -t 60 >"$tmp/server" 2>&1 &
	spid=$!
	if ! wait_listen $a "$fam" $port; then
		kill $spid 2>/dev/null
		wait $spid
		show "$tmp/server"
		fail "$what: server not listening"
		ns_del $a
		ns_del $b
		return
	fi
	ip netns exec $b "$XFER" -f "$fam" -c 10.0.5.1 -p $port -n "$size" \
		-t 60 >"$tmp/client" 2>&1
	crc=$?
	[ $crc -eq 0 ] || kill $spid 2>/dev/null
	wait $spid
	src=$?
	snap $a a1
	snap $b b1
	show "$tmp/client" "$tmp/server"
	mss=$(awk '/^mss:/ { print $2; exit }' "$tmp/client")
	mss=${mss:-1460}
	segs=$(((bytes + mss - 1) / mss))
	for e in a b; do
		echo "  | $e: InSegs $(delta ${e}0 ${e}1 InSegs)" \
		     "OutSegs $(delta ${e}0 ${e}1 OutSegs)" \
		     "InCsumErrors $(delta ${e}0 ${e}1 InCsumErrors)" \
		     "RetransSegs $(delta ${e}0 ${e}1 RetransSegs)" \
		     "(segments of the data: $segs)"
	done
	if [ $crc -eq 0 ] && [ $src -eq 0 ]; then
		pass "$what: all verified"
	else
		fail "$what: client exit $crc, server exit $src"
	fi
	ina=$(delta a0 a1 InSegs)
	inb=$(delta b0 b1 InSegs)
	case $name in
	veth_gso)
		if [ "$ina" -lt $((segs / 2)) ] && [ "$inb" -lt $((segs / 2)) ]
		then
			pass "$what: super-packets arrived whole (InSegs $ina, $inb < $((segs / 2)))"
		else
			fail "$what: InSegs $ina, $inb: not super-packets"
		fi
		if [ "$(delta a0 a1 OutSegs)" -ge $segs ] &&
		   [ "$(delta b0 b1 OutSegs)" -ge $segs ]; then
			pass "$what: OutSegs counts segments"
		else
			fail "$what: OutSegs below $segs"
		fi ;;
	veth_gro)
		if [ "$ina" -lt $((segs / 2)) ] && [ "$inb" -lt $((segs / 2)) ]
		then
			pass "$what: GRO merged the segments (InSegs $ina, $inb < $((segs / 2)))"
		else
			fail "$what: InSegs $ina, $inb: GRO merged nothing"
		fi
		no_csum_errors ;;
	veth_nogso|veth_swcsum)
		# ip_output() counts each skb once, super-packet or not: bytes
		# over MTU times skbs means some were larger than the MTU.
		if [ $name = veth_nogso ]; then
			for e in a b; do
				ns=$(eval echo \$$e)
				set -- $(ip netns exec "$ns" nstat -asz \
					 IpOutRequests IpExtOutOctets |
					 awk '$1 == "IpOutRequests" { r = $2 }
					      $1 == "IpExtOutOctets" { o = $2 }
					      END { print r + 0, o + 0 }')
				if [ "$2" -gt $((1500 * $1)) ]; then
					pass "$what: $e sent super-packets on a device without GSO ($2 bytes in $1 skbs)"
				else
					fail "$what: $e sent $2 bytes in $1 skbs: none larger than the MTU"
				fi
			done
		fi
		if [ "$ina" -ge $segs ] && [ "$inb" -ge $segs ]; then
			pass "$what: one skb per segment (InSegs $ina, $inb >= $segs)"
		else
			fail "$what: InSegs $ina, $inb < $segs"
		fi
		no_csum_errors ;;
	netem)
		if [ $(($(delta a0 a1 InCsumErrors) + $(delta b0 b1 InCsumErrors))) -gt 0 ]
		then
			pass "$what: corrupted segments were caught"
		else
			fail "$what: no InCsumErrors under netem corrupt"
		fi
		if [ $(($(delta a0 a1 RetransSegs) + $(delta b0 b1 RetransSegs))) -gt 0 ]
		then
			pass "$what: lost data was sent again"
		else
			fail "$what: no RetransSegs under netem loss"
		fi ;;
	esac
	ns_del $a
	ns_del $b
}

# tun_case NAME OFFLOADS
tun_case()
{
	what="$fam $1"
	writes=40
	wsize=30000
	if ! ns_new $a; then
		fail "$what: namespace"
		return
	fi
	ip netns exec $a "$tunpeer" -i tung0 -o "$2" -n $((writes * wsize)) \
		-w $wsize -t 60 >"$tmp/tunpeer" 2>&1 &
	tpid=$!
	i=0
	while ! grep -q ready "$tmp/tunpeer" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if ! ip -n $a addr add 10.9.0.1/24 dev tung0 ||
	   ! ip -n $a link set tung0 up; then
		kill $tpid 2>/dev/null
		wait $tpid
		show "$tmp/tunpeer"
		fail "$what: tun device"
		ns_del $a
		return
	fi
	{
		echo "socket s"
		echo "connect s 10.9.0.2 $port"
		i=0
		while [ $i -lt $writes ]; do
			echo "send s $wsize -> $wsize"
			echo "sleep 0.1"
			i=$((i + 1))
		done
		echo "close s"
	} >"$tmp/script"
	ip netns exec $a "$sockctl" -f "$fam" <"$tmp/script" >"$tmp/sockctl" 2>&1
	crc=$?
	wait $tpid
	trc=$?
	show "$tmp/tunpeer"
	[ $crc -eq 0 ] || show "$tmp/sockctl"
	if [ $crc -eq 0 ] && [ $trc -eq 0 ]; then
		pass "$what: what the driver got was right"
	else
		fail "$what: sockctl exit $crc, tunpeer exit $trc"
	fi
	ns_del $a
}

eth="" netem="" veth_case veth_gso
eth="gso off tso off" netem="" veth_case veth_nogso
eth="gso off tso off gro on" netem="" veth_case veth_gro
eth="tx off" netem="" veth_case veth_swcsum
eth="" netem="loss 1% delay 1ms reorder 25% corrupt 5%" veth_case netem
if [ "$fam" = cftcp ]; then
	# 1.2 MB in 30000-byte writes: 41 data segments of each at least.
	tun_case tun_tso csum,tso4
	tun_case tun_nocsum ""
fi
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two VMs joined by virtio-net, each impairing what it sends on eth0 with
# tc netem (loss, delay with jitter, so reordering, duplication and
# corruption), exchange a byte pattern both ways at once over cftcp, every
# byte verified on both ends. B (the client) ends its stream first; A (the
# server) ends its own only after seeing B's end. Then B shows TIME_WAIT,
# A's connection is gone, neither counted an EstabReset, and both counted
# retransmissions and checksum errors.
#
# 4 MiB each way; 16 MiB with CFTCP_TEST_LONG=1 or "cftcp_test.long=1" in
# CFTCP_VM_APPEND. CFTCP_HOST_FAMILY=tcp runs it over Linux TCP (whose
# payload netem cannot corrupt: its checksum errors are not checked).

. "$(dirname "$0")/lib.bash"

size=4M
bytes=4194304
if [ "${CFTCP_TEST_LONG:-0}" = 1 ] ||
		[[ "${CFTCP_VM_APPEND:-}" == *cftcp_test.long=1* ]]; then
	size=16M
	bytes=16777216
fi
# netem flips a bit of an skb's linear part, once per skb however many
# segments a super-packet holds, and what is there is mostly headers (an
# Ethernet or IP header hit is a drop before cftcp): 5% so that each side
# sees cftcp checksum errors at 4 MiB too (at 0.5% one side counted none
# in one run of ~1,550 skbs, at 2% in one run of ~3,100 segments).
netem="delay 2ms 1ms loss 2% duplicate 1% corrupt 5%"
pcap=$logdir/vm_netem.pcap
log_a=$logdir/vm_netem-a.console
log_b=$logdir/vm_netem-b.console

# Guest shell code, for the family under test: a 20 ms RTO floor, netem on
# eth0, and the lines that report the table and the counters.
if [ "$FAMILY" = cftcp ]; then
	table=/proc/net/cftcp
	setup_a='echo 20 >/proc/sys/net/cftcp/rto_min_ms'
	setup_b='echo 20 >/proc/sys/net/cftcp/rto_min_ms
echo 1 >/proc/sys/net/cftcp/rfc1337'
	counters='grep "^CfTcp:" /proc/net/cftcp_stat'
else
	table=/proc/net/tcp
	setup_a='ip route change 10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 rto_min 20ms'
	setup_b='ip route change 10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.2 rto_min 20ms
echo 1 >/proc/sys/net/ipv4/tcp_rfc1337'
	counters='grep "^Tcp:" /proc/net/snmp'
fi

# The connection's lines in the table: remote port 1389 (5001) on B, local
# port 1389 with a remote end on A.
server="$setup_a
tc qdisc add dev eth0 root netem $netem || exit 1
$XFER -s -b 10.0.0.1 -p 5001 -n $size -P -t 120
st=\$?
i=0
while [ \$i -lt 300 ] && awk 'NR > 1 && \$2 ~ /:1389\$/ && \$3 !~ /:0000\$/ { f = 1 } END { exit !f }' $table; do
	sleep 0.1; i=\$((i + 1))
done
echo 'server table:'; cat $table
$counters
tc -s qdisc show dev eth0
exit \$st"
client="$WAIT_FOR_A
$setup_b
tc qdisc add dev eth0 root netem $netem || exit 1
$XFER -c 10.0.0.1 -p 5001 -n $size -w 60 -t 120
st=\$?
i=0
while [ \$i -lt 100 ] && ! awk 'NR > 1 && \$3 ~ /:1389\$/ && \$4 == \"06\" { f = 1 } END { exit !f }' $table; do
	sleep 0.1; i=\$((i + 1))
done
echo 'client table:'; cat $table
$counters
tc -s qdisc show dev eth0
exit \$st"

status=0
"$VM_PAIR" "${PAIR_OPTS[@]}" --timeout 600 --quiet --pcap "$pcap" \
	--log-a "$log_a" --log-b "$log_b" -- "$server" "$client" || status=$?

fail=0
# value NAME FILE: a counter from the "Prefix: names" / "Prefix: values" pair.
value()
{
	awk -v n="$1" '/^(CfTcp|Tcp):/ {
		if (!h) { for (i = 2; i <= NF; i++) idx[$i] = i; h = 1; next }
		if (n in idx) print $(idx[n]); exit }' "$2"
}

for vm in a b; do
	out=$logdir/vm_netem-$vm.out
	program_output "$logdir/vm_netem-$vm.console" >"$out"
	echo "== VM ${vm^^}:"
	sed 's/^/  /' "$out"
	if ! grep -q "^$FAMILY: sent $bytes received $bytes bytes, all verified" "$out"; then
		echo "FAIL: VM ${vm^^} did not verify $bytes bytes each way"
		fail=1
	fi
	for c in RetransSegs InCsumErrors EstabResets; do
		eval "${c}_$vm=\$(value $c \"\$out\")"
	done
done
[ "$status" = 0 ] || { echo "FAIL: vm-pair exit status $status"; fail=1; }

# A: no line left for the connection (LAST_ACK ended); B: TIME_WAIT.
if sed -n '/^server table:/,/^\(CfTcp\|Tcp\):/p' "$logdir/vm_netem-a.out" |
		awk 'NR > 2 && $2 ~ /:1389$/ && $3 !~ /:0000$/ { f = 1 } END { exit !f }'; then
	echo "FAIL: the server's connection is still in A's table"
	fail=1
fi
if ! sed -n '/^client table:/,/^\(CfTcp\|Tcp\):/p' "$logdir/vm_netem-b.out" |
		awk '$3 ~ /:1389$/ && $4 == "06" { f = 1 } END { exit !f }'; then
	echo "FAIL: the client (first to close) is not in TIME_WAIT on B"
	fail=1
fi
echo "counters A / B: RetransSegs ${RetransSegs_a:-?} / ${RetransSegs_b:-?}," \
     "InCsumErrors ${InCsumErrors_a:-?} / ${InCsumErrors_b:-?}," \
     "EstabResets ${EstabResets_a:-?} / ${EstabResets_b:-?}"
if [ "${EstabResets_a:-x}" != 0 ] || [ "${EstabResets_b:-x}" != 0 ]; then
	echo "FAIL: EstabResets: a connection was reset"
	fail=1
fi
if [ "${RetransSegs_a:-0}" -le 0 ] || [ "${RetransSegs_b:-0}" -le 0 ]; then
	echo "FAIL: RetransSegs did not rise on both VMs"
	fail=1
fi
if [ "$FAMILY" = cftcp ] &&
		{ [ "${InCsumErrors_a:-0}" -le 0 ] || [ "${InCsumErrors_b:-0}" -le 0 ]; }; then
	echo "FAIL: InCsumErrors did not rise on both VMs"
	fail=1
fi

[ $fail -eq 0 ] && echo "PASS: $size each way between two VMs through netem ($netem)"
exit $fail

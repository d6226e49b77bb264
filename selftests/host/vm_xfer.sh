#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two VMs joined by virtio-net: B (client, 10.0.0.2) and A (server,
# 10.0.0.1) exchange 16 MiB each way at once over cftcp, every byte verified
# on both ends; then every segment captured on the link passes pcap_check
# (checksums over the protocol-253 pseudo-header, handshake, teardown).

. "$(dirname "$0")/lib.bash"

size=16M
bytes=16777216
pcap=$logdir/vm_xfer.pcap
log_a=$logdir/vm_xfer-a.console
log_b=$logdir/vm_xfer-b.console

server="$XFER -s -b 10.0.0.1 -p 5001 -n $size -t 300"
client="$WAIT_FOR_A
$XFER -c 10.0.0.1 -p 5001 -n $size -w 60 -t 120"

status=0
"$VM_PAIR" "${PAIR_OPTS[@]}" --quiet --pcap "$pcap" --log-a "$log_a" --log-b "$log_b" \
	-- "$server" "$client" || status=$?

fail=0
for vm in a b; do
	log=$logdir/vm_xfer-$vm.console
	echo "== VM ${vm^^}:"
	program_output "$log" | sed 's/^/  /'
	if ! program_output "$log" |
			grep -q "^$FAMILY: sent $bytes received $bytes bytes, all verified"; then
		echo "FAIL: VM ${vm^^} did not verify $bytes bytes each way"
		fail=1
	fi
done
[ "$status" = 0 ] || { echo "FAIL: vm-pair exit status $status"; fail=1; }

echo "== pcap_check $pcap"
if [ ! -s "$pcap" ]; then
	echo "FAIL: no capture"
	exit 1
fi
out=$("$PCAP_CHECK" -p $PROTO "$pcap" 2>&1)
pc=$?
echo "$out" | tail -n 20
if [ $pc -ne 0 ]; then
	echo "FAIL: pcap_check exit status $pc"
	fail=1
elif ! echo "$out" | grep -q 'closed by FINs'; then
	echo "FAIL: no connection closed by FINs in the capture"
	fail=1
fi

[ $fail -eq 0 ] && echo "PASS: $FAMILY, $size each way between two VMs, capture verified"
exit $fail

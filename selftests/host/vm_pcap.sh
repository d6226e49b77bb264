#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The wire format between two VMs: an echo connection and a 64 KiB exchange
# each way are captured on the link; pcap_check verifies every segment's
# checksum over the IPv4 pseudo-header with protocol 253 and the sequence
# and acknowledgment numbers of each handshake and teardown; tshark, told
# that protocol 253 is TCP, decodes the same SYN, SYN-ACK, ACK and FIN
# segments with the same numbers, and as many segments; the shipped
# dissector scripts/cftcp.lua finds every checksum good, and exactly one bad
# in a copy of the capture with one payload byte flipped.

. "$(dirname "$0")/lib.bash"

command -v tshark >/dev/null || skip "tshark not installed"

pcap=$logdir/vm_pcap.pcap
log_a=$logdir/vm_pcap-a.console
log_b=$logdir/vm_pcap-b.console

server="$XFER -s -1 -b 10.0.0.1 -p 5001 -t 300 && $XFER -s -b 10.0.0.1 -p 5002 -n 64K -t 60"
client="$WAIT_FOR_A
$XFER -c 10.0.0.1 -p 5001 -m 'segments on the wire' -w 60 &&
$XFER -c 10.0.0.1 -p 5002 -n 64K -w 30 -t 60"

status=0
"$VM_PAIR" "${PAIR_OPTS[@]}" --timeout 300 --quiet --pcap "$pcap" --log-a "$log_a" --log-b "$log_b" \
	-- "$server" "$client" || status=$?
fail=0
for vm in a b; do
	echo "== VM ${vm^^}:"
	program_output "$logdir/vm_pcap-$vm.console" | sed 's/^/  /'
done
[ "$status" = 0 ] || { echo "FAIL: vm-pair exit status $status"; fail=1; }
[ -s "$pcap" ] || { echo "FAIL: no capture"; exit 1; }

echo "== pcap_check -l $pcap"
"$PCAP_CHECK" -p $PROTO -l "$pcap" >"$logdir/vm_pcap.check" 2>&1
pc=$?
cat "$logdir/vm_pcap.check"
if [ $pc -ne 0 ]; then
	echo "FAIL: pcap_check exit status $pc"
	fail=1
fi
closed=$(grep -c 'closed by FINs' "$logdir/vm_pcap.check")
if [ "$closed" -lt 2 ]; then
	echo "FAIL: $closed connections closed by FINs, expected 2"
	fail=1
fi

# tshark's view: flags letters, seq, ack, len of each protocol-253 segment
# (not the ones quoted in ICMP errors, whose inner header matches too).
tshark -r "$pcap" -d ip.proto==253,tcp -o tcp.relative_sequence_numbers:FALSE \
	-Y "ip.proto == $PROTO && !icmp" -T fields -e tcp.flags.str -e tcp.seq -e tcp.ack \
	-e tcp.len 2>/dev/null | sed -e 's/\xc2\xb7//g' -e 's/\t/ /g' \
	>"$logdir/vm_pcap.tshark"
echo "== tshark decoded $(wc -l <"$logdir/vm_pcap.tshark") segments"

segs=$(sed -n "s/^\([0-9]*\) segments of protocol $PROTO.*/\1/p" "$logdir/vm_pcap.check")
if [ "$segs" != "$(wc -l <"$logdir/vm_pcap.tshark")" ]; then
	echo "FAIL: pcap_check counted ${segs:-no} segments, tshark $(wc -l <"$logdir/vm_pcap.tshark")"
	fail=1
fi

# Every key segment pcap_check found (SYN, SYN-ACK, handshake ACK, FINs and
# the ACKs of FINs) must be in tshark's decoding, numbers included.
keys=$(grep -E '^[CEUAPRSF]+ [0-9]+ [0-9]+ [0-9]+$' "$logdir/vm_pcap.check")
for kind in S AS A '[A-Z]*F'; do
	if ! echo "$keys" | grep -qE "^$kind "; then
		echo "FAIL: no '$kind' segment among the key segments"
		fail=1
	fi
done
missing=0
while read -r line; do
	[ -n "$line" ] || continue
	if grep -qxF "$line" "$logdir/vm_pcap.tshark"; then
		echo "tshark agrees: $line"
	else
		echo "FAIL: tshark has no segment '$line'"
		missing=$((missing + 1))
	fi
done <<<"$keys"
[ $missing -eq 0 ] || fail=1

# scripts/cftcp.lua, the shipped dissector: every segment's checksum over
# the protocol-253 pseudo-header is good; in a copy with one payload byte
# flipped, exactly that segment is bad.
lua_status()
{
	tshark -X lua_script:"$ROOT/scripts/cftcp.lua" -r "$1" \
		-Y "ip.proto == $PROTO && !icmp" -T fields \
		-e cftcp.checksum.status 2>/dev/null | sort | uniq -c |
		awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }'
}
# Copy pcap $1 to $2 with the last byte of the first whole protocol
# segment with payload flipped.
flip_payload_byte()
{
python3 - "$1" "$2" "$PROTO" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
proto = int(sys.argv[3])
off = 24
while off + 16 <= len(data):
	caplen = struct.unpack_from("<I", data, off + 8)[0]
	frame = off + 16
	ip = frame + 14
	if (caplen > 14 + 40 + 1 and data[frame + 12:frame + 14] == b"\x08\x00" and
	    data[ip + 9] == proto and
	    struct.unpack_from(">H", data, ip + 2)[0] == caplen - 14):
		data[frame + caplen - 1] ^= 0x5a
		break
	off = frame + caplen
open(sys.argv[2], "wb").write(data)
PY
}

lua_check()
{
	local segs got

	segs=$(wc -l <"$logdir/vm_pcap.tshark")
	got=$(lua_status "$pcap")
	echo "== cftcp.lua checksum status (1 good, 0 bad): $got"
	if [ "$got" != "1=$segs" ]; then
		echo "FAIL: cftcp.lua: expected 1=$segs"
		fail=1
	fi
	flip_payload_byte "$pcap" "$logdir/vm_pcap-flipped.pcap"
	got=$(lua_status "$logdir/vm_pcap-flipped.pcap")
	echo "== cftcp.lua on a copy with one byte flipped: $got"
	if [ "$got" != "0=1 1=$((segs - 1))" ]; then
		echo "FAIL: cftcp.lua: expected 0=1 1=$((segs - 1))"
		fail=1
	fi
}
[ "$PROTO" != 253 ] || lua_check

[ $fail -eq 0 ] && echo "PASS: $FAMILY: checksums verified, tshark decodes the same handshakes and teardowns"
exit $fail

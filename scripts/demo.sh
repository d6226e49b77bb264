#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shows cftcp at work between two VMs: A (10.0.0.1) runs an echo server, B
# (10.0.0.2) connects, sends a short message, reads it back and closes.
# cftcp.ko is loaded with dyndbg=+p, so each connection state change appears
# on the consoles.  Afterwards this prints the segments captured on the link
# and each VM's state changes.  Logs and the capture go to build/demo/.
#
# usage: scripts/demo.sh
# env:   CFTCP_KVER, CFTCP_KERNEL, CFTCP_MODDIR, CFTCP_KO, CFTCP_VM_TIMEOUT
#        as for scripts/check.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

PORT=5000
MESSAGE="hello over cftcp"
# The transfer tool of selftests/: A echoes one connection and exits, B sends
# one message, prints the echo and closes, retrying while A is not yet
# listening.  CFTCP_DEMO_SERVER and CFTCP_DEMO_CLIENT replace these commands.
XFER=/selftests/cftcp_xfer
SERVER=${CFTCP_DEMO_SERVER:-"$XFER server 10.0.0.1 $PORT"}
CLIENT=${CFTCP_DEMO_CLIENT:-"$XFER -c 10.0.0.1 -p $PORT -m '$MESSAGE' -w 60"}

kver=${CFTCP_KVER:-$("$ROOT/scripts/install-deps.sh" --print-kver)}
export CFTCP_KVER=$kver
out=$ROOT/build/demo
rm -rf "$out"
mkdir -p "$out"

export CFTCP_INITRD=$out/initramfs.cpio.gz
"$ROOT/scripts/mkinitramfs.sh" --output "$CFTCP_INITRD"

pcap=$out/link.pcap
log_a=$out/cftcp-a.console
log_b=$out/cftcp-b.console

# B waits until A answers pings before it connects.
client_cmd="i=0
until ping -c 1 -W 1 10.0.0.1 >/dev/null 2>&1; do
	i=\$((i + 1)); [ \$i -lt 120 ] || { echo 'A never answered'; exit 1; }
done
$CLIENT"

echo "demo: A serves on 10.0.0.1:$PORT, B sends \"$MESSAGE\"" >&2
status=0
"$ROOT/scripts/vm-pair.sh" --quiet --pcap "$pcap" \
	--log-a "$log_a" --log-b "$log_b" \
	--append "cftcp.dyndbg=+p loglevel=8" \
	-- "$SERVER" "$client_cmd" || status=$?

show_output()
{
	local name=$1 log=$2

	echo "== $name: program output"
	sed -n '/^cftcp-vm: running \/cmd$/,/^cftcp-vm: \/cmd exited/p' "$log" |
		grep -v -e '^cftcp-vm: ' -e '^\[ *[0-9]*\.[0-9]*\]' -e '^qemu-system' ||
		true
}

echo
echo "== Segments on the link (IPv4 protocol 253 decoded as TCP)"
tshark -r "$pcap" -d ip.proto==253,tcp \
	-o tcp.relative_sequence_numbers:FALSE -Y 'ip.proto == 253' \
	-T fields \
	-e frame.time_relative -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport \
	-e tcp.flags.str -e tcp.seq -e tcp.ack -e tcp.len -e tcp.window_size_value \
	2> >(grep -v 'Running as user "root"' >&2) |
	sed 's/\xc2\xb7//g' |
	awk -F '\t' '
	BEGIN { f = "%-9s %21s -> %-21s %-5s %10s %10s %5s %6s\n"
		printf f, "time", "source", "destination", "flags", "seq", "ack", "len", "win" }
	{ printf f, substr($1, 1, 9), $2 ":" $3, $4 ":" $5, $6, $7, $8, $9, $10 }'
segments=$(tshark -r "$pcap" -Y 'ip.proto == 253' 2>/dev/null | wc -l)

transitions()
{
	grep -E 'cftcp: [0-9.]+:[0-9]+ [0-9.]+:[0-9]+ [A-Z0-9_]+ -> [A-Z0-9_]+' "$1" ||
		echo "(none)"
}

echo
echo "== State changes on A (10.0.0.1, server)"
transitions "$log_a"
echo
echo "== State changes on B (10.0.0.2, client)"
transitions "$log_b"
echo
show_output "A" "$log_a"
show_output "B" "$log_b"
echo
echo "consoles: $log_a $log_b; capture: $pcap"

if [ "$status" -ne 0 ]; then
	echo "demo: the exchange failed (status $status)" >&2
	exit "$status"
fi
if [ "$segments" -eq 0 ]; then
	echo "demo: no cftcp segments were captured" >&2
	exit 1
fi

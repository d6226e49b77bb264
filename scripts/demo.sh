#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shows cftcp at work between two VMs and draws what happened: A
# (10.0.0.1) serves, B (10.0.0.2) opens three connections: one that
# carries a message each way and is closed by B, a half-close (B sends and
# shuts down its side, A answers afterwards), and a simultaneous close
# (both FINs cross, with B's side of the link delayed).  Each VM records
# its frames and state changes through tracepoints (selftests/demo_guest.sh);
# the link is captured; scripts/ladder.py draws one ladder diagram per
# connection from the two, as text here and as build/demo/ladder.svg.
# Logs and the capture go to build/demo/.
#
# usage: scripts/demo.sh [--check]
#        --check: fail unless the diagrams show what the three connections
#        must (the two-VM test host/vm_demo runs this)
# env:   CFTCP_KVER, CFTCP_KERNEL, CFTCP_MODDIR, CFTCP_KO, CFTCP_VM_TIMEOUT
#        as for scripts/check.sh; CFTCP_DEMO_DIR (default build/demo).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

check=""
[ "${1:-}" != --check ] || check=--check

kver=${CFTCP_KVER:-$("$ROOT/scripts/install-deps.sh" --print-kver)}
export CFTCP_KVER=$kver
out=${CFTCP_DEMO_DIR:-$ROOT/build/demo}
rm -rf "$out"
mkdir -p "$out"

export CFTCP_INITRD=$out/initramfs.cpio.gz
"$ROOT/scripts/mkinitramfs.sh" --output "$CFTCP_INITRD"

pcap=$out/link.pcap
log_a=$out/cftcp-a.console
log_b=$out/cftcp-b.console

echo "demo: A 10.0.0.1 serves; B 10.0.0.2 opens three connections" >&2
status=0
"$ROOT/scripts/vm-pair.sh" --quiet --pcap "$pcap" \
	--log-a "$log_a" --log-b "$log_b" \
	-- "sh /selftests/demo_guest.sh a" "sh /selftests/demo_guest.sh b" ||
	status=$?
if [ "$status" -ne 0 ]; then
	echo "demo: the VMs failed (status $status); consoles: $log_a $log_b" >&2
	exit "$status"
fi

echo
echo "Three connections, drawn from the capture of the link and each VM's"
echo "tracepoints (every state change, on the side that made it, after the"
echo "last segment that side had sent or received):"
echo "  port 5000: open, a message each way, B closes first"
echo "  port 5001: half-close: B sends and shuts down, A answers, then closes"
echo "  port 5002: simultaneous close: the FINs cross"
echo
status=0
"$ROOT/scripts/ladder.py" --pcap "$pcap" --trace-a "$log_a" --trace-b "$log_b" \
	--port 5000 --port 5001 --port 5002 --svg "$out/ladder.svg" $check ||
	status=$?
echo "ladder: $out/ladder.svg (open it in a browser); capture: $pcap;"
echo "consoles: $log_a $log_b"
exit "$status"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots two cftcp test VMs joined by a virtio-net link (a QEMU socket netdev
# on 127.0.0.1), runs one command in each and exits non-zero if either
# failed.  A is 10.0.0.1/24 (cftcp-a), B is 10.0.0.2/24 (cftcp-b).  The link
# is captured as seen from A into a pcap file.
#
# usage: scripts/vm-pair.sh [options] [--] 'command for A' 'command for B'
#   -p, --pcap FILE      capture of the link (default: next to the logs;
#                        "none": no capture, for benchmarks)
#       --log-a FILE     console log of A (default: in $CFTCP_LOG_DIR, else
#       --log-b FILE     build/logs/)
#   -t, --timeout SECS   per VM (env CFTCP_VM_TIMEOUT; default 600)
#   -a, --append ARGS    extra kernel command line for both VMs
#       --append-a ARGS  ... for A only
#       --append-b ARGS  ... for B only
#       --noload         do not insmod cftcp.ko at boot (both VMs)
#   -q, --quiet          consoles to the logs only; otherwise they go to
#                        stdout too, each line prefixed "A| " or "B| "
# Other env (CFTCP_KERNEL, CFTCP_INITRD, CFTCP_VM_MEMORY, CFTCP_VM_SMP, ...)
# is as for scripts/vm-run.sh.  If one VM fails, the other gets
# CFTCP_PAIR_GRACE seconds (default 30) to finish before it is stopped.
#
# Exit status: 0 if both commands succeeded, else A's status if A failed,
# else B's (statuses as for scripts/vm-run.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "vm-pair: $*" >&2; exit 2; }

pcap=""
log_a=""
log_b=""
common=()
extra_a=()
extra_b=()
quiet=0
grace=${CFTCP_PAIR_GRACE:-30}

while [ $# -gt 0 ]; do
	case "$1" in
	-p|--pcap) pcap=$2; shift 2 ;;
	--log-a) log_a=$2; shift 2 ;;
	--log-b) log_b=$2; shift 2 ;;
	-t|--timeout) common+=(--timeout "$2"); shift 2 ;;
	-a|--append) common+=(--append "$2"); shift 2 ;;
	--append-a) extra_a+=(--append "$2"); shift 2 ;;
	--append-b) extra_b+=(--append "$2"); shift 2 ;;
	--noload) common+=(--noload); shift ;;
	-q|--quiet) quiet=1; shift ;;
	-h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option: $1" ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || die "expected two shell commands (see --help)"
cmd_a=$1
cmd_b=$2

# Build (or reuse) the base initramfs once, not once per VM.
if [ -z "${CFTCP_INITRD:-}" ]; then
	kver=${CFTCP_KVER:-$("$ROOT/scripts/install-deps.sh" --print-kver)}
	CFTCP_INITRD=$ROOT/build/vm/$kver/initramfs.cpio.gz
	"$ROOT/scripts/mkinitramfs.sh" --cached --kver "$kver" --output "$CFTCP_INITRD"
fi
export CFTCP_INITRD

logdir=${CFTCP_LOG_DIR:-$ROOT/build/logs}
mkdir -p "$logdir"
[ -n "$log_a" ] || log_a=$(mktemp "$logdir/cftcp-a.XXXXXX.console")
[ -n "$log_b" ] || log_b=$(mktemp "$logdir/cftcp-b.XXXXXX.console")
[ -n "$pcap" ] || pcap=${log_a%.console}.pcap
dump=()
if [ "$pcap" != none ]; then
	mkdir -p "$(dirname "$pcap")"
	rm -f "$pcap"
	dump=(--qemu-arg -object --qemu-arg "filter-dump,id=f0,netdev=n0,file=$pcap")
fi

free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

listening()
{
	[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

pid_a=""
pid_b=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup()
{
	local pid

	for pid in $pid_a $pid_b; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

out_a=(--prefix "A| ")
out_b=(--prefix "B| ")
if [ "$quiet" = 1 ]; then
	out_a=(--quiet)
	out_b=(--quiet)
fi

start_a()
{
	"$ROOT/scripts/vm-run.sh" "${common[@]}" "${extra_a[@]}" "${out_a[@]}" \
		--name cftcp-a --ip 10.0.0.1/24 --log "$log_a" \
		--qemu-arg -netdev --qemu-arg "socket,id=n0,listen=127.0.0.1:$port" \
		--qemu-arg -device \
		--qemu-arg "virtio-net-pci,netdev=n0,mac=52:54:00:cf:00:01,romfile=" \
		"${dump[@]}" -- "$cmd_a" &
	pid_a=$!
}

# A listens; B connects once A's QEMU is listening.  A port taken between
# choosing and binding makes A's QEMU exit at once: choose again.
for attempt in 1 2 3 4 5; do
	port=$(free_port)
	start_a
	waited=0
	while ! listening "$port" && kill -0 "$pid_a" 2>/dev/null &&
	      [ "$waited" -lt 300 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	listening "$port" && break
	kill "$pid_a" 2>/dev/null || true
	wait "$pid_a" 2>/dev/null || true
	pid_a=""
	echo "vm-pair: QEMU of A did not listen on 127.0.0.1:$port (attempt $attempt)" >&2
done
[ -n "$pid_a" ] || die "could not start VM A"

"$ROOT/scripts/vm-run.sh" "${common[@]}" "${extra_b[@]}" "${out_b[@]}" \
	--name cftcp-b --ip 10.0.0.2/24 --log "$log_b" \
	--qemu-arg -netdev --qemu-arg "socket,id=n0,connect=127.0.0.1:$port" \
	--qemu-arg -device \
	--qemu-arg "virtio-net-pci,netdev=n0,mac=52:54:00:cf:00:02,romfile=" \
	-- "$cmd_b" &
pid_b=$!

# Wait for the first VM to end; if it failed, give the other one a grace
# period, since it may be waiting for a peer that is gone.
status_a=""
status_b=""
record()
{
	if [ "$1" = "$pid_a" ]; then
		status_a=$2
		pid_a=""
	else
		status_b=$2
		pid_b=""
	fi
}
st=0
wait -n -p done_pid "$pid_a" "$pid_b" || st=$?
record "$done_pid" "$st"
other=${pid_a:-$pid_b}
if [ "$st" != 0 ]; then
	waited=0
	while kill -0 "$other" 2>/dev/null && [ "$waited" -lt $((grace * 10)) ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	if kill -0 "$other" 2>/dev/null; then
		echo "vm-pair: stopping the other VM ${grace}s after the first failed" >&2
		kill "$other" 2>/dev/null || true
	fi
fi
st=0
wait "$other" || st=$?
record "$other" "$st"

echo "vm-pair: A exit $status_a (log $log_a), B exit $status_b (log $log_b)," \
     "capture $pcap" >&2
if [ "$status_a" != 0 ]; then
	exit "$status_a"
fi
exit "$status_b"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots one cftcp test VM (QEMU, TCG), runs a shell command in it and exits
# with that command's status.  The console (kernel messages and the command's
# output) goes to stdout and to a log file.
#
# usage: scripts/vm-run.sh [options] [--] 'shell command'
#   -k, --kernel FILE    kernel image (env CFTCP_KERNEL; default
#                        /boot/vmlinuz-$KVER)
#   -i, --initrd FILE    base initramfs from scripts/mkinitramfs.sh (env
#                        CFTCP_INITRD; default: build/vm/$KVER/initramfs.cpio.gz,
#                        rebuilt when stale)
#   -l, --log FILE       console log (default: a new file in $CFTCP_LOG_DIR,
#                        else build/logs/)
#   -t, --timeout SECS   wall-clock limit (env CFTCP_VM_TIMEOUT; default 600)
#   -m, --memory SIZE    guest memory (env CFTCP_VM_MEMORY; default 1G)
#       --smp N          guest CPUs (env CFTCP_VM_SMP; default 2)
#   -a, --append ARGS    extra kernel command line (env CFTCP_VM_APPEND too)
#       --ip ADDR/PLEN   address for the guest's eth0 (needs a NIC, see
#                        --qemu-arg)
#       --name NAME      guest hostname, also names the default log
#       --noload         do not insmod cftcp.ko at boot
#       --hostroot       share the host's / read-only with the guest, as
#                        9p tag "hostroot" (env CFTCP_VM_HOSTROOT=1 too), for
#                        tests that run the host's programs in a chroot
#       --qemu-arg ARG   extra QEMU argument (repeatable)
#       --serial2 FILE   what the guest writes to /dev/ttyS1 goes to FILE
#       --prefix STR     prefix every console line on stdout with STR
#   -q, --quiet          console to the log only
# Other env: CFTCP_KVER, CFTCP_MODDIR, CFTCP_KO (used to build the initramfs
# when none is given), CFTCP_LOG_DIR.
#
# Exit status: the command's; 124 if the VM hit the timeout; 125 if the VM
# ended without reporting a status (panic, crash); 126 if cftcp.ko did not
# load.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "vm-run: $*" >&2; exit 2; }

kernel=${CFTCP_KERNEL:-}
initrd=${CFTCP_INITRD:-}
log=""
timeout=${CFTCP_VM_TIMEOUT:-600}
memory=${CFTCP_VM_MEMORY:-1G}
smp=${CFTCP_VM_SMP:-2}
append=${CFTCP_VM_APPEND:-}
ip=""
name=cftcp-vm
noload=0
hostroot=${CFTCP_VM_HOSTROOT:-0}
prefix=""
quiet=0
qemu_args=()

while [ $# -gt 0 ]; do
	case "$1" in
	-k|--kernel) kernel=$2; shift 2 ;;
	-i|--initrd) initrd=$2; shift 2 ;;
	-l|--log) log=$2; shift 2 ;;
	-t|--timeout) timeout=$2; shift 2 ;;
	-m|--memory) memory=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	-a|--append) append="$append $2"; shift 2 ;;
	--ip) ip=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--noload) noload=1; shift ;;
	--hostroot) hostroot=1; shift ;;
	--qemu-arg) qemu_args+=("$2"); shift 2 ;;
	--serial2) qemu_args+=(-serial "file:$2"); shift 2 ;;
	--prefix) prefix=$2; shift 2 ;;
	-q|--quiet) quiet=1; shift ;;
	-h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option: $1" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || die "expected one shell command (see --help)"
command=$1

kver=${CFTCP_KVER:-}
if [ -z "$kernel" ] || [ -z "$initrd" ]; then
	[ -n "$kver" ] || kver=$("$ROOT/scripts/install-deps.sh" --print-kver)
fi
[ -n "$kernel" ] || kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || die "cannot read kernel $kernel"

# Under TCG, decompressing a bzImage takes seconds of every boot.  When the
# kernel has a PVH entry point, boot its uncompressed ELF image instead
# (extracted once, kept in build/vm/kernels/).  CFTCP_VM_PVH=0 turns this off.
pvh_image()
{
	local src=$1 cache dst

	cache=$ROOT/build/vm/kernels
	dst=$cache/$(basename "$src")-$(stat -c '%s-%Y' "$src").vmlinux
	if [ -f "$dst" ]; then
		echo "$dst"
		return 0
	fi
	[ ! -f "$dst.none" ] || return 1
	mkdir -p "$cache"
	if python3 - "$src" "$dst.$$" <<'PY'
import lzma, struct, sys, zlib

data = open(sys.argv[1], "rb").read()
if data[0x202:0x206] != b"HdrS":
    sys.exit(1)                      # not a bzImage
# The compressed kernel: payload_offset/length of the boot protocol, counted
# from the protected-mode code after the setup sectors.
setup_sects = data[0x1f1] or 4
offset, length = struct.unpack_from("<II", data, 0x248)
payload = data[(setup_sects + 1) * 512 + offset:][:length]
try:
    if payload.startswith(b"\xfd7zXZ\x00"):
        elf = lzma.LZMADecompressor().decompress(payload)
    elif payload.startswith(b"\x1f\x8b"):
        elf = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(payload)
    else:
        sys.exit(1)                  # a compression python3 cannot undo
except (lzma.LZMAError, zlib.error):
    sys.exit(1)
if elf[:4] != b"\x7fELF":
    sys.exit(1)
# Look for the PVH entry note: owner "Xen", type 18 (XEN_ELFNOTE_PHYS32_ENTRY).
phoff, = struct.unpack_from("<Q", elf, 0x20)
phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
for i in range(phnum):
    p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
    if p_type != 4:                  # PT_NOTE
        continue
    off, end = p_offset, p_offset + p_filesz
    while off + 12 <= end:
        namesz, descsz, ntype = struct.unpack_from("<III", elf, off)
        name = elf[off + 12:off + 12 + namesz]
        if name == b"Xen\x00" and ntype == 18:
            open(sys.argv[2], "wb").write(elf)
            sys.exit(0)
        off += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
sys.exit(1)
PY
	then
		mv -f "$dst.$$" "$dst"
		echo "$dst"
	else
		rm -f "$dst.$$"
		touch "$dst.none"
		return 1
	fi
}

if [ "${CFTCP_VM_PVH:-1}" != 0 ] && image=$(pvh_image "$kernel"); then
	kernel=$image
fi
if [ -z "$initrd" ]; then
	initrd=$ROOT/build/vm/$kver/initramfs.cpio.gz
	"$ROOT/scripts/mkinitramfs.sh" --cached --kver "$kver" --output "$initrd"
fi
[ -r "$initrd" ] || die "cannot read initramfs $initrd"

if [ -z "$log" ]; then
	logdir=${CFTCP_LOG_DIR:-$ROOT/build/logs}
	mkdir -p "$logdir"
	log=$(mktemp "$logdir/$name.XXXXXX.console")
fi
mkdir -p "$(dirname "$log")"

work=$(mktemp -d "${TMPDIR:-/tmp}/cftcp-vm.XXXXXX")
qemu_pid=""
out_pid=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup()
{
	if [ -n "$qemu_pid" ]; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	if [ -n "$out_pid" ]; then
		wait "$out_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The command travels as /cmd in a second, gzip'd archive appended to the
# base one; the kernel unpacks concatenated archives in order.
mkdir -p "$work/cmd"
printf '#!/bin/sh\n%s\n' "$command" >"$work/cmd/cmd"
chmod 0755 "$work/cmd/cmd"
(cd "$work/cmd" && echo cmd | cpio --create --format=newc --owner=0:0 --quiet) |
	gzip -1 >"$work/cmd.cpio.gz"
cat "$initrd" "$work/cmd.cpio.gz" >"$work/initrd"

# Kernel messages at every level up to info, with timestamps (the splat
# scanner of scripts/check.sh relies on them); no panic on oops, so the rest
# of the run still reports; a panic ends the VM at once.
cmdline="console=ttyS0 loglevel=7 printk.time=1 panic=-1 cftcp_vm.name=$name"
[ -z "$ip" ] || cmdline="$cmdline cftcp_vm.ip=$ip"
[ "$noload" = 0 ] || cmdline="$cmdline cftcp_vm.noload=1"
cmdline="$cmdline $append"

if [ "$hostroot" = 1 ]; then
	qemu_args+=(-virtfs
		"local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
fi

# RDRAND (which TCG emulates) seeds the guest's random number generator at
# boot, as on real machines (CONFIG_RANDOM_TRUST_CPU): without it the crng
# stays unseeded, and while it has no credit every get_random_*() refill
# runs a full BLAKE2s extraction of the input pool: about a fifth of the
# kernel's instructions in a connect/request/response/close loop.
qemu=(qemu-system-x86_64 -accel tcg -cpu qemu64,+rdrand
	-smp "$smp" -m "$memory"
	-nographic -monitor none -serial stdio -no-reboot
	-nic none
	-kernel "$kernel" -initrd "$work/initrd" -append "$cmdline"
	"${qemu_args[@]}")

show()
{
	if [ "$quiet" = 1 ]; then
		cat >/dev/null
	elif [ -n "$prefix" ]; then
		sed -u "s/^/$(printf '%s' "$prefix" | sed 's/[\/&]/\\&/g')/"
	else
		cat
	fi
}

start=$(date +%s)
# QEMU runs in the background so that a signal to this script stops it; the
# console goes through a fifo to the log (plain lines, no \r) and stdout.
mkfifo "$work/console"
sed -u 's/\r//g' <"$work/console" | tee "$log" | show &
out_pid=$!
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null >"$work/console" 2>&1 &
qemu_pid=$!
qemu_status=0
wait "$qemu_pid" || qemu_status=$?
qemu_pid=""
wait "$out_pid" || true
out_pid=""
elapsed=$(($(date +%s) - start))

status=$(sed -n 's/.*CFTCP-EXIT-STATUS: \([0-9][0-9]*\).*/\1/p' "$log" | tail -n1)
if [ -z "$status" ] && { [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; }; then
	echo "vm-run: $name: timed out after ${timeout}s (log: $log)" >&2
	exit 124
fi
if [ -z "$status" ]; then
	echo "vm-run: $name: VM ended without an exit status" \
	     "(qemu status $qemu_status, log: $log)" >&2
	exit 125
fi
echo "vm-run: $name: exit status $status after ${elapsed}s (log: $log)" >&2
exit "$status"

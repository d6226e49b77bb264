#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An instruction-count profile of the guest kernel while netbench runs Linux
# TCP or cftcp over a veth pair between two namespaces in one VM: QEMU
# counts, through the TCG plugin scripts/tcgprof.c, the instructions each
# kernel code address executes (perf in a TCG guest samples only where the
# guest re-enables interrupts, so it cannot do this).  Prints the top
# symbols, with their share of all the kernel's instructions, then the
# totals per area: cftcp, core net, copy/memset/csum, scheduler/idle, other.
#
# usage: scripts/profile.sh [-s SECONDS] [-n TOP] FAMILY MODE
#   FAMILY   tcp or cftcp
#   MODE     bulk, bulk4, rr or crr (netbench -m: one bulk stream, four
#            at once, 1-byte request/response,
#            connect/request/response/close)
#   -s SECS  how long netbench runs (default 20)
#   -n TOP   how many symbols to list (default 40)
# env: CFTCP_INITRD (base initramfs; default build/vm/$KVER/initramfs.cpio.gz,
#      rebuilt when stale), CFTCP_KVER, CFTCP_KERNEL, CFTCP_KO (the cftcp.ko in
#      that initramfs, for its symbols; default module/cftcp.ko),
#      PROFILE_DIR (default build/prof).
#
# What is counted: the kernel's instructions (code at or above
# 0xffffffff80000000; not user space) while the netbench client runs, its
# start and exit included.  The guest reads /proc/sys/vm/stat_refresh just
# before it and just after it, and the plugin (mark=) counts only between
# the two calls of vmstat_refresh() that makes; the boot, whose unpacking of
# the initramfs and module signature checks alone outweigh a 20 s benchmark
# under TCG, is left out.  Each translated block's instructions count for
# the address the block starts at; a block rarely runs on past the end of
# its function.  A rep-prefixed string instruction counts once per
# iteration (TCG runs each iteration as a block): a copy by rep movsq
# counts one instruction per 8 bytes.  A vCPU that spins on a lock executes
# instructions all the while: native_queued_spin_lock_slowpath grows when
# the host deschedules the vCPU thread holding the lock (a busy host), the
# more so in rr and crr, where the guest is mostly waiting (half of a 5 s
# rr profile, TCP's as much as cftcp's).
#
# Symbols: the guest boots with nokaslr, so the kernel's addresses are the
# same at every boot.  The kernel's /proc/kallsyms is read once per kernel
# image, in a VM of its own (no profile), and kept in PROFILE_DIR; the other
# modules' symbols there are moved to where /proc/modules of the profiled VM
# has them, and cftcp's come from objdump of cftcp.ko and the addresses of
# its sections in /sys/module/cftcp/sections.  The areas go by symbol name
# prefixes (cftcp.ko's functions are cftcp's; veth.ko's are core net): an
# approximation.
#
# Output in PROFILE_DIR: FAMILY-MODE.prof (the plugin's "VADDR INSNS"
# lines), FAMILY-MODE.txt (this report) and FAMILY-MODE.console (the VM).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "profile: $*" >&2; exit 1; }
usage() { sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

secs=20
top=40
while getopts "s:n:h" opt; do
	case "$opt" in
	s) secs=$OPTARG ;;
	n) top=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { usage >&2; exit 2; }
family=$1
mode=$2
case "$family" in tcp|cftcp) ;; *) die "FAMILY is tcp or cftcp" ;; esac
case "$mode" in
bulk|rr|crr) nbmode="-m $mode" ;;
bulk4) nbmode="-m bulk -P 4" ;;
*) die "MODE is bulk, bulk4, rr or crr" ;;
esac
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
	die "-s takes whole seconds"
fi
[[ "$top" =~ ^[0-9]+$ ]] || die "-n takes a number"

outdir=${PROFILE_DIR:-$ROOT/build/prof}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
case "$outdir" in *,*) die "PROFILE_DIR may not hold a comma (QEMU options)" ;; esac

kver=${CFTCP_KVER:-$("$ROOT/scripts/install-deps.sh" --print-kver)}
kernel=${CFTCP_KERNEL:-/boot/vmlinuz-$kver}
[ -r "$kernel" ] || die "cannot read kernel $kernel"
ko=${CFTCP_KO:-$ROOT/module/cftcp.ko}

# What the VM needs: cftcp.ko and netbench, the plugin, an initramfs.
if [ ! -f "$ROOT/module/cftcp.ko" ] || [ ! -x "$ROOT/build/selftests/netbench" ]; then
	make -C "$ROOT" module selftests >&2
fi
[ -f "$ko" ] || die "no $ko"
plugin=$ROOT/build/tcgprof.so
case "$plugin" in *,*) die "the plugin's path may not hold a comma" ;; esac
if [ ! -f "$plugin" ] || [ "$ROOT/scripts/tcgprof.c" -nt "$plugin" ]; then
	mkdir -p "$ROOT/build"
	cc -shared -fPIC -O2 -Wall -o "$plugin" "$ROOT/scripts/tcgprof.c"
fi
if [ -n "${CFTCP_INITRD:-}" ]; then
	initrd=$CFTCP_INITRD
else
	initrd=$ROOT/build/vm/$kver/initramfs.cpio.gz
	"$ROOT/scripts/mkinitramfs.sh" --cached --kver "$kver" --output "$initrd"
fi
[ -r "$initrd" ] || die "cannot read initramfs $initrd"

vm() { "$ROOT/scripts/vm-run.sh" --quiet -i "$initrd" -k "$kernel" -a nokaslr "$@"; }

# The kernel's symbols, once per kernel image: a VM (without the plugin)
# copies /proc/kallsyms and /proc/modules out through a 9p share.
syms=$outdir/kallsyms-$(basename "$kernel")-$(stat -L -c '%s-%Y' "$kernel")
if [ ! -s "$syms" ] || [ ! -s "$syms.modules" ]; then
	echo "profile: reading the kernel's symbols (once for this kernel)" >&2
	share=$(mktemp -d "$outdir/share.XXXXXX")
	trap 'rm -rf "$share"' EXIT
	if ! vm --name prof-syms -t 600 -l "$outdir/kallsyms.console" \
		--qemu-arg -virtfs \
		--qemu-arg "local,path=$share,mount_tag=profsyms,security_model=none" \
		-- 'mkdir -p /mnt/profsyms &&
		    mount -t 9p -o trans=virtio,version=9p2000.L profsyms /mnt/profsyms &&
		    cat /proc/kallsyms >/mnt/profsyms/kallsyms &&
		    cat /proc/modules >/mnt/profsyms/modules &&
		    umount /mnt/profsyms' >/dev/null ||
	   [ ! -s "$share/kallsyms" ] ||
	   ! grep -q ' T _stext$' "$share/kallsyms" ||
	   grep -q '^0000000000000000 T _stext$' "$share/kallsyms"; then
		grep -v '^\[' "$outdir/kallsyms.console" | tail -20 >&2
		die "could not read the guest's /proc/kallsyms" \
		    "(log: $outdir/kallsyms.console)"
	fi
	mv -f "$share/modules" "$syms.modules"
	mv -f "$share/kallsyms" "$syms"
	rm -rf "$share"
	trap - EXIT
fi

# The mark that opens and closes the window: vmstat_refresh(), which the
# guest calls by reading /proc/sys/vm/stat_refresh and nothing else calls.
mark=$(awk '$3 == "vmstat_refresh" && NF == 3 { print $1; exit }' "$syms")
[ -n "$mark" ] || die "no vmstat_refresh in $syms"

# The profiled VM.  The lines the host reads back start with PROF-.
name=$family-$mode
raw=$outdir/$name.prof
log=$outdir/$name.console
report=$outdir/$name.txt
rm -f "$raw"
guest=". /selftests/lib.sh
nb=/selftests/netbench
ns_new pfa && ns_new pfb && veth_pair pfa 10.0.7.1 pfb 10.0.7.2 ||
	{ echo 'profile: namespaces and veth'; exit 1; }
# the client's sysctls of make bench: both families keep every TIME_WAIT
# entry (Linux's default keeps half its ehash size, 4,096 in this VM, and
# frees the ports of the others at once) and have the whole port range
ip netns exec pfb sh -c 'p=/proc/sys/net/ipv4
	echo 262144 >\$p/tcp_max_tw_buckets &&
	echo 0 >\$p/tcp_tw_reuse &&
	echo \"1024 65535\" >\$p/ip_local_port_range' ||
	{ echo 'profile: client sysctls'; exit 1; }
ip netns exec pfa \$nb -f $family -s -b 10.0.7.1 -p 5201 &
bg_add \$!
wait_listen pfa $family 5201 || { echo 'profile: no $family server'; exit 1; }
cat /proc/sys/vm/stat_refresh
out=\$(ip netns exec pfb \$nb -f $family -c 10.0.7.1 -p 5201 $nbmode -d $secs)
rc=\$?
cat /proc/sys/vm/stat_refresh
[ \$rc = 0 ] || { echo 'profile: netbench failed'; exit 1; }
echo \"PROF-\$out\"
while read -r l; do echo \"PROF-MODULE \$l\"; done </proc/modules
for f in /sys/module/cftcp/sections/.*text*; do
	[ -r \"\$f\" ] && echo \"PROF-SECTION \${f##*/} \$(cat \"\$f\")\"
done
[ -r /sys/module/cftcp/srcversion ] &&
	echo \"PROF-SRCVERSION \$(cat /sys/module/cftcp/srcversion)\"
exit 0"

echo "profile: $family $mode for ${secs}s in a VM under the plugin" >&2
start=$(date +%s)
if ! vm --name "prof-$name" -t $((secs + 1200)) -l "$log" \
	--qemu-arg -plugin --qemu-arg "file=$plugin,out=$raw,mark=$mark" \
	--qemu-arg -d --qemu-arg plugin \
	-- "$guest" >/dev/null; then
	grep -v '^\[' "$log" | tail -20 >&2
	die "the profiled run failed (log: $log)"
fi
elapsed=$(($(date +%s) - start))
[ -s "$raw" ] || die "the plugin wrote no profile (log: $log)"
echo "profile: the VM ran for ${elapsed}s" >&2
counted=$(grep -a 'tcgprof: ' "$log" | tail -n1)
case "$counted" in
*"between the marks"*) ;;
*) echo "profile: warning: not the benchmark alone: ${counted:-no word from the plugin}" >&2 ;;
esac

want=$(modinfo -F srcversion "$ko" 2>/dev/null || true)
got=$(sed -n 's/.*PROF-SRCVERSION \([0-9A-F]*\).*/\1/p' "$log" | tail -n1)
if [ -n "$want" ] && [ -n "$got" ] && [ "$want" != "$got" ]; then
	echo "profile: warning: the guest's cftcp.ko is not $ko" \
	     "(srcversion $got, not $want): its symbols will be wrong;" \
	     "set CFTCP_KO" >&2
fi

objdump -t "$ko" >"$outdir/$name.kosyms"

python3 - "$raw" "$syms" "$syms.modules" "$log" "$outdir/$name.kosyms" \
	"$top" "$secs" "$family $mode, ${secs}s" <<'PY' | tee "$report"
import bisect, re, sys

raw, syms, dump_mods, log, kosyms, top, secs, title = sys.argv[1:]
top, secs = int(top), int(secs)


def modules(lines):
    """name -> (base, size) from /proc/modules lines."""
    mods = {}
    for line in lines:
        f = line.split()
        if len(f) >= 6 and f[5].startswith("0x"):
            mods[f[0]] = (int(f[5], 16), int(f[1]))
    return mods


# What the profiled VM said.
vm_mods_lines, sections, result = [], {}, None
for line in open(log, errors="replace"):
    i = line.find("PROF-")
    if i < 0:
        continue
    tag, _, rest = line[i + 5:].strip().partition(" ")
    if tag == "MODULE":
        vm_mods_lines.append(rest)
    elif tag == "SECTION":
        sec, _, addr = rest.partition(" ")
        sections[sec] = int(addr, 16)
    elif tag == "RESULT":
        result = rest
vm_mods = modules(vm_mods_lines)
old_mods = modules(open(dump_mods))

# Symbols: (start, end or None, module, name); a None name marks the end of
# a region with no symbol after it (end of the kernel's text, of a module).
table = []
for line in open(syms):
    f = line.split()
    if len(f) < 3 or f[1] not in "tTwW":
        continue
    addr = int(f[0], 16)
    mod = f[3].strip("[]") if len(f) > 3 else "kernel"
    if mod == "cftcp":
        continue                    # from cftcp.ko itself, below
    if mod != "kernel":
        if mod not in vm_mods or mod not in old_mods:
            continue
        addr += vm_mods[mod][0] - old_mods[mod][0]
    if mod == "kernel" and f[2] in ("_etext", "_einittext"):
        table.append((addr, None, mod, None))
    else:
        table.append((addr, None, mod, f[2]))

# Of the names at one address, the last sorted is used: a section or region
# marker (__indirect_thunk_start) only when it is the only name there.
MARKER = re.compile(r"^_.*_(start|end)$|^_[se](init)?text$")
for mod, (base, size) in vm_mods.items():
    table.append((base + size, None, mod, None))

# cftcp.ko: "VALUE FLAGS SECTION\tSIZE NAME" lines of objdump -t.
if "cftcp" in vm_mods and ".text" not in sections:
    sections[".text"] = vm_mods["cftcp"][0]
for line in open(kosyms):
    left, tab, right = line.rstrip("\n").partition("\t")
    lf, rf = left.split(), right.split()
    if not tab or len(lf) < 3 or len(rf) < 2 or "F" not in lf[1:-1]:
        continue
    sec = lf[-1]
    if sec not in sections:
        continue
    start = sections[sec] + int(lf[0], 16)
    table.append((start, start + int(rf[0], 16), "cftcp", rf[1]))

table.sort(key=lambda s: (s[0], s[3] is not None,
                          s[3] is not None and not MARKER.match(s[3])))
starts = [s[0] for s in table]


def symbol(vaddr):
    i = bisect.bisect_right(starts, vaddr) - 1
    if i < 0:
        return ("?", "[unknown]")
    start, end, mod, name = table[i]
    if name is None or (end is not None and vaddr >= end):
        return (mod if name is not None else "?", "[unknown]")
    return (mod, name)


per_sym, total, nblocks = {}, 0, 0
for line in open(raw):
    f = line.split()
    if len(f) != 2:
        continue
    n = int(f[1])
    key = symbol(int(f[0], 16))
    per_sym[key] = per_sym.get(key, 0) + n
    total += n
    nblocks += 1
if not total:
    sys.exit("profile: no kernel instructions in the profile")

COPY = ("copy_user", "memcpy", "memmove", "memset", "csum", "copy_page",
        "copy_to_iter", "copy_from_iter", "copy_to_user", "copy_from_user",
        "copyin", "copyout", "clear_user", "clear_page", "rep_movs",
        "rep_stos", "copy_mc")
NET = ("skb_", "kfree_skb", "consume_skb", "alloc_skb", "build_skb",
       "ip_", "ip4", "ipv4_", "tcp", "inet", "sock_", "sk_", "lock_sock",
       "release_sock", "dev_", "netdev_", "netif_", "napi_", "veth_",
       "net_", "neigh_", "nf_", "eth_", "dst_", "fib_", "udp", "icmp",
       "process_backlog", "validate_xmit", "qdisc_", "sch_", "pfifo",
       "gro_", "enqueue_to_backlog", "raw_local_deliver", "raw_v4", "rps_")
SCHED = re.compile(
    r"sched|idle|halt|mwait|^_*(try_to_wake_up|ttwu_|wake_up|wakeup_|"
    r"enqueue_|dequeue_|pick_next|put_prev|set_next|update_curr|"
    r"update_load|update_cfs|update_rq|update_min_vruntime|reweight|"
    r"load_balance|newidle|finish_task_switch|switch_to|switch_mm|"
    r"switch_fpu|check_preempt|resched|select_task_rq|psi_|account_|"
    r"cpuacct|task_tick|place_entity|hrtick|context_switch|"
    r"prepare_task_switch)")


def area(mod, name):
    bare = name.lstrip("_")
    if mod == "cftcp" or bare.startswith("cftcp"):
        return "cftcp module"
    if bare.startswith(COPY):
        return "copy/memset/csum"
    if mod == "veth" or bare.startswith(NET):
        return "core net"
    if SCHED.search(name):
        return "scheduler/idle"
    return "other"


print(f"# {title}: {total:,} kernel instructions in {nblocks:,} blocks")
if result:
    print(f"# netbench under the plugin: {result}")
    # "bulk1 130.3 MiB/s": the kernel's instructions per MiB (trans, conn).
    f = result.split()
    if len(f) == 3 and f[2].endswith("/s") and float(f[1]) > 0:
        print(f"# {total / (float(f[1]) * secs):,.0f} kernel instructions"
              f" per {f[2][:-2]} (the window holds netbench's start and exit"
              " too)")
print(f"# {'Overhead':>8}  {'Instructions':>15}  {'Module':<8}  Symbol")
ranked = sorted(per_sym.items(), key=lambda kv: -kv[1])
for (mod, name), n in ranked[:top]:
    print(f"  {100.0 * n / total:7.2f}%  {n:15,}  {'[' + mod + ']':<8}  {name}")

areas = {}
for (mod, name), n in ranked:
    a = area(mod, name)
    areas[a] = areas.get(a, 0) + n
print("#")
print("# By area")
for a in ("cftcp module", "core net", "copy/memset/csum", "scheduler/idle",
          "other"):
    n = areas.get(a, 0)
    print(f"  {100.0 * n / total:7.2f}%  {n:15,}  {a}")
PY

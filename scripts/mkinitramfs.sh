#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the base initramfs of the cftcp test VMs: busybox, iproute2 and
# ethtool with their libraries, the kernel modules the tests need, cftcp.ko
# (depmod'ed, so socket(AF_CFTCP, ...) can load it on demand), the installed
# selftests and scripts/guest-init as /init.  The command a VM runs is not in
# here: scripts/vm-run.sh appends it as a second archive.
#
# usage: scripts/mkinitramfs.sh [options]
#   -o, --output FILE   gzip'd newc cpio to write
#                       (default build/vm/$KVER/initramfs.cpio.gz)
#   -k, --kver KVER     kernel version (env CFTCP_KVER; default: the target
#                       kernel named by scripts/install-deps.sh --print-kver)
#   -m, --moddir DIR    modules tree of that kernel, may be "" or absent when
#                       everything is built in (env CFTCP_MODDIR;
#                       default /lib/modules/$KVER)
#   -c, --ko FILE       cftcp.ko (env CFTCP_KO; default module/cftcp.ko)
#       --no-selftests  do not install selftests/ into the image
#       --cached        do nothing if the output is newer than every input
# env:
#   CFTCP_VM_MODULES    extra kernel modules to include and load at boot
#   CFTCP_ALLOW_NO_KO=1 build an image without cftcp.ko when it is missing
#                       (for booting VMs before the module builds; the test
#                       suite never sets it)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Kernel modules the tests rely on; their dependencies come along, not
# their soft dependencies (busybox's modprobe): crc32c_generic is
# libcrc32c's, which nf_tables needs.
BASE_MODULES="virtio_pci virtio_net veth sch_netem sch_prio sch_tbf
	sch_ingress cls_u32 cls_matchall cls_basic act_gact act_mirred ifb
	dummy tun 9pnet_virtio 9p cls_bpf crc32c_generic nf_tables xfrm_user"
# Userspace programs taken from the host, with their libraries.  Busybox
# provides everything else, but not the shell: busybox-static's ash runs its
# own "ip" and "tc" applets in preference to any program in PATH, and those
# lack netns, veth and netem.  /bin/sh is bash, which runs what is written for
# ash; busybox's ash stays available as /bin/ash.
HOST_TOOLS="/bin/bash /usr/sbin/ip /usr/sbin/tc /usr/sbin/ethtool /usr/bin/ss"
HOST_TOOLS="$HOST_TOOLS /usr/bin/nstat /usr/sbin/nft"

die() { echo "mkinitramfs: $*" >&2; exit 1; }
note() { echo "mkinitramfs: $*" >&2; }

output=""
kver=${CFTCP_KVER:-}
moddir_set=${CFTCP_MODDIR+set}
moddir=${CFTCP_MODDIR:-}
ko=${CFTCP_KO:-$ROOT/module/cftcp.ko}
selftests=1
cached=0

while [ $# -gt 0 ]; do
	case "$1" in
	-o|--output) output=$2; shift 2 ;;
	-k|--kver) kver=$2; shift 2 ;;
	-m|--moddir) moddir=$2; moddir_set="set"; shift 2 ;;
	-c|--ko) ko=$2; shift 2 ;;
	--no-selftests) selftests=0; shift ;;
	--cached) cached=1; shift ;;
	-h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
done

[ -n "$kver" ] || kver=$("$ROOT/scripts/install-deps.sh" --print-kver)
[ -n "$moddir_set" ] || moddir=/lib/modules/$kver
[ -n "$output" ] || output=$ROOT/build/vm/$kver/initramfs.cpio.gz
[ "$selftests" = 1 ] && [ -f "$ROOT/selftests/Makefile" ] || selftests=0

if [ ! -f "$ko" ]; then
	[ "${CFTCP_ALLOW_NO_KO:-0}" = 1 ] ||
		die "$ko not found (build the module first: make)"
	note "$ko not found; building an image without cftcp.ko"
	ko=""
fi

# --cached: the image is current when it is newer than everything that goes
# into it.  Selftests are judged by their build directory.
if [ "$cached" = 1 ] && [ -f "$output" ]; then
	inputs=("$0" "$ROOT/scripts/guest-init")
	[ -z "$ko" ] || inputs+=("$ko")
	[ "$selftests" = 0 ] || inputs+=("$ROOT/selftests" "$ROOT/build/selftests")
	newer=$(find "${inputs[@]}" -newer "$output" -print -quit 2>/dev/null || true)
	if [ -z "$newer" ]; then
		exit 0
	fi
fi

mkdir -p "$(dirname "$output")"
stage=$(mktemp -d "$(dirname "$output")/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# Copy a file to the same path inside the image, following symlinks.
copy_in()
{
	local src=$1 dst=${2:-$1}

	mkdir -p "$stage$(dirname "$dst")"
	cp -L "$src" "$stage$dst"
}

# Copy the shared libraries and the loader an ELF program needs.
copy_libs()
{
	local lib

	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[ -e "$stage$lib" ] || copy_in "$lib"
	done
}

is_dynamic_elf()
{
	file -bL "$1" | grep -q 'ELF.*dynamically linked'
}

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,root,proc,sys,dev,tmp,run,mnt,var}
ln -s ../run "$stage/var/run"

# Userspace: iproute2 and ethtool from the host, busybox for the rest.
for tool in $HOST_TOOLS; do
	if [ ! -x "$tool" ]; then
		note "$tool not found, not included"
		continue
	fi
	copy_in "$tool"
	copy_libs "$tool"
done
for dir in /etc/iproute2 /usr/share/iproute2 /usr/lib/x86_64-linux-gnu/tc; do
	if [ -d "$dir" ]; then
		mkdir -p "$stage$dir"
		cp -a "$dir/." "$stage$dir/"
	fi
done

busybox=$(command -v busybox) || die "busybox not found (install busybox-static)"
file -bL "$busybox" | grep -q 'statically linked' || die "$busybox is not static"
cp "$busybox" "$stage/bin/busybox"
ln -s bash "$stage/bin/sh"
# Real tools copied above win over busybox applets of the same name.
host_names=" sh $(for tool in $HOST_TOOLS; do printf '%s ' "${tool##*/}"; done)"
for applet in $("$busybox" --list-full); do
	case "$host_names" in
	*" ${applet##*/} "*) continue ;;
	esac
	[ -e "$stage/$applet" ] || [ -L "$stage/$applet" ] ||
		ln -s /bin/busybox "$stage/$applet"
done

cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
printf '127.0.0.1\tlocalhost\n10.0.0.1\tcftcp-a\n10.0.0.2\tcftcp-b\n' \
	>"$stage/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$stage/etc/nsswitch.conf"

# Kernel modules, laid out as /lib/modules/$KVER so that modprobe finds them.
vmdir=$stage/etc/cftcp-vm
mkdir -p "$vmdir" "$stage/lib/modules/$kver"
echo "$kver" >"$vmdir/kver"
: >"$vmdir/modules"

# Print "path dep dep ..." from modules.dep for a module name.
module_dep_line()
{
	local name=${1//-/_}

	awk -v name="$name" -F': *' '{
		base = $1; sub(".*/", "", base); sub("\\.ko(\\..*)?$", "", base)
		gsub("-", "_", base)
		if (base == name) { print $1, $2; exit }
	}' "$moddir/modules.dep"
}

is_builtin()
{
	local name=${1//-/_}

	[ -f "$moddir/modules.builtin" ] &&
		sed 's|.*/||; s|\.ko$||; s|-|_|g' "$moddir/modules.builtin" |
		grep -qx "$name"
}

modules_wanted="$BASE_MODULES ${CFTCP_VM_MODULES:-}"
if [ -n "$moddir" ] && [ -f "$moddir/modules.dep" ]; then
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ ! -f "$moddir/$f" ] || cp "$moddir/$f" "$stage/lib/modules/$kver/"
	done
	for mod in $modules_wanted; do
		line=$(module_dep_line "$mod")
		if [ -z "$line" ]; then
			is_builtin "$mod" ||
				note "module $mod is neither in $moddir nor built in"
			continue
		fi
		for rel in $line; do
			case "$rel" in
			/*) src=$rel; rel=${rel#"$moddir"/} ;;
			*) src=$moddir/$rel ;;
			esac
			[ -e "$stage/lib/modules/$kver/$rel" ] ||
				copy_in "$src" "/lib/modules/$kver/$rel"
		done
		echo "$mod" >>"$vmdir/modules"
	done
elif [ -n "$moddir" ] && [ -d "$moddir" ]; then
	note "$moddir has no modules.dep; no kernel modules included"
else
	note "no modules tree for $kver; assuming the tests' needs are built in"
fi

if [ -n "$ko" ]; then
	copy_in "$ko" "/lib/modules/$kver/extra/cftcp.ko"
fi
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$stage/lib/modules/$kver/$f" ] || : >"$stage/lib/modules/$kver/$f"
done
depmod -b "$stage" "$kver"

# The selftests, and the libraries of whatever they install.
if [ "$selftests" = 1 ]; then
	make -s -C "$ROOT/selftests" install DESTDIR="$stage" >&2
	while IFS= read -r -d '' f; do
		if is_dynamic_elf "$f"; then
			copy_libs "$f"
		fi
	done < <(find "$stage/selftests" -type f -perm -u+x -print0)
fi

install -m 0755 "$ROOT/scripts/guest-init" "$stage/init"

tmp=$output.tmp.$$
(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null --create --format=newc --owner=0:0 --quiet) |
	gzip -1 >"$tmp"
mv -f "$tmp" "$output"
note "wrote $output ($(du -h "$output" | cut -f1))"

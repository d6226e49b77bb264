#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packaging: `make install DESTDIR=...` puts cftcp.ko, the uapi header, the
# tools and the dissector in their places, and modinfo describes every
# parameter and the version; `make dkms-source` then dkms add, build and
# install (in trees of the test's own, against the installed headers
# package) build a module that a VM loads, and that socket(AF_CFTCP, ...)
# autoloads after an rmmod.

. "$(dirname "$0")/lib.bash"

command -v dkms >/dev/null || { echo "FAIL: dkms not installed (make deps)"; exit 1; }

kver=${CFTCP_KVER:-$("$ROOT/scripts/install-deps.sh" --print-kver)}
work=$logdir/install
rm -rf "$work"
mkdir -p "$work"
fail=0

step_fail()
{
	echo "FAIL: $*"
	fail=1
}

# --- make install
root=$work/root
make -s -C "$ROOT" install DESTDIR="$root" PREFIX=/usr >"$work/install.log" 2>&1 ||
	step_fail "make install: $(tail -n 5 "$work/install.log")"
for f in "lib/modules/$kver/updates/cftcp.ko" usr/include/linux/cftcp.h \
	 usr/bin/cfcat usr/bin/cfss usr/bin/cfstat usr/share/cftcp/cftcp.lua \
	 usr/lib/libcftcp-preload.so usr/bin/cftcp-bridge \
	 usr/lib/cftcp/cftcp_bridge.bpf.o; do
	if [ -s "$root/$f" ]; then
		echo "installed: /$f"
	else
		step_fail "make install did not install /$f"
	fi
done
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ROOT/dkms.conf")
ko=$root/lib/modules/$kver/updates/cftcp.ko
if [ -s "$ko" ]; then
	got=$(modinfo -F version "$ko")
	[ "$got" = "$version" ] || step_fail "modinfo version '$got', dkms.conf '$version'"
	nparm=0
	while IFS= read -r parm; do
		nparm=$((nparm + 1))
		desc=${parm#*:}
		case "$desc" in
		" ("*|"") step_fail "parameter without a description: $parm" ;;
		*) echo "modinfo: parm $parm" ;;
		esac
	done < <(modinfo -F parm "$ko")
	[ $nparm -ge 2 ] || step_fail "modinfo lists $nparm parameters"
	alias=$(modinfo -F alias "$ko")
	[ "$alias" = net-pf-25 ] || step_fail "modinfo alias '$alias', want net-pf-25"
fi

# --- DKMS, in trees of our own
make -s -C "$ROOT" dkms-source DESTDIR="$work/dkms-src" >"$work/dkms.log" 2>&1 ||
	step_fail "make dkms-source"
mkdir -p "$work/dkms-tree" "$work/dkms-inst/$kver"
dk=(-m cftcp -v "$version" --sourcetree "$work/dkms-src/usr/src"
    --dkmstree "$work/dkms-tree" --installtree "$work/dkms-inst")
if dkms add "${dk[@]}" >>"$work/dkms.log" 2>&1 &&
   dkms build "${dk[@]}" -k "$kver" >>"$work/dkms.log" 2>&1 &&
   dkms install "${dk[@]}" -k "$kver" >>"$work/dkms.log" 2>&1; then
	echo "dkms: add, build, install cftcp/$version for $kver"
else
	step_fail "dkms:"
	tail -n 20 "$work/dkms.log"
fi
dko=$work/dkms-inst/$kver/updates/dkms/cftcp.ko
status=$(dkms status "${dk[@]}" 2>/dev/null)
echo "dkms status: $status"
case "$status" in
*WARNING*) step_fail "dkms status warns" ;;
*installed*) ;;
*) step_fail "dkms status does not say installed" ;;
esac
vermagic=$(modinfo -F vermagic "$dko" 2>/dev/null)
case "$vermagic" in
"$kver "*) ;;
*) step_fail "DKMS module vermagic '$vermagic', want $kver" ;;
esac

# --- the DKMS-built module in a VM: loaded at boot, then removed and
# autoloaded by socket(AF_CFTCP, ...).
if [ -s "$dko" ]; then
	CFTCP_KO=$dko "$ROOT/scripts/mkinitramfs.sh" -o "$work/initrd.cpio.gz" \
		>"$work/initrd.log" 2>&1 || step_fail "mkinitramfs with the DKMS module"
	st=0
	"$ROOT/scripts/vm-run.sh" -q -i "$work/initrd.cpio.gz" -t 300 \
		-l "$logdir/install.console" -- \
		'modinfo -F version cftcp; /selftests/run_tests.sh -t module_autoload -t connect_cftcp' || st=$?
	program_output "$logdir/install.console" | sed 's/^/  /'
	[ $st -eq 0 ] || step_fail "the DKMS module's VM run: exit status $st"
	program_output "$logdir/install.console" | grep -qx "$version" ||
		step_fail "the VM's modinfo does not show version $version"
fi

[ $fail -eq 0 ] && echo "PASS: make install, dkms add/build/install, the DKMS module in a VM"
exit $fail

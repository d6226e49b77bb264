#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the debug kernel (KASAN, KFENCE, kmemleak, lockdep, UBSAN, debug
# objects; see scripts/debug-kernel.config) from /usr/src/linux-source-6.1.tar.xz
# once per machine, into a cache directory outside the repository, so every
# clone on the machine reuses it.
#
#   scripts/build-debug-kernel.sh            build if needed, then print KEY=VALUE
#   scripts/build-debug-kernel.sh --print    print KEY=VALUE of a finished build
#                                            (exit 1 if there is none)
#   scripts/build-debug-kernel.sh --config   only configure and verify .config
#
# KEY=VALUE lines (stdout; progress goes to stderr):
#   KERNEL=  bzImage to boot
#   KDIR=    built tree, usable as `make -C $KDIR M=... modules`
#   MODDIR=  installed modules tree of the kernel (its /lib/modules/$KVER)
#   KVER=    kernel release
#   CACHE=   the cache directory
#
# The cache directory is $CFTCP_DEBUG_CACHE if set, else
# /var/cache/cftcp/debug-kernel-<hash>, the hash covering the fragment, the
# linux-source package version, the compiler and this recipe.  Every stage
# leaves a stamp only once it is complete and the kernel build itself resumes
# where it stopped, so an interrupted run is finished by the next one.  A lock
# serialises concurrent runs.  The tree is built where it stays: kbuild and
# objtool record absolute paths, so a moved tree rebuilds from scratch.
#
# One upstream fix is applied to the extracted source (see apply_fixes):
# without it this kernel's boot-time RCU-tasks self-test, which PROVE_RCU
# enables, deadlocks in a fair share of boots under TCG.
set -euo pipefail

RECIPE=2	# bump when the steps below change what gets built
SRCPKG=linux-source-6.1
SRCTAR=/usr/src/linux-source-6.1.tar.xz
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FRAGMENT=$HERE/debug-kernel.config
JOBS=$(nproc)

log()
{
	echo "build-debug-kernel: $*" >&2
}

die()
{
	log "$*"
	exit 1
}

cache_key()
{
	local pkgver

	pkgver=$(dpkg-query -W -f='${Version}' "$SRCPKG" 2>/dev/null) ||
		pkgver=$(stat -c '%s %Y' "$SRCTAR")
	{
		echo "recipe $RECIPE"
		echo "source $SRCPKG $pkgver"
		echo "cc $(${CC:-gcc} --version | head -n1)"
		declare -f apply_fixes
		cat "$FRAGMENT"
	} | sha256sum | cut -c1-12
}

# Upstream "rcu-tasks: Fix boot-time RCU tasks debug-only deadlock" (6.6),
# missing from 6.1: rcu_tasks_one_gp() slept waiting for callbacks with
# ->tasks_gp_mutex held, so a synchronize_rcu_tasks() issued by the boot-time
# self-test before the grace-period kthread was visible blocked forever on
# that mutex.  The kthread now drops the mutex while it waits.
apply_fixes()
{
	local f=$1/kernel/rcu/tasks.h

	awk '
	/^static void rcu_tasks_one_gp\(/ { infn = 1 }
	infn && /^}/ { infn = 0 }
	infn && /^\t\tset_tasks_gp_state\(rtp, RTGS_WAIT_CBS\);$/ {
		if (prev ~ /^\t\tmutex_unlock\(&rtp->tasks_gp_mutex\);$/)
			done = 1
		else {
			print "\t\tmutex_unlock(&rtp->tasks_gp_mutex);"
			n++
			relock = 1
		}
	}
	{ print; prev = $0 }
	relock && /^\t\t\t\t   TASK_IDLE\);$/ {
		print "\t\tmutex_lock(&rtp->tasks_gp_mutex);"
		n++
		relock = 0
	}
	END { exit (done || n == 2) ? 0 : 1 }
	' "$f" >"$f.fixed" ||
		die "$f: rcu_tasks_one_gp() is not as expected; review apply_fixes"
	mv "$f.fixed" "$f"
}

if [ -n "${CFTCP_DEBUG_CACHE:-}" ]; then
	CACHE=$CFTCP_DEBUG_CACHE
else
	CACHE=/var/cache/cftcp/debug-kernel-$(cache_key)
fi
TREE=$CACHE/linux
DONE=$CACHE/.complete

print_env()
{
	local kver

	kver=$(cat "$DONE")
	echo "KERNEL=$CACHE/bzImage"
	echo "KDIR=$TREE"
	echo "MODDIR=$CACHE/modules/lib/modules/$kver"
	echo "KVER=$kver"
	echo "CACHE=$CACHE"
}

run_logged()
{
	# Run a command with its output in the build log; show the tail on failure.
	if ! "$@" >>"$CACHE/build.log" 2>&1; then
		log "failed: $*"
		tail -n 60 "$CACHE/build.log" >&2
		die "full log: $CACHE/build.log"
	fi
}

extract()
{
	[ -e "$CACHE/.stamp-extracted" ] && return 0
	[ -r "$SRCTAR" ] || die "$SRCTAR missing (apt-get install $SRCPKG)"
	log "extracting $SRCTAR"
	rm -rf "$TREE" "$CACHE/extract.tmp"
	mkdir -p "$CACHE/extract.tmp"
	tar -xf "$SRCTAR" -C "$CACHE/extract.tmp"
	apply_fixes "$CACHE"/extract.tmp/linux-source-*
	mv "$CACHE"/extract.tmp/linux-source-* "$TREE"
	rmdir "$CACHE/extract.tmp"
	touch "$CACHE/.stamp-extracted"
}

# Print every fragment line that olddefconfig did not keep; fail if any.
verify_config()
{
	local line sym now bad=0

	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$TREE/.config" && continue
			sym=${line%%=*}
			now=$(grep -E "^$sym=|^# $sym is not set" "$TREE/.config") ||
				now="absent"
			log "dropped: $line (now: $now)"
			bad=1
			;;
		"# CONFIG_"*" is not set")
			sym=${line#"# "}
			sym=${sym%% *}
			now=$(grep -E "^$sym=" "$TREE/.config") || continue
			log "dropped: $line (now: $now)"
			bad=1
			;;
		esac
	done <"$FRAGMENT"
	return $bad
}

configure()
{
	[ -e "$CACHE/.stamp-configured" ] && return 0
	log "configuring (defconfig + kvm_guest.config + $FRAGMENT)"
	rm -f "$TREE/.config"
	run_logged make -C "$TREE" defconfig
	run_logged make -C "$TREE" kvm_guest.config
	(cd "$TREE" &&
	 run_logged scripts/kconfig/merge_config.sh -m .config "$FRAGMENT")
	run_logged make -C "$TREE" olddefconfig
	verify_config || die "olddefconfig dropped options of $FRAGMENT"
	touch "$CACHE/.stamp-configured"
}

build()
{
	local start kver

	start=$(date +%s)
	log "building with -j$JOBS (log: $CACHE/build.log)"
	run_logged make -C "$TREE" -j"$JOBS" all
	kver=$(make -s -C "$TREE" kernelrelease)
	log "installing modules"
	rm -rf "$CACHE/modules.tmp"
	run_logged make -C "$TREE" modules_install \
		INSTALL_MOD_PATH="$CACHE/modules.tmp" INSTALL_MOD_STRIP=1
	# Build and source links point into the tree, which stays in place.
	rm -rf "$CACHE/modules"
	mv "$CACHE/modules.tmp" "$CACHE/modules"
	cp "$TREE/arch/x86/boot/bzImage" "$CACHE/bzImage.tmp"
	mv "$CACHE/bzImage.tmp" "$CACHE/bzImage"
	log "built $kver in $(( $(date +%s) - start )) s"
	echo "$kver" >"$DONE.tmp"
	mv "$DONE.tmp" "$DONE"
}

mode=build
case "${1:-}" in
"") ;;
--print) mode=print ;;
--config) mode=config ;;
*)
	echo "usage: $0 [--print|--config]" >&2
	exit 2
	;;
esac

if [ "$mode" = print ]; then
	[ -e "$DONE" ] || die "no finished build in $CACHE"
	print_env
	exit 0
fi

if [ ! -e "$DONE" ] || [ "$mode" = config ]; then
	mkdir -p "$CACHE" ||
		die "cannot create $CACHE (set CFTCP_DEBUG_CACHE to a writable path)"
	exec 9>"$CACHE/.lock"
	if ! flock -n 9; then
		log "waiting for another build in $CACHE"
		flock 9
	fi
	if [ ! -e "$DONE" ] || [ "$mode" = config ]; then
		extract
		configure
		if [ "$mode" = config ]; then
			log "configured: $TREE/.config"
			exit 0
		fi
		build
	fi
	exec 9>&-
fi
print_env

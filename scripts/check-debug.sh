#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs the test suite on the debug kernel: builds (or reuses) it with
# scripts/build-debug-kernel.sh, builds cftcp.ko against it in
# build/debug-module/ (W=1, apart from the normal build), then runs
# scripts/check.sh with the VM pointed at the debug kernel, its modules and
# that cftcp.ko.  check.sh fails on any KASAN, KFENCE, UBSAN, lockdep,
# debug-objects or list-corruption report and on kmemleak's
# "unreferenced object" lines.
#
#   scripts/check-debug.sh [check.sh arguments...]
#
# As for check.sh, stdout carries only the KTAP results; the kernel and
# module builds report on stderr.
#
# CFTCP_VM_TIMEOUT (seconds) defaults to a budget suited to the debug
# kernel under TCG; set it to override.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEBUG_VM_TIMEOUT=5400
DEBUG_TEST_TIMEOUT=1800

log()
{
	echo "check-debug: $*" >&2
}

env_out=$("$ROOT/scripts/build-debug-kernel.sh")
KERNEL="" KDIR="" MODDIR="" KVER=""
while IFS='=' read -r key value; do
	case $key in
	KERNEL) KERNEL=$value ;;
	KDIR) KDIR=$value ;;
	MODDIR) MODDIR=$value ;;
	KVER) KVER=$value ;;
	esac
done <<<"$env_out"
for key in KERNEL KDIR MODDIR KVER; do
	if [ -z "${!key}" ]; then
		log "build-debug-kernel.sh gave no $key"
		exit 1
	fi
done

# A fresh copy of the sources each time, without the objects of the normal
# build that kbuild leaves next to them: the module is small, and nothing
# built against the other kernel can slip in.
BUILD=$ROOT/build/debug-module
log "building cftcp.ko against $KDIR in $BUILD"
rm -rf "$BUILD"
mkdir -p "$BUILD"
tar -C "$ROOT" -cf - \
	--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
	--exclude='.*.cmd' --exclude='.*.d' --exclude='*.order' \
	--exclude='*.symvers' --exclude='*.a' \
	Kbuild module include | tar -C "$BUILD" -xf -
make -C "$KDIR" M="$BUILD" W=1 modules >&2
KO=$(find "$BUILD" -name cftcp.ko -print -quit)
if [ -z "$KO" ]; then
	log "no cftcp.ko under $BUILD"
	exit 1
fi

log "running check.sh on $KVER ($KERNEL)"
export CFTCP_KERNEL=$KERNEL
export CFTCP_MODDIR=$MODDIR
export CFTCP_KO=$KO
export CFTCP_KVER=$KVER
export CFTCP_VM_TIMEOUT=${CFTCP_VM_TIMEOUT:-$DEBUG_VM_TIMEOUT}
# Each selftest may take several times its usual limit (run_tests.sh).
export CFTCP_VM_APPEND="${CFTCP_VM_APPEND:+$CFTCP_VM_APPEND }cftcp_test.timeout=$DEBUG_TEST_TIMEOUT"
exec "$ROOT/scripts/check.sh" "$@"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The cftcp test suite: boots one VM that runs /selftests/run_tests.sh, then
# runs every selftests/host/*.sh (two-VM tests), scans every VM console for
# kernel splats and prints one KTAP stream on stdout, ending with the line
# "N passed, N failed, N skipped".  Progress goes to stderr, logs to
# build/check/$KVER/.  Exits non-zero on any failure, skip or splat, or
# when no test ran.
#
# usage: scripts/check.sh
#        scripts/check.sh --scan LOG...   print the kernel splats in console
#                                         logs; exit 1 if there is one
# env:   CFTCP_KVER, CFTCP_KERNEL, CFTCP_MODDIR, CFTCP_KO (what to test;
#        defaults: the target kernel, /lib/modules/$KVER, module/cftcp.ko),
#        CFTCP_VM_TIMEOUT (seconds per VM; default 3600 for the selftests VM,
#        vm-pair's default for the host tests), CFTCP_CHECK_DIR (logs),
#        CFTCP_TESTS (names of run_tests.sh tests: only those run, and no
#        host test; default: every test).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# What marks a kernel splat on a console.  Only kernel lines count (they
# carry a "[ seconds.micros]" timestamp), plus kmemleak's report, which the
# guest prints between markers.
SPLAT_RE='BUG:|WARNING:|Oops|Call Trace|possible circular locking|turning off the locking correctness validator|detected stalls|blocked for more than|KASAN|UBSAN|KFENCE|unreferenced object|general protection|Kernel panic|ODEBUG:|list_(add|del) corruption'

# Print the splats of one console log, each with the 3 kernel lines before
# it and up to 40 after (120 lines per log at most), and the selftest that was
# running if run_tests.sh announced it.  Exit status 1 if any.
scan_splats()
{
	awk -v re="$SPLAT_RE" '
	/^# selftests: [^ ]+ / { test = $NF }
	/CFTCP-KMEMLEAK-BEGIN/ { leak = 1; next }
	/CFTCP-KMEMLEAK-END/ { leak = 0; next }
	{
		if (!leak && $0 !~ /\[ *[0-9]+\.[0-9]+\]/) next
		if ($0 ~ re) {
			if (ctx == 0) {
				splats++
				if (test != "" && printed < 120) {
					print "(while " test " ran)"
					printed++
				}
				for (i = 3; i >= 1; i--)
					if (before[i] != "" && printed < 120) {
						print before[i]
						printed++
					}
			}
			ctx = 40
		}
		if (ctx > 0) {
			if (printed < 120) print
			printed++
			ctx--
		}
		before[3] = before[2]; before[2] = before[1]; before[1] = $0
		if (ctx > 0) before[1] = before[2] = before[3] = ""
	}
	END { exit (splats > 0) }' "$1"
}

# Taint flags that mean the kernel hit trouble: B bad page (32), D died
# (128), W warning (512), L soft lockup (16384).
BAD_TAINT=$((32 | 128 | 512 | 16384))

check_taint()
{
	local taint

	taint=$(sed -n 's/.*CFTCP-TAINT: \([0-9][0-9]*\).*/\1/p' "$1" | tail -n1)
	if [ -n "$taint" ] && [ $((taint & BAD_TAINT)) -ne 0 ]; then
		echo "kernel tainted: $taint (/proc/sys/kernel/tainted)"
		return 1
	fi
}

# Splats and bad taint of one console log; exit status 1 if any.
console_trouble()
{
	local st=0

	scan_splats "$1" || st=1
	check_taint "$1" || st=1
	return "$st"
}

if [ "${1:-}" = "--scan" ]; then
	shift
	found=0
	for log in "$@"; do
		if ! out=$(console_trouble "$log"); then
			echo "$log:"
			echo "$out"
			found=1
		fi
	done
	exit "$found"
fi

progress() { echo "check: $*" >&2; }

# Results, printed as one KTAP stream at the end, then the timing lines.
results=()
timing=""

passed=0
failed=0
skipped=0

# record ok|fail|skip DESCRIPTION [COMMENT-LINES]
record()
{
	local kind=$1 desc=$2 comments=${3:-} n line

	n=$((${#results[@]} + 1))
	case "$kind" in
	ok) line="ok $n $desc"; passed=$((passed + 1)) ;;
	skip) line="ok $n $desc"; skipped=$((skipped + 1)) ;;
	fail) line="not ok $n $desc"; failed=$((failed + 1)) ;;
	esac
	if [ -n "$comments" ]; then
		line+=$'\n'$(printf '%s\n' "$comments" | sed 's/^/# /')
	fi
	results+=("$line")
}

# A VM run's console: report a splat (or bad taint) as a failed result.
record_console()
{
	local run=$1 log=$2 out

	if ! out=$(console_trouble "$log"); then
		record fail "$run: kernel splat in ${log#"$ROOT"/}" "$out"
	fi
}

finish()
{
	local r

	echo "TAP version 13"
	echo "1..${#results[@]}"
	for r in "${results[@]}"; do
		printf '%s\n' "$r"
	done
	# Where the time went: a slower machine shows which tests grew.
	[ -z "$timing" ] || printf '%s\n' "$timing"
	echo "$passed passed, $failed failed, $skipped skipped"
	# A skipped test did not run: a green run means every test ran.
	if [ "$failed" -ne 0 ] || [ "$skipped" -ne 0 ] ||
	   [ $((passed + failed)) -eq 0 ]; then
		exit 1
	fi
	exit 0
}

kver=${CFTCP_KVER:-$("$ROOT/scripts/install-deps.sh" --print-kver)}
export CFTCP_KVER=$kver
export CFTCP_KERNEL=${CFTCP_KERNEL:-/boot/vmlinuz-$kver}
export CFTCP_MODDIR=${CFTCP_MODDIR-/lib/modules/$kver}
export CFTCP_KO=${CFTCP_KO:-$ROOT/module/cftcp.ko}
outdir=${CFTCP_CHECK_DIR:-$ROOT/build/check/$kver}
rm -rf "$outdir"
mkdir -p "$outdir"
progress "kernel $CFTCP_KERNEL, cftcp.ko $CFTCP_KO, logs in $outdir"

# The base initramfs, built once for every VM of the run.
export CFTCP_INITRD=$outdir/initramfs.cpio.gz
if ! "$ROOT/scripts/mkinitramfs.sh" --output "$CFTCP_INITRD" \
		>"$outdir/initramfs.log" 2>&1; then
	record fail "initramfs" "$(tail -n 20 "$outdir/initramfs.log")"
	finish
fi

# --- The selftests VM: run_tests.sh's KTAP comes out on the guest's ttyS1.
run_selftests_vm()
{
	local log=$outdir/selftests.console ktap=$outdir/selftests.ktap
	local status=0 plan got=0 line desc pending=() note running start

	start=$SECONDS
	progress "selftests VM: running /selftests/run_tests.sh $only (console: $log)"
	CFTCP_LOG_DIR=$outdir "$ROOT/scripts/vm-run.sh" --quiet --name selftests \
		--timeout "${CFTCP_VM_TIMEOUT:-3600}" --log "$log" --serial2 "$ktap" \
		--hostroot \
		-- "set -o pipefail; /selftests/run_tests.sh $only | tee /dev/ttyS1" ||
		status=$?
	touch "$ktap"
	progress "selftests VM: exit status $status"
	# run_tests.sh ends each test with a line "# NAME: N s".
	timing="# selftests VM: $((SECONDS - start)) s; the slowest tests:"
	timing+=$'\n'$(tr -d '\r' <"$ktap" |
		sed -n 's/^# \([A-Za-z0-9_]*\): \([0-9][0-9]*\) s$/\2 \1/p' |
		sort -rn | head -n 12 | awk '{ printf "#   %4d s %s\n", $1, $2 }')

	plan=$(tr -d '\r' <"$ktap" | sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' | head -n1)
	while IFS= read -r line; do
		line=${line%$'\r'}
		case "$line" in
		"ok "[0-9]*|"not ok "[0-9]*)
			got=$((got + 1))
			desc=$(printf '%s\n' "$line" | sed -E 's/^(not )?ok [0-9]+ ?(- )?//')
			if [ "${line#not }" != "$line" ]; then
				record fail "$desc" "$(printf '%s\n' "${pending[@]}" | tail -n 60)"
			elif printf '%s\n' "$desc" | grep -qi '# *skip'; then
				record skip "$desc"
			else
				record ok "$desc"
			fi
			pending=()
			;;
		"TAP version"*|"KTAP version"*|1..*) ;;
		*)
			line=${line#"#"}
			pending+=("${line# }")
			;;
		esac
	done <"$ktap"

	case "$status" in
	0) note="" ;;
	124) note="timed out" ;;
	125) note="VM ended without an exit status (panic?)" ;;
	126) note="cftcp.ko did not load" ;;
	*) note="run_tests.sh exited with status $status" ;;
	esac
	if [ -n "$plan" ] && [ "$got" -lt "$plan" ]; then
		note="${note:+$note; }only $got of $plan planned results"
	elif [ "$got" -eq 0 ]; then
		note="${note:+$note; }no test results"
	fi
	if [ -n "$note" ] && [ -n "$plan" ] && [ "$got" -lt "$plan" ]; then
		# run_tests.sh announces each test as "# selftests: SUITE: NAME".
		running=$(sed -n 's/^# selftests: [^ ]* \([^ ]*\)$/\1/p' "$ktap" | tail -n1)
		[ -z "$running" ] || note="$note; $running was running"
	fi
	if [ -n "$note" ]; then
		record fail "selftests VM: $note" \
			"$(grep -v '^\[' "$log" | tail -n 30)"
	fi
	record_console "selftests VM" "$log"
}

# --- Host tests: each boots its own VMs through scripts/vm-pair.sh; their
# consoles land in the log directory set for them (CFTCP_LOG_DIR), where they
# are scanned.  Exit status 0 is a pass, 4 a skip (the last line of output
# gives the reason), anything else a failure.
run_host_test()
{
	local script=$1 name status=0 dir log reason console start=$SECONDS

	name=host/$(basename "$script" .sh)
	dir=$outdir/$name
	log=$dir.log
	mkdir -p "$dir"
	progress "$name (log: $log)"
	CFTCP_LOG_DIR=$dir timeout -k 30 "$host_timeout" "$script" \
		>"$log" 2>&1 </dev/null || status=$?
	timing+=$'\n'"# $name: $((SECONDS - start)) s"
	case "$status" in
	0) record ok "$name" ;;
	124) record fail "$name (timed out after ${host_timeout}s)" "$(tail -n 40 "$log")" ;;
	4)
		reason=$(grep -v '^[[:space:]]*$' "$log" | tail -n1 |
			sed -E 's/^[#[:space:]]*(SKIP[:[:space:]]*)?//I' | cut -c1-200)
		record skip "$name # SKIP ${reason:-no reason given}"
		;;
	*)
		record fail "$name (exit status $status)" "$(tail -n 40 "$log")"
		;;
	esac
	for console in "$dir"/*.console; do
		[ -e "$console" ] || continue
		record_console "$name" "$console"
	done
}

# A chosen set of selftests, by name (run_tests.sh -t NAME...).
only=""
for t in ${CFTCP_TESTS:-}; do
	case "$t" in
	*[!A-Za-z0-9_]*) record fail "CFTCP_TESTS: bad test name '$t'"; finish ;;
	esac
	only="$only -t $t"
done

run_selftests_vm
[ -z "$only" ] || finish
# A host test boots VMs one after another at most a few times over.
host_timeout=$((3 * ${CFTCP_VM_TIMEOUT:-600}))
for script in "$ROOT"/selftests/host/*.sh; do
	[ -e "$script" ] || continue
	if [ ! -x "$script" ]; then
		record fail "host/$(basename "$script" .sh)" "not executable"
		continue
	fi
	run_host_test "$script"
done

finish

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs the cftcp selftests, each in a new network namespace, and prints one
# KTAP stream: "ok N name", "not ok N name", "ok N name # SKIP reason", the
# output of each test prefixed with "# ". Exits 0 iff no test failed.
# POSIX sh: the guest runs it under busybox ash.
#
#   run_tests.sh [-f cftcp|tcp] [-t NAME]... [-T SECONDS] [-l]
#	-f: only the tests of one family; -t: only the named tests;
#	-T: time limit per test (default: cftcp_test.timeout=SECONDS on the
#	kernel command line, else timeout= in ./settings); -l: list.

here=$(cd "$(dirname "$0")" && pwd)
family=""
only=""
list=0
limit=$(sed -n 's/^timeout=//p' "$here/settings" 2>/dev/null)
limit=${limit:-600}
# A slower kernel (the debug build) asks for more on its command line.
cmdline_limit=$(sed -n 's/.*cftcp_test\.timeout=\([0-9][0-9]*\).*/\1/p' \
	/proc/cmdline 2>/dev/null)
limit=${cmdline_limit:-$limit}

while getopts f:t:T:l opt; do
	case $opt in
	f) family=$OPTARG ;;
	t) only="$only $OPTARG" ;;
	T) limit=$OPTARG ;;
	l) list=1 ;;
	*) echo "usage: $0 [-f cftcp|tcp] [-t NAME]... [-T SECONDS] [-l]" >&2
	   exit 2 ;;
	esac
done

# name|family|command, in running order; module load tests come last.
# The orphan limit is the host's: its test runs before any other leaves
# an orphan behind.
all_tests()
{
	echo "state_orphans_cftcp|cftcp|state.sh -f cftcp orphans"
	echo "state_orphans_tcp|tcp|state.sh -f tcp orphans"
	for t in socket bind connect close proc; do
		echo "${t}_cftcp|cftcp|${t}_cftcp"
		echo "${t}_tcp|tcp|${t}_tcp"
	done
	for f in cftcp tcp; do
		echo "xfer_veth_$f|$f|xfer_veth.sh $f"
	done
	for f in cftcp tcp; do
		echo "refused_netns_$f|$f|refused_netns.sh $f"
	done
	echo "state_sock_cftcp|cftcp|state_sock_cftcp"
	echo "state_sock_tcp|tcp|state_sock_tcp"
	for g in open passive close rst timewait flow hostile; do
		echo "state_${g}_cftcp|cftcp|state.sh -f cftcp $g"
		echo "state_${g}_tcp|tcp|state.sh -f tcp $g"
	done
	# The mem limit's subtests are cftcp's alone (state.sh says why).
	echo "state_memory_cftcp|cftcp|state.sh -f cftcp memory"
	for t in stream many_conns epoll_echo; do
		echo "${t}_cftcp|cftcp|${t}_cftcp"
		echo "${t}_tcp|tcp|${t}_tcp"
	done
	for c in loss1 loss5 loss20 reorder dup corrupt delay all; do
		echo "netem_${c}_cftcp|cftcp|netem_xfer.sh cftcp $c"
		echo "netem_${c}_tcp|tcp|netem_xfer.sh tcp $c"
	done
	for m in hold cycle autoload; do
		echo "module_$m|cftcp|module_cycle.sh $m"
	done
	for f in cftcp tcp; do
		echo "syncookies_$f|$f|syncookies.sh -f $f"
	done
	for f in cftcp tcp; do
		echo "pmtu_netns_$f|$f|pmtu_netns.sh $f"
	done
	echo "tools|cftcp|tools.sh"
	echo "preload|cftcp|preload.sh"
	echo "bridge|cftcp|bridge.sh"
	echo "trace|cftcp|trace.sh"
	echo "local_sock_cftcp|cftcp|local_sock_cftcp"
	echo "local_sock_tcp|tcp|local_sock_tcp"
	echo "syn_window_cftcp|cftcp|syn_window.sh -f cftcp"
	echo "syn_window_tcp|tcp|syn_window.sh -f tcp ack"
	# Random socket calls from threads on shared sockets, rmmod refused
	# meanwhile and done at the end (the module is loaded again).
	echo "sysfuzz_cftcp|cftcp|sysfuzz.sh -T 20 -s random"
	for f in cftcp tcp; do
		echo "gso_$f|$f|gso.sh $f"
	done
	for f in cftcp tcp; do
		echo "policy_$f|$f|policy.sh -f $f"
	done
	# Device-bound lookups, the port a socket keeps after TIME_WAIT.
	for f in cftcp tcp; do
		echo "lookup_$f|$f|lookup.sh -f $f"
	done
	# Listeners closing under a SYN flood, then netns exit and rmmod.
	echo "listen_race|cftcp|listen_race.sh"
	# Packet fuzzer while real transfers verify: a fixed seed, then a
	# random one (both printed; fuzz.sh -s SEED replays one). Last, and
	# Linux TCP first: a kernel crash ends the VM and every test after it.
	for f in tcp cftcp; do
		echo "fuzz_$f|$f|fuzz.sh -f $f -T 10 -s 1 -s random"
	done
}

selected()
{
	all_tests | while IFS='|' read -r name fam cmd; do
		[ -n "$family" ] && [ "$fam" != "$family" ] && continue
		if [ -n "$only" ]; then
			case " $only " in
			*" $name "*) ;;
			*) continue ;;
			esac
		fi
		echo "$name|$fam|$cmd"
	done
}

if [ $list -eq 1 ]; then
	selected | cut -d'|' -f1
	exit 0
fi

tmp=$(mktemp -d /tmp/cftcp-run.XXXXXX) || exit 1
ns=""
# By path: busybox's timeout would run its own ip applet, which has no netns.
ip=$(command -v ip)

drop_ns()
{
	[ -n "$ns" ] || return
	for p in $(ip netns pids "$ns" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	ip netns del "$ns" 2>/dev/null
	ns=""
}
trap 'drop_ns; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

selected >"$tmp/list"
total=$(wc -l <"$tmp/list")
echo "TAP version 13"
echo "1..$total"

n=0
failed=0
while IFS='|' read -r name fam cmd; do
	n=$((n + 1))
	echo "# selftests: cftcp: $name"
	start=$(date +%s)
	ns=cftcp-st-$$-$n
	if ip netns add "$ns" 2>/dev/null; then
		ip -n "$ns" link set lo up
		set -- "$ip" netns exec "$ns"
	else
		echo "# (no new network namespace: running in the current one)"
		ns=""
		set --
	fi
	# shellcheck disable=SC2086 # cmd is "program [argument]"
	{ cd "$here" && timeout -k 10 "$limit" "$@" "$here/"$cmd </dev/null 2>&1
	  echo $? >"$tmp/rc"; } | tee "$tmp/log" | sed -e 's/^/# /'
	rc=$(cat "$tmp/rc")
	drop_ns
	echo "# $name: $(($(date +%s) - start)) s"
	# A test that passed with a part skipped (kselftest's SKIP()) did not
	# run whole: it counts as skipped.
	inner=$(grep -E '^ok [0-9]+ .*# SKIP' "$tmp/log" | head -n 1)
	[ "$rc" = 0 ] && [ -n "$inner" ] && rc=4
	case $rc in
	0)
		echo "ok $n $name"
		;;
	4)
		reason=$(sed -n 's/.*SKIP:* *//p' "$tmp/log" | tail -n 1)
		[ -n "$inner" ] && reason="part skipped: ${inner#ok }"
		echo "ok $n $name # SKIP ${reason:-exit status 4}"
		;;
	124|137|143)
		echo "not ok $n $name # TIMEOUT $limit seconds"
		failed=$((failed + 1))
		;;
	*)
		echo "not ok $n $name # exit=$rc"
		failed=$((failed + 1))
		;;
	esac
done <"$tmp/list"

echo "# $((n - failed)) of $n passed or skipped, $failed failed"
[ $failed -eq 0 ]

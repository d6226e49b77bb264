#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs the syscall fuzzer (sysfuzz: random cftcp socket calls from several
# threads on shared sockets) in rounds, each in a new network namespace
# over its loopback, every other round without root. During each round
# rmmod must be refused (EBUSY or EAGAIN: sysfuzz holds a socket the whole
# round); after it the namespace is deleted, with whatever connections are
# still closing in it. Passes when every round ran to its end, the kernel
# logged no BUG, WARNING, KASAN, Oops or the like, every cftcp socket is
# freed afterwards (the sockets column of /proc/net/protocols back to 0,
# memory within what the CPUs keep back) and the module unloads; it is
# loaded again on exit.
#
#   sysfuzz.sh [-T SECONDS] [-r ROUNDS] [-j THREADS] [-s SEED|random]
#	SECONDS in all (default 30), in ROUNDS rounds (default 3); round
#	N uses seed SEED + N. The seed is printed; "-s SEED" replays it (the
#	calls of each thread, not how the threads interleave).

. "$(dirname "$0")/lib.sh"

FUZZ=$here/sysfuzz
seconds=30
rounds=3
threads=4
seed=random

while getopts T:r:j:s: opt; do
	case $opt in
	T) seconds=$OPTARG ;;
	r) rounds=$OPTARG ;;
	j) threads=$OPTARG ;;
	s) seed=$OPTARG ;;
	*) echo "usage: $0 [-T SECONDS] [-r ROUNDS] [-j THREADS] [-s SEED|random]"
	   exit 2 ;;
	esac
done

[ -x "$FUZZ" ] || skip "sysfuzz missing"
[ -d /proc/sys/net/cftcp ] || skip "cftcp is not loaded"
[ -n "$CFTCP_KO" ] && [ -r "$CFTCP_KO" ] || skip "CFTCP_KO not set or not readable"
command -v rmmod >/dev/null && command -v insmod >/dev/null ||
	skip "no rmmod/insmod"

if [ "$seed" = random ]; then
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
per=$((seconds / rounds))
[ $per -ge 3 ] || per=3
echo "sysfuzz: seed $seed, $rounds rounds of $per s, $threads threads (replay: sysfuzz.sh -T $seconds -r $rounds -j $threads -s $seed)"

loaded()
{
	grep -q '^cftcp ' /proc/modules
}

restore()
{
	loaded || insmod "$CFTCP_KO" 2>/dev/null
	cleanup
}
trap restore EXIT

splats()
{
	dmesg 2>/dev/null | grep -cE 'BUG:|kernel BUG at|WARNING:|Oops|Call Trace|possible circular locking|detected stalls|blocked for more than|KASAN|UBSAN|KFENCE|general protection|Kernel panic|ODEBUG:|refcount_t:|list_(add|del) corruption'
}

# The CFTCP line of /proc/net/protocols: "SOCKETS MEMORY".
usage_now()
{
	awk '$1 == "CFTCP" { print $3, $4 }' /proc/net/protocols
}

before=$(splats)
r=0
while [ $r -lt $rounds ]; do
	ns=sfz-$$-$r
	s=$((seed + r))
	uopt=""
	[ $((r % 2)) -eq 1 ] && uopt=-u
	if ! ns_new $ns; then
		fail "round $r: namespace"
		break
	fi
	# Short timers: what the round leaves closing goes soon.
	for kv in syn_retries=2 synack_retries=2 fin_timeout=2 \
		timewait_len=2 retries2=3 orphan_retries=1 rto_max_ms=2000; do
		echo "${kv#*=}" | ip netns exec $ns \
			sh -c "cat >/proc/sys/net/cftcp/${kv%%=*}" ||
			fail "round $r: sysctl $kv"
	done
	ip netns exec $ns timeout -k 5 $((per + 30)) "$FUZZ" -s $s -T $per \
		-j $threads $uopt >"$tmp/fuzz.out" 2>&1 &
	fp=$!
	i=0
	while ! grep -q '^sysfuzz: running' "$tmp/fuzz.out" &&
		kill -0 $fp 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if ! grep -q '^sysfuzz: running' "$tmp/fuzz.out"; then
		fail "round $r: sysfuzz did not start"
	elif rmmod cftcp 2>"$tmp/rmmod"; then
		fail "round $r: rmmod succeeded while sysfuzz holds sockets"
		insmod "$CFTCP_KO"
	elif grep -qiE 'in use|busy|temporarily unavailable' "$tmp/rmmod"; then
		pass "round $r: rmmod refused: $(head -n 1 "$tmp/rmmod")"
	else
		fail "round $r: rmmod failed otherwise"
		show "$tmp/rmmod"
	fi
	wait $fp
	rc=$?
	show "$tmp/fuzz.out"
	if [ $rc -eq 0 ]; then
		pass "round $r: seed $s $uopt"
	else
		fail "round $r: seed $s $uopt: sysfuzz exit $rc"
	fi
	ns_del $ns
	r=$((r + 1))
done

# Every socket freed: deleted namespaces take their connections along.
# The memory column is the global count, which lags each CPU's own by up
# to net.core.mem_pcpu_rsv pages (sk_memory_allocated_add()).
rsv=$(cat /proc/sys/net/core/mem_pcpu_rsv 2>/dev/null || echo 256)
slack=$(($(grep -c '^processor' /proc/cpuinfo) * rsv))
i=0
while :; do
	set -- $(usage_now)
	[ "$1" = 0 ] && [ "${2#-}" -le $slack ] && break
	[ $i -ge 600 ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ "$1" = 0 ] && [ "${2#-}" -le $slack ]; then
	pass "no cftcp socket left, memory $2 pages (slack $slack) $((i / 10)) s after the last round"
else
	fail "cftcp sockets and memory pages still allocated: $1 $2 (slack $slack)"
fi

i=0
while ! rmmod cftcp 2>"$tmp/rmmod"; do
	i=$((i + 1))
	if [ $i -ge 50 ]; then
		fail "rmmod at the end"
		show "$tmp/rmmod"
		break
	fi
	sleep 0.1
done
loaded || pass "rmmod at the end"
insmod "$CFTCP_KO" || fail "insmod $CFTCP_KO again"

after=$(splats)
if [ "$after" -ne "$before" ]; then
	fail "kernel log: $((after - before)) new splat lines"
	dmesg | tail -n 60 | show
fi
finish

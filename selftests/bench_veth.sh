#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/bench.sh: Linux TCP and cftcp over one veth pair
# between two namespaces, in turn, BENCH_RUNS times (default 3): bulk
# throughput over 1 and 4 connections, 1-byte request/response on one
# connection, connect/request/response/close, each for BENCH_SECS seconds
# (default 5); then the slab memory of 2,000 established connections and
# of the TIME_WAIT entries they leave (netbench -m mem). Prints "BENCH FAMILY TEST RUN VALUE UNIT"
# lines; scripts/bench.sh makes the table.

. "$(dirname "$0")/lib.sh"

runs=${BENCH_RUNS:-3}
secs=${BENCH_SECS:-5}
nb=$here/netbench
a=bva-$$
b=bvb-$$

ns_new $a && ns_new $b && veth_pair $a 10.0.6.1 $b 10.0.6.2 ||
	{ echo "bench: namespaces and veth"; exit 1; }
for fam in tcp cftcp; do
	ip netns exec $a "$nb" -f $fam -s -b 10.0.6.1 -p 5201 &
	bg_add $!
	wait_listen $a $fam 5201 || { echo "bench: $fam server"; exit 1; }
done

# Slab memory per established socket and per TIME_WAIT entry, first,
# while no TIME_WAIT entry of another test expires: each round in a
# namespace of its own, deleted after it with its entries.
run=1
while [ $run -le "$runs" ]; do
	for fam in tcp cftcp; do
		m=bvm-$$-$fam-$run
		ns_new $m || { echo "bench: namespace"; exit 1; }
		out=$(ip netns exec $m "$nb" -f $fam -c 127.0.0.1 -p 5300 \
		      -m mem -P 2000) ||
			{ echo "bench: $fam mem failed"; exit 1; }
		ns_del $m
		sleep 3
		echo "$out" | awk -v f=$fam -v r=$run \
			'$1 == "RESULT" { print "BENCH", f, $2, r, $3, $4 }'
	done
	run=$((run + 1))
done

run=1
while [ $run -le "$runs" ]; do
	for t in "bulk1 -m bulk -P 1" "bulk4 -m bulk -P 4" "rr -m rr" \
		 "crr -m crr"; do
		set -- $t
		name=$1
		shift
		for fam in tcp cftcp; do
			out=$(ip netns exec $b "$nb" -f $fam -c 10.0.6.1 \
			      -p 5201 -d "$secs" "$@") ||
				{ echo "bench: $fam $name failed"; exit 1; }
			echo "$out" | awk -v f=$fam -v t=$name -v r=$run \
				'$1 == "RESULT" { print "BENCH", f, t, r, $3, $4 }'
		done
	done
	run=$((run + 1))
done
exit 0

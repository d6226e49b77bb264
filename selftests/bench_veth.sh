#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/bench.sh: Linux TCP and cftcp in turn, BENCH_RUNS
# times (default 3). First, each round in fresh namespaces: the slab
# memory of 2,000 established connections and of the TIME_WAIT entries
# they leave (netbench -m mem), 1,000 connects at once (-m conn), and
# connect/request/response/close while the client holds 1,000, 10,000 and
# 100,000 TIME_WAIT entries (both families keeping all of them:
# net.ipv4.tcp_max_tw_buckets as cftcp's max_tw_buckets), and the same
# while synflood sends SYNs from random addresses. Then over one
# veth pair between two namespaces, for BENCH_SECS seconds (default 5)
# each: bulk throughput over 1 and 4 connections, 1-byte request/response
# on one connection, connect/request/response/close. Prints
# "BENCH FAMILY TEST RUN VALUE UNIT" lines; scripts/bench.sh makes the
# table.

. "$(dirname "$0")/lib.sh"

runs=${BENCH_RUNS:-3}
secs=${BENCH_SECS:-5}
nb=$here/netbench
a=bva-$$
b=bvb-$$

# A client's namespace: the whole port range, and TIME_WAIT entries kept
# up to cftcp's max_tw_buckets by both families, never reused.
client_sysctls()
{
	ip netns exec $1 sh -c 'p=/proc/sys/net/ipv4
		echo 262144 >$p/tcp_max_tw_buckets &&
		echo 0 >$p/tcp_tw_reuse &&
		echo "1024 65535" >$p/ip_local_port_range' ||
		{ echo "bench: sysctls in $1"; return 1; }
}

case $secs in
''|*[!0-9]*) echo "bench: BENCH_SECS must be whole seconds"; exit 1 ;;
esac
[ "$secs" -ge 1 ] && [ "$secs" -le 20 ] ||
	{ echo "bench: BENCH_SECS from 1 to 20"; exit 1; }

ns_new $a && ns_new $b && veth_pair $a 10.0.6.1 $b 10.0.6.2 &&
	client_sysctls $b || { echo "bench: namespaces and veth"; exit 1; }
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

# crr_tw N FAMILY RUN: CRR for $secs in namespaces of their own, the
# client's holding N TIME_WAIT entries: its connections to itself on
# 127.0.0.1 (netbench -m tw, two processes), counted before the
# measurement (Linux's in /proc/net/sockstat, cftcp's in /proc/net/cftcp),
# which must end within 58 s of the fill's start so that none of them
# (60 s each) expires meanwhile. Where the machine is too slow for that,
# the run is left out, said, and the table counts the runs it has.
crr_tw()
{
	ta=btw-a-$$
	tb=btw-b-$$
	ns_new $ta && ns_new $tb && veth_pair $ta 10.0.7.1 $tb 10.0.7.2 ||
		{ echo "bench: namespaces for crr_tw"; return 1; }
	client_sysctls $tb || return 1
	ip netns exec $ta "$nb" -f $2 -s -b 10.0.7.1 -p 5201 &
	wait_listen $ta $2 5201 || { echo "bench: $2 server"; return 1; }
	t0=$(date +%s)
	ip netns exec $tb "$nb" -f $2 -c 127.0.0.1 -p 6000 -m tw -n $1 -P 2 \
		>/dev/null || { echo "bench: $2 TIME_WAIT fill"; return 1; }
	# close() returns before the FIN exchange ends; a segment that
	# waits for its retransmission holds a connection back a while
	for i in 1 2 3 4 5; do
		if [ $2 = tcp ]; then
			held=$(ip netns exec $tb awk '$1 == "TCP:" { print $7 }' \
			       /proc/net/sockstat)
		else
			held=$(ip netns exec $tb awk '$4 == "06"' \
			       /proc/net/cftcp | wc -l)
		fi
		[ "$held" -ge $1 ] && break
		sleep 1
	done
	[ "$held" -ge $1 ] ||
		{ echo "bench: $2 holds $held of $1 TIME_WAIT entries"; return 1; }
	out=$(ip netns exec $tb "$nb" -f $2 -c 10.0.7.1 -p 5201 -m crr \
	      -d "$secs") || { echo "bench: $2 crr_tw"; return 1; }
	if [ $(($(date +%s) - t0)) -le 58 ]; then
		echo "$out" | awk -v f=$2 -v r=$3 -v t=crr_tw$(($1 / 1000))k \
			'$1 == "RESULT" && $2 == "crr" { print "BENCH", f, t, r, $3, $4 }'
	else
		echo "bench: $2 crr_tw$(($1 / 1000))k run $3 left out:" \
		     "$(($(date +%s) - t0)) s from the fill's start"
	fi
	ns_del $ta
	ns_del $tb
	sleep 3
}

# crr_flood FAMILY RUN: CRR for $secs while synflood sends 4,000 SYNs a
# second at the listener from 10.9.128.0/17, routed back to the client's
# side where nothing answers the SYN-ACKs; in namespaces of their own, so
# that the half-open requests left behind go with them. Also the share of
# the client's exchanges that succeeded within 2 s (flood_ok).
crr_flood()
{
	fa=bfl-a-$$
	fb=bfl-b-$$
	[ $1 = tcp ] && proto=6 || proto=253
	ns_new $fa && ns_new $fb && veth_pair $fa 10.0.8.1 $fb 10.0.8.2 &&
		client_sysctls $fb &&
		ip -n $fa route add 10.9.128.0/17 via 10.0.8.2 dev veth0 ||
		{ echo "bench: namespaces for crr_flood"; return 1; }
	amac=$(ip -n $fa link show veth0 | awk '/link\/ether/ { print $2 }')
	ip netns exec $fa "$nb" -f $1 -s -b 10.0.8.1 -p 5201 &
	wait_listen $fa $1 5201 || { echo "bench: $1 server"; return 1; }
	ip netns exec $fb "$here/synflood" -i veth1 -m "$amac" -d 10.0.8.1 \
		-P 5201 -n $((secs * 4000 + 4000)) -t $((secs + 1)) \
		-o $proto >/dev/null &
	fl=$!
	sleep 0.5
	out=$(ip netns exec $fb "$nb" -f $1 -c 10.0.8.1 -p 5201 -m crr \
	      -d "$secs") || { echo "bench: $1 crr under flood"; return 1; }
	wait $fl || { echo "bench: synflood failed"; return 1; }
	echo "$out" | awk -v f=$1 -v r=$2 '
		$1 == "RESULT" && $2 == "crr" { print "BENCH", f, "crr_flood", r, $3, $4 }
		$1 == "RESULT" && $2 == "crr_ok" { print "BENCH", f, "flood_ok", r, $3, $4 }'
	ns_del $fa
	ns_del $fb
	sleep 3
}

run=1
while [ $run -le "$runs" ]; do
	for fam in tcp cftcp; do
		m=bvc-$$-$fam-$run
		ns_new $m || { echo "bench: namespace"; exit 1; }
		out=$(ip netns exec $m "$nb" -f $fam -c 127.0.0.1 -p 5300 \
		      -m conn -P 1000) ||
			{ echo "bench: $fam conn failed"; exit 1; }
		ns_del $m
		echo "$out" | awk -v f=$fam -v r=$run \
			'$1 == "RESULT" { print "BENCH", f, $2, r, $3, $4 }'
		crr_tw 1000 $fam $run && crr_tw 10000 $fam $run &&
			crr_tw 100000 $fam $run && crr_flood $fam $run ||
			exit 1
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
				'$1 == "RESULT" && $2 !~ /_ok$/ { print "BENCH", f, t, r, $3, $4 }'
		done
	done
	run=$((run + 1))
done
exit 0

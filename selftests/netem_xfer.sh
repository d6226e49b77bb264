#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Bulk transfer through an impaired link: tc netem on both ends of a veth
# pair between two network namespaces (so both directions suffer) loses,
# reorders, duplicates, corrupts or delays packets while cftcp_xfer moves a
# byte pattern both ways at once, every byte verified at both ends. Then:
#   - the server saw the end of the client's stream and both exited 0;
#   - the client, which closed first, shows TIME_WAIT in /proc/net/cftcp
#     and the server's connection is gone, with no EstabResets (no reset
#     ended either end);
#   - loss and corruption raised RetransSegs (both ends together: one end
#     may lose none of its own segments), corruption
#     InCsumErrors on both ends, duplication made each end receive more
#     segments than the other sent (InSegs > peer's OutSegs).
# netem flips bits in the linear head of a packet only, and the payload of
# both cftcp and TCP sits in page fragments, so corruption hits headers
# alone (IP's or the segment's): half of cftcp's corrupted packets still
# fail its checksum, TCP's counters are not checked. Both send
# super-packets, which meet netem's 1% loss only a few times a run, and
# those may all be pure ACKs: RetransSegs is checked from 5% loss on.
# The RTO floor is lowered to 20 ms (cftcp: rto_min_ms in each namespace;
# TCP: the routes' rto_min) so that recovery does not dominate the run.
# cftcp also starts from 100 ms (rto_initial_ms) where it has no RTT
# sample: without timestamps, Karn's rule finds none while every ACK
# covers a retransmission, which at 20% loss can last the whole run, and a
# 1 s RTO doubling over a few lost retransmissions in a row would outlast
# cftcp_xfer's 60 s patience.
#
#   netem_xfer.sh [cftcp|tcp] CASE...
#	CASE: loss1 loss5 loss20 reorder dup corrupt delay all
#
# Sizes are small enough for the default suite; with "cftcp_test.long=1" on
# the kernel command line (make check-long) or CFTCP_TEST_LONG=1 each case
# moves 8 MiB each way (TCP at 20% loss keeps its 512 KiB). NETEM_SIZE
# overrides either.

. "$(dirname "$0")/lib.sh"

fam=${1:-cftcp}
case $fam in
cftcp|tcp) shift ;;
*) fam=cftcp ;;
esac
[ $# -gt 0 ] || set -- loss1 loss5 loss20 reorder dup corrupt delay all

cf=0
[ "$fam" = tcp ] || cf=1
long=0
if [ "${CFTCP_TEST_LONG:-0}" = 1 ] ||
		grep -q 'cftcp_test\.long=1' /proc/cmdline 2>/dev/null; then
	long=1
fi
port=5001
a=nxa-$$
b=nxb-$$
srv_ip=10.0.3.1
cli_ip=10.0.3.2

tc qdisc add dev lo root netem loss 0% 2>/dev/null &&
	tc qdisc del dev lo root 2>/dev/null ||
	skip "tc netem is not available"

# case_params CASE: sets netem (the qdisc's arguments), size (short and long)
# and what to expect: retrans, csum, dup (1 = assert on it).
case_params()
{
	retrans=0
	csum=0
	dup=0
	case $1 in
	loss1) netem="loss 1%"; size=4M ;;
	loss5) netem="loss 5%"; size=2M; retrans=1 ;;
	loss20) netem="loss 20%"; size=512K; retrans=1 ;;
	reorder) netem="delay 5ms reorder 25% 50%"; size=2M ;;
	dup) netem="duplicate 5%"; size=4M; dup=1 ;;
	corrupt) netem="corrupt 5%"; size=4M; retrans=$cf; csum=$cf ;;
	delay) netem="delay 20ms 10ms"; size=2M ;;
	all)
		netem="delay 10ms 5ms reorder 25% 50% loss 5% duplicate 5% corrupt 5%"
		size=1M; retrans=1; csum=$cf
		;;
	*) return 1 ;;
	esac
	# Except for TCP at 20% loss: its congestion control and RTO backoff
	# there stall it for a minute at a time, and 8 MiB take many.
	[ $long -eq 0 ] || [ "$fam$1" = tcploss20 ] || size=8M
	size=${NETEM_SIZE:-$size}
}

bytes_of()
{
	case $1 in
	*K) echo $((${1%K} * 1024)) ;;
	*M) echo $((${1%M} * 1048576)) ;;
	*) echo "$1" ;;
	esac
}

# snap NS TAG: the counters of NS into $tmp/TAG
snap()
{
	if [ "$fam" = cftcp ]; then
		in_ns "$1" cat /proc/net/cftcp_stat >"$tmp/$2"
	else
		in_ns "$1" cat /proc/net/snmp >"$tmp/$2"
	fi
}

# delta TAG0 TAG1 NAME: how much counter NAME moved between two snaps
delta()
{
	awk -v n="$3" '
		FNR == 1 { f++; h = 0 }
		/^(CfTcp|Tcp):/ {
			if (!h) { delete idx; for (i = 2; i <= NF; i++) idx[$i] = i; h = 1; next }
			if (n in idx) v[f] = $(idx[n]); h = 2
		}
		END { print v[2] - v[1] }' "$tmp/$1" "$tmp/$2"
}

# wait_cond SECONDS COMMAND...: until COMMAND succeeds, polling every 0.1 s.
wait_cond()
{
	n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	"$@"
}

# Lines of FAMILY's table in NS for the connection local LPORT, remote RPORT.
conn_lines()
{
	lh=$(printf '%04X' "$2")
	rh=$(printf '%04X' "$3")
	in_ns "$1" cat "$(proc_table "$fam")" 2>/dev/null |
		awk -v l=":$lh" -v r=":$rh" 'NR > 1 &&
			substr($2, length($2) - 4) == l &&
			substr($3, length($3) - 4) == r'
}

client_timewait()
{
	conn_lines $b "$cport" $port | awk '$4 == "06" { f = 1 } END { exit !f }'
}

server_gone()
{
	[ -z "$(conn_lines $a $port "$cport")" ]
}

run_case()
{
	c=$1
	if ! case_params "$c"; then
		fail "unknown case '$c'"
		return
	fi
	what="$fam $c ($netem), $size each way"
	bytes=$(bytes_of "$size")

	if ! ns_new $a || ! ns_new $b ||
			! veth_pair $a $srv_ip $b $cli_ip; then
		fail "$what: namespaces and veth"
		ns_del $a
		ns_del $b
		return
	fi
	# Permanent neighbours: netem would lose ARP too, and a failed
	# resolution ends a connect with EHOSTUNREACH before any segment.
	ma=$(ip -n $a link show veth0 | awk '/link\/ether/ { print $2 }')
	mb=$(ip -n $b link show veth1 | awk '/link\/ether/ { print $2 }')
	ip -n $a neigh replace $cli_ip lladdr "$mb" dev veth0 nud permanent &&
		ip -n $b neigh replace $srv_ip lladdr "$ma" dev veth1 \
			nud permanent || fail "$what: neighbours"
	# A late segment (a duplicate, or a spurious retransmission overtaken
	# by reordering) reaching the closed server draws a RST that would end
	# the client's TIME_WAIT early: rfc1337 keeps it for the check below.
	if [ "$fam" = cftcp ]; then
		for ns in $a $b; do
			ip netns exec $ns sh -c \
				'echo 20 >/proc/sys/net/cftcp/rto_min_ms &&
				 echo 100 >/proc/sys/net/cftcp/rto_initial_ms' ||
				fail "$what: rto_min_ms, rto_initial_ms in $ns"
		done
		ip netns exec $b sh -c 'echo 1 >/proc/sys/net/cftcp/rfc1337'
	else
		ip netns exec $b sh -c 'echo 1 >/proc/sys/net/ipv4/tcp_rfc1337'
		ip -n $a route change 10.0.3.0/24 dev veth0 proto kernel \
			scope link src $srv_ip rto_min 20ms
		ip -n $b route change 10.0.3.0/24 dev veth1 proto kernel \
			scope link src $cli_ip rto_min 20ms
	fi
	# One packet per segment, checksummed in software, in both families:
	# netem then loses, duplicates and corrupts segments, and InSegs and
	# OutSegs count the same units.
	for x in "$a veth0" "$b veth1"; do
		set -- $x
		ip netns exec "$1" ethtool -K "$2" tx off tso off gso off \
			gro off >/dev/null 2>&1
	done
	# shellcheck disable=SC2086 # netem holds several words
	if ! ip netns exec $a tc qdisc add dev veth0 root netem $netem ||
			! ip netns exec $b tc qdisc add dev veth1 root netem $netem; then
		fail "$what: tc qdisc add netem $netem"
		ns_del $a
		ns_del $b
		return
	fi
	snap $a a0
	snap $b b0

	t0=$(date +%s)
	ip netns exec $a "$XFER" -f "$fam" -s -b $srv_ip -p $port -n "$size" \
		-P -t 60 >"$tmp/server" 2>&1 &
	spid=$!
	bg_add $spid
	if ! wait_listen $a "$fam" $port; then
		show "$tmp/server"
		fail "$what: server not listening"
		ns_del $a
		ns_del $b
		return
	fi
	ip netns exec $b "$XFER" -f "$fam" -c $srv_ip -p $port -n "$size" \
		-t 60 >"$tmp/client" 2>&1
	crc=$?
	bg_wait $spid
	src=$?
	t1=$(date +%s)
	echo "$what: client exit $crc, server exit $src, $((t1 - t0)) s"
	echo "client:"
	show "$tmp/client"
	echo "server:"
	show "$tmp/server"
	verified="sent $bytes received $bytes bytes, all verified"
	if [ $crc -eq 0 ] && [ $src -eq 0 ] &&
			grep -q "$verified" "$tmp/client" &&
			grep -q "$verified" "$tmp/server"; then
		pass "$what: every byte verified both ways, end of stream seen"
	else
		fail "$what: transfer (client exit $crc, server exit $src)"
	fi

	cport=$(sed -n "s/^connected $cli_ip:\([0-9]*\) -> .*/\1/p" "$tmp/client")
	if [ -z "$cport" ]; then
		fail "$what: client port unknown"
	else
		if wait_cond 10 client_timewait; then
			pass "$what: the client (first to close) is in TIME_WAIT"
		else
			fail "$what: the client is not in TIME_WAIT"
			conn_lines $b "$cport" $port | show
		fi
		# The server waits in LAST_ACK until its FIN is acknowledged.
		if wait_cond 30 server_gone; then
			pass "$what: the server's connection is gone"
		else
			fail "$what: the server's connection is still there"
			conn_lines $a $port "$cport" | show
		fi
	fi

	snap $a a1
	snap $b b1
	echo "counters (server / client):"
	extra=""
	[ "$fam" = tcp ] || extra="FastRetrans Timeouts OutOfWindow ChallengeACK"
	for x in RetransSegs InCsumErrors InSegs OutSegs EstabResets OutRsts \
			$extra; do
		echo "  $x $(delta a0 a1 $x) / $(delta b0 b1 $x)"
	done
	for x in "$a veth0" "$b veth1"; do
		set -- $x
		ip netns exec "$1" tc -s qdisc show dev "$2" | head -n 3 | show
	done

	if [ "$(delta a0 a1 EstabResets)" -ne 0 ] ||
			[ "$(delta b0 b1 EstabResets)" -ne 0 ]; then
		fail "$what: EstabResets moved: a connection was reset"
	fi
	if [ $retrans -eq 1 ]; then
		# Both ends send super-packets over veth (TCP's GSO, cftcp's
		# own), a few dozen each in the smaller cases: one end may lose
		# none of its own to netem, so the two ends count together.
		if [ $(($(delta a0 a1 RetransSegs) + $(delta b0 b1 RetransSegs))) -gt 0 ]; then
			pass "$what: RetransSegs rose"
		else
			fail "$what: RetransSegs did not rise"
		fi
	fi
	if [ $csum -eq 1 ]; then
		if [ "$(delta a0 a1 InCsumErrors)" -gt 0 ] &&
				[ "$(delta b0 b1 InCsumErrors)" -gt 0 ]; then
			pass "$what: InCsumErrors rose on both ends"
		else
			fail "$what: InCsumErrors did not rise on both ends"
		fi
	fi
	if [ $dup -eq 1 ]; then
		if [ "$(delta a0 a1 InSegs)" -gt "$(delta b0 b1 OutSegs)" ] &&
				[ "$(delta b0 b1 InSegs)" -gt "$(delta a0 a1 OutSegs)" ]; then
			pass "$what: each end received duplicates (InSegs > peer's OutSegs)"
		else
			fail "$what: no duplicates counted"
		fi
	fi
	ns_del $a
	ns_del $b
}

for c in "$@"; do
	run_case "$c"
done
finish

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Connections across two network namespaces joined by veth: a listener in
# one is reached from the other; a closed port there refuses, blocking
# (ECONNREFUSED) and non-blocking (EINPROGRESS, then POLLERR and SO_ERROR
# ECONNREFUSED); the listener is invisible in the other namespace, whose own
# loopback refuses the same port; the counters of each namespace move.
# Then A routes for B: a network A has no route to draws ICMP net
# unreachable and B's connect fails with ENETUNREACH, a network A's table
# marks unreachable draws ICMP host unreachable and EHOSTUNREACH, each at
# the first SYN (the connect has 10 s, far less than its SYN retries).
# Last, a connection from B to C behind A loses its path (A's route to C
# turns unreachable): B retransmits, each time told host unreachable, and
# when retries2 (3) runs out the error its reader gets is EHOSTUNREACH,
# not ETIMEDOUT. It connects from another address of B: A limits the ICMP
# errors it sends to each host (one a second after a burst), and the
# connects above spent 10.0.2.2's.
#
#   refused_netns.sh [cftcp|tcp]    (default cftcp)

. "$(dirname "$0")/lib.sh"

fam=${1:-cftcp}
case $fam in
cftcp|tcp) ;;
*) echo "usage: $0 [cftcp|tcp]"; exit 2 ;;
esac
a=rfa-$$
b=rfb-$$
port=5001
closed=5002

ns_new $a && ns_new $b && veth_pair $a 10.0.2.1 $b 10.0.2.2 ||
	{ fail "namespaces and veth"; finish; }

# in a subshell: not a job of this shell; it ends with namespace A
(ip netns exec $a "$XFER" -f "$fam" -s -p $port >"$tmp/server" 2>&1 &)
wait_listen $a "$fam" $port || { show "$tmp/server"; fail "listener"; finish; }

# connect from B, expecting status $1; output in $tmp/out
try()
{
	want=$1
	shift
	ip netns exec $b "$XFER" -f "$fam" "$@" >"$tmp/out" 2>&1
	rc=$?
	show "$tmp/out"
	[ $rc -eq "$want" ]
}

if try 0 -c 10.0.2.1 -p $port -m "across namespaces" &&
		grep -q '^echo: across namespaces$' "$tmp/out"; then
	pass "echo from the other namespace"
else
	fail "echo from the other namespace (exit $rc)"
fi

if [ -z "$(table_lines $b "$fam" $port 0A)" ] &&
		[ -n "$(table_lines $a "$fam" $port 0A)" ]; then
	pass "the listener shows in its own namespace only"
else
	fail "listener on port $port: seen in the wrong namespace's table"
fi

fails_b=$(counter $b "$fam" AttemptFails)
rsts_a=$(counter $a "$fam" OutRsts)

if try 2 -c 10.0.2.1 -p $closed &&
		grep -q "connect to 10.0.2.1:$closed: ECONNREFUSED" "$tmp/out"; then
	pass "blocking connect to a closed port: ECONNREFUSED"
else
	fail "blocking connect to a closed port (exit $rc)"
fi

if try 2 -c 10.0.2.1 -p $closed -N &&
		grep -q '^connect: EINPROGRESS$' "$tmp/out" &&
		grep -q '^poll: POLLOUT POLLERR POLLHUP.*, SO_ERROR ECONNREFUSED$' "$tmp/out"; then
	pass "non-blocking connect to a closed port: EINPROGRESS, POLLERR, SO_ERROR ECONNREFUSED"
else
	fail "non-blocking connect to a closed port (exit $rc)"
fi

if try 2 -c 127.0.0.1 -p $port &&
		grep -q "connect to 127.0.0.1:$port: ECONNREFUSED" "$tmp/out"; then
	pass "port $port on the other namespace's loopback: ECONNREFUSED"
else
	fail "port $port on the other namespace's loopback (exit $rc)"
fi

fails_b2=$(counter $b "$fam" AttemptFails)
rsts_a2=$(counter $a "$fam" OutRsts)
echo "AttemptFails in B: $fails_b -> $fails_b2; OutRsts in A: $rsts_a -> $rsts_a2"
if [ -n "$fails_b" ] && [ "$fails_b2" -eq $((fails_b + 3)) ] &&
		[ -n "$rsts_a" ] && [ "$rsts_a2" -ge $((rsts_a + 2)) ]; then
	pass "counters: three failed attempts in B, resets sent from A"
else
	fail "counters"
fi

ip netns exec $a sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward' &&
	ip -n $a route add unreachable 10.0.9.0/24 &&
	ip -n $b route add 10.0.8.0/24 via 10.0.2.1 &&
	ip -n $b route add 10.0.9.0/24 via 10.0.2.1 ||
	fail "routes through A"
if try 2 -c 10.0.8.1 -p $port -t 10 &&
		grep -q "connect to 10.0.8.1:$port: ENETUNREACH" "$tmp/out"; then
	pass "no route on the way (ICMP net unreachable): ENETUNREACH"
else
	fail "no route on the way (exit $rc)"
fi
if try 2 -c 10.0.9.1 -p $port -t 10 &&
		grep -q "connect to 10.0.9.1:$port: EHOSTUNREACH" "$tmp/out"; then
	pass "unreachable route on the way (ICMP host unreachable): EHOSTUNREACH"
else
	fail "unreachable route on the way (exit $rc)"
fi

c=rfc-$$
sync=$tmp/sync
mkdir -p "$sync"
if ns_new $c &&
		ip link add vac netns $a type veth peer name vca netns $c &&
		ip -n $a addr add 10.0.7.2/24 dev vac &&
		ip -n $c addr add 10.0.7.1/24 dev vca &&
		ip -n $a link set vac up && ip -n $c link set vca up &&
		ip -n $c route add default via 10.0.7.2 &&
		ip -n $b route add 10.0.7.0/24 via 10.0.2.1 &&
		ip -n $b addr add 10.0.2.3/24 dev veth1; then
	(ip netns exec $c "$XFER" -f "$fam" -s -b 10.0.7.1 -p $port \
		>"$tmp/server-c" 2>&1 &)
	wait_listen $c "$fam" $port || fail "listener in C"
	ip netns exec $b "$here/sockctl" -f "$fam" -D "$sync" >"$tmp/sc.out" \
		2>&1 <<EOF &
sysctl retries2 3
socket s
bind s 10.0.2.3 0
connect s 10.0.7.1 $port
send s 5 -> 5
recv s 5 all -> 5
touch connected
wait cut 10
send s 5 -> 5
recv s 5 -> EHOSTUNREACH
EOF
	sc=$!
	wait_file "$sync/connected" $sc
	ip -n $a route replace unreachable 10.0.7.0/24
	touch "$sync/cut"
	if wait $sc; then
		pass "path lost after the connect: the reader gets EHOSTUNREACH"
	else
		show "$tmp/sc.out"
		ip -n $a route | show
		for ns in $a $b; do
			ip netns exec $ns grep '^Icmp:' /proc/net/snmp | show
		done
		fail "path lost after the connect"
	fi
else
	fail "namespace C behind A"
fi

finish

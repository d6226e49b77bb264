#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What the lookups give a segment, seen by users of both ends.
#
# "device": namespace S has two veths, vA (10.31.1.1) to namespace A and vB
# (10.31.2.1) to namespace B. A listener on INADDR_ANY bound to vA with
# SO_BINDTODEVICE accepts a connection from A; a SYN to the same port
# arriving on vB finds no socket and draws a reset (ECONNREFUSED), as with
# Linux TCP. (S's own connections to 10.31.1.1 count as arriving on vA:
# the route of a local address names its device.) The connection accepted through vA is
# bound to vA too: a segment of its 4-tuple arriving on vB (B borrows A's
# address) is not delivered to it but draws a reset (routed to A, where
# it falls outside the window), while the connection carries on.
#
# "twport": a socket bound to a port by the user that goes through
# TIME_WAIT keeps owning that port after the TIME_WAIT entry ends
# (timewait_len 1 here; Linux TCP keeps the entry 60 s): another socket's
# bind() of the port fails with EADDRINUSE until the first is closed
# (cftcp: then it succeeds).
#
#   lookup.sh [-f cftcp|tcp] [SUBTEST]...

. "$(dirname "$0")/lib.sh"

SOCKCTL=$here/sockctl
fam=cftcp
port=7001

while getopts f: opt; do
	case $opt in
	f) fam=$OPTARG ;;
	*) echo "usage: $0 [-f cftcp|tcp] [SUBTEST]..."; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $fam in
cftcp|tcp) ;;
*) echo "usage: $0 [-f cftcp|tcp] [SUBTEST]..."; exit 2 ;;
esac
[ -x "$SOCKCTL" ] || skip "sockctl missing"
if [ $fam = cftcp ] && [ ! -d /proc/sys/net/cftcp ]; then
	skip "cftcp is not loaded"
fi

# sockctl NS NAME: run sockctl in NS on stdin, output in $tmp/NAME.out.
sc()
{
	ip netns exec "$1" "$SOCKCTL" -f $fam -D "$tmp/sync" \
		>"$tmp/$2.out" 2>&1
}

t_device()
{
	s=lks-$$
	a=lka-$$
	b=lkb-$$
	mkdir -p "$tmp/sync"
	rm -f "$tmp/sync/"*
	ns_new $s && ns_new $a && ns_new $b &&
	ip link add vA netns $s type veth peer name va netns $a &&
	ip link add vB netns $s type veth peer name vb netns $b &&
	ip -n $s addr add 10.31.1.1/24 dev vA &&
	ip -n $s addr add 10.31.2.1/24 dev vB &&
	ip -n $a addr add 10.31.1.2/24 dev va &&
	ip -n $b addr add 10.31.2.2/24 dev vb &&
	ip -n $s link set vA up && ip -n $s link set vB up &&
	ip -n $a link set va up && ip -n $b link set vb up ||
		{ fail "device: namespaces"; return; }

	sc $s server <<EOF &
socket l
opt l bindtodevice vA
bind l 0.0.0.0 $port
listen l 8
touch listening
accept l c
send c 5 -> 5
touch accepted
wait spoofed 120
send c 7 -> 7
recv c 1 -> 0
close c
close l
EOF
	spid=$!
	wait_file "$tmp/sync/listening" $spid ||
		{ show "$tmp/server.out"; fail "device: listener"; return; }

	ok=1
	sc $b fromb <<EOF || { show "$tmp/fromb.out"; ok=0; }
socket s
connect s 10.31.2.1 $port -> ECONNREFUSED
EOF
	[ $ok = 1 ] &&
		pass "device: a SYN on vB is refused ($fam)" ||
		fail "device: a SYN on vB ($fam)"

	sc $a froma <<EOF &
socket s
bind s 10.31.1.2 $((port + 1))
connect s 10.31.1.1 $port
recv s 5 all -> 5
wait spoofed 120
recv s 7 all -> 7
close s
EOF
	apid=$!
	if ! wait_file "$tmp/sync/accepted" $apid; then
		show "$tmp/server.out"
		show "$tmp/froma.out"
		fail "device: connection through vA ($fam)"
		return
	fi
	# B takes A's address and sends in the 4-tuple of A's connection:
	# a bare ACK and a segment with data arrive on vB, not on vA.
	ip -n $b addr add 10.31.1.2/32 dev vb &&
	ip -n $b route add 10.31.1.1/32 dev vb src 10.31.1.2 ||
		fail "device: addresses in B"
	rsts=$(counter $s $fam OutRsts)
	sc $b spoof <<EOF || { show "$tmp/spoof.out"; fail "device: SYN from B"; }
socket x
bind x 10.31.1.2 $((port + 1))
connect x 10.31.1.1 $port nonblock -> EINPROGRESS
sleep 1
close x
EOF
	rsts2=$(counter $s $fam OutRsts)
	touch "$tmp/sync/spoofed"
	if wait $apid && wait $spid; then
		pass "device: connection through vA carries on ($fam)"
	else
		show "$tmp/server.out"
		show "$tmp/froma.out"
		fail "device: connection through vA ($fam)"
	fi
	# S routes its reset to A, where it falls outside the window.
	echo "# OutRsts in S: $rsts -> $rsts2"
	if [ -n "$rsts" ] && [ "$rsts2" -gt "$rsts" ]; then
		pass "device: its 4-tuple on vB draws a reset, not delivered ($fam)"
	else
		fail "device: its 4-tuple on vB ($fam)"
	fi
	ns_del $s
	ns_del $a
	ns_del $b
}

t_twport()
{
	s=lkt-$$
	mkdir -p "$tmp/sync"
	ns_new $s || { fail "twport: namespace"; return; }
	if [ $fam = cftcp ]; then
		gone="state $((port + 2)) $port - 10"
		freed="bind f 127.0.0.1 $((port + 2))"
	else
		gone="echo TIME_WAIT stays 60 s in Linux TCP"
		freed="echo the TIME_WAIT entry still owns the port"
	fi
	if sc $s twport <<EOF; then
sysctl timewait_len 1
socket l
bind l 127.0.0.1 $port
listen l 4
socket c
bind c 127.0.0.1 $((port + 2))
connect c 127.0.0.1 $port
accept l a
shutdown c wr
recv a 1 -> 0
close a
recv c 1 -> 0
state $((port + 2)) $port 06 5
socket d
bind d 127.0.0.1 $((port + 2)) -> EADDRINUSE
$gone
socket e
bind e 127.0.0.1 $((port + 2)) -> EADDRINUSE
close c
socket f
$freed
EOF
		pass "twport: the user's port stays the socket's after TIME_WAIT ($fam)"
	else
		show "$tmp/twport.out"
		fail "twport: the user's port after TIME_WAIT ($fam)"
	fi
	ns_del $s
}

subtests=${*:-device twport}
for t in $subtests; do
	"t_$t"
done
finish

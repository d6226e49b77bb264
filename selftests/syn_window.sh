#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The window of a SYN in a simultaneous open (RFC 7323 2.2: the window
# field of a SYN or SYN-ACK is never scaled). The DUT (sockctl, 10.9.0.1
# on veth vd) connects while the peer (pktpeer, 10.9.0.2) connects to it:
# the peer's SYN carries window 1000 and window scale 7. The peer then
# completes the open, and the DUT writes 2000 bytes; how many it sends
# before the peer's next window update (in one or two segments) is the
# window it took; all 2000 and the FIN come after the update:
#
#   synack  the peer completes with its SYN-ACK, window 1000 again: the
#           window is 1000 bytes, not 128000, and the DUT sends 1000 bytes
#           and waits. cftcp only: Linux 6.1 scales that SYN-ACK's window
#           (tcp_rcv_state_process(), SYN_RECV) and sends all 2000.
#   ack     the peer completes with a bare ACK of window 8, which is
#           scaled: 1024 bytes, then a wait. Both families.
#
#   syn_window.sh [-f cftcp|tcp] [synack|ack]...

. "$(dirname "$0")/lib.sh"

PKTPEER=$here/pktpeer
SOCKCTL=$here/sockctl
DUT=10.9.0.1
PEER=10.9.0.2
fam=cftcp
proto=253

while getopts f: opt; do
	case $opt in
	f) fam=$OPTARG ;;
	*) echo "usage: $0 [-f cftcp|tcp] [synack|ack]..."; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $fam in
cftcp) proto=253 ;;
tcp) proto=6 ;;
*) echo "usage: $0 [-f cftcp|tcp] [synack|ack]..."; exit 2 ;;
esac

[ -x "$PKTPEER" ] && [ -x "$SOCKCTL" ] || skip "pktpeer or sockctl missing"
if [ $fam = cftcp ] && [ ! -d /proc/sys/net/cftcp ]; then
	skip "cftcp is not loaded"
fi

dns=swd-$$
pns=swp-$$

ns_up()
{
	ns_new $dns && ns_new $pns || return 1
	ip link add vd netns $dns type veth peer name vp netns $pns || return 1
	ip -n $dns addr add $DUT/24 dev vd &&
	ip -n $dns link set vd up &&
	ip -n $pns link set vp up || return 1
	pmac=$(ip -n $pns link show vp | awk '/link\/ether/ { print $2 }')
	dmac=$(ip -n $dns link show vd | awk '/link\/ether/ { print $2 }')
	ip -n $dns neigh replace $PEER lladdr "$pmac" dev vd nud permanent ||
		return 1
	if [ $fam = tcp ]; then
		# pktpeer checks every checksum: no partial ones on the wire
		ip netns exec $dns ethtool -K vd tx off >/dev/null 2>&1 ||
			return 1
		# No retransmission while the peer holds its window: an RTO
		# of at least 2 s (the handshake's RTT would give 200 ms), no
		# loss probe.
		ip -n $dns route replace 10.9.0.0/24 dev vd src $DUT \
			rto_min 2s || return 1
		ip netns exec $dns sh -c \
			'echo 0 >/proc/sys/net/ipv4/tcp_early_retrans' || return 1
	fi
}

# play NAME PEER_PORT DUT_PORT: pktpeer ($tmp/pp) and sockctl ($tmp/sc)
# until both end; both outputs shown when one fails.
play()
{
	sync=$tmp/sync-$1
	mkdir -p "$sync"
	ip netns exec $pns "$PKTPEER" -i vp -m "$dmac" -s $PEER -d $DUT \
		-p "$2" -P "$3" -o $proto -D "$sync" <"$tmp/pp" \
		>"$tmp/pp.out" 2>&1 &
	pp=$!
	wait_file "$sync/pktpeer-up" $pp
	ip netns exec $dns "$SOCKCTL" -f $fam -D "$sync" <"$tmp/sc" \
		>"$tmp/sc.out" 2>&1 &
	sp=$!
	wait $pp
	prc=$?
	[ $prc -eq 0 ] || kill $sp 2>/dev/null
	wait $sp
	src=$?
	if [ $src -eq 0 ] && [ $prc -eq 0 ]; then
		pass "$1 ($fam)"
		return 0
	fi
	echo "sockctl (exit $src):"
	show "$tmp/sc.out"
	echo "pktpeer (exit $prc):"
	show "$tmp/pp.out"
	fail "$1 ($fam)"
}

t_window()
{
	how=$1
	if [ "$how" = ack ]; then
		complete="send A seq=9001 ack=d+1 win=8"
		first=1024
		port=7011
	else
		complete="send SA seq=9000 ack=d+1 win=1000 mss=1460 ws=7"
		first=1000
		port=7010
	fi
	# Linux sends at most half the largest window seen per segment.
	if [ $fam = tcp ]; then
		half=$((first / 2))
		sent="expect PA~ seq=d+1 ack=9001 len=$half
expect PA~ seq=d+1+$half ack=9001 len=$half"
	else
		sent="expect PA~ seq=d+1 ack=9001 len=$first"
	fi
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
touch ready
socket c
opt c nodelay 1
bind c $DUT 6010
connect c $PEER $port nonblock -> EINPROGRESS
waitconn c -> 0
wait completed
send c 2000 -> 2000
wait done
close c
EOF
	cat >"$tmp/pp" <<EOF
wait ready
expect S mss=1460
set d=rseq
send S seq=9000 win=1000 mss=1460 ws=7
expect SA seq=d ack=9001 mss=1460
$complete
sleep 0.5
flush
touch completed
$sent
expect-none 0.5
send A seq=9001 ack=d+1+$first win=100
drain 1
send A seq=9001 ack=d+2001 win=100
touch done
expect FA~ seq=d+2001 ack=9001
send R seq=9001
EOF
	play "syn_window_$how" $port 6010
}

[ $# -gt 0 ] || set -- synack ack
for how in "$@"; do
	case $how in
	synack|ack) ;;
	*) echo "no subtest '$how'"; exit 2 ;;
	esac
	if ! ns_up; then
		fail "$how: namespaces and veth"
	else
		t_window "$how"
	fi
	ns_del $dns
	ns_del $pns
done
finish

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Listeners' lifetimes under load: for SECS seconds (default 6) a listener
# in the DUT's namespace is closed and listens again in a loop (half the
# rounds through shutdown() and listen() on the same socket, half through
# close() and a new socket), while synflood sends SYNs from random
# addresses to its port and clients in the peer's namespace connect and
# give up. Each SYN races the listener's close and its next listen(); each
# completed handshake races the accept queue's end. No request may be
# left once the last listener has gone. Then a listener holds
# half-open requests from the flood (SYN_RECV lines) when its process is
# killed and the DUT's namespace deleted, the flood still running, and
# cftcp is unloaded at once and loaded again. It passes when the requests
# were there, rmmod succeeds, the kernel logged no splat (BUG, WARNING,
# lockdep, KASAN...) and, under the debug kernel, the run's closing
# kmemleak scan finds nothing. cftcp only: Linux TCP cannot be unloaded.
#
#   listen_race.sh [SECS]

. "$(dirname "$0")/lib.sh"

SOCKCTL=$here/sockctl
SYNFLOOD=$here/synflood
DUT=10.9.0.1
PEER=10.9.0.2
port=7201
secs=${1:-6}

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

kernel_complaints()
{
	dmesg 2>/dev/null | grep -cE 'BUG:|WARNING:|Oops|general protection|refcount_t:|list_(add|del) corruption|possible circular|inconsistent lock|KASAN|UBSAN'
}

[ "$(id -u)" = 0 ] || skip "needs root"
[ -x "$SOCKCTL" ] && [ -x "$SYNFLOOD" ] || skip "sockctl or synflood missing"
[ -n "$CFTCP_KO" ] && [ -r "$CFTCP_KO" ] || skip "CFTCP_KO (path of cftcp.ko) not set"
loaded || insmod "$CFTCP_KO" || { fail "insmod $CFTCP_KO"; finish; }

complaints=$(kernel_complaints)
d=lrd-$$
p=lrp-$$
sync=$tmp/sync
mkdir -p "$sync"
ns_new $d && ns_new $p &&
	ip link add vd netns $d type veth peer name vp netns $p &&
	ip -n $d addr add $DUT/24 dev vd && ip -n $p addr add $PEER/24 dev vp &&
	ip -n $d link set vd up && ip -n $p link set vp up &&
	ip -n $d route add 10.9.128.0/17 via $PEER dev vd ||
	{ fail "namespaces"; finish; }
dmac=$(ip -n $d link show vd | awk '/link\/ether/ { print $2 }')
# Requests, not cookies: the flood fills the half-open queue.
echo 0 | ip netns exec $d tee /proc/sys/net/cftcp/syncookies >/dev/null

# The listener's rounds, 20 to a sockctl: even ones end in shutdown() and
# listen() on the same socket, odd ones in close() and a new socket.
rounds_script()
{
	i=0
	while [ $i -lt 20 ]; do
		echo "socket l$i"
		echo "opt l$i reuseaddr 1"
		echo "bind l$i 0.0.0.0 $port"
		echo "listen l$i 16"
		echo "sleep 0.01"
		if [ $((i % 2)) = 0 ]; then
			echo "shutdown l$i rd"
			echo "listen l$i 16"
			echo "sleep 0.01"
		fi
		echo "close l$i"
		i=$((i + 1))
	done
}

listener_loop()
{
	rounds_script >"$tmp/rounds.sc"
	end=$(($(date +%s) + secs))
	n=0
	while [ "$(date +%s)" -lt $end ]; do
		ip netns exec $d "$SOCKCTL" -D "$sync" <"$tmp/rounds.sc" \
			>>"$tmp/listener.out" 2>&1 || echo "run $n" >>"$tmp/bad"
		n=$((n + 20))
	done
	echo "$n" >"$tmp/rounds"
}

client_loop()
{
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt $end ]; do
		ip netns exec $p "$SOCKCTL" >/dev/null 2>&1 <<EOF
socket a
socket b
connect a $DUT $port nonblock
connect b $DUT $port nonblock
sleep 0.02
close a
close b
EOF
	done
}

ip netns exec $p "$SYNFLOOD" -i vp -m "$dmac" -d $DUT -P $port \
	-n $((secs * 1500 + 6000)) -t $((secs + 4)) -o 253 \
	>"$tmp/flood.out" 2>&1 &
fpid=$!
bg_add $fpid
listener_loop &
lpid=$!
bg_add $lpid
client_loop &
cpid=$!
bg_add $cpid
bg_wait $lpid
bg_wait $cpid
rounds=$(cat "$tmp/rounds" 2>/dev/null)
echo "# $rounds listener rounds in ${secs}s"
if [ "${rounds:-0}" -ge 2 ] && [ ! -e "$tmp/bad" ]; then
	pass "listener closed and listening again $rounds times under a SYN flood"
else
	show "$tmp/listener.out"
	fail "the listener's rounds"
fi

# No listener is left: neither may a request be. One linked to a listener
# that had closed would stay until its SYN-ACK retries ran out.
sleep 0.5
left=$(ip netns exec $d cat /proc/net/cftcp | awk '$4 == "03"' | wc -l)
if [ "$left" -eq 0 ]; then
	pass "no request outlives its listener"
else
	ip netns exec $d cat /proc/net/cftcp | awk '$4 == "03"' | head -5 | show
	fail "$left requests outlive their listener"
fi

# A listener the flood fills with requests; its namespace goes with them.
ip netns exec $d "$SOCKCTL" -D "$sync" >"$tmp/last.out" 2>&1 <<EOF &
socket l
opt l reuseaddr 1
bind l 0.0.0.0 $port
listen l 128
touch listening
wait never 60
EOF
last=$!
bg_add $last
wait_file "$sync/listening" $last || fail "the last listener"
reqs=0
i=0
while [ $i -lt 20 ] && [ "$reqs" -lt 16 ]; do
	sleep 0.1
	reqs=$(ip netns exec $d cat /proc/net/cftcp | awk '$4 == "03"' | wc -l)
	i=$((i + 1))
done
echo "# $reqs half-open requests when the namespace goes"
[ "$reqs" -ge 1 ] && pass "requests pending ($reqs)" ||
	fail "no request from the flood"
{ ns_del $d; bg_wait $last; } 2>/dev/null	# killed with the namespace
bg_wait $fpid
ns_del $p

i=0
while ! rmmod cftcp 2>"$tmp/rmmod"; do
	i=$((i + 1))
	if [ $i -ge 100 ]; then
		show "$tmp/rmmod"
		break
	fi
	sleep 0.1
done
if loaded; then
	fail "rmmod after the namespace went"
else
	pass "rmmod right after the namespace went (attempt $((i + 1)))"
fi
insmod "$CFTCP_KO" || fail "insmod again"

after=$(kernel_complaints)
if [ "$after" -eq "$complaints" ]; then
	pass "no kernel splat"
else
	dmesg | tail -60 | show
	fail "the kernel complained ($complaints -> $after lines)"
fi
finish

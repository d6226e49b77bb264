#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# cftcp's tracepoints, read through tracefs during real connections
# between two namespaces (10.30.0.1 client, 10.30.0.2 server):
#   states      the client's cftcp_set_state events go SYN_SENT,
#               ESTABLISHED, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE in
#               order, with its 4-tuple; the server's child reaches
#               ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSE
#   timewait    cftcp_tw_create for that tuple, then cftcp_tw_reap after
#               timewait_len (1 s here)
#   reset       a connect to a port nobody listens on: cftcp_send_reset on
#               the server side (no socket), cftcp_receive_reset on the
#               client in SYN_SENT
#   retransmit  the link drops everything for a moment while data is in
#               flight: cftcp_retransmit_skb with the connection's tuple
#   syncookie   syncookies=2: cftcp_syncookie event=sent, then
#               event=accepted for the returning ACK
# Every event's format is in tracefs (events/cftcp/*/format), which is
# what perf trace, trace-cmd and bpftrace read.

. "$(dirname "$0")/lib.sh"

T=/sys/kernel/tracing
if [ ! -d $T/events ]; then
	mount -t tracefs nodev $T 2>/dev/null ||
		{ echo "FAIL: cannot mount tracefs"; exit 1; }
fi
[ -d $T/events/cftcp ] || { echo "FAIL: no $T/events/cftcp"; exit 1; }
for e in cftcp_set_state cftcp_retransmit_skb cftcp_send_reset \
	 cftcp_receive_reset cftcp_syncookie cftcp_tw_create cftcp_tw_reap \
	 cftcp_tw_kill; do
	[ -r $T/events/cftcp/$e/format ] || fail "no event $e"
done

A=cftr-a-$$
B=cftr-b-$$
ns_new $A && ns_new $B || { echo "FAIL: namespaces"; exit 1; }
veth_pair $A 10.30.0.1 $B 10.30.0.2 || { echo "FAIL: veth pair"; exit 1; }
for ns in $A $B; do
	echo 1 | ip netns exec $ns tee /proc/sys/net/cftcp/timewait_len >/dev/null
	echo 20 | ip netns exec $ns tee /proc/sys/net/cftcp/rto_min_ms >/dev/null
	echo 100 | ip netns exec $ns tee /proc/sys/net/cftcp/rto_initial_ms >/dev/null
done

echo 0 >$T/tracing_on
echo >$T/trace
echo 1 >$T/events/cftcp/enable
echo 1 >$T/tracing_on
trap 'echo 0 > $T/events/cftcp/enable; echo > $T/trace; cleanup' EXIT

XFER=$here/cftcp_xfer
# --- one connection: the client closes first (TIME_WAIT on its side).
ip netns exec $B "$XFER" -s -b 10.30.0.2 -p 7001 -n 64K -P -t 30 >"$tmp/s1" 2>&1 &
bg_add $!
ip netns exec $A "$XFER" -c 10.30.0.2 -p 7001 -n 64K -w 10 -t 30 >"$tmp/c1" 2>&1 ||
	fail "transfer: $(cat "$tmp/c1")"
bg_wait $!
sleep 2		# the TIME_WAIT entry's 1 s, and its reaping

# --- reset: nobody listens on 7002.
ip netns exec $A "$XFER" -c 10.30.0.2 -p 7002 -t 5 >"$tmp/c2" 2>&1

# --- retransmit: the link drops everything while data is in flight. It
# runs at 20 Mbit/s, so that the 8 MB take seconds whatever the stack's
# speed, and the loss surely falls in the transfer.
tc -n $A qdisc add dev veth0 root netem rate 20mbit
ip netns exec $B "$XFER" -s -b 10.30.0.2 -p 7003 -n 8M -t 30 >"$tmp/s3" 2>&1 &
spid=$!
bg_add $spid
ip netns exec $A "$XFER" -c 10.30.0.2 -p 7003 -n 8M -w 10 -t 30 >"$tmp/c3" 2>&1 &
cpid=$!
bg_add $cpid
i=0
while ! ip netns exec $A cat /proc/net/cftcp | grep -q ':1B5B 01 '; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.05
done
tc -n $A qdisc change dev veth0 root netem loss 100% rate 20mbit
sleep 0.5
tc -n $A qdisc del dev veth0 root
bg_wait $cpid || fail "transfer under loss: $(cat "$tmp/c3")"
bg_wait $spid

# --- syncookie: always.
echo 2 | ip netns exec $B tee /proc/sys/net/cftcp/syncookies >/dev/null
ip netns exec $B "$XFER" -s -b 10.30.0.2 -p 7004 -n 1K -t 30 >"$tmp/s4" 2>&1 &
spid=$!
bg_add $spid
ip netns exec $A "$XFER" -c 10.30.0.2 -p 7004 -n 1K -w 10 -t 30 >"$tmp/c4" 2>&1 ||
	fail "transfer with cookies: $(cat "$tmp/c4")"
bg_wait $spid

echo 0 >$T/tracing_on
cat $T/trace >"$tmp/trace"
echo "  $(grep -c 'cftcp_' "$tmp/trace") cftcp events"
# The client's port, from the connection that opened (SYN_SENT is entered
# before connect() picks the port, as in TCP, and a first attempt may meet
# the listener not yet there).
cport=$(sed -n 's/.*cftcp_set_state: saddr=10.30.0.1 sport=\([1-9][0-9]*\) daddr=10.30.0.2 dport=7001 oldstate=SYN_SENT newstate=ESTABLISHED/\1/p' \
	"$tmp/trace" | head -n 1)

# The client's states, in order, for its tuple.
grep "cftcp_set_state: saddr=10.30.0.1 sport=$cport daddr=10.30.0.2 dport=7001 " "$tmp/trace" |
	sed 's/.*newstate=//' | tr '\n' ' ' >"$tmp/cstates"
want="ESTABLISHED FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE "
if [ "$(cat "$tmp/cstates")" = "$want" ]; then
	pass "states: client $want"
else
	fail "states: client '$(cat "$tmp/cstates")', want '$want'"
fi
grep "cftcp_set_state: saddr=10.30.0.2 sport=7001 daddr=10.30.0.1 dport=$cport " "$tmp/trace" |
	sed 's/.*newstate=//' | tr '\n' ' ' >"$tmp/sstates"
case "$(cat "$tmp/sstates")" in
*"ESTABLISHED CLOSE_WAIT LAST_ACK CLOSE "*)
	pass "states: server child $(cat "$tmp/sstates")" ;;
*)
	fail "states: server child '$(cat "$tmp/sstates")'" ;;
esac

tuple="saddr=10.30.0.1 sport=$cport daddr=10.30.0.2 dport=7001"
if grep -q "cftcp_tw_create: $tuple msecs=1000" "$tmp/trace" &&
   grep -q "cftcp_tw_reap: $tuple msecs=" "$tmp/trace"; then
	pass "timewait: created for 1000 ms and reaped"
else
	fail "timewait: no create/reap events for $tuple"
fi

if grep -q "cftcp_send_reset: saddr=10.30.0.2 sport=7002 daddr=10.30.0.1 .* state=none" "$tmp/trace" &&
   grep -q "cftcp_receive_reset: saddr=10.30.0.1 sport=[0-9]* daddr=10.30.0.2 dport=7002 state=SYN_SENT" "$tmp/trace"; then
	pass "reset: sent without a socket for port 7002, received in SYN_SENT"
else
	fail "reset: events missing"
	grep reset "$tmp/trace" | show
fi

if grep -q "cftcp_retransmit_skb: saddr=10.30.0.1 sport=[0-9]* daddr=10.30.0.2 dport=7003 seq=[0-9]* end_seq=[0-9]* state=" "$tmp/trace"; then
	pass "retransmit: $(grep -c 'cftcp_retransmit_skb: saddr=10.30.0.1 .*dport=7003' "$tmp/trace") events for the connection to 7003"
else
	fail "retransmit: no event for the connection to 7003"
fi

if grep -q "cftcp_syncookie: saddr=10.30.0.2 sport=7004 daddr=10.30.0.1 dport=[0-9]* event=sent" "$tmp/trace" &&
   grep -q "cftcp_syncookie: saddr=10.30.0.2 sport=7004 daddr=10.30.0.1 dport=[0-9]* event=accepted" "$tmp/trace"; then
	pass "syncookie: sent and accepted for port 7004"
else
	fail "syncookie: events missing"
	grep syncookie "$tmp/trace" | show
fi

[ "$failures" -eq 0 ] || { echo "  the trace:"; grep cftcp_ "$tmp/trace" | cut -c1-200 | show; }
finish

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The connection state machine seen from both ends: sockctl drives sockets
# in one network namespace (the DUT, veth vd 10.9.0.1/24) and pktpeer plays
# the other end with crafted segments from a namespace whose veth has no
# address (10.9.0.2 exists only in the DUT's neighbour table). Each subtest
# gets fresh namespaces, so every counter starts at zero and every sysctl
# at its default; it passes when both scripts hold to the end: segments
# seen by the peer (flags, numbers, options, spacing), results and errno
# of the calls, SIGPIPE, /proc/net/cftcp states and counter deltas.
# The two sides step together through files in a directory both can see.
#
#   state.sh [-f cftcp|tcp] [GROUP|SUBTEST]...
#	GROUP: open passive close rst timewait flow hostile memory orphans
#	(default: all of them but orphans, which needs a host without
#	orphans: run_tests.sh runs it first).
#	-f tcp plays the subtests whose expectations hold for Linux TCP too
#	(no cftcp-only sysctl, no timing that Linux fixes) against Linux TCP
#	in IP protocol 6; the others are skipped. So the guest's Linux proves
#	those expectations. The DUT's checksum offload is off for both.
#
# The table of transitions and the subtest covering each is in README.

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
	*) echo "usage: $0 [-f cftcp|tcp] [GROUP|SUBTEST]..."; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $fam in
cftcp) proto=253 ;;
tcp) proto=6 ;;
*) echo "usage: $0 [-f cftcp|tcp] [GROUP|SUBTEST]..."; exit 2 ;;
esac
# Counters whose meaning interface.md gives cftcp and not Linux's: their
# checks are sockctl comments under -f tcp.
cf=""
[ $fam = cftcp ] || cf="#"

[ -x "$PKTPEER" ] && [ -x "$SOCKCTL" ] || skip "pktpeer or sockctl missing"
if [ $fam = cftcp ] && [ ! -d /proc/sys/net/cftcp ]; then
	skip "cftcp is not loaded"
fi

# ---- Namespaces -----------------------------------------------------------

dns=""
pns=""

ns_up()
{
	dns=std-$$
	pns=stp-$$
	ns_new $dns && ns_new $pns || return 1
	ip link add vd netns $dns type veth peer name vp netns $pns || return 1
	for n in $dns $pns; do
		ip netns exec $n sh -c \
			'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6' \
			2>/dev/null
	done
	ip -n $dns addr add $DUT/24 dev vd &&
	ip -n $dns link set vd up &&
	ip -n $pns link set vp up || return 1
	pmac=$(ip -n $pns link show vp | awk '/link\/ether/ { print $2 }')
	dmac=$(ip -n $dns link show vd | awk '/link\/ether/ { print $2 }')
	ip -n $dns neigh replace $PEER lladdr "$pmac" dev vd nud permanent ||
		return 1
	# pktpeer checks every checksum and sees segments one by one: no
	# partial checksums nor super-packets of either family on the wire
	ip netns exec $dns ethtool -K vd tx off >/dev/null 2>&1 || return 1
}

ns_down()
{
	ns_del $dns
	ns_del $pns
}

# ---- Running one subtest ----------------------------------------------------

# play NAME PEER_PORT DUT_PORT: sockctl runs $tmp/sc in the DUT namespace
# while pktpeer runs $tmp/pp in the peer's (started first, and receiving
# before sockctl starts); whichever fails first stops the other. Both
# outputs are shown when a side fails.
play()
{
	name=$1
	sync=$tmp/sync-$name
	rm -rf "$sync"
	mkdir -p "$sync"
	ip netns exec $pns "$PKTPEER" -i vp -m "$dmac" -s $PEER -d $DUT \
		-p "$2" -P "$3" -o $proto -D "$sync" <"$tmp/pp" \
		>"$tmp/pp.out" 2>&1 &
	pp=$!
	# the DUT's first segment must find the peer listening
	wait_file "$sync/pktpeer-up" $pp
	ip netns exec $dns "$SOCKCTL" -f $fam -D "$sync" <"$tmp/sc" \
		>"$tmp/sc.out" 2>&1 &
	sp=$!
	while kill -0 $sp 2>/dev/null && kill -0 $pp 2>/dev/null; do
		sleep 0.1
	done
	if ! kill -0 $sp 2>/dev/null; then
		wait $sp
		src=$?
		[ $src -eq 0 ] || kill $pp 2>/dev/null
		wait $pp
		prc=$?
	else
		wait $pp
		prc=$?
		[ $prc -eq 0 ] || kill $sp 2>/dev/null
		wait $sp
		src=$?
	fi
	if [ $src -eq 0 ] && [ $prc -eq 0 ]; then
		pass "$name ($fam)"
		return 0
	fi
	echo "sockctl (exit $src):"
	show "$tmp/sc.out"
	echo "pktpeer (exit $prc):"
	show "$tmp/pp.out"
	fail "$name ($fam)"
	return 1
}

# Script pieces. The peer's initial sequence number is always 1000; d is
# the DUT's, read from its SYN or SYN-ACK.

# The DUT connects from $DUT:$1 to $PEER:$2 (pktpeer: pp_connected), with
# SO_RCVBUF $3 if given.
sc_connect()
{
	echo "socket c"
	[ -z "$3" ] || echo "opt c rcvbuf $3"
	cat <<EOF
bind c $DUT $1
connect c $PEER $2
EOF
}

# sc_connect with SO_RCVBUF $3, then, once the peer touched "sent", read
# and check $4 bytes.
sc_read_when_sent()
{
	sc_connect "$1" "$2" "$3"
	cat <<EOF
wait sent
recv c $4 all check -> $4
EOF
}

pp_connected()
{
	cat <<EOF
expect S mss=1460
set d=rseq
send SA seq=1000 ack=d+1 mss=1460 ws=7
expect A seq=d+1 ack=1001
EOF
}

# A listener l on $DUT:5000 with backlog $1 (pktpeer: pp_accepted).
sc_listen()
{
	cat <<EOF
socket l
opt l reuseaddr 1
bind l $DUT 5000
listen l $1
state 5000 0 0A 0
touch listening
EOF
}

pp_accepted()
{
	cat <<EOF
wait listening
send S seq=1000 mss=1460 ws=7
expect SA ack=1001 mss=1460
set d=rseq
send A seq=1001 ack=d+1
EOF
}

# ---- open: active open, SYN_SENT --------------------------------------------

# SYN_SENT -> CLOSED on timeout: the SYN is sent syn_retries more times,
# each timeout twice the one before from rto_initial_ms (400 ms), then the
# connect fails with ETIMEDOUT and no further SYN leaves. Timeouts counts
# each expiry, the last too (Linux's tcp_retransmit_timer()).
t_syn_backoff()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 400
sysctl syn_retries 3
snap
touch ready
socket c
bind c $DUT 6001
connect c $PEER 7001 nonblock -> EINPROGRESS
state 6001 7001 02 0
infostate c SYN_SENT
poll c 0
waitconn c 30 -> ETIMEDOUT
state 6001 7001 -
delta ActiveOpens 1
delta SynRetrans 3
delta RetransSegs 3
delta AttemptFails 1
delta AbortOnTimeout 1
delta Timeouts 4
delta CurrEstab 0
EOF
	cat >"$tmp/pp" <<EOF
wait ready
expect S mss=1460 ws=7
set d=rseq
expect S seq=d mss=1460 mingap=0.36 maxgap=1.4
expect S seq=d mingap=0.72 maxgap=2.2
expect S seq=d mingap=1.44 maxgap=3.6
expect-none 4.5
EOF
	play syn_backoff 7001 6001
}

# CFTCP_SYNCNT on the socket overrides syn_retries (6): two retries.
t_syncnt()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 400
snap
touch ready
socket c
opt c syncnt 2
bind c $DUT 6002
connect c $PEER 7002 -> ETIMEDOUT
state 6002 7002 -
delta SynRetrans 2
delta AttemptFails 1
EOF
	cat >"$tmp/pp" <<EOF
wait ready
expect S
set d=rseq
expect S seq=d mingap=0.36 maxgap=1.4
expect S seq=d mingap=0.72 maxgap=2.2
expect-none 2.5
EOF
	play syncnt 7002 6002
}

# In SYN_SENT a RST without ACK is ignored; a RST acknowledging the SYN
# refuses the connection (ECONNREFUSED, AttemptFails), no RST goes back.
t_synsent_rst()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
snap
socket c
bind c $DUT 6003
connect c $PEER 7003 nonblock -> EINPROGRESS
wait ignored
state 6003 7003 02 0
touch go
waitconn c -> ECONNREFUSED
state 6003 7003 -
delta AttemptFails 1
delta OutRsts 0
delta EstabResets 0
EOF
	cat >"$tmp/pp" <<EOF
expect S
set d=rseq
send R seq=0
expect-none 0.3
touch ignored
wait go
send RA seq=0 ack=d+1
expect-none 0.3
EOF
	play synsent_rst 7003 6003
}

# In SYN_SENT a SYN-ACK whose ACK does not cover our SYN is answered with
# <SEQ=SEG.ACK><RST>, and the first such segment makes the SYN go again at
# once (Linux's tcp_rcv_synsent_state_process(): the peer may have held
# an old connection, which the RST clears); a RST with such an ACK is
# ignored. The connection stays in SYN_SENT.
t_synsent_bad_ack()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
snap
socket c
bind c $DUT 6008
connect c $PEER 7008 nonblock -> EINPROGRESS
wait ignored
state 6008 7008 02 0
delta OutRsts 1
delta SynRetrans 1
EOF
	cat >"$tmp/pp" <<EOF
expect S
set d=rseq
send SA seq=5000 ack=d+100 mss=1460
expect R seq=d+100
expect S seq=d timeout=1
send RA seq=0 ack=d+5
expect-none 0.3
touch ignored
EOF
	play synsent_bad_ack 7008 6008
}

# SYN_SENT -> CLOSED by close(): no segment; a SYN-ACK then finds nothing
# and is answered with a reset.
t_synsent_close()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
touch ready
socket c
bind c $DUT 6004
connect c $PEER 7004 nonblock -> EINPROGRESS
wait syn
close c
state 6004 7004 - 0
touch closed
EOF
	cat >"$tmp/pp" <<EOF
wait ready
expect S
set d=rseq
touch syn
wait closed
expect-none 0.5
send SA seq=5000 ack=d+1 mss=1460
expect R seq=d+1
EOF
	play synsent_close 7004 6004
}

# Simultaneous open: SYN_SENT + SYN -> SYN_RECV, answered with a SYN-ACK of
# the same ISN; then the peer's SYN-ACK (or a bare ACK, $1 = ack) makes it
# ESTABLISHED and data flows both ways.
t_simultaneous_open()
{
	how=${1:-synack}
	if [ "$how" = ack ]; then
		complete="send A seq=9001 ack=d+1"
		port=7006
	else
		complete="send SA seq=9000 ack=d+1 mss=1460 ws=7"
		port=7005
	fi
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
snap
touch ready
socket c
bind c $DUT 6005
connect c $PEER $port nonblock -> EINPROGRESS
wait synrecv
state 6005 $port 03 0
infostate c SYN_RECV
touch checked
waitconn c -> 0
infostate c ESTABLISHED
state 6005 $port 01
touch established
recv c 5 check -> 5
send c 3 -> 3
delta ActiveOpens 1
delta CurrEstab 1
delta PassiveOpens 0
EOF
	cat >"$tmp/pp" <<EOF
wait ready
expect S mss=1460
set d=rseq
send S seq=9000 mss=1460 ws=7
expect SA seq=d ack=9001 mss=1460
touch synrecv
wait checked
$complete
wait established
flush
send PA seq=9001 ack=d+1 len=5
expect A seq=d+1 ack=9006
expect PA seq=d+1 ack=9006 len=3
EOF
	play "simultaneous_open_$how" $port 6005
}

t_simultaneous_open_ack()
{
	t_simultaneous_open ack
}

# SYN_RECV (after a simultaneous open) -> FIN_WAIT1 by close(): the FIN
# leaves at once; while nothing is acknowledged, the retransmission timer
# sends the oldest unacknowledged segment, the SYN-ACK (Linux: the head of
# its retransmission queue). The ACK of both leads to FIN_WAIT2, the
# peer's FIN to TIME_WAIT.
t_synrecv_close()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 1000
socket c
bind c $DUT 6007
connect c $PEER 7007 nonblock -> EINPROGRESS
wait synrecv
state 6007 7007 03 0
close c
state 6007 7007 04 0
wait rtx
state 6007 7007 04 0
touch fw1
wait acked
state 6007 7007 05
touch fw2
wait timewait
state 6007 7007 06
EOF
	cat >"$tmp/pp" <<EOF
expect S
set d=rseq
send S seq=9000 mss=1460 ws=7
expect SA seq=d ack=9001
touch synrecv
expect FA seq=d+1 ack=9001
expect SA seq=d ack=9001 mingap=0.9 maxgap=3
touch rtx
wait fw1
send A seq=9001 ack=d+2
touch acked
wait fw2
send FA seq=9001 ack=d+2
expect A seq=d+2 ack=9002
touch timewait
EOF
	play synrecv_close 7007 6007
}

# ---- passive: LISTEN, SYN_RECV requests -------------------------------------

# A request (st 03) gets its SYN-ACK synack_retries more times, each
# timeout twice the one before from rto_initial_ms, then is dropped without
# a word; an ACK after that is answered with a reset. Timeouts counts each
# expiry (Linux's tcp_syn_ack_timeout()).
t_synack_backoff()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 400
sysctl synack_retries 3
snap
EOF
	sc_listen 8 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait synack
state 5000 7010 03 0
count 5000 03 1
state 5000 7010 - 15
count 5000 03 0
wait done
delta SynAckRetrans 3
delta RetransSegs 3
delta Timeouts 4
delta PassiveOpens 0
delta ListenDrops 0
EOF
	cat >"$tmp/pp" <<EOF
wait listening
send S seq=1000 mss=1460 ws=7
expect SA ack=1001 mss=1460 ws=7
set d=rseq
touch synack
expect SA seq=d ack=1001 mss=1460 ws=7 mingap=0.36 maxgap=1.4
expect SA seq=d ack=1001 mingap=0.72 maxgap=2.2
expect SA seq=d ack=1001 mingap=1.44 maxgap=3.6
expect-none 4.5
send A seq=1001 ack=d+1
expect R seq=d+1
touch done
EOF
	play synack_backoff 7010 5000
}

# A retransmitted SYN gets the SYN-ACK again (same ISN) at once, and still
# one request; the ACK then completes it.
t_syn_retransmitted()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
snap
EOF
	sc_listen 8 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait twice
count 5000 03 1
state 5000 7011 03 0
delta SynAckRetrans 1
touch checked
accept l a -> 7011
state 5000 7011 01
count 5000 03 0
delta PassiveOpens 1
EOF
	cat >"$tmp/pp" <<EOF
wait listening
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
set d=rseq
sleep 0.6
send S seq=1000 mss=1460 ws=7
expect SA seq=d ack=1001 timeout=0.5
touch twice
wait checked
send A seq=1001 ack=d+1
EOF
	play syn_retransmitted 7011 5000
}

# A SYN retransmitted soon after the first is answered at once: a request
# rate-limits such answers (one per 500 ms) from the first of them, as
# Linux's last_oow_ack_time does, not from the first SYN-ACK; a third SYN
# right after gets nothing.
t_syn_retransmitted_early()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
EOF
	sc_listen 8 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait done
count 5000 03 1
EOF
	cat >"$tmp/pp" <<EOF
wait listening
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
set d=rseq
send S seq=1000 mss=1460 ws=7
expect SA seq=d ack=1001 timeout=0.4
send S seq=1000 mss=1460 ws=7
expect-none 0.3
touch done
EOF
	play syn_retransmitted_early 7014 5000
}

# Segments for a request: a RST in the window but not at RCV.NXT draws a
# challenge ACK, an ACK of something else than the SYN-ACK a reset
# <SEQ=SEG.ACK><RST>, and the request stays; a RST at RCV.NXT removes it
# silently. A second SYN with another sequence number inside the window
# resets and removes the request of port 7013. Both ends of a request
# count in AttemptFails, as Linux's tcp_check_req() counts them.
t_synrecv_segments()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
snap
EOF
	sc_listen 8 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait c1
state 5000 7012 03 0
touch k1
wait c2
state 5000 7012 03 0
touch k2
wait c3
state 5000 7012 - 0
touch k3
wait c4
state 5000 7013 - 0
count 5000 03 0
delta AttemptFails 2
delta PassiveOpens 0
EOF
	cat >"$tmp/pp" <<EOF
wait listening
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
set d=rseq
send R seq=1101
expect A seq=d+1 ack=1001
touch c1
wait k1
send A seq=1001 ack=d+7
expect R seq=d+7
touch c2
wait k2
send R seq=1001
expect-none 0.5
touch c3
wait k3
port 7013
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
send S seq=1500 mss=1460 ws=7
expect RA seq=0 ack=1501
touch c4
EOF
	play synrecv_segments 7012 5000
}

# listen(2): three requests fit, a fourth SYN gets no answer (ReqQFullDrop,
# ListenDrops; syncookies off). Once one completes, a SYN fits again.
t_synq_full()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
sysctl syncookies 0
snap
EOF
	sc_listen 2 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait full
count 5000 03 3
state 5000 7024 - 0
delta ReqQFullDrop 1
delta ListenDrops 1
delta ListenOverflows 0
touch checked
wait done
count 5000 03 3
state 5000 7021 01 0
state 5000 7024 03 0
accept l a -> 7021
EOF
	{
		echo "wait listening"
		for p in 7021 7022 7023; do
			cat <<EOF
port $p
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
set d$p=rseq
EOF
		done
		cat <<EOF
port 7024
send S seq=1000 mss=1460 ws=7
expect-none 1
touch full
wait checked
port 7021
send A seq=1001 ack=d7021+1
port 7024
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
touch done
EOF
	} >"$tmp/pp"
	play synq_full 7021 5000
}

# listen(2): three connections fill the accept queue. The final ACK of a
# fourth request is then dropped (ListenOverflows) and the request stays; a
# new SYN is dropped too. Once the application accepts one, the request's
# SYN-ACK retransmission draws a new ACK, which completes it.
t_acceptq_full()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
snap
EOF
	sc_listen 2 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait full
count 5000 01 3
state 5000 7034 03 0
state 5000 7035 - 0
delta ListenOverflows 2
delta ListenDrops 2
delta PassiveOpens 3
accept l a1 -> 7031
touch accepted
wait done
state 5000 7034 01
accept l a2 -> 7032
accept l a3 -> 7033
accept l a4 -> 7034
delta PassiveOpens 4
delta SynAckRetrans >=1
EOF
	{
		echo "wait listening"
		for p in 7031 7032; do
			cat <<EOF
port $p
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
set d$p=rseq
send A seq=1001 ack=d$p+1
EOF
		done
		for p in 7033 7034; do
			cat <<EOF
port $p
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
set d$p=rseq
EOF
		done
		cat <<EOF
port 7033
send A seq=1001 ack=d7033+1
port 7034
send A seq=1001 ack=d7034+1
port 7035
send S seq=1000 mss=1460 ws=7
expect-none 1
touch full
wait accepted
port 7034
expect SA seq=d7034 ack=1001 timeout=15
send A seq=1001 ack=d7034+1
touch done
EOF
	} >"$tmp/pp"
	play acceptq_full 7031 5000
}

# LISTEN -> CLOSED with two connections nobody accepted and one request:
# the connections are reset, the request goes silently; the request's
# late ACK is answered with a reset.
t_listener_close()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
snap
EOF
	sc_listen 4 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait ready
count 5000 01 2
count 5000 03 1
close l
state 5000 7041 - 0
state 5000 7042 - 0
delta EstabResets 2
delta OutRsts 2
touch closed
wait done
state 5000 7043 -
EOF
	{
		echo "wait listening"
		for p in 7041 7042; do
			cat <<EOF
port $p
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
set d$p=rseq
send A seq=1001 ack=d$p+1
EOF
		done
		cat <<EOF
port 7043
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
set d7043=rseq
touch ready
wait closed
port 7041
expect RA seq=d7041+1 ack=1001
port 7042
expect RA seq=d7042+1 ack=1001
port 7043
forget
expect-none 0.5
send A seq=1001 ack=d7043+1
expect R seq=d7043+1
touch done
EOF
	} >"$tmp/pp"
	play listener_close 7041 5000
}

# ---- close ------------------------------------------------------------------

# ESTABLISHED -> FIN_WAIT1 (close) -> FIN_WAIT2 (ACK of the FIN) ->
# TIME_WAIT (peer's FIN, ACKed) -> gone after timewait_len (TWReaped).
t_active_close()
{
	sc_connect 6013 7013 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
sysctl timewait_len 2
state 6013 7013 01 0
infostate c ESTABLISHED
snap
close c
wait fin
state 6013 7013 04 0
touch fw1
wait acked
state 6013 7013 05
touch fw2
wait timewait
state 6013 7013 06
state 6013 7013 - 15
delta TWReaped 1
delta TWKilled 0
delta EstabResets 0
delta CurrEstab -1
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
touch fin
wait fw1
send A seq=1001 ack=d+2
touch acked
wait fw2
send FA seq=1001 ack=d+2
expect A seq=d+2 ack=1002
touch timewait
EOF
	play active_close 7013 6013
}

# FIN_WAIT1 and a segment that acknowledges our FIN and carries the
# peer's: straight to TIME_WAIT, the FIN acknowledged.
t_fin_wait1_finack()
{
	sc_connect 6012 7012 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
shutdown c wr
wait fin
state 6012 7012 04 0
touch checked
wait timewait
state 6012 7012 06 0
recv c 10 -> 0
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
touch fin
wait checked
send FA seq=1001 ack=d+2
expect A seq=d+2 ack=1002
touch timewait
EOF
	play fin_wait1_finack 7012 6012
}

# Simultaneous close: FIN_WAIT1 + FIN -> CLOSING (ACK sent), then the ACK
# of our FIN -> TIME_WAIT.
t_closing()
{
	sc_connect 6014 7014 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
shutdown c wr
wait closing
state 6014 7014 0B 0
infostate c CLOSING
poll c IN|OUT|RDHUP|HUP
recv c 10 -> 0
touch checked
wait acked
state 6014 7014 06
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
send FA seq=1001 ack=d+1
expect A seq=d+2 ack=1002
touch closing
wait checked
send A seq=1002 ack=d+2
touch acked
EOF
	play closing 7014 6014
}

# ESTABLISHED -> CLOSE_WAIT (peer's FIN): end of stream, data still goes
# out; close -> LAST_ACK (FIN sent) -> CLOSED on its ACK; no TIME_WAIT.
t_passive_close()
{
	sc_listen 8 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
accept l a -> 7015
snap
touch accepted
wait closewait
state 5000 7015 08 0
infostate a CLOSE_WAIT
recv a 10 -> 0
poll a IN|OUT|RDHUP
send a 4 -> 4
wait sent
close a
wait lastack
state 5000 7015 09 0
touch checked
wait done
state 5000 7015 -
count 5000 06 0
delta EstabResets 0
delta CurrEstab -1
EOF
	pp_accepted >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait accepted
send FA seq=1001 ack=d+1
expect A seq=d+1 ack=1002
touch closewait
expect PA seq=d+1 ack=1002 len=4
send A seq=1002 ack=d+5
touch sent
expect FA seq=d+5 ack=1002
touch lastack
wait checked
send A seq=1002 ack=d+6
touch done
EOF
	play passive_close 7015 5000
}

# The peer's FIN after data (ESTABLISHED -> CLOSE_WAIT) is acknowledged
# late (Linux's pingpong mode, tcp_fin()), so a reader that closes on the
# end of stream sends one segment, its FIN carrying that ACK.
t_fin_ack_carried()
{
	sc_listen 8 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
accept l a -> 7066
touch accepted
recv a 2 all -> 2
recv a 10 -> 0
close a
wait done
state 5000 7066 -
EOF
	pp_accepted >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait accepted
send PA seq=1001 ack=d+1 len=2
expect A seq=d+1 ack=1003
send FA seq=1003 ack=d+1
expect FA seq=d+1 ack=1004
send A seq=1004 ack=d+2
expect-none 0.3
touch done
EOF
	play fin_ack_carried 7066 5000
}

# Half close with SHUT_WR: FIN out, FIN_WAIT2 on its ACK; the peer keeps
# sending and the data is read; writing gives EPIPE with SIGPIPE; the
# peer's FIN then ends it in TIME_WAIT.
t_shutdown_wr()
{
	sc_connect 6016 7016 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
shutdown c wr
wait data
state 6016 7016 05 0
infostate c FIN_WAIT2
recv c 26 all check -> 26
poll c OUT
send c 1 -> EPIPE
sigpipes 1
touch read
wait timewait
state 6016 7016 06 0
recv c 10 -> 0
poll c IN|OUT|RDHUP|HUP
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
send A seq=1001 ack=d+2
send PA seq=1001 ack=d+2 len=26
expect A seq=d+2 ack=1027
touch data
wait read
expect-none 0.3
send FA seq=1027 ack=d+2
expect A seq=d+2 ack=1028
touch timewait
EOF
	play shutdown_wr 7016 6016
}

# SHUT_RD sends nothing; data arriving later is still acknowledged, and
# the connection stays ESTABLISHED.
t_shutdown_rd()
{
	sc_connect 6017 7017 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
shutdown c rd
recv c 5 nonblock -> 0
touch shut
wait sent
state 6017 7017 01 0
infostate c ESTABLISHED
send c 2 -> 2
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait shut
expect-none 0.5
send PA seq=1001 ack=d+1 len=5
expect A seq=d+1 ack=1006
touch sent
expect PA seq=d+1 ack=1006 len=2
EOF
	play shutdown_rd 7017 6017
}

# A FIN that is not acknowledged is sent again, each timeout twice the one
# before (RTO from the handshake's RTT: at least rto_min 200 ms).
t_fin_retransmit()
{
	sc_connect 6018 7018 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
shutdown c wr
wait resent
state 6018 7018 04 0
delta RetransSegs >=2
touch checked
wait acked
state 6018 7018 05
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
expect FA seq=d+1 ack=1001 mingap=0.18 maxgap=1.5
expect FA seq=d+1 ack=1001 mingap=0.36 maxgap=2.5
touch resent
wait checked
send A seq=1001 ack=d+2
touch acked
EOF
	play fin_retransmit 7018 6018
}

# An orphan in FIN_WAIT2 lasts fin_timeout (3 s); the peer's late FIN then
# finds nothing and is answered with a reset.
t_fin_wait2_timeout()
{
	sc_connect 6019 7019 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
sysctl fin_timeout 3
close c
wait acked
state 6019 7019 05
sleep 1
state 6019 7019 05 0
state 6019 7019 - 15
touch gone
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
send A seq=1001 ack=d+2
touch acked
wait gone
send FA seq=1001 ack=d+2
expect R seq=d+2
EOF
	play fin_wait2_timeout 7019 6019
}

# CFTCP_LINGER2 1 s overrides fin_timeout (60 s) for an orphan in FIN_WAIT2.
t_linger2()
{
	sc_connect 6020 7020 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
opt c linger2 1
close c
wait acked
state 6020 7020 - 15
touch gone
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
send A seq=1001 ack=d+2
touch acked
wait gone
send FA seq=1001 ack=d+2
expect R seq=d+2
EOF
	play linger2 7020 6020
}

# CFTCP_LINGER2 -1: an orphan whose FIN is acknowledged does not wait in
# FIN_WAIT2: the ACK is answered with <SEQ=SEG.ACK><RST> and the connection
# is gone (AbortOnData, as Linux's tcp_rcv_state_process() counts it).
t_linger2_negative()
{
	sc_connect 6021 7021 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
opt c linger2 -1
close c
wait reset
state 6021 7021 - 0
delta AbortOnData 1
delta AbortOnLinger 0
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
send A seq=1001 ack=d+2
expect R seq=d+2
touch reset
EOF
	play linger2_negative 7021 6021
}

# CFTCP_LINGER2 -1 and close() in FIN_WAIT2 (after SHUT_WR): RST at once
# (AbortOnLinger, Linux's tcp_close()).
t_linger2_negative_fin_wait2()
{
	sc_connect 6026 7026 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
shutdown c wr
wait acked
state 6026 7026 05
opt c linger2 -1
close c
state 6026 7026 - 0
delta AbortOnLinger 1
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
send A seq=1001 ack=d+2
touch acked
expect RA seq=d+2 ack=1001
EOF
	play linger2_negative_fin_wait2 7026 6026
}

# close() with unread data: RST instead of FIN, no state left
# (AbortOnClose).
t_close_unread()
{
	sc_connect 6022 7022 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
wait data
close c
state 6022 7022 - 0
delta AbortOnClose 1
delta EstabResets 1
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1001 ack=d+1 len=10
expect A seq=d+1 ack=1011
touch data
expect RA seq=d+1 ack=1011
EOF
	play close_unread 7022 6022
}

# SO_LINGER {1, 0}: close() resets, no FIN, no TIME_WAIT. cftcp counts
# it in AbortOnLinger, as its interface asks; Linux's tcp_close() counts
# it in AbortOnData.
t_linger_zero()
{
	if [ $fam = cftcp ]; then
		lz_data=0 lz_linger=1
	else
		lz_data=1 lz_linger=0
	fi
	sc_connect 6023 7023 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
opt c linger 1 0
close c
state 6023 7023 - 0
count 6023 06 0
delta AbortOnData $lz_data
delta AbortOnLinger $lz_linger
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect RA seq=d+1 ack=1001
expect-none 0.5
EOF
	play linger_zero 7023 6023
}

# SO_LINGER {1, 5}: close() returns only once the FIN is acknowledged, so
# right after it the connection is in FIN_WAIT2 (the peer waits 1 s).
t_linger_wait()
{
	sc_connect 6024 7024 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
opt c linger 1 5
close c
state 6024 7024 05 0
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
sleep 1
send A seq=1001 ack=d+2
EOF
	play linger_wait 7024 6024
}

# SO_LINGER {1, 1} and the FIN never acknowledged: close() returns after
# the linger time, the orphan stays in FIN_WAIT1 and finishes later.
t_linger_timeout()
{
	sc_connect 6025 7025 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
opt c linger 1 1
close c -> 0
state 6025 7025 04 0
touch returned
wait acked
state 6025 7025 05
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
wait returned
send A seq=1001 ack=d+2
touch acked
EOF
	play linger_timeout 7025 6025
}

# ---- rst --------------------------------------------------------------------

# A RST at RCV.NXT in ESTABLISHED: ECONNRESET once (recv), then end of
# stream; writes give EPIPE with SIGPIPE, without it under MSG_NOSIGNAL.
t_rst_established()
{
	sc_connect 6030 7030 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
touch established
wait reset
state 6030 7030 - 0
poll c IN|OUT|ERR|HUP|RDHUP
recv c 10 -> ECONNRESET
recv c 10 -> 0
send c 1 -> EPIPE
sigpipes 1
send c 1 nosignal -> EPIPE
sigpipes 1
delta EstabResets 1
delta CurrEstab -1
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait established
send R seq=1001
expect-none 0.3
touch reset
EOF
	play rst_established 7030 6030
}

# The first write after a reset reports ECONNRESET, without SIGPIPE.
t_rst_then_send()
{
	sc_connect 6031 7031 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
touch established
wait reset
send c 1 -> ECONNRESET
sigpipes 0
send c 1 -> EPIPE
sigpipes 1
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait established
send RA seq=1001 ack=d+1
expect-none 0.3
touch reset
EOF
	play rst_then_send 7031 6031
}

# A RST in CLOSE_WAIT: writes give EPIPE (and SIGPIPE).
t_rst_close_wait()
{
	sc_connect 6032 7032 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
wait closewait
state 6032 7032 08 0
touch checked
wait reset
state 6032 7032 - 0
send c 1 -> EPIPE
sigpipes 1
delta EstabResets 1
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send FA seq=1001 ack=d+1
expect A seq=d+1 ack=1002
touch closewait
wait checked
send R seq=1002
expect-none 0.3
touch reset
EOF
	play rst_close_wait 7032 6032
}

# A RST outside the receive window (above and below) is ignored without a
# word; the connection goes on.
t_rst_out_of_window()
{
	sc_connect 6033 7033 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
touch established
wait ignored
state 6033 7033 01 0
recv c 5 check -> 5
delta ChallengeACK 0
delta EstabResets 0
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait established
send R seq=1001+0x40000000
send RA seq=1001+0x40000000 ack=d+1
send R seq=1001-0x10000
expect-none 0.5
send PA seq=1001 ack=d+1 len=5
expect A seq=d+1 ack=1006
touch ignored
EOF
	play rst_out_of_window 7033 6033
}

# A RST inside the window but not at RCV.NXT, and a SYN in ESTABLISHED,
# each draw a challenge ACK (RFC 5961) and change nothing; a RST at
# RCV.NXT then resets.
t_rst_challenge()
{
	sc_connect 6034 7034 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
touch established
wait challenged
state 6034 7034 01 0
delta ChallengeACK 2
delta EstabResets 0
touch checked
wait reset
recv c 10 -> ECONNRESET
state 6034 7034 - 0
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait established
send R seq=1011
expect A seq=d+1 ack=1001
sleep 0.6
send S seq=7777 mss=1460
expect A seq=d+1 ack=1001
touch challenged
wait checked
send R seq=1001
expect-none 0.3
touch reset
EOF
	play rst_challenge 7034 6034
}

# ---- timewait ---------------------------------------------------------------

# Lines of both scripts that take a connection of the DUT ($1 local port,
# $2 peer port) through an active close into TIME_WAIT; pktpeer touches
# "timewait" once there.
sc_to_timewait()
{
	sc_connect "$1" "$2"
	cat <<EOF
close c
wait timewait
state $1 $2 06 0
EOF
}

pp_to_timewait()
{
	pp_connected
	cat <<EOF
expect FA seq=d+1 ack=1001
send A seq=1001 ack=d+2
send FA seq=1001 ack=d+2
expect A seq=d+2 ack=1002
touch timewait
EOF
}

# A retransmitted FIN in TIME_WAIT is acknowledged again and restarts the
# TIME_WAIT time: FINs every 0.6 s keep a 2 s entry for 4.8 s; after the
# last one it goes (TWReaped).
t_timewait_fin()
{
	sc_to_timewait 6040 7040 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
sysctl timewait_len 2
snap
wait refreshed
state 6040 7040 06 0
state 6040 7040 - 15
delta TWReaped 1
delta TWKilled 0
EOF
	pp_to_timewait >"$tmp/pp"
	i=0
	while [ $i -lt 8 ]; do
		cat >>"$tmp/pp" <<EOF
sleep 0.6
send FA seq=1001 ack=d+2
expect A seq=d+2 ack=1002
EOF
		i=$((i + 1))
	done
	echo "touch refreshed" >>"$tmp/pp"
	play timewait_fin 7040 6040
}

# A SYN for a TIME_WAIT 4-tuple: below RCV.NXT it is answered with an ACK
# and the entry stays; above, with a listener there, it reopens the
# connection (TWRecycled). cftcp's ISN for it is the old SND.NXT + 65537,
# as Linux means it to be (tcp_timewait_state_process()); Linux 6.1 loses
# that number on the way (tcp_v4_fill_cb() clears tcp_tw_isn before
# tcp_conn_request() reads it) and picks a fresh ISN, so -f tcp checks
# only the ACK.
t_timewait_syn()
{
	isn_check="expect SA seq=d+2+65537 ack=101003"
	[ $fam = cftcp ] || isn_check="expect SA ack=101003"
	sc_listen 8 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
accept l a -> 7041
close a
wait timewait
state 5000 7041 06 0
snap
touch checked
wait old
state 5000 7041 06 0
touch checked2
wait reopened
state 5000 7041 01
accept l b -> 7041
${cf}delta TWRecycled 1
${cf}delta TWKilled 1
delta PassiveOpens 1
EOF
	pp_accepted >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
expect FA seq=d+1 ack=1001
send A seq=1001 ack=d+2
send FA seq=1001 ack=d+2
expect A seq=d+2 ack=1002
touch timewait
wait checked
send S seq=500 mss=1460
expect A seq=d+2 ack=1002
touch old
wait checked2
sleep 0.6
send S seq=101002 mss=1460 ws=7
$isn_check
set n=rseq
send A seq=101003 ack=n+1
touch reopened
EOF
	play timewait_syn 7041 5000
}

# TIME_WAIT assassination: with rfc1337 0 a RST at RCV.NXT ends the entry
# (TWKilled), one elsewhere does not; with rfc1337 1 the entry stays and
# still acknowledges a retransmitted FIN.
t_timewait_rst()
{
	r=${1:-0}
	sc_to_timewait 6042 $((7042 + r)) >"$tmp/sc"
	if [ "$r" = 0 ]; then
		after="state 6042 7042 - 0
${cf}delta TWKilled 1"
		check="expect-none 0.3"
	else
		after="state 6042 7043 06 0
${cf}delta TWKilled 0"
		check="send FA seq=1001 ack=d+2
expect A seq=d+2 ack=1002"
	fi
	cat >>"$tmp/sc" <<EOF
sysctl rfc1337 $r
snap
touch checked
wait notexact
state 6042 $((7042 + r)) 06 0
touch checked2
wait exact
$after
EOF
	pp_to_timewait >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait checked
send R seq=1005
expect-none 0.3
touch notexact
wait checked2
send R seq=1002
expect-none 0.3
touch exact
$check
EOF
	play "timewait_rst_rfc1337_$r" $((7042 + r)) 6042
}

t_timewait_rst_rfc1337()
{
	t_timewait_rst 1
}

# ---- The subtests -----------------------------------------------------------

# name|groups|families (tcp: the expectations hold for Linux TCP as well)
# ---- flow: the send window ---------------------------------------------------

# A segment with an old sequence number (the peer resending data) that
# acknowledges new data also brings the window, which counts from its
# acknowledgment (Linux's tcp_may_update_window()). Here the peer's right
# edge stays at d+3001 while its ACK moves from d+1 to d+1001: the fourth
# KB waits until the peer opens the window, and then leaves at once.
t_window_old_seq_ack()
{
	cat >"$tmp/sc" <<EOF
socket c
bind c $DUT 6040
connect c $PEER 7040
wait established
send c 1000 -> 1000
send c 1000 -> 1000
send c 1000 -> 1000
send c 1000 -> 1000
wait done
EOF
	cat >"$tmp/pp" <<EOF
expect S
set d=rseq
send SA seq=1000 ack=d+1 mss=1000 win=3000
expect A seq=d+1 ack=1001
send PA seq=1001 ack=d+1 win=3000 len=100
expect A seq=d+1 ack=1101
# a newer segment: SND.WL1 becomes 1101
send A seq=1101 ack=d+1 win=3000
touch established
expect PA seq=d+1 ack=1101 len=1000
expect PA seq=d+1001 ack=1101 len=1000
expect PA seq=d+2001 ack=1101 len=1000
# the first 100 bytes again, with a new ACK and the same right edge
send PA seq=1001 ack=d+1001 win=2000 len=100
expect A seq=d+3001 ack=1101
expect-none 0.1
send A seq=1101 ack=d+3001 win=3000
expect PA seq=d+3001 ack=1101 len=1000
send A seq=1101 ack=d+4001 win=3000
touch done
EOF
	play window_old_seq_ack 7040 6040
}

# ---- hostile: what a peer that lies or floods gets ----------------------------

# A handshake without window scaling or timestamps: the peer's window field
# is in bytes (win=$2) and its MSS is $1.
pp_plain()
{
	cat <<EOF
expect S
set d=rseq
send SA seq=1000 ack=d+1 mss=$1 win=$2
expect A seq=d+1 ack=1001
EOF
}

# IP fragments that Linux reassembles into one skb with a frag_list: an
# out-of-order segment in two fragments (its first one holding the header
# and 12 bytes), then in-order data overlapping its first 100 bytes. The
# reader gets every byte once and in order (the overlap is skipped by
# offset, never pulled from the nonlinear part).
t_frag_ooo_overlap()
{
	sc_connect 6050 7050 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait sent
recv c 1100 all check -> 1100
recv c 10 nonblock -> EAGAIN
EOF
	pp_plain 1460 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1101 ack=d+1 len=1000 off=100 frag=32
expect A seq=d+1 ack=1001
send PA seq=1001 ack=d+1 len=200
expect A seq=d+1 ack=2101
touch sent
EOF
	play frag_ooo_overlap 7050 6050
}

# Fragments in every order: the first segment's header split after 8 bytes
# and sent second, an out-of-order one reversed, the in-order rest, and a
# FIN in a fragmented segment. Ends in CLOSE_WAIT with every byte read.
t_frag_order()
{
	sc_connect 6051 7051 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait sent
recv c 1500 all check -> 1500
recv c 10 -> 0
state 6051 7051 08 0
EOF
	pp_plain 1460 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1001 ack=d+1 len=500 frag=8 fragrev
expect A~ seq=d+1 ack=1501
send PA seq=2001 ack=d+1 len=500 off=1000 frag=200 fragrev
expect A seq=d+1 ack=1501
send PA seq=1401 ack=d+1 len=600 off=400 frag=96
expect A seq=d+1 ack=2501
send FA seq=2501 ack=d+1 frag=8
expect A seq=d+1 ack=2502
touch sent
EOF
	play frag_order 7051 6051
}

# A peer that ignores the window streams 1 MB at a reader that never
# reads: data past the right edge is cut off and data at a zero window
# dropped (and ACKed), so the queue stays within the buffer (TCP keeps it
# within SO_RCVBUF too). What was taken is all readable and in order, and
# the connection goes on from there.
t_window_ignored()
{
	cat >"$tmp/sc" <<EOF
socket c
opt c rcvbuf 8192
bind c $DUT 6052
connect c $PEER 7052
wait flooded 300
inq c -> <=16384
rmem c -> <=40000
recv c 2000 all check -> 2000
touch read
wait done
EOF
	pp_plain 1000 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1001 ack=d+1 len=1000 repeat=1000 gap=100
drain 0.5
touch flooded
wait read
flush
send PA seq=rack ack=d+1 len=100 off=rack-1001
skip A timeout=3
touch done
EOF
	play window_ignored 7052 6052
}

# A flood of 20,000 one-byte segments beyond a hole: the out-of-order queue
# stays within the buffer (the far end is pruned), and once the hole is
# filled the reader gets the bytes in order.
t_ooo_flood()
{
	cat >"$tmp/sc" <<EOF
socket c
opt c rcvbuf 65536
bind c $DUT 6053
connect c $PEER 7053
wait flooded 300
rmem c -> <=262144
recv c 10 nonblock -> EAGAIN
touch checked
wait filled
recv c 100 all check -> 100
EOF
	pp_plain 1000 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1002 ack=d+1 len=1 off=1 repeat=20000
drain 0.5 ack=1001
touch flooded
wait checked
send PA seq=1001 ack=d+1 len=1
drain 0.5
touch filled
EOF
	play ooo_flood 7053 6053
}

# The FIN at the window's right edge: 1000 bytes and a FIN against a
# window of 600 whose edge then stays at the end of the data. The data
# goes without its FIN; the FIN waits, probed for, until the window opens
# (Linux's tcp_write_wakeup()).
t_fin_window_edge()
{
	sc_connect 6054 7054 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait established
send c 1000 -> 1000
close c
wait done
state 6054 7054 06 0
EOF
	pp_plain 200 600 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
touch established
expect A~ seq=d+1 ack=1001 len=200
expect A~ seq=d+201 ack=1001 len=200
expect A~ seq=d+401 ack=1001 len=200
send A seq=1001 ack=d+601 win=400
expect A~ seq=d+601 ack=1001 len=200 timeout=5
send A seq=1001 ack=d+801 win=200
expect A~ seq=d+801 ack=1001 len=200 timeout=5
send A seq=1001 ack=d+1001 win=0
expect A seq=d+1000 ack=1001 len=0 timeout=5
send A seq=1001 ack=d+1001 win=0
expect A seq=d+1000 ack=1001 len=0 timeout=5
send A seq=1001 ack=d+1001 win=100
expect FA~ seq=d+1001 ack=1001 len=0 timeout=5
send FA seq=1001 ack=d+1002
expect A seq=d+1002 ack=1002
touch done
EOF
	play fin_window_edge 7054 6054
}

# A reader that keeps its window closed but answers every probe is kept
# past retries2 probes (RFC 1122 4.2.2.17): each ACK of a probe resets the
# count; the data goes once the window opens.
t_probe_answered()
{
	sc_connect 6055 7055 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
sysctl retries2 2
wait established
send c 3000 -> 3000
wait done
state 6055 7055 01 0
EOF
	pp_plain 1000 2000 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
touch established
expect A~ seq=d+1 ack=1001 len=1000
expect A~ seq=d+1001 ack=1001 len=1000
send A seq=1001 ack=d+2001 win=0
EOF
	for i in 1 2 3 4 5; do
		cat >>"$tmp/pp" <<EOF
expect A seq=d+2000 ack=1001 len=0 timeout=5
send A seq=1001 ack=d+2001 win=0
EOF
	done
	cat >>"$tmp/pp" <<EOF
send A seq=1001 ack=d+2001 win=2000
expect A~ seq=d+2001 ack=1001 len=1000 timeout=5
send A seq=1001 ack=d+3001 win=2000
touch done
EOF
	play probe_answered 7055 6055
}

# Nagle with Minshall's rule: the short tail of a write goes at once while
# only a full-sized segment is unacknowledged (Linux's tcp_nagle_check()).
t_nagle_minshall()
{
	sc_connect 6056 7056 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait established
send c 1500 -> 1500
wait done
EOF
	pp_plain 1000 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
touch established
expect A~ seq=d+1 ack=1001 len=1000
expect PA seq=d+1001 ack=1001 len=500 timeout=0.5
send A seq=1001 ack=d+1501
touch done
EOF
	play nagle_minshall 7056 6056
}

# RFC 5961 5.2: data whose ACK lies 2^30 below SND.UNA is blind injection:
# dropped, and answered with a challenge ACK; valid data still comes in.
t_old_ack()
{
	sc_connect 6057 7057 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait established
snap
send c 100 -> 100
wait injected
recv c 100 nonblock -> EAGAIN
delta ChallengeACK 1
touch checked
wait sent
recv c 100 all check -> 100
EOF
	pp_plain 1000 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
touch established
expect PA seq=d+1 ack=1001 len=100
send A seq=1001 ack=d+101
send PA seq=1001 ack=d+101-1073741824 len=100
expect A seq=d+101 ack=1001
touch injected
wait checked
send PA seq=1001 ack=d+101 len=100
expect A seq=d+101 ack=1101
touch sent
EOF
	play old_ack 7057 6057
}

# Replies to out-of-window segments are rate-limited per connection
# (Linux's tcp_oow_rate_limited(), invalid_ratelimit): of ten bare ACKs far
# beyond the window one is answered; data is always answered.
t_oow_ratelimit()
{
	sc_connect 6058 7058 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
touch established
wait sent
delta ACKSkippedSeq >=9
EOF
	pp_plain 1000 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait established
send A seq=900000 ack=d+1 repeat=10 step=1
expect A seq=d+1 ack=1001
expect-none 0.3
send PA seq=900000 ack=d+1 len=10
expect A seq=d+1 ack=1001
touch sent
EOF
	play oow_ratelimit 7058 6058
}

# Challenge ACKs: one per invalid_ratelimit per connection (an in-window
# RST then a SYN at once: one ACK), and challenge_ack_limit per second in
# the namespace (three RSTs with the per-connection limit off: one ACK).
t_challenge_ratelimit()
{
	sc_connect 6059 7059 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
touch established
wait first
delta ChallengeACK 1
delta ACKSkippedChallenge 1
sysctl invalid_ratelimit 0
sysctl challenge_ack_limit 1
snap
touch limited
wait second
delta ChallengeACK 1
state 6059 7059 01 0
EOF
	pp_plain 1000 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait established
send R seq=1011
send S seq=7777 mss=1000
expect A seq=d+1 ack=1001
expect-none 0.3
touch first
wait limited
send R seq=1011
send R seq=1012
send R seq=1013
expect A seq=d+1 ack=1001
expect-none 0.3
touch second
EOF
	play challenge_ratelimit 7059 6059
}

# TIME_WAIT answers an unacceptable segment at most once per
# invalid_ratelimit (Linux's tcp_timewait_check_oow_rate_limit()).
t_timewait_ratelimit()
{
	sc_to_timewait 6060 7060 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
snap
touch checked
wait sent
delta ACKSkippedTimeWait >=4
EOF
	pp_to_timewait >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
wait checked
send A seq=1100 ack=d+2 repeat=5 step=0
expect A seq=d+2 ack=1002
expect-none 0.3
touch sent
EOF
	play timewait_ratelimit 7060 6060
}

# A host-wide setting (cftcp's, or TCP's twin), which only the initial
# namespace shows, for one subtest: host_sysctl NAME VALUE, undone by
# host_sysctl_restore.
host_sysctl()
{
	if [ $fam = cftcp ]; then
		hs_path=/proc/sys/net/cftcp/$1
	else
		hs_path=/proc/sys/net/ipv4/tcp_$1
	fi
	hs_old=$(nsenter -t 1 -n cat "$hs_path")
	nsenter -t 1 -n sh -c "echo '$2' >$hs_path"
}

host_sysctl_restore()
{
	nsenter -t 1 -n sh -c "echo '$hs_old' >$hs_path"
}

# More orphans than max_orphans: a closing connection let go by close() is
# reset at once (its FIN, then a RST), counted in AbortOnMemory (Linux's
# tcp_check_oom()). The first orphan, in FIN_WAIT2 for its CFTCP_LINGER2
# of 120 s (a full socket, no timer running in the test's time), is within
# the limit of 0 others. The limit is the host's: orphans of earlier tests
# (a netns lives on while an orphan of it does) would count, so run_tests.sh
# runs this group first.
t_max_orphans()
{
	cat >"$tmp/sc" <<EOF
socket a
opt a linger2 120
bind a $DUT 6061
connect a $PEER 7061
socket b
bind b $DUT 6062
connect b $PEER 7062
wait established
snap
close a
state 6061 7061 05 5
sleep 0.5
close b
wait done
delta AbortOnMemory 1
state 6062 7062 - 0
state 6061 7061 05 0
EOF
	cat >"$tmp/pp" <<EOF
expect S
set d=rseq
send SA seq=1000 ack=d+1 mss=1000
expect A seq=d+1 ack=1001
port 7062
dport 6062
expect S
set e=rseq
send SA seq=5000 ack=e+1 mss=1000
expect A seq=e+1 ack=5001
touch established
port 7061
dport 6061
expect FA seq=d+1 ack=1001
send A seq=1001 ack=d+2
port 7062
dport 6062
expect FA seq=e+1 ack=5001
expect RA seq=e+2 ack=5001
touch done
EOF
	host_sysctl max_orphans 0
	play max_orphans 7061 6061
	st=$?
	host_sysctl_restore
	return $st
}

# Over the protocol's hard memory limit (mem, like tcp_mem, in pages) a
# reader that does not read is held to what it has: the rest of a 3 MB
# flood is dropped, not queued. Pages are charged to the protocol in
# per-CPU batches of 1 MB (net.core.mem_pcpu_rsv), so the flood is larger
# than that, and /proc/net/protocols shows the pages in use. cftcp only:
# TCP does not take a window this large from a peer that overruns it.
t_mem_limit()
{
	cat >"$tmp/sc" <<EOF
socket c
opt c rcvbuf 4194304
bind c $DUT 6063
snap
connect c $PEER 7063
wait flooded 300
protomem -> >=1
inq c -> <=2500000
delta RcvQDrop >=1
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1001 ack=d+1 len=1000 repeat=3000 gap=300
drain 1
touch flooded
EOF
	rmem_max=$(nsenter -t 1 -n cat /proc/sys/net/core/rmem_max)
	nsenter -t 1 -n sh -c "echo 8388608 >/proc/sys/net/core/rmem_max"
	host_sysctl mem "1 1 1"
	play mem_limit 7063 6063
	st=$?
	host_sysctl_restore
	nsenter -t 1 -n sh -c "echo $rmem_max >/proc/sys/net/core/rmem_max"
	return $st
}

# rmem_default and wmem_default give a new socket no more than SO_RCVBUF
# and SO_SNDBUF could ask for (twice net.core.rmem_max and wmem_max, which
# only the initial namespace shows).
t_buf_defaults()
{
	cat >"$tmp/sc" <<EOF
sysctl rmem_default 100000000
sysctl wmem_default 100000000
socket c
bufsize c rcv -> $((2 * $(nsenter -t 1 -n cat /proc/sys/net/core/rmem_max)))
bufsize c snd -> $((2 * $(nsenter -t 1 -n cat /proc/sys/net/core/wmem_max)))
sysctl rmem_default 65536
socket d
bufsize d rcv -> 65536
EOF
	echo "echo nothing to play" >"$tmp/pp"
	play buf_defaults 7065 6065
}

# The same flood with the default limits is queued whole: the window
# above is the reader's, and the limit alone held it back.
t_mem_nolimit()
{
	cat >"$tmp/sc" <<EOF
socket c
opt c rcvbuf 4194304
bind c $DUT 6064
snap
connect c $PEER 7064
wait flooded 300
delta RcvQDrop 0
inq c -> 3000000
recv c 65536 all check -> 65536
EOF
	pp_connected >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1001 ack=d+1 len=1000 repeat=3000 gap=300
drain 1
touch flooded
EOF
	rmem_max=$(nsenter -t 1 -n cat /proc/sys/net/core/rmem_max)
	nsenter -t 1 -n sh -c "echo 8388608 >/proc/sys/net/core/rmem_max"
	play mem_nolimit 7064 6064
	st=$?
	nsenter -t 1 -n sh -c "echo $rmem_max >/proc/sys/net/core/rmem_max"
	return $st
}

# An in-order skb holding two full segments' worth (here one segment the
# peer sends in IP fragments, reassembled into one skb as a super-packet
# comes whole from veth) is acknowledged at once, not with the next
# segment nor by the delayed-ACK timer (Linux's __tcp_ack_snd_check()
# counts bytes). The quick ACKs of a new connection are used up first,
# and 20 small segments leave no ACK pending. The receive buffer is large
# enough for the window, at its 64 KB limit, not to shrink with what waits
# unread.
t_ack_bytes()
{
	sc_read_when_sent 6057 7057 262144 5020 >"$tmp/sc"
	pp_plain 1460 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1001 ack=d+1 len=100 repeat=20
drain 0.3 ack=3001
send PA seq=3001 ack=d+1 len=2920 off=2000 frag=1480
send PA seq=5921 ack=d+1 len=100 off=4920
expect A seq=d+1 ack=5921
expect A seq=d+1 ack=6021
touch sent
EOF
	play ack_bytes 7057 6057
}

# Data that the window cannot take on without shrinking (the reader has
# not read what came before, and the buffer, not the 64 KB limit of a
# window without scaling, bounds the window) is not acknowledged every
# second segment: the delayed-ACK timer or the reader's next read sends
# one ACK for all of it (Linux's __tcp_ack_snd_check(): the window must
# not come out smaller). The quick ACKs of a new connection are used up
# first. An RTO of at least a second keeps the pause between the two
# bursts from giving the quick ACKs again (t_ack_idle_quick).
t_ack_unread()
{
	echo "sysctl rto_min_ms 1000" >"$tmp/sc"
	sc_read_when_sent 6059 7059 49152 26000 >>"$tmp/sc"
	pp_plain 1460 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1001 ack=d+1 len=1000 repeat=16
drain 0.3 ack=17001
send PA seq=17001 ack=d+1 len=1000 off=16000 repeat=10
expect A seq=d+1 ack=27001
touch sent
EOF
	play ack_unread 7059 6059
}

# A read that opens the window enough is announced at once, also with a
# receive buffer under two MSS (a 9000-byte MTU, SO_RCVBUF 8192: a 16 KB
# buffer, an 8 KB window): the peer, which does not probe, sees the
# update once the reader took 5 KB.
t_window_update_small_buf()
{
	ip -n $dns link set vd mtu 9000 && ip -n $pns link set vp mtu 9000 ||
		{ fail "window_update_small_buf: mtu 9000"; return 1; }
	sc_read_when_sent 6060 7060 8192 5120 >"$tmp/sc"
	pp_plain 8960 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1001 ack=d+1 len=1024 repeat=5
drain 0.5 ack=6121
touch sent
expect A seq=d+1 ack=6121 timeout=1
EOF
	play window_update_small_buf 7060 6060
}

# The peer's side of a connection whose sixteen quick ACKs are used up:
# twenty short segments, 2000 bytes.
pp_quick_used()
{
	pp_plain 1460 65535
	cat <<EOF
send PA seq=1001 ack=d+1 len=100 repeat=20
drain 0.5 ack=3001
EOF
}

# Three short segments, each acknowledged at once (quickack).
pp_three_short()
{
	cat <<EOF
send PA seq=3001 ack=d+1 len=100 off=2000 repeat=3
expect A seq=d+1 ack=3101
expect A seq=d+1 ack=3201
expect A seq=d+1 ack=3301
touch done
EOF
}

# After a silence longer than the RTO the quick ACKs are given again, as
# the sender may be starting from an idle window (Linux's
# tcp_event_data_recv()): once the first sixteen are used up, three short
# segments after 1.5 s of nothing are acknowledged one by one, not by one
# delayed ACK.
t_ack_idle_quick()
{
	sc_connect 6062 7062 >"$tmp/sc"
	echo "wait done 20" >>"$tmp/sc"
	pp_quick_used >"$tmp/pp"
	echo "sleep 1.5" >>"$tmp/pp"
	pp_three_short >>"$tmp/pp"
	play ack_idle_quick 7062 6062
}

# Data older than the last window we announced means our ACK of it was
# lost: the duplicate ACK that answers it also gives the quick ACKs again
# (Linux's tcp_send_dupack()), so three short segments that follow are
# acknowledged one by one. The RTO of a second keeps the pause from giving
# them (t_ack_idle_quick).
t_old_data_quick()
{
	echo "sysctl rto_min_ms 1000" >"$tmp/sc"
	sc_connect 6063 7063 >>"$tmp/sc"
	echo "wait done 20" >>"$tmp/sc"
	pp_quick_used >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1001 ack=d+1 len=100
expect A seq=d+1 ack=3001
EOF
	pp_three_short >>"$tmp/pp"
	play old_data_quick 7063 6063
}

# A FIN that comes with more than a full-sized segment of data is
# acknowledged at once, as that much data alone would be; only the ACK of
# a bare FIN waits for the reader's answer (Linux's tcp_fin() enters
# pingpong mode, and __tcp_ack_snd_check() still counts the bytes). The
# reader closes as soon as it has read to the end: its FIN comes after
# the ACK, not with it.
t_fin_data_ack()
{
	sc_connect 6064 7064 262144 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait established
recv c 2400 all check -> 2400
recv c 10 -> 0
close c
wait done 10
EOF
	pp_plain 1460 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
touch established
send PA seq=1001 ack=d+1 len=1000
expect A seq=d+1 ack=2001
send FPA seq=2001 ack=d+1 len=1400 off=1000
expect A seq=d+1 ack=3402
expect FA seq=d+1 ack=3402
send A seq=3402 ack=d+2
touch done
EOF
	play fin_data_ack 7064 6064
}

# A read announces a window only if it opens what the window field can
# say: without window scaling a 64 KB window stays 64 KB however large the
# buffer, and reading 1000 bytes sends nothing (Linux's tcp_cleanup_rbuf()
# against window_clamp).
t_window_update_clamped()
{
	sc_connect 6065 7065 262144 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait sent
recv c 1000 all check -> 1000
touch read
wait done 10
EOF
	pp_plain 1460 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
send PA seq=1001 ack=d+1 len=1000
expect A seq=d+1 ack=2001 win=65535
touch sent
wait read
expect-none 0.5
touch done
EOF
	play window_update_clamped 7065 6065
}

# An ACK that covers part of a segment whose copy still waits in a qdisc
# (netem holds the DUT's segments 300 ms): the sender drops the acked
# bytes from its own copy only. The first copy leaves whole, with the
# stream's first 1460 bytes, and the retransmission carries bytes 500 on,
# numbered so (Linux's tcp_trim_head() unclones first).
t_ack_inflight()
{
	ip netns exec $dns tc qdisc add dev vd root netem delay 300ms ||
		{ fail "ack_inflight: netem on vd"; return 1; }
	sc_connect 6061 7061 >"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait established
send c 1460 -> 1460
touch sent
wait done 10
EOF
	pp_plain 1460 65535 >"$tmp/pp"
	cat >>"$tmp/pp" <<EOF
touch established
wait sent
send A seq=1001 ack=d+501
expect A~ seq=d+1 ack=1001 len=1460 data=0
expect A~ seq=d+501 ack=1001 len=960 data=500 timeout=5
send A seq=1001 ack=d+1461
touch done
EOF
	play ack_inflight 7061 6061
}

subtests()
{
	cat <<EOF
syn_backoff|open|cftcp
syncnt|open|cftcp
synsent_rst|open|cftcp tcp
synsent_bad_ack|open|cftcp tcp
synsent_close|open|cftcp tcp
simultaneous_open|open|cftcp tcp
simultaneous_open_ack|open|cftcp tcp
synrecv_close|open|cftcp tcp
synack_backoff|passive|cftcp
syn_retransmitted|passive|cftcp
syn_retransmitted_early|passive|cftcp tcp
synrecv_segments|passive|cftcp tcp
synq_full|passive|cftcp
acceptq_full|passive|cftcp
listener_close|passive|cftcp tcp
active_close|close|cftcp
fin_wait1_finack|close|cftcp tcp
closing|close|cftcp tcp
passive_close|close|cftcp tcp
fin_ack_carried|close|cftcp tcp
shutdown_wr|close|cftcp tcp
shutdown_rd|close|cftcp tcp
fin_retransmit|close|cftcp tcp
fin_wait2_timeout|close|cftcp tcp
linger2|close|cftcp tcp
linger2_negative|close|cftcp tcp
linger2_negative_fin_wait2|close|cftcp tcp
close_unread|close|cftcp tcp
linger_zero|close|cftcp tcp
linger_wait|close|cftcp tcp
linger_timeout|close|cftcp tcp
rst_established|rst|cftcp tcp
rst_then_send|rst|cftcp tcp
rst_close_wait|rst|cftcp tcp
rst_out_of_window|rst|cftcp tcp
rst_challenge|rst|cftcp tcp
timewait_fin|timewait|cftcp
timewait_syn|timewait|cftcp tcp
timewait_rst|timewait|cftcp tcp
timewait_rst_rfc1337|timewait|cftcp tcp
window_old_seq_ack|flow|cftcp tcp
ack_bytes|flow|cftcp
ack_unread|flow|cftcp
window_update_small_buf|flow|cftcp
ack_inflight|flow|cftcp tcp
ack_idle_quick|flow|cftcp tcp
old_data_quick|flow|cftcp tcp
fin_data_ack|flow|cftcp tcp
window_update_clamped|flow|cftcp tcp
frag_ooo_overlap|hostile|cftcp tcp
frag_order|hostile|cftcp tcp
window_ignored|hostile|cftcp tcp
ooo_flood|hostile|cftcp tcp
fin_window_edge|hostile|cftcp tcp
probe_answered|hostile|cftcp tcp
nagle_minshall|hostile|cftcp tcp
old_ack|hostile|cftcp tcp
oow_ratelimit|hostile|cftcp tcp
challenge_ratelimit|hostile|cftcp tcp
timewait_ratelimit|hostile|cftcp tcp
max_orphans|orphans|cftcp tcp
mem_limit|memory|cftcp
mem_nolimit|memory|cftcp
buf_defaults|memory|cftcp
EOF
}

[ $# -gt 0 ] || set -- open passive close rst timewait flow hostile memory
ran=0
for want in "$@"; do
	found=0
	for line in $(subtests | tr ' ' ','); do
		name=${line%%|*}
		rest=${line#*|}
		groups=${rest%%|*}
		fams=$(echo "${rest#*|}" | tr ',' ' ')
		[ "$want" = "$name" ] || [ "$want" = "$groups" ] || continue
		found=1
		case " $fams " in
		*" $fam "*) ;;
		*) echo "# $name: not for $fam"; continue ;;
		esac
		if ! ns_up; then
			fail "$name: namespaces and veth"
			ns_down
			continue
		fi
		"t_$name"
		ns_down
		ran=$((ran + 1))
	done
	[ $found -eq 1 ] || { echo "no subtest or group '$want'"; exit 2; }
done
[ $ran -gt 0 ] || skip "no subtest for $fam here"
finish

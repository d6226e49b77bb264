#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# SYN cookies seen from the wire, as state.sh sees the state machine:
# sockctl drives the listener in the DUT's namespace (veth vd, 10.9.0.1/24)
# and pktpeer plays clients with crafted segments from a namespace whose
# veth has no address. Each subtest gets fresh namespaces, so counters
# start at zero and sysctls at their defaults; it passes when both
# scripts hold to the end. The flood subtest sends thousands of SYNs from
# random addresses (synflood) while real clients connect.
#
#   syncookies.sh [-f cftcp|tcp] [SUBTEST]...
#	-f tcp plays the subtests that hold for Linux TCP too against Linux
#	TCP in IP protocol 6 (net.ipv4.tcp_syncookies is the twin sysctl).

. "$(dirname "$0")/lib.sh"

PKTPEER=$here/pktpeer
SOCKCTL=$here/sockctl
SYNFLOOD=$here/synflood
DUT=10.9.0.1
PEER=10.9.0.2
fam=cftcp
proto=253

while getopts f: opt; do
	case $opt in
	f) fam=$OPTARG ;;
	*) echo "usage: $0 [-f cftcp|tcp] [SUBTEST]..."; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $fam in
cftcp) proto=253 ;;
tcp) proto=6 ;;
*) echo "usage: $0 [-f cftcp|tcp] [SUBTEST]..."; exit 2 ;;
esac

[ -x "$PKTPEER" ] && [ -x "$SOCKCTL" ] && [ -x "$SYNFLOOD" ] ||
	skip "pktpeer, sockctl or synflood missing"
if [ $fam = cftcp ] && [ ! -d /proc/sys/net/cftcp ]; then
	skip "cftcp is not loaded"
fi

# ---- Namespaces and one run of both scripts ---------------------------------

dns=""
pns=""

ns_up()
{
	dns=scd-$$
	pns=scp-$$
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

# play NAME PEER_PORT [DUT_ADDR]: sockctl runs $tmp/sc in the DUT's
# namespace while pktpeer runs $tmp/pp in the peer's, addressing DUT_ADDR
# (default $DUT); whichever fails first stops the other.
play()
{
	name=$1
	sync=$tmp/sync-$name
	rm -rf "$sync"
	mkdir -p "$sync"
	ip netns exec $pns "$PKTPEER" -i vp -m "$dmac" -s $PEER \
		-d "${3:-$DUT}" -p "$2" -P 5000 -o $proto -D "$sync" \
		<"$tmp/pp" >"$tmp/pp.out" 2>&1 &
	pp=$!
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

# A listener l on ADDR:5000 (default $DUT) with backlog $1.
sc_listen()
{
	cat <<EOF
socket l
opt l reuseaddr 1
bind l ${2:-$DUT} 5000
listen l $1
state 5000 0 0A 0
touch listening
EOF
}

# One counter of the DUT's namespace: cftcp's, or Linux's of that meaning.
dut_counter()
{
	if [ $fam = cftcp ]; then
		f=/proc/net/cftcp_stat
		pfx=CfTcp:
		n=$1
	else
		f=/proc/net/netstat
		pfx=TcpExt:
		case $1 in
		SynAckRetrans) n=TCPSynRetrans ;;
		*) n=$1 ;;
		esac
	fi
	ip netns exec $dns cat $f | awk -v n="$n" -v p="$pfx" '
		$1 == p && !h { for (i = 2; i <= NF; i++) idx[$i] = i; h = 1; next }
		$1 == p && h { if (n in idx) print $(idx[n]); exit }'
}

# ---- Subtests ---------------------------------------------------------------

# syncookies 2: the SYN draws a SYN-ACK whose ISN is a cookie, with the MSS
# option and no window scale (nothing keeps the SYN's), and no request
# appears. The ACK returning the cookie, with data on it, makes an
# ESTABLISHED connection at once that takes the data; accept() returns it
# and data flows both ways.
t_cookie_always()
{
	cat >"$tmp/sc" <<EOF
sysctl syncookies 2
snap
EOF
	sc_listen 4 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait synack
count 5000 03 0
delta SyncookiesSent 1
delta SyncookiesRecv 0
touch checked
wait acked
state 5000 7101 01
accept l a -> 7101
recv a 100 all check -> 100
send a 200
delta SyncookiesRecv 1
delta SyncookiesFailed 0
delta PassiveOpens 1
wait done
EOF
	cat >"$tmp/pp" <<EOF
wait listening
send S seq=1000 mss=1460 ws=7
expect SA ack=1001 mss=1460 ws=-1
set d=rseq
touch synack
wait checked
send PA seq=1001 ack=d+1 len=100
expect A seq=d+1 ack=1101
touch acked
expect PA seq=d+1 ack=1101 len=200
send A seq=1101 ack=d+201
touch done
EOF
	play cookie_always 7101
}

# A wrong cookie: one more than the one sent, or the right one from
# another port. Each counts SyncookiesFailed and draws the reset any ACK
# to a listener gets (Linux's cookie_v4_check() hands the segment back to
# the listener); no connection is made.
t_cookie_bad()
{
	cat >"$tmp/sc" <<EOF
sysctl syncookies 2
snap
EOF
	sc_listen 4 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait sent
count 5000 01 0
count 5000 03 0
delta SyncookiesSent 1
delta SyncookiesFailed 2
delta SyncookiesRecv 0
delta PassiveOpens 0
touch checked
EOF
	cat >"$tmp/pp" <<EOF
wait listening
send S seq=1000 mss=1460
expect SA ack=1001
set d=rseq
send A seq=1001 ack=d+2
expect R seq=d+2
port 7112
send A seq=1001 ack=d+1
expect R seq=d+1
touch sent
wait checked
EOF
	play cookie_bad 7111
}

# No cookie went out lately: an ACK to the listener is not looked at as a
# cookie (Linux's tcp_synq_no_recent_overflow()) and draws a reset. Only
# for cftcp: Linux's stamp starts at 0, which its jiffies pass 300 s after
# boot, so for two minutes then it checks such ACKs as cookies.
t_cookie_not_recent()
{
	echo snap >"$tmp/sc"
	sc_listen 4 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait sent
delta SyncookiesFailed 0
delta SyncookiesRecv 0
delta OutRsts 1
touch checked
EOF
	cat >"$tmp/pp" <<EOF
wait listening
send A seq=1001 ack=123457
expect R seq=123457
touch sent
wait checked
EOF
	play cookie_not_recent 7115
}

# listen(1), syncookies 1: two requests fill the half-open queue (n+1 fit)
# and are never completed; three more clients get cookies and no request.
# Two of them complete and fill the accept queue; the third's ACK is then
# dropped (ListenOverflows, ListenDrops) with no reset. Once accept()
# makes room, the same ACK again completes it: the cookie is still good.
t_cookie_synq_full()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
sysctl syncookies 1
snap
EOF
	sc_listen 1 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait cookies
count 5000 03 2
delta SyncookiesSent 3
delta ReqQFullDrop 0
touch checked
wait full
count 5000 01 2
state 5000 7125 - 0
delta SyncookiesRecv 3
delta ListenOverflows 1
delta ListenDrops 1
delta PassiveOpens 2
accept l a1 -> 7123
touch accepted
wait done
state 5000 7125 01
accept l a2 -> 7124
accept l a3 -> 7125
delta SyncookiesRecv 4
delta PassiveOpens 3
EOF
	{
		echo "wait listening"
		for p in 7121 7122; do
			cat <<EOF
port $p
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
EOF
		done
		for p in 7123 7124 7125; do
			cat <<EOF
port $p
send S seq=1000 mss=1460 ws=7
expect SA ack=1001 mss=1460 ws=-1
set d$p=rseq
EOF
		done
		cat <<EOF
touch cookies
wait checked
port 7123
send A seq=1001 ack=d7123+1
port 7124
send A seq=1001 ack=d7124+1
port 7125
send A seq=1001 ack=d7125+1
expect-none 1
touch full
wait accepted
send A seq=1001 ack=d7125+1
touch done
EOF
	} >"$tmp/pp"
	play cookie_synq_full 7121
}

# listen(1), syncookies 0: with the half-open queue full a SYN is dropped
# (ReqQFullDrop, ListenDrops) and no cookie is sent.
t_synq_full_nocookies()
{
	cat >"$tmp/sc" <<EOF
sysctl rto_initial_ms 3000
sysctl syncookies 0
snap
EOF
	sc_listen 1 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait full
count 5000 03 2
state 5000 7133 - 0
delta ReqQFullDrop 1
delta ListenDrops 1
delta SyncookiesSent 0
touch checked
EOF
	{
		echo "wait listening"
		for p in 7131 7132; do
			cat <<EOF
port $p
send S seq=1000 mss=1460 ws=7
expect SA ack=1001
EOF
		done
		cat <<EOF
port 7133
send S seq=1000 mss=1460 ws=7
expect-none 1
touch full
wait checked
EOF
	} >"$tmp/pp"
	play synq_full_nocookies 7131
}

# A SYN to the subnet's broadcast address, or to a multicast group the
# DUT is in, is dropped by a wildcard listener (ListenDrops), with or
# without cookies: nothing answers from that address.
syn_group()
{
	cat >"$tmp/sc" <<EOF
sysctl syncookies $2
snap
EOF
	sc_listen 4 0.0.0.0 >>"$tmp/sc"
	cat >>"$tmp/sc" <<EOF
wait sent
count 5000 03 0
delta ListenDrops 1
delta SyncookiesSent 0
delta PassiveOpens 0
touch checked
EOF
	cat >"$tmp/pp" <<EOF
wait listening
send S seq=1000 mss=1460
expect-none 1
touch sent
wait checked
EOF
	play "$1" 7141 "$3"
}

t_syn_broadcast()
{
	syn_group syn_broadcast 1 10.9.0.255
}

t_syn_multicast()
{
	syn_group syn_multicast 2 224.0.0.1
}

# A flood: synflood sends 3000 SYNs over 2 s from random addresses of
# 10.9.128.0/17 (routed to the peer's side, where nothing answers) while
# 20 clients in the DUT's namespace connect to the same listener
# (backlog 16) over 127.0.0.1 with one SYN retry at most, each accepted
# before the next connects. With
# syncookies 1 every client connects and exchanges data at once; most
# SYNs get cookies, and only requests retransmit SYN-ACKs: SynAckRetrans
# is at most synack_retries (1) per SYN that got a request. Requests live
# 3 s, longer than the flood, so that is at most the 17 that fit.
t_flood()
{
	n=3000
	ip -n $dns route add 10.9.128.0/17 via $PEER dev vd || {
		fail "flood: route"
		return 1
	}
	cat >"$tmp/sc" <<EOF
sysctl syncookies 1
sysctl synack_retries 1
snap
EOF
	sc_listen 16 0.0.0.0 >>"$tmp/sc"
	echo "wait flooding 30" >>"$tmp/sc"
	i=1
	while [ $i -le 20 ]; do
		cat >>"$tmp/sc" <<EOF
socket c$i
opt c$i syncnt 1
connect c$i 127.0.0.1 5000
accept l a$i
send c$i 100
recv a$i 100 all -> 100
send a$i 50
recv c$i 50 all -> 50
EOF
		i=$((i + 1))
	done
	cat >>"$tmp/sc" <<EOF
delta PassiveOpens 20
wait flooded 60
sleep 4
touch settled
wait checked 30
EOF
	sync=$tmp/sync-flood
	rm -rf "$sync"
	mkdir -p "$sync"
	ip netns exec $dns "$SOCKCTL" -f $fam -D "$sync" <"$tmp/sc" \
		>"$tmp/sc.out" 2>&1 &
	sp=$!
	wait_file "$sync/listening" $sp
	ip netns exec $pns "$SYNFLOOD" -i vp -m "$dmac" -d $DUT -P 5000 \
		-n $n -t 2 -o $proto -D "$sync" >"$tmp/fl.out" 2>&1 &
	fp=$!
	ok=1
	i=0
	while [ ! -e "$sync/settled" ] && kill -0 $sp 2>/dev/null &&
	      [ $i -lt 900 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	wait $fp || { echo "synflood failed"; show "$tmp/fl.out"; ok=0; }
	if [ -e "$sync/settled" ]; then
		sent=$(dut_counter SyncookiesSent)
		rtx=$(dut_counter SynAckRetrans)
		max=$(((n + 20 - sent) * 1))
		echo "# flood: SyncookiesSent $sent, SynAckRetrans $rtx (at most $max)"
		[ "$sent" -ge $((n / 3)) ] ||
			{ echo "too few cookies for $n SYNs"; ok=0; }
		[ "$rtx" -le $max ] ||
			{ echo "SYN-ACKs of cookies were retransmitted"; ok=0; }
		touch "$sync/checked"
	fi
	wait $sp || ok=0
	if [ $ok -eq 1 ]; then
		pass "flood ($fam)"
		return 0
	fi
	show "$tmp/sc.out"
	fail "flood ($fam)"
	return 1
}

subtests()
{
	cat <<EOF
cookie_always|cftcp tcp
cookie_bad|cftcp tcp
cookie_not_recent|cftcp
cookie_synq_full|cftcp tcp
synq_full_nocookies|cftcp tcp
syn_broadcast|cftcp tcp
syn_multicast|cftcp tcp
flood|cftcp tcp
EOF
}

ran=0
for line in $(subtests | tr ' ' ','); do
	name=${line%%|*}
	fams=$(echo "${line#*|}" | tr ',' ' ')
	if [ $# -gt 0 ]; then
		case " $* " in
		*" $name "*) ;;
		*) continue ;;
		esac
	fi
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
[ $ran -gt 0 ] || skip "no subtest for $fam here"
finish

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The user tools in tools/, each held to what Linux TCP's own tools show:
#   cfcat   200,000 lines each way between cfcat -l and cfcat, both halves
#           closed on EOF; the same over AF_INET (cfcat -t).
#   cfss    a listener and a connection with bytes queued both ways: cfss
#           reading /proc/net/tcp prints what ss -tan prints for the TCP
#           twin, and cfss on /proc/net/cftcp prints the same rows for cftcp
#           (client port aside); state and port filters pick rows as ss's.
#   cfstat  deltas since its last run (one more ActiveOpens and PassiveOpens
#           after one connection) and absolute values equal to
#           /proc/net/cftcp_stat.

. "$(dirname "$0")/lib.sh"

CFCAT=$here/cfcat
CFSS=$here/cfss
CFSTAT=$here/cfstat
SOCKCTL=$here/sockctl

# --- cfcat: both directions, half-close on EOF.
cfcat_xfer()
{
	flag=$1 port=$2

	seq 1 200000 >"$tmp/up"
	seq 3 150000 >"$tmp/down"
	"$CFCAT" $flag -l -s 127.0.0.1 "$port" <"$tmp/down" >"$tmp/got_up" &
	srv=$!
	bg_add $srv
	i=0
	while ! "$CFSS" -f "$3" -H -l sport = ":$port" | grep -q LISTEN; do
		i=$((i + 1))
		[ $i -lt 100 ] || break
		sleep 0.05
	done
	"$CFCAT" $flag 127.0.0.1 "$port" <"$tmp/up" >"$tmp/got_down"
	crc=$?
	bg_wait $srv
	src=$?
	if [ $crc -eq 0 ] && [ $src -eq 0 ] &&
	   cmp -s "$tmp/up" "$tmp/got_up" && cmp -s "$tmp/down" "$tmp/got_down"; then
		pass "cfcat $flag: $(wc -c <"$tmp/up") and $(wc -c <"$tmp/down") bytes verified"
	else
		fail "cfcat $flag: client $crc, server $src, got $(wc -c <"$tmp/got_up") and $(wc -c <"$tmp/got_down") bytes"
	fi
}

cfcat_xfer "" 7101 /proc/net/cftcp
cfcat_xfer -t 7102 /proc/net/tcp

# --- cfss against ss: one listener, one connection, bytes queued.
# Rows normalised to "STATE RECVQ SENDQ LOCAL PEER", the client's port
# written as CPORT; a listener's Send-Q (ss: the backlog, not in /proc) is
# left out.
normalise()
{
	awk -v p="$1" '
	$1 == "State" { next }
	{
		q = $3
		if ($1 == "LISTEN")
			q = "-"
		l = $4; r = $5
		gsub(":" p "$", ":SPORT", l); gsub(":" p "$", ":SPORT", r)
		sub(":[0-9]+$", ":CPORT", l); sub(":[0-9]+$", ":CPORT", r)
		print $1, $2, q, l, r
	}' | sort
}

snapshot()
{
	fam=$1 port=$2
	rm -f "$tmp/ready" "$tmp/done"
	cat >"$tmp/ss.script" <<EOF
socket L
opt L reuseaddr 1
bind L 127.0.0.1 $port
listen L 8
socket C
connect C 127.0.0.1 $port
accept L A
send C 1000
send A 300
sleep 0.3
touch ready
wait done 30
close C
close A
close L
EOF
	"$SOCKCTL" -f "$fam" -D "$tmp" <"$tmp/ss.script" >"$tmp/sockctl.$fam" 2>&1 &
	pid=$!
	bg_add $pid
	i=0
	while [ ! -e "$tmp/ready" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ "$fam" = tcp ]; then
		"$CFSS" -f /proc/net/tcp -a sport = ":$port" | normalise "$port" >"$tmp/cfss_tcp_s"
		"$CFSS" -f /proc/net/tcp -a dport = ":$port" | normalise "$port" >>"$tmp/cfss_tcp_s"
		sort "$tmp/cfss_tcp_s" >"$tmp/cfss_tcp"
		{ ss -tan sport = ":$port"; ss -tan dport = ":$port"; } |
			normalise "$port" >"$tmp/ss_tcp"
		"$CFSS" -f /proc/net/tcp -H state established sport = ":$port" \
			>"$tmp/est_tcp"
	else
		{ "$CFSS" -a sport = ":$port"; "$CFSS" -a dport = ":$port"; } |
			normalise "$port" >"$tmp/cfss_cftcp"
		"$CFSS" -H state established sport = ":$port" >"$tmp/est_cftcp"
		"$CFSS" -H -l >"$tmp/listen_cftcp"
		"$CFSS" -H >"$tmp/default_cftcp"
	fi
	touch "$tmp/done"
	bg_wait $pid || { fail "sockctl -f $fam:"; show "$tmp/sockctl.$fam"; }
}

snapshot tcp 7103
snapshot cftcp 7103
if [ -s "$tmp/ss_tcp" ] && cmp -s "$tmp/ss_tcp" "$tmp/cfss_tcp"; then
	pass "cfss -f /proc/net/tcp prints ss -tan's rows ($(wc -l <"$tmp/ss_tcp"))"
else
	fail "cfss on /proc/net/tcp differs from ss -tan:"
	show "$tmp/ss_tcp"
	echo "  cfss:"
	show "$tmp/cfss_tcp"
fi
if [ -s "$tmp/cfss_cftcp" ] && cmp -s "$tmp/cfss_tcp" "$tmp/cfss_cftcp"; then
	pass "cfss shows cftcp's listener and connection as ss shows TCP's"
else
	fail "cfss rows for cftcp differ from TCP's:"
	show "$tmp/cfss_cftcp"
fi
# Filters: one established row on the server port; -l only the listener;
# the default (no -a) leaves the listener out, as ss does.
if [ "$(wc -l <"$tmp/est_cftcp")" = 1 ] && grep -q '^ESTAB ' "$tmp/est_cftcp" &&
   [ "$(wc -l <"$tmp/est_tcp")" = 1 ]; then
	pass "cfss state established sport = :7103: one row"
else
	fail "cfss state established:"
	show "$tmp/est_cftcp"
fi
if [ "$(wc -l <"$tmp/listen_cftcp")" = 1 ] && grep -q '^LISTEN ' "$tmp/listen_cftcp" &&
   ! grep -q LISTEN "$tmp/default_cftcp" &&
   [ "$(grep -c '^ESTAB ' "$tmp/default_cftcp")" = 2 ]; then
	pass "cfss -l: the listener alone; default: both ESTAB ends, no listener"
else
	fail "cfss -l / default rows:"
	show "$tmp/listen_cftcp" "$tmp/default_cftcp"
fi

# --- cfstat: deltas and absolute values.
export CFSTAT_HISTORY="$tmp/cfstat.hist"
"$CFSTAT" -n
echo hello | "$CFCAT" -l -s 127.0.0.1 7104 >/dev/null &
srv=$!
bg_add $srv
sleep 0.3
echo world | "$CFCAT" 127.0.0.1 7104 >/dev/null
bg_wait $srv
"$CFSTAT" >"$tmp/delta"
"$CFSTAT" -a -z >"$tmp/abs"
active=$(awk '$1 == "CfTcpActiveOpens" { print $2 }' "$tmp/delta")
passive=$(awk '$1 == "CfTcpPassiveOpens" { print $2 }' "$tmp/delta")
proc=$(awk '/^CfTcp:/ { if (!n) { for (i = 2; i <= NF; i++) name[i] = $i; n = 1 }
	else for (i = 2; i <= NF; i++) if (name[i] == "InSegs") print $i }' \
	/proc/net/cftcp_stat)
abs=$(awk '$1 == "CfTcpInSegs" { print $2 }' "$tmp/abs")
if [ "$active" = 1 ] && [ "$passive" = 1 ]; then
	pass "cfstat: ActiveOpens +1, PassiveOpens +1 since its last run"
else
	fail "cfstat deltas: ActiveOpens '$active', PassiveOpens '$passive'"
	show "$tmp/delta"
fi
if [ -n "$abs" ] && [ "$abs" -ge 8 ] && [ "$abs" -le "$proc" ]; then
	pass "cfstat -a: InSegs $abs (/proc/net/cftcp_stat: $proc a moment later)"
else
	fail "cfstat -a: InSegs '$abs', /proc/net/cftcp_stat '$proc'"
fi

finish

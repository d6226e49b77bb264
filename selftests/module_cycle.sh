#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loading and unloading cftcp.ko (CFTCP_KO: its path) with connections
# around: "hold": rmmod is refused while a process holds a cftcp socket and
# succeeds within a second of that process ending, TIME_WAIT entries left
# behind or not; "cycle": 20 rounds of insmod, a verified connection that
# leaves TIME_WAIT entries, rmmod, each round starting from an empty table;
# "autoload": socket(AF_CFTCP) loads the unloaded module through modprobe.
# The module is loaded again on exit.
#
#   module_cycle.sh hold|cycle|autoload

. "$(dirname "$0")/lib.sh"

port=5001
cycles=${CYCLES:-20}

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

# rmmod, retried for up to a second while the module is still in use.
unload()
{
	i=0
	while ! rmmod cftcp 2>"$tmp/rmmod"; do
		i=$((i + 1))
		if [ $i -ge 10 ]; then
			show "$tmp/rmmod"
			return 1
		fi
		sleep 0.1
	done
	[ $i -gt 0 ] && echo "rmmod took $((i + 1)) attempts"
	return 0
}

kernel_complaints()
{
	dmesg 2>/dev/null | grep -cE 'BUG:|WARNING:|Oops|general protection|refcount_t:|list_(add|del) corruption'
}

[ "$(id -u)" = 0 ] || skip "needs root"
[ -n "$CFTCP_KO" ] || skip "CFTCP_KO (path of cftcp.ko) not set"
[ -r "$CFTCP_KO" ] || skip "$CFTCP_KO not readable"
command -v rmmod >/dev/null && command -v insmod >/dev/null ||
	skip "no rmmod/insmod"

complaints=$(kernel_complaints)

hold()
{
	loaded || insmod "$CFTCP_KO" || { fail "insmod $CFTCP_KO"; return; }
	"$XFER" -s -p $port >"$tmp/server" 2>&1 &
	spid=$!
	bg_add $spid
	wait_listen "" cftcp $port || { show "$tmp/server"; fail "listener"; return; }
	"$XFER" -c 127.0.0.1 -p $port -m "leave a TIME_WAIT" >"$tmp/out" 2>&1 ||
		{ show "$tmp/out"; fail "echo through the module"; }
	tw=$(count_timewait "" cftcp)
	echo "TIME_WAIT entries: $tw, module refcnt $(cat /sys/module/cftcp/refcnt 2>/dev/null)"
	[ "$tw" -ge 1 ] || fail "no TIME_WAIT entry after a closed connection"

	if rmmod cftcp 2>"$tmp/rmmod"; then
		fail "rmmod succeeded while a process holds a cftcp socket"
		return
	fi
	show "$tmp/rmmod"
	if loaded && [ -e /proc/net/cftcp ]; then
		pass "rmmod refused while a listener is open"
	else
		fail "module state after the refused rmmod"
	fi

	kill $spid
	bg_wait $spid
	tw=$(count_timewait "" cftcp)
	if unload; then
		pass "rmmod once the socket is gone ($tw TIME_WAIT entries were left)"
	else
		fail "rmmod after the socket holder ended"
	fi
	if ! loaded && [ ! -e /proc/net/cftcp ] && [ ! -e /proc/sys/net/cftcp ]; then
		pass "module gone with its /proc files"
	else
		fail "module or its /proc files still there"
	fi
}

cycle()
{
	loaded || insmod "$CFTCP_KO" || { fail "insmod $CFTCP_KO"; return; }
	n=1
	while [ $n -le "$cycles" ]; do
		bad=$failures
		lines=$(wc -l </proc/net/cftcp)
		[ "$lines" -eq 1 ] ||
			fail "round $n: $((lines - 1)) entries in a fresh table"
		"$XFER" -s -p $port -n 256K -t 30 >"$tmp/server" 2>&1 &
		spid=$!
		bg_add $spid
		if wait_listen "" cftcp $port; then
			"$XFER" -c 127.0.0.1 -p $port -n 256K -t 30 \
				>"$tmp/client" 2>&1 ||
				{ show "$tmp/client"; fail "round $n: client"; }
		else
			fail "round $n: no listener"
			kill $spid
		fi
		bg_wait $spid || { show "$tmp/server"; fail "round $n: server"; }
		tw=$(count_timewait "" cftcp)
		[ "$tw" -ge 1 ] || fail "round $n: no TIME_WAIT entry left"
		unload || fail "round $n: rmmod with $tw TIME_WAIT entries"
		loaded && fail "round $n: still loaded after rmmod"
		insmod "$CFTCP_KO" 2>"$tmp/insmod" ||
			{ show "$tmp/insmod"; fail "round $n: insmod"; break; }
		[ $failures -eq $bad ] && echo "round $n: ok ($tw TIME_WAIT entries unloaded)"
		[ $failures -gt $bad ] && break
		n=$((n + 1))
	done
	[ $failures -eq 0 ] && pass "$cycles rounds of insmod, connection, rmmod"
}

autoload()
{
	[ "${CFTCP_AUTOLOAD:-1}" = 0 ] && skip "module autoload unavailable here"
	mp=$(cat /proc/sys/kernel/modprobe 2>/dev/null)
	[ -n "$mp" ] && [ -x "$mp" ] || skip "no modprobe at '$mp'"
	grep -q 'cftcp\.ko' "/lib/modules/$(uname -r)/modules.dep" 2>/dev/null ||
		skip "cftcp.ko is not in modules.dep"
	if loaded; then
		unload || { fail "rmmod before the autoload"; return; }
	fi
	if "$XFER" -S >"$tmp/out" 2>&1 && loaded; then
		show "$tmp/out"
		pass "socket(AF_CFTCP) loaded the module"
	else
		show "$tmp/out"
		fail "socket(AF_CFTCP) with the module unloaded"
	fi
}

case $1 in
hold) hold ;;
cycle) cycle ;;
autoload) autoload ;;
*) echo "usage: $0 hold|cycle|autoload"; exit 2 ;;
esac

now=$(kernel_complaints)
[ "$now" -eq "$complaints" ] ||
	{ dmesg | tail -40 | show; fail "kernel log: $((now - complaints)) new warnings"; }
finish

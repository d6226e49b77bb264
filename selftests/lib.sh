# SPDX-License-Identifier: GPL-2.0
#
# Shell functions shared by the cftcp shell tests: namespaces and veth pairs
# that are removed on exit, waiting for a listener, reading counters, and
# step reporting. POSIX sh: the guest runs these under busybox ash.

ksft_skip=4
here=$(cd "$(dirname "$0")" && pwd)
XFER=$here/cftcp_xfer
failures=0
netns_made=""
bg_pids=""
tmp=$(mktemp -d /tmp/cftcp-test.XXXXXX) || exit 1

cleanup()
{
	for p in $bg_pids; do
		kill "$p" 2>/dev/null
	done
	for p in $bg_pids; do
		wait "$p" 2>/dev/null
	done
	for ns in $netns_made; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Remember a background process started here, to stop it on exit.
bg_add()
{
	bg_pids="$bg_pids $1"
}

# Wait for a remembered background process; its exit status.
bg_wait()
{
	wait "$1"
	rc=$?
	bg_pids=$(echo "$bg_pids" | sed -e "s/ $1\$//" -e "s/ $1 / /")
	return $rc
}

skip()
{
	echo "SKIP: $*"
	exit $ksft_skip
}

pass()
{
	echo "ok: $*"
}

fail()
{
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# End the test: 0 when no step failed.
finish()
{
	if [ "$failures" -eq 0 ]; then
		echo "PASS"
		exit 0
	fi
	echo "FAILED: $failures step(s)"
	exit 1
}

# Indent a file's lines as comments of the current step.
show()
{
	sed -e 's/^/  | /' "$@"
}

ns_new()
{
	ip netns add "$1" || return 1
	netns_made="$netns_made $1"
	ip -n "$1" link set lo up
}

ns_del()
{
	for p in $(ip netns pids "$1" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	ip netns del "$1" 2>/dev/null
	netns_made=$(echo "$netns_made" | sed -e "s/ $1\$//" -e "s/ $1 / /")
}

# veth_pair NS1 ADDR1 NS2 ADDR2: veth0 in NS1, veth1 in NS2, one /24.
veth_pair()
{
	ip link add veth0 netns "$1" type veth peer name veth1 netns "$3" ||
		return 1
	ip -n "$1" addr add "$2/24" dev veth0 &&
	ip -n "$3" addr add "$4/24" dev veth1 &&
	ip -n "$1" link set veth0 up &&
	ip -n "$3" link set veth1 up
}

# Run a command in namespace NS, or here when NS is empty.
in_ns()
{
	ns=$1
	shift
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

proc_table()
{
	if [ "$1" = cftcp ]; then
		echo /proc/net/cftcp
	else
		echo /proc/net/tcp
	fi
}

# Lines of FAMILY's connection table in NS with local port PORT and state ST
# (two hex digits).
table_lines()
{
	hex=$(printf '%04X' "$3")
	in_ns "$1" cat "$(proc_table "$2")" 2>/dev/null |
		awk -v p=":$hex" -v st="$4" \
			'NR > 1 && substr($2, length($2) - 4) == p && $4 == st'
}

# wait_listen NS FAMILY PORT: until a listener on PORT appears, at most 10 s.
wait_listen()
{
	i=0
	while [ $i -lt 100 ]; do
		[ -n "$(table_lines "$1" "$2" "$3" 0A)" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_file FILE PID: until FILE exists, at most 10 s and while process PID
# lives (a script that steps with this one through files).
wait_file()
{
	i=0
	while [ ! -e "$1" ] && [ $i -lt 100 ] && kill -0 "$2" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e "$1" ]
}

# Count of TIME_WAIT lines (st 06) in the table of FAMILY in NS.
count_timewait()
{
	in_ns "$1" cat "$(proc_table "$2")" 2>/dev/null |
		awk 'NR > 1 && $4 == "06" { n++ } END { print n + 0 }'
}

# counter NS FAMILY NAME: from /proc/net/cftcp_stat, or Linux's Tcp: line.
counter()
{
	if [ "$2" = cftcp ]; then
		f=/proc/net/cftcp_stat
		pfx=CfTcp:
	else
		f=/proc/net/snmp
		pfx=Tcp:
	fi
	in_ns "$1" cat "$f" 2>/dev/null | awk -v n="$3" -v p="$pfx" '
		$1 == p && !h { for (i = 2; i <= NF; i++) idx[$i] = i; h = 1; next }
		$1 == p && h { if (n in idx) print $(idx[n]); exit }'
}

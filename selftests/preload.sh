#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified programs over cftcp through libcftcp-preload.so: the host's
# own binaries (Debian's curl, python3, iperf3, redis), run in a chroot of
# the host's root that the VM mounts read-only over 9p (vm-run.sh
# --hostroot), with the library from /selftests bound at /mnt.
#   http     curl downloads a 4 MB file from python3 -m http.server: the
#            same bytes, the listener in /proc/net/cftcp and not in
#            /proc/net/tcp.
#   ports    CFTCP_PORTS: a socket moves to cftcp only for a listed port
#            (curl with the port listed gets the file; with another port
#            listed it stays on TCP, where nothing listens: refused).
#   iperf3   a 10 s iperf3 run, client and server over cftcp: its JSON
#            result has no error, bytes were sent and received, and what
#            the receiver counted falls short of what was sent by no more
#            than the sockets hold at the end (iperf3 stops counting there).
#   redis    redis-benchmark against redis-server: every request
#            completed, none failed (INFO stats counts them), and
#            redis-cli reads back what it wrote.

. "$(dirname "$0")/lib.sh"

H=/mnt/host
PRE=/mnt/libcftcp-preload.so
mounted=""

undo_mounts()
{
	for m in $mounted; do
		umount -l "$m" 2>/dev/null
	done
}

setup_root()
{
	modprobe 9pnet_virtio 2>/dev/null
	modprobe 9p 2>/dev/null
	mkdir -p $H
	if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 \
			hostroot $H 2>"$tmp/mount.err"; then
		echo "FAIL: cannot mount the host's root (9p tag hostroot: vm-run.sh --hostroot)"
		show "$tmp/mount.err"
		exit 1
	fi
	mounted="$H"
	mount -t proc proc $H/proc && mounted="$H/proc $mounted"
	mount -t tmpfs tmp $H/tmp && mounted="$H/tmp $mounted"
	mount -t tmpfs run $H/run && mounted="$H/run $mounted"
	mount --bind /dev $H/dev && mounted="$H/dev $mounted"
	mount --bind "$here" $H/mnt && mounted="$H/mnt $mounted"
	for prog in curl python3 iperf3 redis-server redis-benchmark redis-cli; do
		if [ ! -x "$H/usr/bin/$prog" ]; then
			echo "FAIL: the host has no /usr/bin/$prog (make deps)"
			exit 1
		fi
	done
}

# Run a shell command in the host's root, with HOME and TMPDIR on tmpfs.
in_root()
{
	chroot $H /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/tmp TMPDIR=/tmp /bin/sh -c "$1"
}

# Wait until port $1 has a listener in /proc/net/$2.
wait_listener()
{
	hex=$(printf '%04X' "$1")
	i=0
	while ! awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p && $4 == "0A"' \
			"/proc/net/$2" | grep -q .; do
		i=$((i + 1))
		[ $i -lt 240 ] || return 1
		sleep 0.5
	done
}

listening_on()
{
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p && $4 == "0A"' \
		"/proc/net/$2" | grep -q .
}

kill_servers()
{
	for p in $bg_pids; do
		kill "$p" 2>/dev/null
	done
	# The servers are children of chroot'd shells: end them by name too.
	killall python3 iperf3 redis-server 2>/dev/null
}

trap 'kill_servers; undo_mounts; cleanup' EXIT
setup_root

# --- http: curl and python3 -m http.server, every socket on cftcp.
in_root "mkdir -p /tmp/www && head -c 4000000 /dev/urandom >/tmp/www/file"
in_root "cd /tmp/www && LD_PRELOAD=$PRE exec python3 -m http.server 8000 \
	--bind 127.0.0.1 >/tmp/http.log 2>&1" &
bg_add $!
if ! wait_listener 8000 cftcp; then
	fail "http: python3 -m http.server never listened on cftcp port 8000"
	in_root "cat /tmp/http.log" | show
elif listening_on 8000 tcp; then
	fail "http: port 8000 listens on TCP too"
else
	in_root "LD_PRELOAD=$PRE curl -sS -o /tmp/got http://127.0.0.1:8000/file" \
		>"$tmp/curl" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && in_root "cmp -s /tmp/got /tmp/www/file"; then
		pass "http: curl fetched 4000000 bytes from python3's http.server, identical"
	else
		fail "http: curl exit $rc"
		show "$tmp/curl"
	fi
fi

# --- ports: CFTCP_PORTS selects the sockets that move.
in_root "CFTCP_PORTS=8000 LD_PRELOAD=$PRE curl -sS -o /tmp/got2 \
	http://127.0.0.1:8000/file" >"$tmp/curl2" 2>&1
rc=$?
if [ $rc -eq 0 ] && in_root "cmp -s /tmp/got2 /tmp/www/file"; then
	pass "ports: CFTCP_PORTS=8000: curl's socket moved to cftcp, file identical"
else
	fail "ports: CFTCP_PORTS=8000: curl exit $rc"
	show "$tmp/curl2"
fi
in_root "CFTCP_PORTS=9999 LD_PRELOAD=$PRE curl -sS -o /tmp/got3 \
	http://127.0.0.1:8000/file" >"$tmp/curl3" 2>&1
rc=$?
if [ $rc -eq 7 ]; then
	pass "ports: CFTCP_PORTS=9999: curl stayed on TCP, where port 8000 is refused"
else
	fail "ports: CFTCP_PORTS=9999: curl exit $rc, want 7 (refused)"
	show "$tmp/curl3"
fi
kill_servers

# --- iperf3: a 10 s run, JSON result checked.
in_root "LD_PRELOAD=$PRE exec iperf3 -s -1 -B 127.0.0.1 -p 5201 >/tmp/iperf-s.log 2>&1" &
bg_add $!
if ! wait_listener 5201 cftcp; then
	fail "iperf3: the server never listened on cftcp port 5201"
else
	in_root "LD_PRELOAD=$PRE iperf3 -c 127.0.0.1 -p 5201 -t 10 -J >/tmp/iperf.json"
	rc=$?
	in_root "python3 -c '
import json
r = json.load(open(\"/tmp/iperf.json\"))
assert \"error\" not in r, r.get(\"error\")
e = r[\"end\"]
sent = e[\"sum_sent\"][\"bytes\"]
got = e[\"sum_received\"][\"bytes\"]
# iperf3 stops counting at the end of the test with what is still in
# the sockets uncounted, as over TCP: at most the buffers of both ends.
assert sent > 0 and 0 < got <= sent and sent - got < 16 << 20, (sent, got)
assert e[\"sum_sent\"][\"seconds\"] >= 9.5
print(sent, got, e[\"sum_received\"][\"bits_per_second\"])
'" >"$tmp/iperf" 2>&1
	prc=$?
	if [ $rc -eq 0 ] && [ $prc -eq 0 ]; then
		set -- $(cat "$tmp/iperf")
		pass "iperf3: 10 s, $1 bytes sent, $2 received ($3 bit/s under TCG)"
	else
		fail "iperf3: exit $rc, JSON check:"
		show "$tmp/iperf"
	fi
fi
kill_servers

# --- redis: redis-benchmark against redis-server.
in_root "LD_PRELOAD=$PRE exec redis-server --port 6379 --bind 127.0.0.1 \
	--save '' --appendonly no >/tmp/redis.log 2>&1" &
bg_add $!
if ! wait_listener 6379 cftcp; then
	fail "redis: redis-server never listened on cftcp port 6379"
	in_root "cat /tmp/redis.log" | show
else
	in_root "LD_PRELOAD=$PRE redis-benchmark -h 127.0.0.1 -p 6379 -n 1000 \
		-c 10 -t set,get --csv" >"$tmp/bench" 2>&1
	rc=$?
	in_root "LD_PRELOAD=$PRE redis-cli -h 127.0.0.1 -p 6379 set cftcp-key v1 &&
		LD_PRELOAD=$PRE redis-cli -h 127.0.0.1 -p 6379 get cftcp-key &&
		LD_PRELOAD=$PRE redis-cli -h 127.0.0.1 -p 6379 info stats" \
		>"$tmp/cli" 2>&1
	cmds=$(sed -n 's/^total_commands_processed:\([0-9]*\).*/\1/p' "$tmp/cli")
	errs=$(sed -n 's/^total_error_replies:\([0-9]*\).*/\1/p' "$tmp/cli")
	rows=$(grep -c '^"\(SET\|GET\)",' "$tmp/bench")
	# 1000 SET + 1000 GET, then set and get here (info is counted after).
	if [ $rc -eq 0 ] && [ "$rows" = 2 ] && grep -qx v1 "$tmp/cli" &&
	   [ "${cmds:-0}" -ge 2002 ] && [ "${errs:-1}" = 0 ]; then
		pass "redis: redis-benchmark 1000 SET and 1000 GET, $cmds commands, 0 errors"
	else
		fail "redis: benchmark exit $rc, $rows result rows, commands '$cmds', errors '$errs'"
		show "$tmp/bench" "$tmp/cli"
	fi
fi
kill_servers

finish

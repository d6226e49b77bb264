#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# One side of the demo (scripts/demo.sh): records cftcp's state changes and
# every frame this VM sends (net_dev_start_xmit) or takes in
# (napi_gro_receive_entry) on eth0 through tracefs, runs three
# connections, then prints the trace between markers for the ladder
# drawer (scripts/ladder.py).
#   a: A, 10.0.0.1: serves the three connections
#   b: B, 10.0.0.2: opens them one after the other
# 5000: open, a message each way, close (B closes first);
# 5001: half-close: B sends and shuts down its side; A reads to the end of
#       B's stream, then answers and closes;
# 5002: simultaneous close: once the connection is open, B's side of the
#       link delays 1.5 s; A closes as soon as B's message arrives, B 0.75 s
#       after sending it, so that the FINs cross.

here=$(cd "$(dirname "$0")" && pwd)
T=/sys/kernel/tracing
role=$1

[ -d $T/events ] || mount -t tracefs nodev $T || exit 1
# TIME_WAIT lasts 2 s; no retransmission while a frame waits out the
# 1.5 s delay of the last connection: the RTO floor is above it.
echo 2 >/proc/sys/net/cftcp/timewait_len
echo 4000 >/proc/sys/net/cftcp/rto_min_ms
echo 0 >$T/tracing_on
echo 4096 >$T/buffer_size_kb
echo >$T/trace
echo 'name == "eth0"' >$T/events/net/net_dev_start_xmit/filter
echo 'name == "eth0"' >$T/events/net/napi_gro_receive_entry/filter
echo 1 >$T/events/net/net_dev_start_xmit/enable
echo 1 >$T/events/net/napi_gro_receive_entry/enable
echo 1 >$T/events/cftcp/cftcp_set_state/enable
echo 1 >$T/tracing_on

if [ "$role" = a ]; then
	"$here/cftcp_xfer" server 10.0.0.1 5000 &
	p1=$!
	printf 'socket L\nopt L reuseaddr 1\nbind L 10.0.0.1 5001\nlisten L 1\naccept L S\nrecv S 64 -> 24\nrecv S 64 -> 0\nsleep 0.5\nsend S 28\nclose S\nclose L\n' |
		"$here/sockctl" -f cftcp &
	p2=$!
	printf 'socket L\nopt L reuseaddr 1\nbind L 10.0.0.1 5002\nlisten L 1\naccept L S\nrecv S 2\nclose S\nclose L\n' |
		"$here/sockctl" -f cftcp &
	p3=$!
	wait $p1 $p2 $p3
	sleep 3		# TIME_WAIT (2 s) ends
else
	i=0
	until ping -c 1 -W 1 10.0.0.1 >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 120 ] || { echo "A never answered"; exit 1; }
	done
	"$here/cftcp_xfer" -c 10.0.0.1 -p 5000 -m 'hello over cftcp' -w 60
	echo "a request, then our FIN" | "$here/cfcat" 10.0.0.1 5001 >/dev/null
	# The delay starts once the connection is open: the handshake is
	# drawn undisturbed.
	sync=$(mktemp -d)
	printf 'socket C\nconnect C 10.0.0.1 5002\ntouch open\nwait delayed 30\nsend C 2\nsleep 0.75\nclose C\n' |
		"$here/sockctl" -f cftcp -D "$sync" &
	p3=$!
	i=0
	while [ ! -e "$sync/open" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	tc qdisc add dev eth0 root netem delay 1500ms
	touch "$sync/delayed"
	wait $p3
	sleep 5		# our TIME_WAIT (2 s), the last ACK's 1.5 s delay
	tc qdisc del dev eth0 root
fi
echo 0 >$T/tracing_on
echo "CFTCP-TRACE-BEGIN"
grep -E 'net_dev_start_xmit|napi_gro_receive_entry|cftcp_set_state' $T/trace
echo "CFTCP-TRACE-END"

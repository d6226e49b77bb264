#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Handshake and 16 MiB each way at once over a veth pair between two network
# namespaces, every byte verified by cftcp_xfer; once with the veth offloads
# as they are and once with checksum offload off (ethtool -K tx off) on both
# ends. The families to run are the arguments (default: cftcp tcp), so the
# same transfer over Linux TCP is there to compare.
#
#   xfer_veth.sh [cftcp|tcp]...     XFER_SIZE overrides the 16M

. "$(dirname "$0")/lib.sh"

size=${XFER_SIZE:-16M}
port=5001

# xfer_case FAMILY OFFLOAD(on|off)
xfer_case()
{
	fam=$1
	off=$2
	what="$fam, 10.0.1.2 -> 10.0.1.1, $size each way, tx offload $off"
	a=xva-$$
	b=xvb-$$

	if ! ns_new $a || ! ns_new $b || ! veth_pair $a 10.0.1.1 $b 10.0.1.2; then
		fail "$what: namespaces and veth"
		ns_del $a
		ns_del $b
		return
	fi
	if [ "$off" = off ]; then
		for x in "$a veth0" "$b veth1"; do
			set -- $x
			ip netns exec "$1" ethtool -K "$2" tx off >/dev/null 2>&1
			if ! ip netns exec "$1" ethtool -k "$2" 2>/dev/null |
					grep -q '^tx-checksumming: off'; then
				fail "$what: ethtool -K $2 tx off did not take"
			fi
		done
	fi

	ip netns exec $a "$XFER" -f "$fam" -s -b 10.0.1.1 -p $port \
		-n "$size" -t 60 >"$tmp/server" 2>&1 &
	spid=$!
	if ! wait_listen $a "$fam" $port; then
		kill $spid 2>/dev/null
		wait $spid
		show "$tmp/server"
		fail "$what: server not listening"
		ns_del $a
		ns_del $b
		return
	fi
	ip netns exec $b "$XFER" -f "$fam" -c 10.0.1.1 -p $port -n "$size" \
		-t 60 >"$tmp/client" 2>&1
	crc=$?
	[ $crc -eq 0 ] || kill $spid 2>/dev/null
	wait $spid
	src=$?
	echo "client:"
	show "$tmp/client"
	echo "server:"
	show "$tmp/server"
	if [ $crc -eq 0 ] && [ $src -eq 0 ]; then
		pass "$what"
	else
		fail "$what: client exit $crc, server exit $src"
	fi
	ns_del $a
	ns_del $b
}

for fam in ${*:-cftcp tcp}; do
	case $fam in
	cftcp|tcp) ;;
	*) echo "usage: $0 [cftcp|tcp]..."; exit 2 ;;
	esac
	xfer_case "$fam" on
	xfer_case "$fam" off
done
finish

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Path MTU discovery (RFC 1191). Client C and server S are four network
# namespaces apart, C -- R1 -- R2 -- S, and the link between the routers
# has an MTU of 1280 while every other link has 1500: each end offers an
# MSS of 1460 in its SYN, sends full segments with DF set, and the router
# at the narrow link drops them and answers ICMP fragmentation needed
# (mtu 1280). 4 MiB go each way at once and every byte is verified, with
# no more than 10 s without progress: far less than the retransmission
# timeouts would take to give up, so a sender that ignored the ICMP and
# kept retransmitting full segments fails here. Then each end's route
# cache to the other holds the path MTU of 1280, and the MSS each end of
# the connection ended with is at most 1240 (1280 less the IPv4 and
# segment headers). A next connection (64 KiB each way) has an MSS of at
# most 1240 at both ends from its start, taken from the route: the routers
# send no ICMP during it.
#
# Then the same with net.ipv4.ip_no_pmtu_disc=1 in C's namespace, so that
# C's sockets start with IP_MTU_DISCOVER at IP_PMTUDISC_DONT: C's segments
# leave without DF and R1 fragments them, C's route learns no path MTU and
# C's MSS stays what the handshake gave (over 1240), while S discovers the
# path MTU as before.
#
#   pmtu_netns.sh [cftcp|tcp]    (default cftcp)

. "$(dirname "$0")/lib.sh"

fam=${1:-cftcp}
case $fam in
cftcp|tcp) ;;
*) echo "usage: $0 [cftcp|tcp]"; exit 2 ;;
esac
port=5001
size=${XFER_SIZE:-4M}
stall=10

# link NS1 DEV1 ADDR1 NS2 DEV2 ADDR2 MTU: a veth pair, one /24
link()
{
	ip link add "$2" netns "$1" mtu "$7" type veth peer name "$5" \
		netns "$4" mtu "$7" &&
	ip -n "$1" addr add "$3/24" dev "$2" &&
	ip -n "$4" addr add "$6/24" dev "$5" &&
	ip -n "$1" link set "$2" up &&
	ip -n "$4" link set "$5" up
}

# The path MTU in NS's route cache to ADDR, empty if none.
cached_mtu()
{
	ip -n "$1" route get "$2" | sed -n 's/.* mtu \([0-9]*\).*/\1/p'
}

# ICMP destination unreachable messages NS has sent.
unreachs()
{
	ip netns exec "$1" cat /proc/net/snmp | awk '
		$1 == "Icmp:" && !h { for (i = 2; i <= NF; i++) idx[$i] = i; h = 1; next }
		$1 == "Icmp:" && h { print $(idx["OutDestUnreachs"]) + 0; exit }'
}

# xfer SIZE: SIZE each way between C and S; true if both ends verified it
# all. Their output is left in $tmp/client and $tmp/server.
xfer()
{
	ip netns exec $s "$XFER" -f "$fam" -s -b 10.0.7.2 -p $port -n "$1" \
		-t $stall >"$tmp/server" 2>&1 &
	spid=$!
	bg_add $spid
	if wait_listen $s "$fam" $port; then
		ip netns exec $c "$XFER" -f "$fam" -c 10.0.7.2 -p $port \
			-n "$1" -t $stall >"$tmp/client" 2>&1
		crc=$?
	else
		echo "no listener" >"$tmp/client"
		crc=1
	fi
	[ $crc -eq 0 ] || kill $spid 2>/dev/null
	bg_wait $spid
	src=$?
	echo "client (exit $crc):"
	show "$tmp/client"
	echo "server (exit $src):"
	show "$tmp/server"
	[ $crc -eq 0 ] && [ $src -eq 0 ]
}

# pmtu_case NO_PMTU_DISC_IN_C CLIENT_MTU le|gt
#	CLIENT_MTU: the path MTU C's route must end with ("" for none);
#	le|gt: C's MSS must be at most 1240, or more than 1240
pmtu_case()
{
	what="ip_no_pmtu_disc $1 in C"
	c=pmc-$$
	r1=pmr1-$$
	r2=pmr2-$$
	s=pms-$$

	if ! ns_new $c || ! ns_new $r1 || ! ns_new $r2 || ! ns_new $s ||
			! link $c vc 10.0.5.2 $r1 vr1c 10.0.5.1 1500 ||
			! link $r1 vr1 10.0.6.1 $r2 vr2 10.0.6.2 1280 ||
			! link $r2 vr2s 10.0.7.1 $s vs 10.0.7.2 1500 ||
			! ip -n $c route add default via 10.0.5.1 ||
			! ip -n $s route add default via 10.0.7.1 ||
			! ip -n $r1 route add 10.0.7.0/24 via 10.0.6.2 ||
			! ip -n $r2 route add 10.0.5.0/24 via 10.0.6.1; then
		fail "$what: namespaces, links and routes"
		for ns in $c $r1 $r2 $s; do
			ns_del $ns
		done
		return
	fi
	for ns in $r1 $r2; do
		ip netns exec $ns sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
	done
	ip netns exec $c sh -c "echo $1 >/proc/sys/net/ipv4/ip_no_pmtu_disc"

	if [ -n "$(cached_mtu $c 10.0.7.2)" ] ||
			[ -n "$(cached_mtu $s 10.0.5.2)" ]; then
		fail "$what: a path MTU is cached before any traffic"
	fi

	if xfer "$size"; then
		pass "$what: $size each way across a 1280-byte link, all verified"
	else
		for ns in $r1 $r2; do
			ip netns exec $ns grep '^Icmp:' /proc/net/snmp | show
		done
		fail "$what: $size each way across a 1280-byte link"
	fi

	ip -n $c route get 10.0.7.2 | show
	ip -n $s route get 10.0.5.2 | show
	if [ "$(cached_mtu $c 10.0.7.2)" = "$2" ] &&
			[ "$(cached_mtu $s 10.0.5.2)" = 1280 ]; then
		pass "$what: path MTU in C's route cache ${2:-none}, in S's 1280"
	else
		fail "$what: path MTU in the route caches"
	fi

	cmss=$(sed -n 's/^mss: //p' "$tmp/client")
	smss=$(sed -n 's/^mss: //p' "$tmp/server")
	echo "MSS at the end: client ${cmss:-?}, server ${smss:-?}"
	case $3 in
	le)
		cwant="at most 1240"
		cmss_ok=$([ -n "$cmss" ] && [ "$cmss" -le 1240 ] && echo y)
		;;
	gt)
		cwant="over 1240"
		cmss_ok=$([ -n "$cmss" ] && [ "$cmss" -gt 1240 ] && echo y)
		;;
	esac
	if [ -n "$cmss_ok" ] && [ -n "$smss" ] && [ "$smss" -le 1240 ]; then
		pass "$what: C's MSS $cwant, S's at most 1240"
	else
		fail "$what: MSS after the transfer"
	fi

	# The next connection starts with the MSS the route now allows: the
	# routers have no segment to refuse.
	if [ -n "$2" ]; then
		before=$(($(unreachs $r1) + $(unreachs $r2)))
		if xfer 64K &&
				cmss=$(sed -n 's/^mss: //p' "$tmp/client") &&
				smss=$(sed -n 's/^mss: //p' "$tmp/server") &&
				[ -n "$cmss" ] && [ "$cmss" -le 1240 ] &&
				[ -n "$smss" ] && [ "$smss" -le 1240 ] &&
				[ $(($(unreachs $r1) + $(unreachs $r2))) -eq $before ]; then
			pass "$what: the next connection's MSS is at most 1240 from the start"
		else
			for ns in $r1 $r2; do
				ip netns exec $ns grep '^Icmp:' /proc/net/snmp | show
			done
			fail "$what: the next connection's MSS"
		fi
	fi
	for ns in $c $r1 $r2 $s; do
		ns_del $ns
	done
}

pmtu_case 0 1280 le
pmtu_case 1 "" gt
finish

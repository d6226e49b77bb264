#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Packet fuzzing of a device under test (DUT) while real connections move
# verified data through it. Three network namespaces:
#   DUT     veth vd 10.9.0.1/24 towards the fuzzer, veth vc 10.9.1.1/24
#           towards the client; runs "pktfuzz serve" (listeners on 5000
#           and 5001, connects of its own to the fuzzer) and the servers
#           of the real transfers;
#   fuzzer  veth vf with no address: pktfuzz sends raw frames from
#           10.9.0.2, an address only the DUT's neighbour table knows, and
#           learns the DUT's sequence numbers from what comes back;
#   client  10.9.1.2, the client of one real transfer at a time over vc;
#           another transfer runs over the DUT's loopback. The fuzzer
#           also watches vc from the client's side and sends the DUT, as
#           the client, what must not harm a connection (copies of the
#           client's frames, old data, RST and SYN far below RCV.NXT, ...).
# Each run passes when every real transfer verified (cftcp_xfer, 2 MiB
# each way, one after another for the whole run), every segment cftcp sent
# the fuzzer had a right checksum, the kernel logged no
# BUG, WARNING, KASAN, Oops or the like, and once the timers are shortened
# (sysctls) every connection, request and TIME_WAIT entry of the DUT and
# the client goes away. Against Linux TCP (-f tcp, protocol 6), whose
# TIME_WAIT lasts a fixed 60 s, TIME_WAIT lines are left out of that last
# check.
#
#   fuzz.sh [-f cftcp|tcp] [-T SECONDS] [-n COUNT] [-v] [-F]
#	    [-s SEED|random]...
#	one run per -s (default: one random seed), each SECONDS long
#	(default 30) or COUNT fuzzer actions; -v prints every frame sent,
#	-F sends no IP fragments.
#	The seed of each run is printed; "fuzz.sh -s SEED" replays it.

. "$(dirname "$0")/lib.sh"

FUZZ=$here/pktfuzz
DUT=10.9.0.1
PEER=10.9.0.2
DUTC=10.9.1.1
CLIENT=10.9.1.2
fam=cftcp
seconds=30
count=""
fuzz_opts=""
seeds=""
xsize=${FUZZ_XFER_SIZE:-2M}

usage()
{
	echo "usage: $0 [-f cftcp|tcp] [-T SECONDS] [-n COUNT] [-v] [-F] [-s SEED|random]..."
	exit 2
}

while getopts f:T:n:vFs: opt; do
	case $opt in
	f) fam=$OPTARG ;;
	T) seconds=$OPTARG ;;
	n) count="-n $OPTARG" ;;
	v) fuzz_opts="$fuzz_opts -v" ;;
	F) fuzz_opts="$fuzz_opts -F" ;;
	s) seeds="$seeds $OPTARG" ;;
	*) usage ;;
	esac
done
case $fam in
cftcp|tcp) ;;
*) usage ;;
esac
seeds=${seeds:-random}

[ -x "$FUZZ" ] && [ -x "$XFER" ] || skip "pktfuzz or cftcp_xfer missing"
if [ $fam = cftcp ] && [ ! -d /proc/sys/net/cftcp ]; then
	skip "cftcp is not loaded"
fi

# sysctl NS NAME VALUE: cftcp's, or Linux TCP's of the same meaning; names
# Linux TCP lacks (timewait_len, rto_max_ms) are left alone for it.
sysctl_set()
{
	if [ $fam = cftcp ]; then
		f=/proc/sys/net/cftcp/$2
	else
		case $2 in
		fin_timeout|synack_retries|syn_retries|retries2|orphan_retries)
			f=/proc/sys/net/ipv4/tcp_$2 ;;
		*) return 0 ;;
		esac
	fi
	ip netns exec "$1" sh -c "echo $3 >$f" ||
		fail "sysctl $2=$3 in $1"
}

# Kernel log lines that mean something went wrong in the kernel.
splats()
{
	dmesg 2>/dev/null | grep -E 'BUG:|kernel BUG at|WARNING:|Oops|Call Trace|possible circular locking|detected stalls|blocked for more than|KASAN|UBSAN|KFENCE|general protection|Kernel panic|ODEBUG:|refcount_t:|list_(add|del) corruption'
}

# The DUT's counters that are not 0, NAME=VALUE, for the log.
counters_nonzero()
{
	if [ $fam = cftcp ]; then
		files=/proc/net/cftcp_stat
	else
		files="/proc/net/snmp /proc/net/netstat"
	fi
	# shellcheck disable=SC2086 # files: one or two paths
	in_ns "$1" cat $files 2>/dev/null | awk '
		$1 ~ /^(CfTcp|Tcp|TcpExt):$/ {
			if (!(($1) in hdr)) { hdr[$1] = $0; next }
			n = split(hdr[$1], h)
			for (i = 2; i <= n; i++)
				if ($i != 0)
					printf "%s=%s ", h[i], $i
			delete hdr[$1]
		}
		END { print "" }' | fold -s -w 76
}

# state_sampler NS: every 2 s until $tmp/stop, how many lines of the
# connection table are in each state, "ST COUNT" lines in $tmp/states.
state_sampler()
{
	: >"$tmp/states"
	while [ ! -e "$tmp/stop" ]; do
		in_ns "$1" cat "$(proc_table $fam)" 2>/dev/null |
			awk 'NR > 1 { n[$4]++ } END { for (s in n) print s, n[s] }' \
			>>"$tmp/states"
		sleep 2
	done
}

# The most lines in each state at one time, from $tmp/states.
states_seen()
{
	awk 'BEGIN {
		split("01 ESTABLISHED 02 SYN_SENT 03 SYN_RECV 04 FIN_WAIT1 05 FIN_WAIT2 06 TIME_WAIT 07 CLOSE 08 CLOSE_WAIT 09 LAST_ACK 0A LISTEN 0B CLOSING", a)
		for (i = 1; i < 22; i += 2) name[a[i]] = a[i + 1]
	}
	$2 > max[$1] { max[$1] = $2 }
	END { for (s in max) printf "%s %s=%d\n", s, name[s], max[s] }' \
		"$tmp/states" | sort | cut -d' ' -f2 | tr '\n' ' '
	echo
}

# Lines of the connection table in NS that should be gone by now.
leftovers()
{
	in_ns "$1" cat "$(proc_table $fam)" 2>/dev/null |
		awk -v fam=$fam 'NR > 1 && !(fam == "tcp" && $4 == "06")'
}

# xfer_loop NAME SERVER_NS CLIENT_NS ADDR PORT: transfers one after the
# other until $tmp/stop appears; one line per transfer in $tmp/NAME.res.
xfer_loop()
{
	n=0
	: >"$tmp/$1.res"
	while [ ! -e "$tmp/stop" ]; do
		n=$((n + 1))
		ip netns exec "$2" "$XFER" -f $fam -s -b "$4" -p "$5" \
			-n "$xsize" -t 60 >"$tmp/$1.srv" 2>&1 &
		sp=$!
		if ! wait_listen "$2" $fam "$5"; then
			kill $sp 2>/dev/null
			wait $sp
			echo "FAIL $1 #$n: the server did not listen" >>"$tmp/$1.res"
			sed -e 's/^/  | /' "$tmp/$1.srv" >>"$tmp/$1.res"
			return
		fi
		ip netns exec "$3" "$XFER" -f $fam -c "$4" -p "$5" \
			-n "$xsize" -t 60 >"$tmp/$1.cli" 2>&1
		crc=$?
		[ $crc -eq 0 ] || kill $sp 2>/dev/null
		wait $sp
		src=$?
		if [ $crc -ne 0 ] || [ $src -ne 0 ]; then
			{
				echo "FAIL $1 #$n: client exit $crc, server exit $src"
				sed -e 's/^/  | client: /' "$tmp/$1.cli"
				sed -e 's/^/  | server: /' "$tmp/$1.srv"
			} >>"$tmp/$1.res"
			return
		fi
		echo "ok $1 #$n" >>"$tmp/$1.res"
	done
}

# One run with seed $1.
fuzz_run()
{
	seed=$1
	what="$fam, seed $seed"
	dns=fzd-$$
	fns=fzf-$$
	cns=fzc-$$
	rm -f "$tmp/stop"

	echo "== run: $what, ${seconds}s (replay: fuzz.sh -f $fam -s $seed -T $seconds$fuzz_opts)"
	if ! ns_new $dns || ! ns_new $fns || ! ns_new $cns ||
	   ! ip link add vd netns $dns type veth peer name vf netns $fns ||
	   ! ip link add vc netns $dns type veth peer name vx netns $cns; then
		fail "$what: namespaces and veths"
		return
	fi
	for n in $dns $fns $cns; do
		ip netns exec $n sh -c \
			'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null
	done
	ip -n $dns addr add $DUT/24 dev vd
	ip -n $dns addr add $DUTC/24 dev vc
	ip -n $cns addr add $CLIENT/24 dev vx
	for x in "$dns vd" "$dns vc" "$fns vf" "$cns vx"; do
		set -- $x
		ip -n "$1" link set dev "$2" up
	done
	fmac=$(ip -n $fns link show dev vf | awk '/link\/ether/ { print $2 }')
	dmac=$(ip -n $dns link show dev vd | awk '/link\/ether/ { print $2 }')
	dcmac=$(ip -n $dns link show dev vc | awk '/link\/ether/ { print $2 }')
	ip -n $dns neigh replace $PEER lladdr "$fmac" dev vd nud permanent
	# The fuzzer checks the DUT's checksums: segments, no super-packets
	# with partial checksums, on its link.
	ip netns exec $dns ethtool -K vd tx off >/dev/null 2>&1

	# Short enough that the fuzzer's abandoned connections end during
	# the run too; shorter still at the end.
	for n in $dns $cns; do
		sysctl_set $n timewait_len 3
		sysctl_set $n fin_timeout 3
		sysctl_set $n synack_retries 3
		sysctl_set $n retries2 6
		sysctl_set $n orphan_retries 2
		sysctl_set $n rto_max_ms 4000
	done

	dmesg_before=$(splats | wc -l)

	ip netns exec $dns "$FUZZ" -f $fam -s "$seed" -t $((seconds + 30)) \
		serve -b $DUT -a $PEER >"$tmp/serve" 2>&1 &
	serve=$!
	bg_add $serve
	if ! wait_listen $dns $fam 5000; then
		show "$tmp/serve"
		fail "$what: pktfuzz serve did not listen"
		ns_del $dns; ns_del $fns; ns_del $cns
		return
	fi
	xfer_loop veth $dns $cns $DUTC 6001 &
	xv=$!
	bg_add $xv
	xfer_loop lo $dns $dns 127.0.0.1 6002 &
	xl=$!
	bg_add $xl
	state_sampler $dns &
	ss=$!
	bg_add $ss

	# Its output goes out as it comes: if the kernel dies, the last
	# frames sent (-v) and the progress so far are on the console.
	# shellcheck disable=SC2086 # count, fuzz_opts: options or nothing
	{ ip netns exec $fns "$FUZZ" -f $fam -s "$seed" -t "$seconds" $count \
		$fuzz_opts fuzz -i vf -m "$dmac" -a $PEER -d $DUT \
		-r "/run/netns/$cns,vx,$dcmac,$CLIENT,$DUTC" 2>&1
	  echo $? >"$tmp/frc"; } | tee "$tmp/fuzz"
	frc=$(cat "$tmp/frc")
	touch "$tmp/stop"
	[ $frc -eq 0 ] || fail "$what: pktfuzz exit $frc"
	grep -q 'established [1-9]' "$tmp/fuzz" ||
		fail "$what: the fuzzer established no connection"
	if [ $fam = cftcp ] && ! grep 'actions in' "$tmp/fuzz" | tail -n 1 |
			grep -q ' 0 with a bad checksum'; then
		fail "$what: the DUT sent segments with a bad checksum"
	fi

	bg_wait $ss
	echo "DUT states, most at once: $(states_seen)"
	echo "DUT counters:"
	counters_nonzero $dns | show
	kill -TERM $serve 2>/dev/null
	bg_wait $serve
	src=$?
	show "$tmp/serve"
	[ $src -eq 0 ] || fail "$what: pktfuzz serve exit $src"
	bg_wait $xv
	bg_wait $xl
	for t in veth lo; do
		oks=$(grep -c '^ok' "$tmp/$t.res")
		if grep -q '^FAIL' "$tmp/$t.res"; then
			cat "$tmp/$t.res"
			fail "$what: a real transfer over $t failed after $oks verified"
		elif [ "$oks" -eq 0 ]; then
			fail "$what: no real transfer over $t completed"
		else
			pass "$what: $oks transfers of $xsize each way over $t verified"
		fi
	done

	# Everything must go once the timers are short.
	for n in $dns $cns; do
		sysctl_set $n timewait_len 1
		sysctl_set $n fin_timeout 1
		sysctl_set $n synack_retries 1
		sysctl_set $n syn_retries 1
		sysctl_set $n retries2 1
		sysctl_set $n orphan_retries 1
		sysctl_set $n rto_max_ms 500
	done
	i=0
	while [ $i -lt 120 ]; do
		[ -z "$(leftovers $dns)$(leftovers $cns)" ] && break
		sleep 0.5
		i=$((i + 1))
	done
	if [ -n "$(leftovers $dns)$(leftovers $cns)" ]; then
		echo "DUT:"
		leftovers $dns | show
		echo "client:"
		leftovers $cns | show
		fail "$what: connections left 60 s after the run"
	else
		pass "$what: the tables emptied $((i / 2)) s after the run"
	fi
	if [ $fam = cftcp ]; then
		est=$(counter $dns cftcp CurrEstab)
		[ "$est" = 0 ] || fail "$what: CurrEstab $est at the end"
	fi

	if [ "$(splats | wc -l)" -ne "$dmesg_before" ]; then
		dmesg | tail -n 80 | show
		fail "$what: the kernel complained (seed $seed)"
	else
		pass "$what: no kernel splat"
	fi
	ns_del $dns
	ns_del $fns
	ns_del $cns
}

for s in $seeds; do
	if [ "$s" = random ]; then
		s=$(tr -dc 1-9 </dev/urandom | head -c 9)
	fi
	echo "seed $s"
	fuzz_run "$s"
done
finish

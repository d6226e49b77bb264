#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The host's local policy applies to cftcp as it does to Linux TCP. A
# client namespace (veth 10.9.3.2/24) connects to a listener that sockctl
# holds in a server namespace (10.9.3.1/24); each subtest gets fresh
# namespaces:
#   skuid         an nftables rule "meta skuid 1234 counter drop" in the
#                 client's output chain: uid 1234 cannot connect (no
#                 handshake in 1 s), uid 1235 can, the rule counted packets
#   cgroup        a cgroup v2 whose egress a BPF_PROG_TYPE_CGROUP_SKB
#                 program fences (cgfence): a client inside cannot connect,
#                 one outside can
#   xfrm          an ESP-only inbound IPsec policy on the server: a
#                 cleartext SYN gets no answer and counts in the server's
#                 XfrmInTmplMismatch
#   filter_estab  a drop-all SO_ATTACH_FILTER on an accepted socket: data
#                 sent to it never arrives, the sender retransmits
#   filter_listen the same filter on a listener: SYNs get no answer
#   hook_lazy     (cftcp only) the hook that runs cgroup egress programs
#                 on cftcp's segments is registered in a namespace by its
#                 first cftcp socket: 30 pings between two namespaces
#                 that never had one pass it not once (a kprobe on
#                 cftcp_egress_hook records the output device: a veth
#                 pair of the test's own names), and each ping and reply
#                 passes it once a socket() was made in each
#   rmmod_inflight  (cftcp only, needs CFTCP_KO) rmmod while the segments
#                 of a closed connection wait in a netem qdisc (0.5 s):
#                 it waits for them, the module loads again, the kernel
#                 logs no splat
#
#   policy.sh [-f cftcp|tcp] [SUBTEST]...
#	-f tcp runs the same against Linux TCP (IP protocol 6).

. "$(dirname "$0")/lib.sh"

SOCKCTL=$here/sockctl
CGFENCE=$here/cgfence
SRV=10.9.3.1
CLI=10.9.3.2
PORT=5001
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

[ -x "$SOCKCTL" ] && [ -x "$CGFENCE" ] || skip "sockctl or cgfence missing"
if [ $fam = cftcp ] && [ ! -d /proc/sys/net/cftcp ]; then
	skip "cftcp is not loaded"
fi

sns=""
cns=""
sync=$tmp/sync

ns_up()
{
	sns=pls-$$
	cns=plc-$$
	ns_new $sns && ns_new $cns && veth_pair $sns $SRV $cns $CLI
}

ns_down()
{
	ns_del $sns
	ns_del $cns
}

# serve [LINES]: a listener on $SRV:$PORT, LINES (sockctl lines, "\n"
# ended) after its socket call, then the script in $tmp/serve_more, if
# any, until unserve. Returns once it listens.
serve()
{
	rm -rf "$sync"
	mkdir -p "$sync"
	{
		printf 'socket L\n%b' "${1:-}"
		printf 'bind L %s %s\nlisten L 16\ntouch listening\n' $SRV $PORT
		cat "$tmp/serve_more" 2>/dev/null
		echo "wait done 60"
	} >"$tmp/srv"
	rm -f "$tmp/serve_more"
	ip netns exec $sns "$SOCKCTL" -f $fam -D "$sync" <"$tmp/srv" \
		>"$tmp/srv.out" 2>&1 &
	srv_pid=$!
	bg_add $srv_pid
	wait_file "$sync/listening" $srv_pid
}

# unserve NAME: stop the listener; its script must have held.
unserve()
{
	touch "$sync/done"
	if bg_wait $srv_pid; then
		return 0
	fi
	echo "server's sockctl:"
	show "$tmp/srv.out"
	fail "$1: server ($fam)"
	return 1
}

# client NAME LINES [COMMAND...]: sockctl runs LINES in the client's
# namespace, under COMMAND (e.g. cgfence DIR) if given.
client()
{
	name=$1
	printf '%b' "$2" >"$tmp/cli"
	shift 2
	if "$@" ip netns exec $cns "$SOCKCTL" -f $fam -D "$sync" \
		<"$tmp/cli" >"$tmp/cli.out" 2>&1; then
		pass "$name ($fam)"
		return 0
	fi
	show "$tmp/cli.out"
	fail "$name ($fam)"
	return 1
}

# What a client sees when its SYNs, or the answers, are refused.
blocked="socket C\nconnect C $SRV $PORT nonblock -> EINPROGRESS\nnoconn C 1\n"
connects="socket C\nconnect C $SRV $PORT nonblock -> EINPROGRESS\nwaitconn C 10\n"

xfrm_stat()
{
	ip netns exec "$1" awk -v n="$2" '$1 == n { print $2 }' \
		/proc/net/xfrm_stat 2>/dev/null
}

sub_skuid()
{
	if ! command -v nft >/dev/null ||
	   ! ip netns exec $cns nft list tables >/dev/null 2>&1; then
		echo "SKIP: skuid: no nft, or a kernel without nf_tables"
		return 0
	fi
	ip netns exec $cns nft -f - <<EOF || { fail "skuid: nft ($fam)"; return 1; }
table ip pol {
	chain out {
		type filter hook output priority 0; policy accept;
		meta skuid 1234 counter drop
	}
}
EOF
	serve || return 1
	client "skuid: uid 1234 is dropped" "uid 1234\n$blocked"
	client "skuid: uid 1235 connects" "uid 1235\n$connects"
	unserve skuid
	n=$(ip netns exec $cns nft list chain ip pol out |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
	if [ "${n:-0}" -ge 1 ]; then
		pass "skuid: the rule counted $n packets ($fam)"
	else
		fail "skuid: the rule counted ${n:-nothing} ($fam)"
	fi
}

sub_cgroup()
{
	cg=$tmp/cgroup2
	mkdir -p "$cg"
	mount -t cgroup2 none "$cg" || { fail "cgroup: no cgroup2 ($fam)"; return 1; }
	mkdir "$cg/fence-$$" || { umount "$cg"; fail "cgroup: mkdir ($fam)"; return 1; }
	"$CGFENCE" "$cg/fence-$$" true 2>"$tmp/cgfence"
	rc=$?
	if [ $rc -ne 0 ]; then
		rmdir "$cg/fence-$$"
		umount "$cg"
		if [ $rc -eq $ksft_skip ]; then
			echo "SKIP: cgroup: a kernel without cgroup BPF programs"
			return 0
		fi
		show "$tmp/cgfence"
		fail "cgroup: cgfence ($fam)"
		return 1
	fi
	serve || return 1
	client "cgroup: a fenced client is dropped" "$blocked" \
		"$CGFENCE" "$cg/fence-$$"
	client "cgroup: a client outside connects" "$connects"
	unserve cgroup
	rmdir "$cg/fence-$$"
	umount "$cg"
}

sub_xfrm()
{
	ip -n $sns xfrm policy add dir in src $CLI/32 dst $SRV/32 \
		proto $proto tmpl proto esp mode transport level required ||
		{ fail "xfrm: policy ($fam)"; return 1; }
	before=$(xfrm_stat $sns XfrmInTmplMismatch)
	serve || return 1
	client "xfrm: cleartext SYN refused" "$blocked"
	unserve xfrm
	after=$(xfrm_stat $sns XfrmInTmplMismatch)
	if [ -z "$before" ] || [ -z "$after" ]; then
		echo "SKIP: xfrm: no /proc/net/xfrm_stat (CONFIG_XFRM_STATISTICS)"
	elif [ "$after" -gt "$before" ]; then
		pass "xfrm: XfrmInTmplMismatch $before -> $after ($fam)"
	else
		fail "xfrm: XfrmInTmplMismatch $before -> $after ($fam)"
	fi
}

sub_filter_estab()
{
	cat >"$tmp/serve_more" <<EOF
accept L A
opt A dropfilter 1
touch filtered
wait sent 10
sleep 1
recv A 100 nonblock -> EAGAIN
inq A -> 0
EOF
	serve || return 1
	client "filter_estab: nothing arrives, the sender retransmits" \
		"$connects
wait filtered 10
snap
send C 100 -> 100
touch sent
sleep 1
delta RetransSegs >=1
"
	unserve filter_estab
}

sub_filter_listen()
{
	serve "opt L dropfilter 1\n" || return 1
	client "filter_listen: SYNs get no answer" "$blocked"
	unserve filter_listen
}

sub_hook_lazy()
{
	if [ $fam != cftcp ]; then
		echo "(hook_lazy: cftcp's)"
		return 0
	fi
	if ! grep -q ' cftcp_egress_hook' /proc/kallsyms; then
		# policy.c builds no hook without netfilter and cgroup BPF
		echo "SKIP: hook_lazy: a kernel without netfilter or cgroup BPF"
		return 0
	fi
	T=/sys/kernel/tracing
	ev=cftcp_policy_$$
	[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null ||
		{ fail "hook_lazy: cannot mount tracefs"; return 1; }
	# A link of its own between the two namespaces, whose device names
	# no other namespace has: the kprobe records the output device
	# (nf_hook_state->out, 16 bytes in; the name opens a net_device),
	# so only this test's packets are counted.
	da=pla$$
	db=plb$$
	if ! ip link add $da netns $sns type veth peer name $db netns $cns ||
	   ! ip -n $sns addr add 10.9.4.1/24 dev $da ||
	   ! ip -n $cns addr add 10.9.4.2/24 dev $db ||
	   ! ip -n $sns link set $da up || ! ip -n $cns link set $db up; then
		fail "hook_lazy: veth pair"
		return 1
	fi
	if ! echo "p:$ev cftcp_egress_hook dev=+0(+16(\$arg3)):string" \
			>>$T/kprobe_events ||
			! echo 1 >$T/events/kprobes/$ev/enable; then
		fail "hook_lazy: no kprobe on cftcp_egress_hook"
		return 1
	fi
	on=$(cat $T/tracing_on)
	echo 1 >$T/tracing_on
	echo >$T/trace
	hits()
	{
		grep -cE "dev=\"pl[ab]$$\"" $T/trace
	}
	ip netns exec $cns ping -q -c 30 -i 0.05 -W 1 10.9.4.1 >"$tmp/ping" 2>&1 ||
		{ show "$tmp/ping"; fail "hook_lazy: ping"; }
	h1=$(hits)
	printf 'socket S\nclose S\n' >"$tmp/one"
	for n in $sns $cns; do
		ip netns exec $n "$SOCKCTL" -f cftcp <"$tmp/one" >"$tmp/one.out" 2>&1 ||
			{ show "$tmp/one.out"; fail "hook_lazy: socket()"; }
	done
	ip netns exec $cns ping -q -c 30 -i 0.05 -W 1 10.9.4.1 >"$tmp/ping" 2>&1 ||
		{ show "$tmp/ping"; fail "hook_lazy: ping"; }
	h3=$(hits)
	echo 0 >$T/events/kprobes/$ev/enable
	echo "-:$ev" >>$T/kprobe_events
	echo "$on" >$T/tracing_on
	echo "# hook calls on the link: after 30 pings $h1, after socket() and 30 more $h3"
	if [ "$h1" -eq 0 ] && [ "$h3" -ge 60 ]; then
		pass "hook_lazy: the egress hook only where cftcp sockets were made"
	else
		fail "hook_lazy: the egress hook only where cftcp sockets were made"
	fi
}

complaints()
{
	dmesg 2>/dev/null |
		grep -cE 'BUG:|WARNING:|Oops|general protection|refcount_t:'
}

sub_rmmod_inflight()
{
	if [ $fam != cftcp ] || [ -z "$CFTCP_KO" ] || [ ! -r "$CFTCP_KO" ]; then
		echo "(rmmod_inflight: cftcp's, with CFTCP_KO)"
		return 0
	fi
	c0=$(complaints)
	serve || return 1
	# Connected, the client's link delays 0.5 s; it sends and closes.
	printf '%b' "$connects" >"$tmp/cli"
	cat >>"$tmp/cli" <<EOF
touch connected
wait delayed 10
send C 4000 -> 4000
close C
EOF
	ip netns exec $cns "$SOCKCTL" -f $fam -D "$sync" <"$tmp/cli" \
		>"$tmp/cli.out" 2>&1 &
	cp=$!
	wait_file "$sync/connected" $cp &&
		tc -n $cns qdisc add dev veth1 root netem delay 500ms &&
		touch "$sync/delayed"
	if ! wait $cp; then
		show "$tmp/cli.out"
		fail "rmmod_inflight: client"
	fi
	unserve rmmod_inflight
	t0=$(date +%s)
	if rmmod cftcp 2>"$tmp/rmmod"; then
		pass "rmmod_inflight: rmmod with segments in a qdisc ($(($(date +%s) - t0)) s)"
	else
		show "$tmp/rmmod"
		fail "rmmod_inflight: rmmod"
	fi
	# shellcheck disable=SC2086 # one word per module parameter
	grep -q '^cftcp ' /proc/modules || insmod "$CFTCP_KO" $CFTCP_KO_ARGS ||
		fail "rmmod_inflight: insmod"
	if [ "$(complaints)" -ne "$c0" ]; then
		dmesg | tail -40 | show
		fail "rmmod_inflight: kernel splat"
	fi
}

all="hook_lazy skuid cgroup xfrm filter_estab filter_listen rmmod_inflight"
for t in ${*:-$all}; do
	echo "# $t"
	ns_up || { fail "$t: namespaces"; ns_down; continue; }
	"sub_$t"
	ns_down
done
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Linux TCP against cftcp in one VM boot, over a veth pair between two
# namespaces (selftests/bench_veth.sh, netbench: see there for the list),
# then bulk throughput between two VMs joined by virtio-net.
# Each is measured BENCH_RUNS times (default 3), for BENCH_SECS seconds
# (default 5) where timed, the families in turn; prints the median with
# the min and max of each, and cftcp's median over TCP's (for memory, lower
# is better). Numbers are relative: the VM runs under TCG.
#
# usage: scripts/bench.sh
# env:   BENCH_RUNS, BENCH_SECS, and CFTCP_KVER, CFTCP_KERNEL, CFTCP_MODDIR,
#        CFTCP_KO as for scripts/check.sh (CFTCP_KO: measure another build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log=$(mktemp)
log_a=$(mktemp)
log_b=$(mktemp)
trap 'rm -f "$log" "$log_a" "$log_b"' EXIT

runs=${BENCH_RUNS:-3}
secs=${BENCH_SECS:-5}
"$ROOT/scripts/vm-run.sh" --quiet --name bench -t 1800 -l "$log" -- \
	"BENCH_RUNS=$runs BENCH_SECS=$secs /selftests/bench_veth.sh" \
	>/dev/null || {
	grep -v '^\[' "$log" | tail -40 >&2
	echo "bench: the measurement failed" >&2
	exit 1
}

# Two VMs joined by virtio-net (scripts/vm-pair.sh, no capture): bulk over
# one connection from B to A. A serves both families until B, done, takes
# its link down (three pings in a row unanswered).
server='nb=/selftests/netbench
$nb -f tcp -s -b 10.0.0.1 -p 5201 &
$nb -f cftcp -s -b 10.0.0.1 -p 5201 &
i=0
until ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 120 ] || exit 1
done
lost=0
while [ $lost -lt 3 ]; do
	if ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1; then lost=0; sleep 1
	else lost=$((lost + 1)); fi
done'
client="i=0
until ping -c 1 -W 1 10.0.0.1 >/dev/null 2>&1; do
	i=\$((i + 1)); [ \$i -lt 120 ] || exit 1
done
sleep 2
r=1
while [ \$r -le $runs ]; do
	for fam in tcp cftcp; do
		out=\$(/selftests/netbench -f \$fam -c 10.0.0.1 -p 5201 \\
			-m bulk -d $secs) || exit 1
		echo \"\$out\" | awk -v f=\$fam -v r=\$r \\
			'\$1 == \"RESULT\" { print \"BENCH\", f, \"virtio1\", r, \$3, \$4 }'
	done
	r=\$((r + 1))
done
ip link set eth0 down"
CFTCP_LOG_DIR=$(dirname "$log_b") "$ROOT/scripts/vm-pair.sh" --quiet \
	--pcap none -t 900 --log-a "$log_a" --log-b "$log_b" -- \
	"$server" "$client" 2>/dev/null || {
	grep -v '^\[' "$log_b" | tail -20 >&2
	echo "bench: the two-VM measurement failed" >&2
	exit 1
}
grep -a 'left out' "$log" | tr -d '\r' >&2 || true
cat "$log" "$log_b" | tr -d '\r' | awk '
	$1 == "BENCH" {
		k = $3 SUBSEP $2
		v[k, ++n[k]] = $5
		unit[$3] = $6
		if (!($3 in seen)) { seen[$3] = 1; order[++nt] = $3 }
	}
	function med(k,   i, j, t, m, a) {
		m = n[k]
		for (i = 1; i <= m; i++) a[i] = v[k, i]
		for (i = 2; i <= m; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		lo = a[1]; hi = a[m]
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		printf "%-8s %-12s %26s %26s %7s\n", "test", "unit",
		       "tcp median [min-max]", "cftcp median [min-max]",
		       "ratio"
		for (i = 1; i <= nt; i++) {
			t = order[i]
			mt = med(t SUBSEP "tcp"); lt = lo; ht = hi
			mc = med(t SUBSEP "cftcp"); lc = lo; hc = hi
			printf "%-8s %-12s %10.1f [%6.1f-%6.1f] %10.1f [%6.1f-%6.1f] %7.2f\n",
			       t, unit[t], mt, lt, ht, mc, lc, hc,
			       mt ? mc / mt : 0
		}
		printf "(%d runs of each)\n", n[order[1] SUBSEP "tcp"]
		for (i = 1; i <= nt; i++) {
			t = order[i]
			if (n[t SUBSEP "tcp"] != n[order[1] SUBSEP "tcp"] ||
			    n[t SUBSEP "cftcp"] != n[order[1] SUBSEP "tcp"])
				printf "(%s: %d runs of tcp, %d of cftcp)\n", t,
				       n[t SUBSEP "tcp"], n[t SUBSEP "cftcp"]
		}
	}'

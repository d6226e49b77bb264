#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Linux TCP against cftcp in one VM boot, over a veth pair between two
# namespaces (selftests/bench_veth.sh, netbench): bulk throughput over 1 and
# 4 connections, 1-byte request/response, connect/request/response/close,
# and the slab memory per established socket and per TIME_WAIT entry.
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
trap 'rm -f "$log"' EXIT

"$ROOT/scripts/vm-run.sh" --quiet --name bench -t 1800 -l "$log" -- \
	"BENCH_RUNS=${BENCH_RUNS:-3} BENCH_SECS=${BENCH_SECS:-5} /selftests/bench_veth.sh" \
	>/dev/null || {
	grep -v '^\[' "$log" | tail -40 >&2
	echo "bench: the measurement failed" >&2
	exit 1
}
tr -d '\r' <"$log" | awk '
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
	}'

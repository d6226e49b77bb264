#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Throughput of cftcp against Linux TCP in the same VM: one connection over a
# veth pair between two namespaces, BENCH_SIZE (default 64M) each way at
# once, every byte verified, for each family in turn. Prints one line per
# family with MiB/s each way. Numbers are relative: the VM runs under TCG.
#
# usage: scripts/bench.sh
# env:   BENCH_SIZE, and CFTCP_KVER, CFTCP_KERNEL, CFTCP_MODDIR, CFTCP_KO as
#        for scripts/check.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
size=${BENCH_SIZE:-64M}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

"$ROOT/scripts/vm-run.sh" --quiet --name bench -t 900 -l "$log" -- \
	"XFER_SIZE=$size /selftests/xfer_veth.sh cftcp tcp" >/dev/null || {
	grep -v '^\[' "$log" | tail -40 >&2
	echo "bench: the transfer failed" >&2
	exit 1
}
grep -E '^[^[].*(cftcp|tcp): sent .* MiB/s' "$log" | sort -u

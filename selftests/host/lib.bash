# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the two-VM tests (bash, on the host): paths, the pcap checker,
# the wait for the peer VM, and reading a VM's console for what its command
# printed. Exit status 4 means skip, as in kselftest.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ksft_skip=4
PCAP_CHECK=$ROOT/build/selftests/host/pcap_check
VM_PAIR=$ROOT/scripts/vm-pair.sh
XFER=/selftests/cftcp_xfer
logdir=${CFTCP_LOG_DIR:-$ROOT/build/logs/host}
mkdir -p "$logdir"

# CFTCP_HOST_FAMILY=tcp runs the same test over Linux TCP (protocol 6,
# cftcp.ko not loaded), for comparison.
FAMILY=${CFTCP_HOST_FAMILY:-cftcp}
case $FAMILY in
cftcp) PROTO=253; PAIR_OPTS=() ;;
tcp) PROTO=6; PAIR_OPTS=(--noload) ;;
*) echo "FAIL: CFTCP_HOST_FAMILY must be cftcp or tcp"; exit 1 ;;
esac
XFER="$XFER -f $FAMILY"

skip()
{
	echo "SKIP: $*"
	exit $ksft_skip
}

[ -x "$VM_PAIR" ] || skip "no scripts/vm-pair.sh"
if [ ! -x "$PCAP_CHECK" ]; then
	make -s -C "$ROOT/selftests" "$PCAP_CHECK" >&2 ||
		{ echo "FAIL: cannot build $PCAP_CHECK"; exit 1; }
fi

# Shell code for VM B: wait until A answers, at most 2 minutes.
WAIT_FOR_A='i=0
until ping -c 1 -W 1 10.0.0.1 >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 120 ] || { echo "A never answered"; exit 1; }
done'

# What a VM's command printed: the console between the run markers, without
# kernel messages.
program_output()
{
	sed -n '/cftcp-vm: running \/cmd/,/cftcp-vm: \/cmd exited/p' "$1" |
		grep -v '^\[ *[0-9]*\.[0-9]*\]'
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo, checked: scripts/demo.sh --check boots the two VMs, draws the
# three connections from the capture and the tracepoints, and fails
# unless every traced frame is found in the capture and the diagrams show
# each side going through its states (the client to TIME_WAIT after
# FIN_WAIT2; the half-closed server answering after the client's FIN from
# CLOSE_WAIT; both ends of the simultaneous close through CLOSING); the
# SVG must be there too.

. "$(dirname "$0")/lib.bash"

[ "$FAMILY" = cftcp ] || skip "the demo is cftcp's"
export CFTCP_DEMO_DIR=$logdir/demo
status=0
"$ROOT/scripts/demo.sh" --check || status=$?
svg=$CFTCP_DEMO_DIR/ladder.svg
for console in "$CFTCP_DEMO_DIR"/*.console; do
	[ -e "$console" ] && cp "$console" "$logdir/"
done
if [ "$status" -ne 0 ]; then
	echo "FAIL: scripts/demo.sh --check: exit status $status"
	exit 1
fi
if ! grep -q CLOSING "$svg" || ! grep -q '<line' "$svg"; then
	echo "FAIL: $svg lacks the diagram"
	exit 1
fi
echo "PASS: the demo's ladder diagrams, checked; $svg"

// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp tracepoints: this file instantiates the events declared in
 * include/trace/events/cftcp.h; the rest of the module only calls
 * trace_cftcp_*().  Events take no lock of their own: each is called
 * where its caller already holds what makes its arguments stable.
 */
#define CREATE_TRACE_POINTS
#include "trace/events/cftcp.h"

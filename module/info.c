// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp CFTCP_INFO: a snapshot of one connection for getsockopt(), taken
 * with the socket locked.
 */
#include <net/sock.h>

#include "cftcp.h"

void cftcp_get_info(struct sock *sk, struct cftcp_info *info)
{
	const struct cftcp_sock *cs = cftcp_sk(sk);

	memset(info, 0, sizeof(*info));
	info->cfi_state = inet_sk_state_load(sk);
	if (info->cfi_state == CFTCP_LISTEN)
		return;
	info->cfi_retransmits = cs->retransmits;
	info->cfi_snd_wscale = cs->snd_wscale;
	info->cfi_rcv_wscale = cs->rcv_wscale;
	info->cfi_rto = jiffies_to_usecs(cs->rto);
	info->cfi_srtt = cs->srtt_us;
	info->cfi_rttvar = cs->rttvar_us;
	info->cfi_snd_mss = cs->mss;
	info->cfi_rcv_mss = cs->rcv_mss;
	info->cfi_snd_wnd = cs->snd_wnd;
	info->cfi_rcv_wnd = cs->rcv_wnd;
	info->cfi_unacked = cs->snd_nxt - cs->snd_una;
	info->cfi_total_retrans = cs->total_retrans;
	info->cfi_bytes_acked = cs->bytes_acked;
	info->cfi_bytes_received = cs->bytes_received;
	info->cfi_segs_in = cs->segs_in;
	info->cfi_segs_out = cs->segs_out;
}

/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cftcp: TCP without congestion control, as its own socket family.
 *
 * Include after <sys/socket.h> and <netinet/in.h> in userspace. Socket option
 * numbers at level SOL_CFTCP mirror Linux TCP's at IPPROTO_TCP, and the state
 * numbers mirror enum tcp_state.
 */
#ifndef _UAPI_LINUX_CFTCP_H
#define _UAPI_LINUX_CFTCP_H

#include <linux/types.h>
#include <linux/socket.h>
#include <linux/in.h>

#define AF_CFTCP	25
#define PF_CFTCP	AF_CFTCP
#define IPPROTO_CFTCP	253
#define SOL_CFTCP	IPPROTO_CFTCP

/* Same size and field offsets as struct sockaddr_in. */
struct sockaddr_cftcp {
	__kernel_sa_family_t	scf_family;	/* AF_CFTCP */
	__be16			scf_port;
	struct in_addr		scf_addr;
	unsigned char		scf_zero[8];
};

/* Socket options at level SOL_CFTCP. */
#define CFTCP_NODELAY		1
#define CFTCP_MAXSEG		2
#define CFTCP_KEEPIDLE		4
#define CFTCP_KEEPINTVL		5
#define CFTCP_KEEPCNT		6
#define CFTCP_SYNCNT		7
#define CFTCP_LINGER2		8
#define CFTCP_INFO		11
#define CFTCP_USER_TIMEOUT	18

/* Connection states, numbered as Linux's enum tcp_state. */
enum {
	CFTCP_ESTABLISHED = 1,
	CFTCP_SYN_SENT,
	CFTCP_SYN_RECV,
	CFTCP_FIN_WAIT1,
	CFTCP_FIN_WAIT2,
	CFTCP_TIME_WAIT,
	CFTCP_CLOSE,
	CFTCP_CLOSE_WAIT,
	CFTCP_LAST_ACK,
	CFTCP_LISTEN,
	CFTCP_CLOSING,
	CFTCP_MAX_STATES	/* Leave at the end. */
};

/*
 * Returned by getsockopt(SOL_CFTCP, CFTCP_INFO), truncated to the caller's
 * length as TCP_INFO is. Times are in microseconds, windows in bytes.
 */
struct cftcp_info {
	__u8	cfi_state;		/* CFTCP_* state */
	__u8	cfi_retransmits;	/* retransmissions in a row, now */
	__u8	cfi_snd_wscale;		/* peer's window scale */
	__u8	cfi_rcv_wscale;		/* our window scale */

	__u32	cfi_rto;		/* current retransmission timeout */
	__u32	cfi_srtt;		/* smoothed round-trip time */
	__u32	cfi_rttvar;		/* round-trip time variance */
	__u32	cfi_snd_mss;		/* largest payload we send */
	__u32	cfi_rcv_mss;		/* largest payload we accept */
	__u32	cfi_snd_wnd;		/* peer's advertised window */
	__u32	cfi_rcv_wnd;		/* our advertised window */
	__u32	cfi_unacked;		/* bytes in flight */
	__u32	cfi_total_retrans;	/* segments retransmitted, in all */

	__u64	cfi_bytes_acked;	/* bytes the peer acknowledged */
	__u64	cfi_bytes_received;	/* bytes received in order */
	__u64	cfi_segs_in;		/* segments received */
	__u64	cfi_segs_out;		/* segments sent */
};

#endif /* _UAPI_LINUX_CFTCP_H */

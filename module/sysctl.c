// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp settings of each network namespace: their defaults and the files
 * under /proc/sys/net/cftcp/ that read and write them (struct cftcp_sysctl
 * in cn->sysctl).
 *
 * Every file takes an int in a fixed range; a write outside it fails with
 * EINVAL and leaves the value alone. rto_min_ms may not exceed rto_max_ms:
 * writes to either are checked against the other under cftcp_rto_lock.
 * Readers elsewhere use READ_ONCE() on single fields and take no lock.
 *
 * Two settings are the host's, as tcp_mem and tcp_max_orphans are, and
 * appear in the initial namespace only: mem (pages, three values) and
 * max_orphans (mem.c).
 */
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>

#include "cftcp.h"

void cftcp_sysctl_defaults(struct cftcp_sysctl *s)
{
	s->syn_retries = 6;
	s->synack_retries = 5;
	s->max_syn_backlog = 1024;
	s->rto_initial_ms = 1000;
	s->rto_min_ms = 200;
	s->rto_max_ms = 120000;
	s->fin_timeout = 60;
	s->timewait_len = 60;
	s->max_tw_buckets = 262144;
	s->syncookies = 1;
	s->rfc1337 = 0;
	s->retries2 = 15;
	s->orphan_retries = 0;
	s->keepalive_time = 7200;
	s->keepalive_intvl = 75;
	s->keepalive_probes = 9;
	s->rmem_default = 212992;
	s->wmem_default = 212992;
	s->invalid_ratelimit = 500;
	s->challenge_ack_limit = INT_MAX;
}

/* Bounds of the files; the lower ones of 0 and 1 are SYSCTL_ZERO/ONE. */
static int cftcp_s8_max = 127;
static int cftcp_u8_max = 255;
static int cftcp_backlog_max = 65536;
static int cftcp_rto_lo = 10;
static int cftcp_rto_hi = 120000;
static int cftcp_rto_max_hi = 600000;
static int cftcp_fin_timeout_max = 3600;
static int cftcp_timewait_max = 600;
static int cftcp_tw_buckets_max = 16777216;
static int cftcp_keepalive_max = INT_MAX / HZ;
static int cftcp_buf_min = 4096;
static int cftcp_buf_max = INT_MAX / 2;

/* Serialises writes of rto_min_ms and rto_max_ms, in all namespaces. */
static DEFINE_MUTEX(cftcp_rto_lock);

/*
 * Write @table's value (rto_min_ms if @is_min, else rto_max_ms) only if
 * it stays in its range and rto_min_ms <= rto_max_ms still holds.
 */
static int cftcp_proc_rto_bound(struct ctl_table *table, int write,
				void *buffer, size_t *lenp, loff_t *ppos,
				bool is_min)
{
	struct ctl_table tmp = *table;
	struct cftcp_sysctl *s;
	int *field = table->data;
	loff_t pos = *ppos;
	int val, ret;
	bool bad;

	if (!write)
		return proc_dointvec_minmax(table, write, buffer, lenp, ppos);

	if (is_min)
		s = container_of(field, struct cftcp_sysctl, rto_min_ms);
	else
		s = container_of(field, struct cftcp_sysctl, rto_max_ms);

	mutex_lock(&cftcp_rto_lock);
	val = READ_ONCE(*field);
	tmp.data = &val;
	ret = proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (!ret) {
		if (is_min)
			bad = val > READ_ONCE(s->rto_max_ms);
		else
			bad = val < READ_ONCE(s->rto_min_ms);
		if (bad) {
			*ppos = pos;
			ret = -EINVAL;
		} else {
			WRITE_ONCE(*field, val);
		}
	}
	mutex_unlock(&cftcp_rto_lock);
	return ret;
}

static int cftcp_proc_rto_min(struct ctl_table *table, int write,
			      void *buffer, size_t *lenp, loff_t *ppos)
{
	return cftcp_proc_rto_bound(table, write, buffer, lenp, ppos, true);
}

static int cftcp_proc_rto_max(struct ctl_table *table, int write,
			      void *buffer, size_t *lenp, loff_t *ppos)
{
	return cftcp_proc_rto_bound(table, write, buffer, lenp, ppos, false);
}

/*
 * Template entry: .data holds the offset of the field in struct
 * cftcp_sysctl until cftcp_sysctl_net_init() rebases it onto cn->sysctl.
 */
#define CFTCP_SYSCTL_HANDLER(_name, _min, _max, _handler) {		\
	.procname	= #_name,					\
	.data		= (void *)offsetof(struct cftcp_sysctl, _name),	\
	.maxlen		= sizeof(int),					\
	.mode		= 0644,						\
	.proc_handler	= _handler,					\
	.extra1		= _min,						\
	.extra2		= _max,						\
}

#define CFTCP_SYSCTL(_name, _min, _max)					\
	CFTCP_SYSCTL_HANDLER(_name, _min, _max, proc_dointvec_minmax)

static const struct ctl_table cftcp_sysctl_template[] = {
	CFTCP_SYSCTL(syn_retries, SYSCTL_ONE, &cftcp_s8_max),
	CFTCP_SYSCTL(synack_retries, SYSCTL_ONE, &cftcp_u8_max),
	CFTCP_SYSCTL(max_syn_backlog, SYSCTL_ONE, &cftcp_backlog_max),
	CFTCP_SYSCTL(rto_initial_ms, &cftcp_rto_lo, &cftcp_rto_hi),
	CFTCP_SYSCTL_HANDLER(rto_min_ms, SYSCTL_ONE, &cftcp_rto_hi,
			     cftcp_proc_rto_min),
	CFTCP_SYSCTL_HANDLER(rto_max_ms, &cftcp_rto_lo, &cftcp_rto_max_hi,
			     cftcp_proc_rto_max),
	CFTCP_SYSCTL(fin_timeout, SYSCTL_ONE, &cftcp_fin_timeout_max),
	CFTCP_SYSCTL(timewait_len, SYSCTL_ONE, &cftcp_timewait_max),
	CFTCP_SYSCTL(max_tw_buckets, SYSCTL_ZERO, &cftcp_tw_buckets_max),
	CFTCP_SYSCTL(syncookies, SYSCTL_ZERO, SYSCTL_TWO),
	CFTCP_SYSCTL(rfc1337, SYSCTL_ZERO, SYSCTL_ONE),
	CFTCP_SYSCTL(retries2, SYSCTL_ONE, &cftcp_u8_max),
	CFTCP_SYSCTL(orphan_retries, SYSCTL_ZERO, &cftcp_u8_max),
	CFTCP_SYSCTL(keepalive_time, SYSCTL_ONE, &cftcp_keepalive_max),
	CFTCP_SYSCTL(keepalive_intvl, SYSCTL_ONE, &cftcp_keepalive_max),
	CFTCP_SYSCTL(keepalive_probes, SYSCTL_ONE, &cftcp_s8_max),
	CFTCP_SYSCTL(rmem_default, &cftcp_buf_min, &cftcp_buf_max),
	CFTCP_SYSCTL(wmem_default, &cftcp_buf_min, &cftcp_buf_max),
	CFTCP_SYSCTL(invalid_ratelimit, SYSCTL_ZERO, &cftcp_rto_max_hi),
	CFTCP_SYSCTL(challenge_ack_limit, SYSCTL_ZERO, SYSCTL_INT_MAX),
	{ }
};

int cftcp_sysctl_net_init(struct cftcp_net *cn)
{
	struct ctl_table *table;
	int i;

	table = kmemdup(cftcp_sysctl_template, sizeof(cftcp_sysctl_template),
			GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(cftcp_sysctl_template) - 1; i++)
		table[i].data = (char *)&cn->sysctl +
				(uintptr_t)cftcp_sysctl_template[i].data;

	cn->sysctl_hdr = register_net_sysctl(cn->net, "net/cftcp", table);
	if (!cn->sysctl_hdr) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

void cftcp_sysctl_net_exit(struct cftcp_net *cn)
{
	struct ctl_table *table;

	if (!cn->sysctl_hdr)
		return;
	table = cn->sysctl_hdr->ctl_table_arg;
	unregister_net_sysctl_table(cn->sysctl_hdr);
	cn->sysctl_hdr = NULL;
	kfree(table);
}

static unsigned long cftcp_mem_max = LONG_MAX / PAGE_SIZE;
static struct ctl_table_header *cftcp_global_hdr;

static struct ctl_table cftcp_global_table[] = {
	{
		.procname	= "mem",
		.data		= cftcp_sysctl_mem,
		.maxlen		= sizeof(cftcp_sysctl_mem),
		.mode		= 0644,
		.proc_handler	= proc_doulongvec_minmax,
		.extra2		= &cftcp_mem_max,
	},
	{
		.procname	= "max_orphans",
		.data		= &cftcp_max_orphans,
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_INT_MAX,
	},
	{ }
};

int cftcp_sysctl_global_init(void)
{
	cftcp_global_hdr = register_net_sysctl(&init_net, "net/cftcp",
					       cftcp_global_table);
	return cftcp_global_hdr ? 0 : -ENOMEM;
}

void cftcp_sysctl_global_exit(void)
{
	unregister_net_sysctl_table(cftcp_global_hdr);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Family switch and shared calls for the cftcp selftests. Every test source
 * is built twice: with -DTEST_CFTCP against AF_CFTCP, and without it against
 * Linux TCP (AF_INET, IPPROTO_TCP), and must pass in both builds.
 */
#ifndef CFTCP_SELFTEST_LIB_H
#define CFTCP_SELFTEST_LIB_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/cftcp.h>

#include <stdbool.h>
#include <stdint.h>

#ifdef TEST_CFTCP
#define FAMILY		AF_CFTCP
#define PROTO		IPPROTO_CFTCP
#define SOL_PROTO	SOL_CFTCP
#define FAMILY_NAME	"cftcp"
#define PROC_NET	"/proc/net/cftcp"
#define OTHER_PROTO	IPPROTO_TCP	/* a stream protocol this family refuses */
#else
#define FAMILY		AF_INET
#define PROTO		IPPROTO_TCP
#define SOL_PROTO	IPPROTO_TCP
#define FAMILY_NAME	"tcp"
#define PROC_NET	"/proc/net/tcp"
#define OTHER_PROTO	IPPROTO_CFTCP
#endif

/*
 * CFTCP_INFO has TCP_INFO's number and struct cftcp_info starts, like
 * struct tcp_info, with the state byte; only that byte is read in both builds.
 */
#define INFO_OPT	CFTCP_INFO

/* Wait ceilings (ms) for events that need only loopback round trips. */
#define WAIT_MS		10000

/* An address of the family under test; layout of sockaddr_in either way. */
struct taddr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_cftcp cf;
	};
};

void taddr_set(struct taddr *a, const char *ip, uint16_t port);
uint16_t taddr_port(const struct taddr *a);
uint32_t taddr_ip(const struct taddr *a);	/* network order */
int taddr_family(const struct taddr *a);
#define TADDR_LEN	((socklen_t)sizeof(struct sockaddr_in))

int sock_new(int flags);
int listener(const char *ip, uint16_t port, int backlog, struct taddr *bound);
int connect_pair(int *cli, int *srv, int *lfd);
int connect_pair_buf(int *cli, int *srv, int *lfd, int buf);
uint16_t local_port(int fd);
uint16_t peer_port(int fd);
int sock_state(int fd);
int sock_error(int fd);
uint16_t unused_port(void);

int proc_state(uint16_t lport, uint16_t rport);
int wait_state(uint16_t lport, uint16_t rport, int st, int ms);
int proc_line(uint16_t lport, uint16_t rport, char *buf, int len, const char *path);

int read_long(const char *path, long *val);
int write_str(const char *path, const char *val);
int sysctl_path(char *buf, int len, const char *cftcp_name);

long long counter(const char *name);

int table_count(int st);
short poll_one(int fd, short events, int ms);
int fill_until_stuck(int wfd, int rfd, long long *total);
int drain(int fd, long long max, long long *got);

bool have_netem(void);
int run(const char *cmd);

const char *state_name(int st);
void msleep(int ms);

#endif /* CFTCP_SELFTEST_LIB_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * libcftcp-preload.so: runs an unmodified program's IPv4 TCP over cftcp.
 *
 *   LD_PRELOAD=libcftcp-preload.so program ...
 *
 * Which sockets move (environment):
 *   CFTCP_PORTS unset        every socket(AF_INET, SOCK_STREAM, 0 or
 *                            IPPROTO_TCP) is created as an AF_CFTCP socket.
 *   CFTCP_PORTS=80,6379,...  sockets stay AF_INET until they bind to one of
 *                            these local ports or connect to one of these
 *                            peer ports; then an AF_CFTCP socket takes the
 *                            descriptor's place (dup3) with the file status
 *                            flags and the socket options set so far.
 *   CFTCP_FAMILY=N           the family cftcp.ko was loaded with (25).
 *
 * What the program sees of a moved socket is TCP: addresses it passes and
 * gets back (bind, connect, accept/accept4, getsockname, getpeername,
 * recvfrom, recvmsg) are sockaddr_in with AF_INET; IPPROTO_TCP options go
 * to their SOL_CFTCP twins (same numbers; one without a twin fails with
 * cftcp's ENOPROTOOPT); SO_DOMAIN and SO_PROTOCOL answer AF_INET and
 * IPPROTO_TCP; TCP_INFO is filled from CFTCP_INFO where the fields mean
 * the same (tcpi_snd_cwnd: cftcp has no congestion window, so it is the
 * peer's window in segments, which is what bounds the sender). read,
 * write, send*, recv*, sendfile, splice, poll and epoll need nothing.
 *
 * Whether a descriptor is cftcp's is asked of the kernel (SO_DOMAIN), so
 * descriptors passed between processes or duplicated stay right; only the
 * options and the bind() address of a socket that may still move are
 * remembered here (with its inode, so that a descriptor number closed
 * behind the library's back and reused is not mistaken for it).
 *
 * With CFTCP_PORTS, a move replaces the open file behind the descriptor:
 * what the program did with the old one (added it to an epoll set, dup()ed
 * it) before that bind() or connect() does not follow.  Programs that add
 * a socket to epoll only after connect() (most) are not affected; for the
 * others, leave CFTCP_PORTS unset so that sockets are cftcp's from
 * socket() on.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/tcp.h>

#include <linux/cftcp.h>

#define MAX_PORTS	64
#define MAX_OPTS	16
#define MAX_OPTLEN	64
#define MAX_PENDING	256

struct saved_opt {
	int level, name;
	socklen_t len;
	unsigned char val[MAX_OPTLEN];
};

/* An AF_INET stream socket that moves to cftcp if it binds or connects to
 * one of the ports: its socket() arguments and the options set on it.
 */
struct pending {
	int fd;
	int type;
	ino_t ino;		/* the socket's, to know a reused number */
	bool bound;
	struct sockaddr_in baddr;
	int nopts;
	struct saved_opt opts[MAX_OPTS];
};

static int cf_family = AF_CFTCP;
static bool by_port;
static int nports;
static unsigned short ports[MAX_PORTS];
static struct pending pending[MAX_PENDING];
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;

static int (*real_socket)(int, int, int);
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);
static int (*real_getpeername)(int, struct sockaddr *, socklen_t *);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *,
				socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static int (*real_close)(int);

static ino_t fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

__attribute__((constructor)) static void preload_init(void)
{
	const char *s = getenv("CFTCP_PORTS");
	const char *fam = getenv("CFTCP_FAMILY");

	real_socket = dlsym(RTLD_NEXT, "socket");
	real_bind = dlsym(RTLD_NEXT, "bind");
	real_connect = dlsym(RTLD_NEXT, "connect");
	real_accept = dlsym(RTLD_NEXT, "accept");
	real_accept4 = dlsym(RTLD_NEXT, "accept4");
	real_getsockname = dlsym(RTLD_NEXT, "getsockname");
	real_getpeername = dlsym(RTLD_NEXT, "getpeername");
	real_setsockopt = dlsym(RTLD_NEXT, "setsockopt");
	real_getsockopt = dlsym(RTLD_NEXT, "getsockopt");
	real_recvfrom = dlsym(RTLD_NEXT, "recvfrom");
	real_recvmsg = dlsym(RTLD_NEXT, "recvmsg");
	real_close = dlsym(RTLD_NEXT, "close");

	if (fam && atoi(fam) > 0)
		cf_family = atoi(fam);
	if (!s || !*s)
		return;
	by_port = true;
	while (*s && nports < MAX_PORTS) {
		char *end;
		long p = strtol(s, &end, 10);

		if (end == s)
			break;
		if (p > 0 && p < 65536)
			ports[nports++] = (unsigned short)p;
		s = *end ? end + 1 : end;
	}
}

static bool is_cftcp(int fd)
{
	int domain = 0;
	socklen_t len = sizeof(domain);

	return real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	       domain == cf_family;
}

static bool port_listed(unsigned short port)
{
	int i;

	for (i = 0; i < nports; i++)
		if (ports[i] == port)
			return true;
	return false;
}

static struct pending *pending_find(int fd)
{
	int i;

	for (i = 0; i < MAX_PENDING; i++)
		if (pending[i].fd == fd + 1)	/* 0 means free */
			return &pending[i];
	return NULL;
}

static void pending_drop(int fd)
{
	struct pending *p;

	pthread_mutex_lock(&pending_lock);
	p = pending_find(fd);
	if (p)
		p->fd = 0;
	pthread_mutex_unlock(&pending_lock);
}

static bool tcp_stream(int domain, int type, int protocol)
{
	return domain == AF_INET &&
	       (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

int socket(int domain, int type, int protocol)
{
	struct pending *p;
	int fd;

	if (!tcp_stream(domain, type, protocol))
		return real_socket(domain, type, protocol);
	if (!by_port)
		return real_socket(cf_family, type, 0);
	fd = real_socket(domain, type, protocol);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&pending_lock);
	p = pending_find(-1);	/* a free slot */
	if (p) {
		p->fd = fd + 1;
		p->type = type;
		p->ino = fd_ino(fd);
		p->bound = false;
		p->nopts = 0;
	}
	pthread_mutex_unlock(&pending_lock);
	return fd;
}

/* IPPROTO_TCP options are SOL_CFTCP's with the same numbers. */
static int cftcp_level(int level)
{
	return level == IPPROTO_TCP ? SOL_CFTCP : level;
}

/*
 * Put an AF_CFTCP socket in the place of the AF_INET socket fd, which is
 * about to bind or connect to a listed port: same type flags, file status
 * flags and the options set so far.
 */
static int move_to_cftcp(int fd)
{
	struct pending *p, copy;
	int nfd, fl, fdfl, i;

	pthread_mutex_lock(&pending_lock);
	p = pending_find(fd);
	if (p) {
		copy = *p;
		p->fd = 0;
	}
	pthread_mutex_unlock(&pending_lock);
	/* A number closed behind our back (fclose, dup2) and reused. */
	if (!p || copy.ino != fd_ino(fd))
		return 0;
	nfd = real_socket(cf_family, copy.type & ~SOCK_CLOEXEC, 0);
	if (nfd < 0)
		return -1;
	for (i = 0; i < copy.nopts; i++) {
		struct saved_opt *o = &copy.opts[i];

		real_setsockopt(nfd, cftcp_level(o->level), o->name, o->val,
				o->len);
	}
	if (copy.bound) {
		struct sockaddr_in a = copy.baddr;

		a.sin_family = cf_family;
		if (real_bind(nfd, (struct sockaddr *)&a, sizeof(a))) {
			real_close(nfd);
			return -1;
		}
	}
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	if (fl >= 0)
		fcntl(nfd, F_SETFL, fl);
	if (dup3(nfd, fd, fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		real_close(nfd);
		return -1;
	}
	real_close(nfd);
	return 0;
}

/* A copy of an AF_INET address with cftcp's family. */
static const struct sockaddr *to_cftcp(const struct sockaddr *addr,
				       socklen_t len, struct sockaddr_in *buf)
{
	if (!addr || len < sizeof(*buf) || addr->sa_family != AF_INET)
		return addr;
	memcpy(buf, addr, sizeof(*buf));
	buf->sin_family = cf_family;
	return (const struct sockaddr *)buf;
}

/* An address the kernel wrote for a cftcp socket, given back as AF_INET. */
static void from_cftcp(struct sockaddr *addr, socklen_t *len)
{
	if (addr && len && *len >= sizeof(sa_family_t) &&
	    addr->sa_family == cf_family)
		addr->sa_family = AF_INET;
}

static bool wants_move(const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;

	return by_port && addr && len >= sizeof(*sin) &&
	       sin->sin_family == AF_INET && port_listed(ntohs(sin->sin_port));
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in buf;
	struct pending *p;
	int ret;

	if (wants_move(addr, len) && move_to_cftcp(fd))
		return -1;
	if (is_cftcp(fd))
		return real_bind(fd, to_cftcp(addr, len, &buf), len);
	ret = real_bind(fd, addr, len);
	/* Kept for a move at connect(): the cftcp socket binds the same. */
	if (ret || !by_port || !addr || len < sizeof(buf) ||
	    addr->sa_family != AF_INET)
		return ret;
	pthread_mutex_lock(&pending_lock);
	p = pending_find(fd);
	if (p) {
		p->bound = true;
		memcpy(&p->baddr, addr, sizeof(p->baddr));
	}
	pthread_mutex_unlock(&pending_lock);
	return ret;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in buf;

	if (wants_move(addr, len) && move_to_cftcp(fd))
		return -1;
	if (!is_cftcp(fd))
		return real_connect(fd, addr, len);
	return real_connect(fd, to_cftcp(addr, len, &buf), len);
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	int nfd = real_accept(fd, addr, len);

	if (nfd >= 0)
		from_cftcp(addr, len);
	return nfd;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int nfd = real_accept4(fd, addr, len, flags);

	if (nfd >= 0)
		from_cftcp(addr, len);
	return nfd;
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	int ret = real_getsockname(fd, addr, len);

	if (!ret)
		from_cftcp(addr, len);
	return ret;
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	int ret = real_getpeername(fd, addr, len);

	if (!ret)
		from_cftcp(addr, len);
	return ret;
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
		 struct sockaddr *addr, socklen_t *len)
{
	ssize_t ret = real_recvfrom(fd, buf, n, flags, addr, len);

	if (ret >= 0)
		from_cftcp(addr, len);
	return ret;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t ret = real_recvmsg(fd, msg, flags);

	if (ret >= 0 && msg->msg_name)
		from_cftcp(msg->msg_name, &msg->msg_namelen);
	return ret;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct pending *p;
	int ret;

	if (is_cftcp(fd))
		return real_setsockopt(fd, cftcp_level(level), name, val, len);
	ret = real_setsockopt(fd, level, name, val, len);
	if (ret || !by_port || len > MAX_OPTLEN || !val)
		return ret;
	pthread_mutex_lock(&pending_lock);
	p = pending_find(fd);
	if (p && p->nopts < MAX_OPTS) {
		struct saved_opt *o = &p->opts[p->nopts++];

		o->level = level;
		o->name = name;
		o->len = len;
		memcpy(o->val, val, len);
	}
	pthread_mutex_unlock(&pending_lock);
	return ret;
}

static int tcp_info_from_cftcp(int fd, void *val, socklen_t *len)
{
	struct cftcp_info ci;
	struct tcp_info ti;
	socklen_t cl = sizeof(ci);

	if (!len)
		return real_getsockopt(fd, SOL_CFTCP, CFTCP_INFO, val, len);
	memset(&ci, 0, sizeof(ci));
	if (real_getsockopt(fd, SOL_CFTCP, CFTCP_INFO, &ci, &cl))
		return -1;
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_state = ci.cfi_state;
	ti.tcpi_retransmits = ci.cfi_retransmits;
	ti.tcpi_snd_wscale = ci.cfi_snd_wscale & 0xf;
	ti.tcpi_rcv_wscale = ci.cfi_rcv_wscale & 0xf;
	ti.tcpi_options = TCPI_OPT_WSCALE;
	ti.tcpi_rto = ci.cfi_rto;
	ti.tcpi_snd_mss = ci.cfi_snd_mss;
	ti.tcpi_rcv_mss = ci.cfi_rcv_mss;
	ti.tcpi_advmss = ci.cfi_rcv_mss;
	if (ci.cfi_snd_mss) {
		ti.tcpi_unacked = (ci.cfi_unacked + ci.cfi_snd_mss - 1) /
				  ci.cfi_snd_mss;
		ti.tcpi_snd_cwnd = ci.cfi_snd_wnd / ci.cfi_snd_mss;
	}
	ti.tcpi_rtt = ci.cfi_srtt;
	ti.tcpi_rttvar = ci.cfi_rttvar;
	ti.tcpi_snd_ssthresh = 0x7fffffff;	/* TCP_INFINITE_SSTHRESH */
	ti.tcpi_rcv_space = ci.cfi_rcv_wnd;
	ti.tcpi_total_retrans = ci.cfi_total_retrans;
	ti.tcpi_bytes_acked = ci.cfi_bytes_acked;
	ti.tcpi_bytes_received = ci.cfi_bytes_received;
	ti.tcpi_segs_in = (__u32)ci.cfi_segs_in;
	ti.tcpi_segs_out = (__u32)ci.cfi_segs_out;
	ti.tcpi_snd_wnd = ci.cfi_snd_wnd;
	if (*len > sizeof(ti))
		*len = sizeof(ti);
	memcpy(val, &ti, *len);
	return 0;
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int ret;

	if (!is_cftcp(fd))
		return real_getsockopt(fd, level, name, val, len);
	if (level == IPPROTO_TCP && name == TCP_INFO)
		return tcp_info_from_cftcp(fd, val, len);
	ret = real_getsockopt(fd, cftcp_level(level), name, val, len);
	if (ret || level != SOL_SOCKET || !val || !len || *len < sizeof(int))
		return ret;
	if (name == SO_DOMAIN)
		*(int *)val = AF_INET;
	else if (name == SO_PROTOCOL)
		*(int *)val = IPPROTO_TCP;
	return ret;
}

int close(int fd)
{
	if (by_port)
		pending_drop(fd);
	return real_close(fd);
}

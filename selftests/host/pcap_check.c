// SPDX-License-Identifier: GPL-2.0
/*
 * pcap_check: reads a classic pcap capture and checks the cftcp segments in
 * it (IPv4 protocol 253, or -p N): the checksum of every segment, computed
 * here over the IPv4 pseudo-header with that protocol number (Wireshark
 * computes TCP checksums with protocol 6 and cannot), the IPv4 header
 * checksum, option lengths, and for each connection the handshake and the
 * teardown: SYN seq=x; SYN-ACK ack=x+1; ACK seq=x+1 ack=y+1; every FIN
 * acknowledged by the peer with its sequence number + data length + 1, and
 * nothing sent past a FIN.
 *
 *   pcap_check [-p PROTO] [-r] [-l] [-v] FILE.pcap
 *	-r: connections may end in a reset instead of two FINs
 *	-l: print the key segments as "FLAGS SEQ ACK LEN" (flags as the
 *	    letters of tshark's tcp.flags.str) for comparison with tshark
 *	-v: print every segment
 *
 * Exit status: 0 all checks passed, 1 a check failed, 2 unreadable input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../inet_csum.h"

#define LINKTYPE_ETHERNET	1
#define LINKTYPE_RAW		101
#define LINKTYPE_LINUX_SLL	113
#define LINKTYPE_IPV4		228

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10
#define F_URG	0x20
#define F_ECE	0x40
#define F_CWR	0x80

#define MAX_CONNS	64

struct seg {
	unsigned long frame;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t len;		/* payload bytes */
};

/* One direction of a connection. */
struct half {
	bool fin;
	uint32_t fin_end;	/* seq of the FIN + 1 */
	bool fin_acked;
	bool rst;
	uint32_t max_end;	/* highest seq + len (+SYN/FIN) sent */
	bool any;
};

struct conn {
	uint32_t caddr, saddr;	/* client (sent the first SYN), server */
	uint16_t cport, sport;
	uint32_t x, y;		/* client and server ISNs */
	bool syn, synack, ack3;
	bool refused;		/* SYN answered by a reset */
	struct half h[2];	/* [0] client to server, [1] server to client */
	unsigned long segs;
};

static struct conn conns[MAX_CONNS];
static int nconns;
static int errors;
static bool list, verbose, allow_rst;
static int proto = 253;

static void err(unsigned long frame, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void err(unsigned long frame, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "error: frame %lu: ", frame);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	errors++;
}

static const char *flag_str(uint8_t f)
{
	static char buf[16];
	char *p = buf;

	/* tshark's tcp.flags.str order, the dots left out */
	if (f & F_CWR)
		*p++ = 'C';
	if (f & F_ECE)
		*p++ = 'E';
	if (f & F_URG)
		*p++ = 'U';
	if (f & F_ACK)
		*p++ = 'A';
	if (f & F_PSH)
		*p++ = 'P';
	if (f & F_RST)
		*p++ = 'R';
	if (f & F_SYN)
		*p++ = 'S';
	if (f & F_FIN)
		*p++ = 'F';
	*p = 0;
	return buf;
}

static const char *ip_str(uint32_t a)
{
	static char bufs[2][INET_ADDRSTRLEN];
	static int n;
	char *b = bufs[n++ & 1];

	inet_ntop(AF_INET, &a, b, INET_ADDRSTRLEN);
	return b;
}

static void key_line(const struct seg *s, const char *what)
{
	if (list)
		printf("%s %u %u %u\n", flag_str(s->flags), s->seq,
		       s->flags & F_ACK ? s->ack : 0, s->len);
	if (verbose && what)
		printf("  frame %lu: %s\n", s->frame, what);
}

static struct conn *find_conn(const struct seg *s, int *dir)
{
	int i;

	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];

		if (c->caddr == s->src && c->cport == s->sport &&
		    c->saddr == s->dst && c->sport == s->dport) {
			*dir = 0;
			return c;
		}
		if (c->saddr == s->src && c->sport == s->sport &&
		    c->caddr == s->dst && c->cport == s->dport) {
			*dir = 1;
			return c;
		}
	}
	return NULL;
}

static uint32_t seg_end(const struct seg *s)
{
	return s->seq + s->len + !!(s->flags & F_SYN) + !!(s->flags & F_FIN);
}

/* seq arithmetic */
static bool after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static void track(const struct seg *s)
{
	struct conn *c;
	struct half *h, *peer;
	int dir;

	c = find_conn(s, &dir);
	if (!c) {
		if (!(s->flags & F_SYN) || (s->flags & F_ACK)) {
			err(s->frame, "%s:%u -> %s:%u [%s] belongs to no connection seen opening",
			    ip_str(s->src), s->sport, ip_str(s->dst), s->dport,
			    flag_str(s->flags));
			return;
		}
		if (nconns == MAX_CONNS) {
			err(s->frame, "more than %d connections", MAX_CONNS);
			return;
		}
		c = &conns[nconns++];
		memset(c, 0, sizeof(*c));
		c->caddr = s->src;
		c->cport = s->sport;
		c->saddr = s->dst;
		c->sport = s->dport;
		dir = 0;
	}
	/* A new attempt on the 4-tuple of a refused one starts afresh. */
	if (c->refused && dir == 0 && (s->flags & (F_SYN | F_ACK)) == F_SYN) {
		memset(c, 0, sizeof(*c));
		c->caddr = s->src;
		c->cport = s->sport;
		c->saddr = s->dst;
		c->sport = s->dport;
	}
	c->segs++;
	h = &c->h[dir];
	peer = &c->h[!dir];

	/* Handshake */
	if (dir == 0 && (s->flags & (F_SYN | F_ACK)) == F_SYN) {
		if (!c->syn) {
			c->syn = true;
			c->x = s->seq;
			key_line(s, "SYN");
		} else if (s->seq != c->x) {
			err(s->frame, "SYN retransmitted with seq %u, first had %u",
			    s->seq, c->x);
		}
		if (s->len)
			err(s->frame, "SYN carries %u bytes", s->len);
	} else if (dir == 1 && (s->flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK)) {
		if (s->ack != c->x + 1)
			err(s->frame, "SYN-ACK ack %u, expected x+1 = %u",
			    s->ack, c->x + 1);
		if (!c->synack) {
			c->synack = true;
			c->y = s->seq;
			key_line(s, "SYN-ACK");
		} else if (s->seq != c->y) {
			err(s->frame, "SYN-ACK retransmitted with seq %u, first had %u",
			    s->seq, c->y);
		}
	} else if (s->flags & F_SYN) {
		err(s->frame, "unexpected [%s] in an open connection",
		    flag_str(s->flags));
	} else if (dir == 0 && !c->ack3 && !(s->flags & F_RST)) {
		if (!c->synack) {
			err(s->frame, "client segment before any SYN-ACK");
		} else if (!(s->flags & F_ACK) || s->seq != c->x + 1 ||
			   s->ack != c->y + 1) {
			err(s->frame, "third segment [%s] seq %u ack %u, expected ACK seq x+1 = %u ack y+1 = %u",
			    flag_str(s->flags), s->seq, s->ack, c->x + 1,
			    c->y + 1);
		}
		c->ack3 = true;
		key_line(s, "handshake ACK");
	} else if (dir == 1 && !c->synack && (s->flags & F_RST)) {
		/* refused: RST with ACK of the SYN, seq 0 (tcp_v4_send_reset) */
		if (!(s->flags & F_ACK) || s->ack != c->x + 1)
			err(s->frame, "reset answering the SYN has ack %u, expected x+1 = %u",
			    s->ack, c->x + 1);
		c->refused = true;
	} else if (dir == 1 && !c->synack) {
		err(s->frame, "server segment [%s] before its SYN-ACK",
		    flag_str(s->flags));
	}

	/* Nothing after a FIN */
	if (h->fin && after(seg_end(s), h->fin_end))
		err(s->frame, "%u bytes sent past the FIN (seq %u len %u, FIN ended at %u)",
		    seg_end(s) - h->fin_end, s->seq, s->len, h->fin_end);

	if (s->flags & F_FIN) {
		uint32_t end = s->seq + s->len + 1;

		if (!h->fin) {
			h->fin = true;
			h->fin_end = end;
			key_line(s, "FIN");
		} else if (end != h->fin_end) {
			err(s->frame, "FIN retransmitted ending at %u, first ended at %u",
			    end, h->fin_end);
		}
	}
	if (s->flags & F_RST)
		h->rst = true;

	/* Does this acknowledge the peer's FIN? */
	if ((s->flags & F_ACK) && peer->fin) {
		if (s->ack == peer->fin_end && !peer->fin_acked) {
			peer->fin_acked = true;
			key_line(s, "ACK of the peer's FIN");
		} else if (after(s->ack, peer->fin_end)) {
			err(s->frame, "ack %u beyond the peer's FIN end %u",
			    s->ack, peer->fin_end);
		}
	}
	if (!h->any || after(seg_end(s), h->max_end))
		h->max_end = seg_end(s);
	h->any = true;
}

/* Options: known kinds have their lengths; none runs past the header. */
static void check_options(const struct seg *s, const uint8_t *o, size_t olen)
{
	size_t i = 0;

	while (i < olen) {
		uint8_t kind = o[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= olen) {
			err(s->frame, "option %u cut at the end of the header", kind);
			return;
		}
		len = o[i + 1];
		if (len < 2 || i + len > olen) {
			err(s->frame, "malformed option %u at offset %zu", kind, i);
			return;
		}
		if ((kind == 2 && len != 4) || (kind == 3 && len != 3)) {
			err(s->frame, "option %u with length %u", kind, len);
			return;
		}
		if (kind == 2 && !(s->flags & F_SYN))
			err(s->frame, "MSS option outside a SYN");
		if (verbose && kind == 2)
			printf("  frame %lu: MSS %u\n", s->frame,
			       (o[i + 2] << 8) | o[i + 3]);
		if (verbose && kind == 3)
			printf("  frame %lu: window scale %u\n", s->frame,
			       o[i + 2]);
		i += len;
	}
}

static unsigned long nsegs, bad_csum;

static void ipv4(unsigned long frame, const uint8_t *p, size_t caplen)
{
	size_t ihl, tot, tlen, doff;
	const uint8_t *t;
	struct seg s;
	uint32_t sum;

	if (caplen < 20 || (p[0] >> 4) != 4)
		return;
	if (p[9] != proto)
		return;
	ihl = (p[0] & 15) * 4;
	tot = (p[2] << 8) | p[3];
	if (ihl < 20 || tot < ihl || tot > caplen) {
		err(frame, "IPv4 header length %zu total %zu, %zu captured",
		    ihl, tot, caplen);
		return;
	}
	if (csum_fold16(csum_add_bytes(p, ihl, 0)) != 0xffff)
		err(frame, "bad IPv4 header checksum");
	if (((p[6] << 8) | p[7]) & 0x3fff) {
		err(frame, "fragment");
		return;
	}
	t = p + ihl;
	tlen = tot - ihl;
	nsegs++;
	memset(&s, 0, sizeof(s));
	s.frame = frame;
	memcpy(&s.src, p + 12, 4);
	memcpy(&s.dst, p + 16, 4);
	if (tlen < 20) {
		err(frame, "segment of %zu bytes", tlen);
		return;
	}
	doff = (t[12] >> 4) * 4;
	if (doff < 20 || doff > tlen) {
		err(frame, "data offset %zu in a %zu byte segment", doff, tlen);
		return;
	}
	s.sport = (t[0] << 8) | t[1];
	s.dport = (t[2] << 8) | t[3];
	s.seq = ntohl(*(const uint32_t *)(const void *)(t + 4));
	s.ack = ntohl(*(const uint32_t *)(const void *)(t + 8));
	s.flags = t[13];
	s.len = tlen - doff;

	/* pseudo-header: source, destination, zero, protocol, length */
	sum = csum_add_bytes(p + 12, 8, 0);
	sum += proto;
	sum += tlen;
	sum = csum_add_bytes(t, tlen, sum);
	if (csum_fold16(sum) != 0xffff) {
		err(frame, "bad checksum 0x%04x on %s:%u -> %s:%u [%s] seq %u len %u",
		    (t[16] << 8) | t[17], ip_str(s.src), s.sport, ip_str(s.dst),
		    s.dport, flag_str(s.flags), s.seq, s.len);
		bad_csum++;
	}
	if (verbose)
		printf("frame %lu: %s:%u -> %s:%u [%s] seq %u ack %u len %u\n",
		       frame, ip_str(s.src), s.sport, ip_str(s.dst), s.dport,
		       flag_str(s.flags), s.seq, s.ack, s.len);
	check_options(&s, t + 20, doff - 20);
	track(&s);
}

static uint32_t rd32(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static int read_pcap(FILE *f)
{
	static uint8_t pkt[262144];
	uint8_t gh[24], ph[16];
	uint32_t magic, link, caplen;
	unsigned long frame = 0;
	bool swap;

	if (fread(gh, 1, 24, f) != 24) {
		fprintf(stderr, "pcap_check: no pcap header\n");
		return 2;
	}
	memcpy(&magic, gh, 4);
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
		swap = false;
	} else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
		swap = true;
	} else {
		fprintf(stderr, "pcap_check: not a classic pcap file (magic 0x%08x; pcapng needs editcap -F pcap)\n",
			magic);
		return 2;
	}
	link = rd32(gh + 20, swap) & 0xffff;
	if (link != LINKTYPE_ETHERNET && link != LINKTYPE_RAW &&
	    link != LINKTYPE_LINUX_SLL && link != LINKTYPE_IPV4) {
		fprintf(stderr, "pcap_check: link type %u not handled\n", link);
		return 2;
	}
	while (fread(ph, 1, 16, f) == 16) {
		const uint8_t *p = pkt;
		size_t n;
		uint16_t et;

		frame++;
		caplen = rd32(ph + 8, swap);
		if (caplen > sizeof(pkt) || fread(pkt, 1, caplen, f) != caplen) {
			fprintf(stderr, "pcap_check: frame %lu truncated\n", frame);
			return 2;
		}
		if (rd32(ph + 12, swap) != caplen) {
			err(frame, "captured %u of %u bytes: cannot verify",
			    caplen, rd32(ph + 12, swap));
			continue;
		}
		n = caplen;
		switch (link) {
		case LINKTYPE_ETHERNET:
			if (n < 14)
				continue;
			et = (p[12] << 8) | p[13];
			p += 14;
			n -= 14;
			while ((et == 0x8100 || et == 0x88a8) && n >= 4) {
				et = (p[2] << 8) | p[3];
				p += 4;
				n -= 4;
			}
			if (et != 0x0800)
				continue;
			break;
		case LINKTYPE_LINUX_SLL:
			if (n < 16 || ((p[14] << 8) | p[15]) != 0x0800)
				continue;
			p += 16;
			n -= 16;
			break;
		}
		ipv4(frame, p, n);
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long fins = 0;
	FILE *f;
	int opt, i, ret;

	while ((opt = getopt(argc, argv, "p:rlv")) != -1) {
		switch (opt) {
		case 'p':
			proto = atoi(optarg);
			break;
		case 'r':
			allow_rst = true;
			break;
		case 'l':
			list = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: pcap_check [-p PROTO] [-r] [-l] [-v] FILE.pcap\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: pcap_check [-p PROTO] [-r] [-l] [-v] FILE.pcap\n");
		return 2;
	}
	f = fopen(argv[optind], "rb");
	if (!f) {
		fprintf(stderr, "pcap_check: %s: %s\n", argv[optind],
			strerror(errno));
		return 2;
	}
	ret = read_pcap(f);
	fclose(f);
	if (ret)
		return ret;

	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		int d;

		if (c->refused) {
			printf("connection %s:%u -> %s:%u: refused by a reset\n",
			       ip_str(c->caddr), c->cport, ip_str(c->saddr),
			       c->sport);
			continue;
		}
		if (!c->synack || !c->ack3)
			err(0, "connection %s:%u -> %s:%u: handshake incomplete (SYN-ACK %s, ACK %s)",
			    ip_str(c->caddr), c->cport, ip_str(c->saddr),
			    c->sport, c->synack ? "seen" : "missing",
			    c->ack3 ? "seen" : "missing");
		for (d = 0; d < 2; d++) {
			struct half *h = &c->h[d];
			bool reset = c->h[0].rst || c->h[1].rst;

			if (h->fin)
				fins++;
			if (h->fin && !h->fin_acked && !reset)
				err(0, "connection %s:%u -> %s:%u: %s FIN (end %u) never acknowledged",
				    ip_str(c->caddr), c->cport,
				    ip_str(c->saddr), c->sport,
				    d ? "server" : "client", h->fin_end);
			if (!h->fin && !(reset && allow_rst))
				err(0, "connection %s:%u -> %s:%u: no %s FIN%s",
				    ip_str(c->caddr), c->cport,
				    ip_str(c->saddr), c->sport,
				    d ? "server" : "client",
				    reset ? " (ended by a reset; -r accepts that)" : "");
		}
		printf("connection %s:%u -> %s:%u: %lu segments, x=%u y=%u%s%s\n",
		       ip_str(c->caddr), c->cport, ip_str(c->saddr), c->sport,
		       c->segs, c->x, c->y,
		       c->h[0].fin && c->h[1].fin ? ", closed by FINs" : "",
		       c->h[0].rst || c->h[1].rst ? ", reset" : "");
	}
	printf("%lu segments of protocol %d, %lu bad checksums, %d connections, %lu FINs, %d errors\n",
	       nsegs, proto, bad_csum, nconns, fins, errors);
	if (!nsegs) {
		printf("error: no segment of protocol %d\n", proto);
		return 1;
	}
	return errors ? 1 : 0;
}

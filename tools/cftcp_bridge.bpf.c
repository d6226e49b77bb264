// SPDX-License-Identifier: GPL-2.0
/*
 * cftcp-bridge: tc (clsact) programs that let cftcp talk to the Linux TCP
 * stack itself.  cftcp's segments are TCP segments in IPv4 protocol 253;
 * on the device in front of a Linux TCP host (or namespace),
 *
 *   cftcp_to_tcp  (ingress)  rewrites protocol 253 to 6,
 *   tcp_to_cftcp  (egress)   rewrites protocol 6 to 253,
 *
 * fixing the IPv4 header checksum (the protocol shares a 16-bit word with
 * the TTL) and the transport checksum, whose pseudo-header names the
 * protocol (bpf_l4_csum_replace() with BPF_F_PSEUDO_HDR, which also
 * handles CHECKSUM_PARTIAL skbs).  Only the first fragment of a datagram
 * carries the transport header; the others get their protocol byte and
 * IPv4 checksum changed alone.
 *
 * Built with clang -target bpf from the uapi headers alone (the helpers
 * are declared here by their numbers); tools/cftcp-bridge loads it.
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>

#define SEC(name) __attribute__((section(name), used))

static long (*bpf_skb_load_bytes)(const void *skb, __u32 off, void *to,
				  __u32 len) = (void *)BPF_FUNC_skb_load_bytes;
static long (*bpf_skb_store_bytes)(void *skb, __u32 off, const void *from,
				   __u32 len, __u64 flags) =
	(void *)BPF_FUNC_skb_store_bytes;
static long (*bpf_l3_csum_replace)(void *skb, __u32 off, __u64 from,
				   __u64 to, __u64 size) =
	(void *)BPF_FUNC_l3_csum_replace;
static long (*bpf_l4_csum_replace)(void *skb, __u32 off, __u64 from,
				   __u64 to, __u64 flags) =
	(void *)BPF_FUNC_l4_csum_replace;

#define CFTCP_IPPROTO	253
#define TCP_CSUM_OFF	16

#define be16(x)	__builtin_bswap16(x)

static __always_inline int rewrite(struct __sk_buff *skb, __u8 from, __u8 to)
{
	__u32 ip = ETH_HLEN;
	struct iphdr iph;
	__u16 old_word, new_word;

	if (skb->protocol != be16(ETH_P_IP))
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ip, &iph, sizeof(iph)))
		return TC_ACT_OK;
	if (iph.version != 4 || iph.ihl < 5 || iph.protocol != from)
		return TC_ACT_OK;

	/* Transport checksum first (first fragment only): its pseudo-header
	 * protocol goes from `from` to `to`.
	 */
	if (!(iph.frag_off & be16(0x1fff))) {
		__u32 csum_off = ip + iph.ihl * 4 + TCP_CSUM_OFF;

		if (bpf_l4_csum_replace(skb, csum_off, be16(from), be16(to),
					BPF_F_PSEUDO_HDR | sizeof(__u16)))
			return TC_ACT_SHOT;
	}
	/* The IPv4 header checksum covers TTL and protocol as one word. */
	old_word = be16((__u16)(iph.ttl << 8 | from));
	new_word = be16((__u16)(iph.ttl << 8 | to));
	if (bpf_l3_csum_replace(skb, ip + offsetof(struct iphdr, check),
				old_word, new_word, sizeof(__u16)))
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, ip + offsetof(struct iphdr, protocol),
				&to, sizeof(to), 0))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("tc/ingress")
int cftcp_to_tcp(struct __sk_buff *skb)
{
	return rewrite(skb, CFTCP_IPPROTO, IPPROTO_TCP);
}

SEC("tc/egress")
int tcp_to_cftcp(struct __sk_buff *skb)
{
	return rewrite(skb, IPPROTO_TCP, CFTCP_IPPROTO);
}

char _license[] SEC("license") = "GPL";

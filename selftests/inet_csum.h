/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Internet checksum (RFC 1071) as the test tools compute it on frames
 * they build or read: big-endian 16-bit words summed into 32 bits, folded
 * at the end. Shared by pktpeer.c and host/pcap_check.c.
 */
#ifndef CFTCP_SELFTESTS_INET_CSUM_H
#define CFTCP_SELFTESTS_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add @len bytes at @data to the running sum @sum. */
static inline uint32_t csum_add_bytes(const void *data, size_t len,
				      uint32_t sum)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (p[0] << 8) | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += p[0] << 8;
	return sum;
}

/* Fold the carries of @sum back in: 0xffff if the data summed right. */
static inline uint16_t csum_fold16(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

#endif /* CFTCP_SELFTESTS_INET_CSUM_H */

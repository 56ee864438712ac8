/* SPDX-License-Identifier: MIT */
/*
 * sctp_crc32c: the CRC32c (Castagnoli) checksum of SCTP packets (RFC 9260
 * appendix A, RFC 3309), with the SSE4.2 instruction when the CPU has it
 * and a portable table-free fallback. Pure and thread-safe.
 */
#ifndef SWARMGEN_SCTP_CRC32C_H
#define SWARMGEN_SCTP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC32c of `len` bytes (initial value and final XOR included). Uses the
 * hardware instruction when available (checked once per call site through
 * __builtin_cpu_supports, which has no state of ours). */
uint32_t sctp_crc32c(const void *data, size_t len);

/* The portable implementation (exposed for tests and the benchmark). */
uint32_t sctp_crc32c_sw(const void *data, size_t len);

/* The SSE4.2 implementation; callers must check the CPU (sctp_crc32c does). */
uint32_t sctp_crc32c_hw(const void *data, size_t len);

/* Writes the checksum of an SCTP packet into its common header (bytes 8..11,
 * little-endian on the wire as RFC 9260 specifies), computed with that
 * field zeroed. `len` >= 12. */
void sctp_crc32c_seal(uint8_t *pkt, size_t len);

/* True when the packet's checksum field matches. */
int sctp_crc32c_ok(const uint8_t *pkt, size_t len);

#endif

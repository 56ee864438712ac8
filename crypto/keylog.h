/* SPDX-License-Identifier: MIT */
/*
 * keylog: the NSS key-log line (the SSLKEYLOGFILE format) by which
 * Wireshark and tshark decrypt a TLS 1.2 or DTLS 1.2 session:
 * "CLIENT_RANDOM <client random> <master secret>\n", both in lower-case
 * hex. One writer for every DTLS endpoint in the tree that logs its keys
 * (ours, the usrsctp baseline's mbedTLS one, the tests' mbedTLS peer).
 *
 * Time model: none. Memory: the caller's buffer. Thread-safety: reentrant.
 */
#ifndef SWARMGEN_CRYPTO_KEYLOG_H
#define SWARMGEN_CRYPTO_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a key-log line: "CLIENT_RANDOM ", 64 hex digits, a space, 96
 * hex digits and the newline. */
#define KEYLOG_LINE_LEN (14 + 64 + 1 + 96 + 1)

/* Writes the line of a session with `client_random` (32 bytes) and master
 * secret `master` (48 bytes) into out, which must hold KEYLOG_LINE_LEN + 1
 * bytes (the line is NUL-terminated). Returns KEYLOG_LINE_LEN. */
size_t keylog_line(char *out, const uint8_t client_random[32], const uint8_t master[48]);

#endif

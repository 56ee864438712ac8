/* SPDX-License-Identifier: MIT */
/*
 * dp_media: the media streams of the peer connections (--media audio|video):
 * per connection and direction one synthetic RTP stream (crypto/rtp_stream.h)
 * protected by SRTP with the keys the DTLS handshake exported (RFC 5764),
 * and RTCP sender and receiver reports (RFC 3550) that carry loss and
 * jitter back to the sender, on the same 5-tuple as the DataChannel
 * (BUNDLE, rtcp-mux; RFC 7983 demultiplexes by first byte 128..191).
 *
 * SRTP is ours (crypto/srtp_session.h: 2,176 bytes, no heap), keyed with the
 * profile the handshake negotiated (mbedTLS 2.28: AES-CM-128 with
 * HMAC-SHA1-80 or -32). State is preallocated per connection by
 * dp_media_init; nothing is allocated per packet. Media datagrams go out
 * when the connection is flushed: its deadline includes the next RTP
 * packet and RTCP report (dp_media_next_timeout). With --srtp-rekey
 * (cfg.srtp_rekey_ms) every sender switches master key by the MKI each
 * interval and each receiver keeps the old key for half of one, both at
 * packet time (docs/srtp.md). Time: `now` in ns as the connection's engines get
 * it. Worker-local: one worker's lcore only.
 */
#ifndef SWARMGEN_DP_MEDIA_H
#define SWARMGEN_DP_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "dp.h"

struct dp_conn;
struct dp_media;

/* Gives every connection of the worker its media state when cfg.media is
 * on (nothing otherwise). 0 or -ENOMEM with the reason in err. */
int dp_media_init(const struct dp_ctx *ctx, struct dp_worker *wk, char *err, size_t errlen);

/* Bytes dp_media_init allocated for the worker. */
size_t dp_media_bytes(const struct dp_ctx *ctx, const struct dp_worker *wk);

/* Frees what dp_media_init allocated. */
void dp_media_free(struct dp_worker *wk);

/* The connection is up: keys both directions of both ends' SRTP sessions
 * from the DTLS keying material their handshakes exported, before the
 * endpoints give back their set-up state (which holds it). Without keys
 * (no DTLS-SRTP profile agreed) the connection carries no media. */
void dp_media_key(const struct dp_ctx *ctx, struct dp_conn *c);

/* The load runs on a connection dp_media_key keyed: starts the streams
 * at `now` (nothing when it has no keys). */
void dp_media_start(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, uint64_t now);

/* The connection went down or is set up again: streams stop, keys wiped. */
void dp_media_stop(struct dp_media *md);

/* One SRTP or SRTCP datagram received by endpoint s. */
void dp_media_input(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, int s, const uint8_t *d,
                    uint32_t len, uint64_t now);

/* The next media datagram endpoint s sends (RTP due, or an RTCP report),
 * protected, into buf; its length or 0. */
size_t dp_media_poll_transmit(const struct dp_ctx *ctx, struct dp_worker *wk, struct dp_conn *c, int s,
                              uint8_t *buf, size_t cap, uint64_t now);

/* The earliest media deadline (ns), UINT64_MAX when stopped. */
uint64_t dp_media_next_timeout(const struct dp_media *md);

/* SRTP/SRTCP packets endpoint s refused so far (authentication, replay,
 * malformed). */
uint64_t dp_media_bad(const struct dp_media *md, int s);

#endif

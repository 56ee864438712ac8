/* SPDX-License-Identifier: MIT */
/*
 * signaling_internal: the WHIP server without its socket and thread, for
 * tests and fuzz_whip_requests. A detached server runs the same request
 * state machine as the thread (on_received, handle: head, body, route,
 * CORS, token, the session table, the caller's ops) on bytes handed in.
 * Not thread-safe: one caller at a time; the ops are called on its thread.
 */
#ifndef SWARMGEN_CONTROL_SIGNALING_INTERNAL_H
#define SWARMGEN_CONTROL_SIGNALING_INTERNAL_H

#include "signaling.h"

/* A server configured as ctl_signal_start would (same checks, same
 * return values) with no socket and no thread. Free it with
 * ctl_signal_free_detached (sessions it opened stay open, as with
 * ctl_signal_stop). */
int ctl_signal_new_detached(struct ctl_signal **out, const struct ctl_signal_config *cfg,
                            const struct ctl_signal_ops *ops, void *arg, char *err, size_t errlen);

/* Forgets every session (without closing them), the counters and the
 * current connection: the server as ctl_signal_new_detached made it. */
void ctl_signal_reset_detached(struct ctl_signal *s);

void ctl_signal_free_detached(struct ctl_signal *s);

/* Feeds n received bytes of the current connection (a new one from
 * `client`, IPv4 host order, when the last ended) to the server; eof: the
 * client closed its side after them. Bytes beyond the 64 KiB request limit
 * are dropped, as the thread would not read them. Returns 1 with the whole
 * response in *resp (*resp_len bytes, valid until the next call) and the
 * connection ended; 0 when more bytes are wanted; -1 when the server
 * closed the connection without an answer. */
int ctl_signal_feed(struct ctl_signal *s, uint32_t client, const char *bytes, size_t n, bool eof,
                    const char **resp, size_t *resp_len);

#endif

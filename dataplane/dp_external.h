/* SPDX-License-Identifier: MIT */
/*
 * dp_external: WebRTC peers outside the swarm (a browser tab, werift)
 * reaching simulated agents (--external), on worker 0.
 *
 * The external port is one more DPDK port (a vdev, by default
 * net_af_packet0 on the veth sgext0 that tools/external-port creates),
 * opened at set-up with one queue pair and polled and transmitted on by
 * worker 0 only. On it the dataplane
 *   - answers ARP requests for every agent address with the port's MAC
 *     (proxy ARP), so the kernel reaches 198.18.0.0/15 through the veth;
 *   - hands IPv4/UDP datagrams for agent ip : slot port to that slot's
 *     session, which adopts the peer's MAC, address and port only from an
 *     authenticated ICE check (MESSAGE-INTEGRITY under our password): the
 *     first, or one with USE-CANDIDATE; other authenticated checks are
 *     answered where they came from; datagrams from any other address,
 *     and STUN that does not authenticate, are dropped and counted
 *     (frames_unauth);
 *   - target mode (--target, dp_target.h): hands datagrams for an agent
 *     ip : RI_TARGET_PORT to that agent's target session, and ARP from a
 *     target server's address to its next-hop cache;
 *   - counts everything else (frames_foreign; the worker's drop reasons
 *     not_ipv4, not_udp, unknown_flow, truncated) and frees it.
 *
 * Sessions: control fills a slot of the image's EXTERNAL section and
 * publishes a new request number (include/run_image.h has the protocol);
 * worker 0 looks at every slot each DP_EXT_POLL_PASSES passes (one acquire
 * load per slot) and starts a struct pc of its own for it: ICE
 * controlled (our answer says a=ice-lite), the DTLS role of the answer,
 * SCTP port 5000, the DataChannel opened by the peer (any label). Each
 * message the peer sends is echoed on the same channel with its type
 * (string or binary, empty ones too: RI_EXT_ECHO) or injected into the
 * mesh as an agent message from the slot's agent (RI_EXT_ROUTE,
 * dp_conns_send_agent_msg). The peer closing its channel ends the
 * session (closed by the peer). When SCTP cannot take an echo
 * (-EAGAIN) the message waits and no further message is read until it is
 * sent, so the peer is held back by our receive window, never dropped.
 * Echo latency: from reading a message to the acknowledgement of its echo
 * (SCTP's buffered bytes fall below the echo's end), into
 * ri_external.latency.
 *
 * Memory: everything at set-up (one certificate shared by the sessions,
 * two handshake slots per session, an SCTP association per slot, one SCTP
 * buffer pool). Time: the worker's TSC, converted to ns for the engines.
 * All functions but init/free run on worker 0's lcore only.
 */
#ifndef SWARMGEN_DP_EXTERNAL_H
#define SWARMGEN_DP_EXTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "dp.h"

#define DP_EXT_POLL_PASSES 64    /* slots are looked at every this many passes */
/* SCTP buffers of 1,200 bytes the sessions share; each session's
 * association may hold DP_EXT_SCTP_BUFS / slots of them for received data
 * (sctp_config.max_buffers): a hostile peer cannot take the others' */
#define DP_EXT_SCTP_BUFS   8192u
#define DP_EXT_MARKS       1024u /* echoes awaiting acknowledgement, for the latency */
#define DP_EXT_SETUP_NS    (30ull * 1000000000ull) /* a session not up by then fails */

struct dp_external;

/* Opens the external port (image section EXTERNAL, mode not OFF, or
 * target mode: ri_config.target_slots > 0, the port ri_external.port):
 * creates the vdev, one rx/tx queue on ctx->pool, starts it; generates the
 * certificate and publishes its fingerprint, the port's MAC and
 * description in the section; allocates the sessions (external ones when
 * mode is not OFF, target ones by dp_target_init). Sets ctx->external.
 * Target mode with --relay (ri_relay.on, mode OFF): no port is opened
 * here, dp_relay owns it and carries the target sessions' datagrams.
 * 0, or a negative errno with the reason in err. Set-up thread. */
int dp_external_init(struct dp_ctx *ctx, char *err, size_t errlen);

/* Frees the sessions (external and target) and closes the port.
 * Safe when init failed half way or never ran. Main thread, workers
 * stopped. */
void dp_external_free(struct dp_ctx *ctx);

/* One pass of worker `wk` (worker 0): rx burst of the external port,
 * slot requests, timers, target sessions (dp_target_poll), transmission. `tsc` is the pass's TSC. Returns
 * true when it did something. */
bool dp_external_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc);

/* Ends every running session (an SCTP ABORT to each peer, the log entry
 * written; target sessions by dp_target_finish) when worker 0 leaves its
 * loop. */
void dp_external_finish(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc);

/* Frame handling, exposed for tests: classifies one received frame `m`
 * of the external port and consumes it (replies to ARP, feeds a session or
 * counts and frees it). Worker 0. */
void dp_external_rx(const struct dp_ctx *ctx, struct dp_worker *wk, struct rte_mbuf *m,
                    uint64_t tsc);

#endif

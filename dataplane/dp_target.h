/* SPDX-License-Identifier: MIT */
/*
 * dp_target: target mode (--target), the dataplane side. Simulated agents
 * are WebRTC *clients* of a real server (a WHIP endpoint, Janus EchoTest,
 * our own `--external echo`): control signals each session (HTTP,
 * control/target/) and hands the answer over in a slot of the run
 * image's TARGET section (include/run_image.h has the slot protocol);
 * worker 0 runs the peer connection on the external port (dp_external.h:
 * the kernel-visible port, opened when ri_external.mode is not OFF or
 * ri_config.target_slots > 0). With --relay (ri_relay.on) the relay
 * (dp_relay.h) owns the port instead: each candidate of the answer is a
 * peer of the agent's TURN client, the session's datagrams go out through
 * dp_relay_target_send once every candidate has its permission, and what
 * the server relays from a candidate comes in through dp_target_rx; no
 * next hop or ARP of our own then.
 *
 * A session: a struct pc (webrtc/pc.h), ICE controlling towards the
 * answer's first candidate (the one place that decides where a datagram
 * goes is tgt_dest() in dp_target.c), the DTLS role of the answer, the
 * certificate dp_external generated (its fingerprint is the offer's), a
 * DataChannel opened by us (label "swarmgen", reliable ordered), our
 * local candidate the agent's address : RI_TARGET_PORT. While the command
 * phase is RUN every session that is up sends a message of
 * ri_target.msg_size bytes every msg_interval_ns, starting with an agent
 * header (webrtc/agent.h: src = dst = the agent, a per-session sequence
 * number, the TSC stamp); a message that comes back with that header is a
 * round trip (ri_target.rtt, the session's rtt figures), any other is
 * counted foreign. With slot.audio, once the DataChannel is up, an
 * Opus-shaped RTP stream (20 ms packets of 80 bytes, payload type
 * slot.audio_pt, SSRC slot.audio_ssrc) under SRTP keyed by the handshake
 * (pc_srtp_init), RTCP SR/RR every ~5 s; SRTP from the server of any
 * SSRC (learned from its first packet that authenticates: Janus rewrites
 * the SSRC) is authenticated, decrypted and counted, with loss by
 * sequence numbers and jitter (RFC 3550 A.3, A.8); the server's report
 * block about our stream gives rtcp_rr_loss and jitter_us.
 *
 * An answerer slot (janus-videoroom's subscribers: the server offered,
 * control answered) is ICE controlled, the DTLS client (it opens its
 * channel as any DTLS client), sends no messages and no audio; the
 * messages the server relays are counted per publisher (the agent their
 * header names, among slot.feed_agent) with their sequence checked and
 * their publisher-to-subscriber latency taken as the round trip; the
 * server's audio is authenticated per offered SSRC (slot.feed_ssrc, one
 * SRTP context each from ri_target.feeds x slots allocated at init, keyed
 * once DTLS is done), counted and its loss by sequence taken per stream.
 *
 * Next hop: frames go to the candidate's IPv4 address when it is on the
 * port's link, else (with ri_target.gateway, --target-gateway) to the
 * gateway's: its MAC is resolved by ARP (a request from the agent's
 * address, asked again every DP_TGT_ARP_RETRY_NS while unknown and every
 * DP_TGT_ARP_REFRESH_NS once known) and learnt from every ARP frame from
 * that address and every datagram of a session through it; a small table
 * (DP_TGT_NEXTHOPS addresses; every off-link candidate shares the
 * gateway's entry). Without a gateway an off-link server is reached only
 * if its own datagrams teach us the router's MAC (docs/target.md).
 *
 * The memory plan (dp_mem_target, dp_mem.h) counts what init allocates.
 *
 * Memory: all at init for ri_config.target_slots sessions (pc, its
 * set-up state kept for the session's life, SCTP association, SRTP
 * sessions, RTP/RTCP state), DP_TGT_HS handshake slots at most, one SCTP
 * buffer pool; dp_target_bytes() says how much. Time: worker 0's TSC,
 * converted to ns for the engines as dp_external does. All functions but
 * init/free/bytes run on worker 0's lcore only.
 */
#ifndef SWARMGEN_DP_TARGET_H
#define SWARMGEN_DP_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp.h"

#define DP_TGT_HS            64u   /* concurrent DTLS handshakes at most */
#define DP_TGT_SWEEP         256u  /* sessions looked at per pass (slots, timers, messages) */
#define DP_TGT_NEXTHOPS      16u   /* server addresses whose MAC is cached */
#define DP_TGT_ARP_RETRY_NS  (500ull * 1000000ull)        /* unanswered ARP: asked again */
#define DP_TGT_ARP_REFRESH_NS (30ull * 1000000000ull)     /* a known MAC: asked again */
#define DP_TGT_SETUP_NS      (30ull * 1000000000ull)      /* setup_timeout_ns 0: this */
#define DP_TGT_RTCP_NS       (5ull * 1000000000ull)       /* RTCP report interval (+-20 %) */
#define DP_TGT_AUDIO_BYTES   80u   /* RTP payload of a 20 ms Opus-shaped packet */
#define DP_TGT_STREAMS       16u   /* SCTP streams negotiated per association */
#define DP_TGT_BUFS_PER_SESSION 32u /* SCTP pool buffers (1,200 bytes) per session... */
#define DP_TGT_BUFS_MIN      4096u  /* ...at least this many in all... */
#define DP_TGT_BUFS_MAX      262144u /* ...at most this many (315 MB) */

struct dp_target;
struct dp_external;
struct rte_ether_addr;

/* Builds the sessions of the image's TARGET section on the external port
 * `e` (called by dp_external_init once the port and certificate exist).
 * Sets e's target. 0, or a negative errno with one line in err.
 * Set-up thread. */
int dp_target_init(const struct dp_ctx *ctx, struct dp_external *e, char *err, size_t errlen);

/* Bytes dp_target_init allocated (0 without target mode). */
size_t dp_target_bytes(const struct dp_target *t);

/* Frees everything (sessions still running are dropped without a word to
 * the server: call dp_target_finish before). Safe on NULL and after a
 * failed init. Main thread, workers stopped. */
void dp_target_free(struct dp_target *t);

/* One IPv4/UDP datagram to an agent's address : RI_TARGET_PORT, `d` its
 * UDP payload of `len` bytes, from (src_mac, src_ip, src_port) (host
 * byte order) to agent address dst_ip; src_mac NULL when it came through
 * the relay (from a candidate's address, unwrapped by dp_relay). The session of that agent takes
 * it; without one it is counted (frames_unknown) and dropped. The caller
 * keeps the frame. Worker 0. */
void dp_target_rx(const struct dp_ctx *ctx, struct dp_worker *wk, const uint8_t src_mac[6],
                  uint32_t src_ip, uint16_t src_port, uint32_t dst_ip, const uint8_t *d, uint32_t len,
                  uint64_t tsc);

/* An ARP frame's sender (ip host order, mac) seen on the port: learnt
 * when ip is a next hop of ours. Returns true when it was one (a reply
 * to our request is then consumed by the caller, not counted foreign).
 * Worker 0. */
bool dp_target_arp_seen(struct dp_target *t, uint32_t ip, const uint8_t mac[6]);

/* One pass: a sweep of DP_TGT_SWEEP sessions (slot requests and closes,
 * set-up timeouts, engine deadlines, messages and media due), ARP
 * requests due. Frames go through dp_external's transmit queue (flushed
 * by dp_external_poll). Returns true when it did something. Worker 0. */
bool dp_target_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc);

/* Ends every running session (an SCTP ABORT to the server when its
 * association runs) as worker 0 leaves its loop: CLOSED when up, FAILED
 * in its stage otherwise. Worker 0. */
void dp_target_finish(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc);

#endif

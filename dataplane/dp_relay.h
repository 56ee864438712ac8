/* SPDX-License-Identifier: MIT */
/*
 * dp_relay: the mesh's peer connections through a TURN server (--relay
 * turn:HOST:PORT,user=U,pass=P; image section RELAY; docs/turn.md), on
 * worker 0, the run's only worker.
 *
 * The kernel-visible port (a vdev, by default net_af_packet0 on the veth
 * sgext0 that tools/external-port makes) is opened with one queue pair.
 * On it the relay answers ARP for every agent address with the port's MAC
 * (the server reaches the agents through the veth) and resolves the
 * server's address by ARP (its MAC learnt from the reply, asked again
 * every 200 ms until then; no answer in DP_RELAY_ARP_NS and every agent
 * fails at allocate with no answer, its connections in stage turn).
 *
 * Every agent has a TURN client (crypto/turn.h, memory from set-up: one
 * peer per neighbour) on its address : the run's local_port
 * (RI_RELAY_LOCAL_PORT + a draw). Stage "turn"
 * comes before ICE: every agent allocates (the 401 challenge, long-term
 * credentials); once both agents of an edge have relayed addresses each
 * adds the other's relayed address as a peer with a channel (one
 * CreatePermission per batch, a ChannelBind per peer); once both have
 * their permission the connection is queued for set-up (dp_conns_relay_ready)
 * with each endpoint's peer address the other's relayed address. The
 * connection's datagrams leave as ChannelData (a Send indication before
 * the channel is bound); ChannelData and Data indications from the server
 * go to the connection endpoint through a table (agent, peer index) ->
 * flow value, no scan. A client that fails (401 after the challenge, 486
 * quota, no answer ...) is counted by stage and code, and the agent's
 * connections not yet started are given up in stage turn
 * (dp_conns_relay_failed). Refresh, permission and channel refreshes run
 * from each client's deadline (a timing wheel of 1-ms slots, no scan); at
 * the end every allocation is released (LIFETIME 0), answers awaited for
 * at most DP_RELAY_CLOSE_NS.
 *
 * With --target too (docs/target.md "Through a TURN relay") the relay is
 * the port's one owner: dp_external opens no port, the target agents'
 * clients hold 2 x RI_TARGET_CANDS more peers for their sessions' server
 * candidates (dp_relay_target_peer), dp_target hands its datagrams here
 * (dp_relay_target_send) and what the server relays from a candidate goes
 * to dp_target_rx. Each target agent's allocation is published in its
 * TARGET slot (relay_state, relay_ip, relay_port, relay_code) for control.
 *
 * Time: the worker's TSC of the pass, converted to ns for the clients as
 * dp_conn_ns does. All functions but init/free run on worker 0's lcore.
 */
#ifndef SWARMGEN_DP_RELAY_H
#define SWARMGEN_DP_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "dp.h"
#include "stun.h"

#define DP_RELAY_CLOSE_NS (1500ull * 1000000ull) /* longest wait for the releases' answers */
#define DP_RELAY_ARP_NS (5ull * 1000000000ull)   /* no ARP answer from the server this long: every agent fails */

struct dp_relay;

/* Opens the port and sets up a TURN client per agent when the image's
 * RELAY section is on (sets ctx->relay); nothing otherwise. Needs traffic
 * dc and one worker. 0, or a negative errno with the reason in err.
 * Set-up thread. */
int dp_relay_init(struct dp_ctx *ctx, char *err, size_t errlen);

/* Closes the port and frees everything; safe when init failed half way or
 * never ran. Main thread, workers stopped. */
void dp_relay_free(struct dp_ctx *ctx);

/* One pass of worker 0 before its connections: the port's rx burst (ARP,
 * the server's datagrams to the clients and through them to the
 * connections), the server's address by ARP, the first Allocates, the
 * clients' due deadlines. Returns true when it did something. */
bool dp_relay_poll(const struct dp_ctx *ctx, struct dp_worker *wk, uint64_t tsc);

/* Sends what the pass queued on the port (after the connections'
 * flush). */
void dp_relay_flush(const struct dp_ctx *ctx, struct dp_worker *wk);

/* Sends datagram d (len bytes) of endpoint `side` of edge e to its peer
 * through the endpoint agent's allocation (ChannelData, or a Send
 * indication before the channel is bound). Dropped and counted when the
 * peer has no permission (wrap_blocked) or no mbuf is left. */
void dp_relay_send(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t e, int side, const uint8_t *d,
                   uint32_t len, uint64_t tsc);

/* The peer address endpoint `side` of edge e uses (ICE, DTLS, SCTP): the
 * other agent's relayed address. Only for an edge dp_conns_relay_ready
 * was called for. */
void dp_relay_peer_addr(const struct dp_relay *r, uint32_t e, int side, struct stun_addr *out);

/* --target with --relay: the peer index of server candidate ip:port (host
 * byte order) on target agent `agent`'s client, added (a CreatePermission,
 * then a ChannelBind) the first time the client sees that address; the
 * same index for an address it already has. -ENOTCONN when the agent has
 * no allocation (not a target agent, not granted, failed), -ENOSPC when
 * the client holds 2 x RI_TARGET_CANDS candidates already, or the
 * engine's error. Worker 0. */
int dp_relay_target_peer(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t agent, uint32_t ip,
                         uint16_t port, uint64_t tsc);

/* Whether the server granted the permission for target agent `agent`'s
 * peer `peer` (dp_relay_target_peer): until then its datagrams would be
 * dropped. Worker 0. */
bool dp_relay_target_permitted(const struct dp_ctx *ctx, uint32_t agent, int peer);

/* Sends datagram d (len bytes, copied) of a target session of `agent` to
 * its client's peer `peer` (dp_relay_target_peer) through the server:
 * ChannelData once the channel is bound, a Send indication before, and
 * dropped (counted in ri_relay.wrap_blocked) before the permission. What
 * the server relays back from that candidate reaches dp_target_rx as if
 * from the candidate itself. Worker 0, no allocation but an mbuf. */
void dp_relay_target_send(const struct dp_ctx *ctx, struct dp_worker *wk, uint32_t agent, int peer,
                          const uint8_t *d, uint32_t len, uint64_t tsc);

/* Releases every allocation (Refresh LIFETIME 0) and waits for the answers
 * (DP_RELAY_CLOSE_NS at most); sums the clients' counters into the
 * section. Worker 0 when it leaves its loop. */
void dp_relay_finish(const struct dp_ctx *ctx, struct dp_worker *wk);

#endif

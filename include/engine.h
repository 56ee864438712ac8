/* SPDX-License-Identifier: MIT */
/*
 * engine: what a protocol engine made of the bytes handed to it. Every
 * engine's handle_input (sctp_handle_input, ice_handle_input,
 * dtls_handle_input, pc_handle_input, rtcp_handle_input) and SRTP's
 * unprotect (srtps_unprotect_rtp/_rtcp) return one of these, so that a
 * caller routes and counts the same way whatever engine it feeds. The
 * reason behind a refusal is not in the result: each engine counts it in
 * its own counters, one per reason.
 *
 * The engine shape these belong to is written down in
 * docs/architecture.md ("Engine shape"). Header only; no state.
 */
#ifndef SWARMGEN_ENGINE_H
#define SWARMGEN_ENGINE_H

enum engine_input {
    /* Taken: it moved the engine on, or was a duplicate or retransmission
     * the protocol drops quietly. */
    ENGINE_IN_ACCEPTED = 0,
    /* Not for this engine: well formed perhaps, but another transaction,
     * another SSRC, another ufrag, no record the handshake reads, a first
     * byte a peer connection does not demultiplex. Nothing changed; the
     * caller decides whether it is foreign traffic to count. */
    ENGINE_IN_IGNORED = 1,
    /* Refused: malformed or truncated, or failing a check (checksum,
     * integrity, authentication tag, verification tag, replay window).
     * Counted by the engine under its reason and dropped; the engine goes
     * on as if it had never arrived. */
    ENGINE_IN_MALFORMED = 2,
    /* It ended the engine: a handshake failed on it. A failure event
     * follows from poll_event and whatever the engine still owes the peer
     * (an alert) from poll_transmit. */
    ENGINE_IN_FATAL = 3,
};

/* In an engine's .c: its public struct (caller-sized storage of X_SIZE
 * bytes, see "Engine shape" in docs/architecture.md) is exactly its
 * private layout's size and at least its alignment, so the constant in the
 * header changes when the layout does. */
#define ENGINE_STORAGE_CHECK(pub, priv)                                                     \
    _Static_assert(sizeof(pub) == sizeof(priv) && _Alignof(pub) >= _Alignof(priv),          \
                   #pub ": its size constant is not the size of " #priv)

/* ENGINE_STORAGE_CHECK and the two casts from the public struct to its
 * layout, `to` and `to_const`, in the one file (or internal header) that
 * knows the layout:
 *   ENGINE_STORAGE(struct ice_agent, struct ice_impl, impl, cimpl) */
#define ENGINE_STORAGE(pub, priv, to, to_const)                                             \
    ENGINE_STORAGE_CHECK(pub, priv);                                                        \
    static inline priv *to(pub *p)                                                          \
    {                                                                                       \
        return (priv *)(void *)p;                                                           \
    }                                                                                       \
    static inline const priv *to_const(const pub *p)                                        \
    {                                                                                       \
        return (const priv *)(const void *)p;                                               \
    }

/* "accepted", "ignored", "malformed", "fatal" (for logs and tests). */
static inline const char *engine_input_name(enum engine_input r)
{
    switch (r) {
    case ENGINE_IN_ACCEPTED: return "accepted";
    case ENGINE_IN_IGNORED: return "ignored";
    case ENGINE_IN_MALFORMED: return "malformed";
    case ENGINE_IN_FATAL: return "fatal";
    }
    return "?";
}

#endif

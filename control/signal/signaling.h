/* SPDX-License-Identifier: MIT */
/*
 * signaling: the WHIP signaling server of the control process (RFC 9725 shape),
 * so that WebRTC endpoints swarmgen did not write (browsers, werift) can
 * open a DataChannel (and audio) session with a simulated agent.
 *
 *   POST    /whip/agents/{id}    application/sdp offer -> 201 Created,
 *                                Location: /whip/sessions/{sid}, ETag, the answer
 *   DELETE  /whip/sessions/{sid} -> 200, or 404
 *   OPTIONS (either path)        -> 204 with the CORS preflight headers
 *   PATCH                        -> 405: no trickle ICE (RFC 9725 allows it)
 *   other methods 405, other paths 404; error bodies are one text/plain line
 *
 * {sid} is 128 random bits in 32 lower-case hex digits (signal_sessions.h):
 * a session can be ended only by who was told its URL; any other id, and
 * any method but OPTIONS on it, is 404. With a token (ctl_signal_config),
 * every method but OPTIONS needs "Authorization: Bearer <token>", else 401
 * with WWW-Authenticate: Bearer.
 *
 * CORS: a request with an Origin header comes from a browser page; unless
 * that origin is allowed (ctl_signal_config.origins; by default none is)
 * it gets 403, whatever its method, so a page the user happens to open
 * cannot open or end sessions. An allowed origin gets
 * Access-Control-Allow-Origin (its own value, or * when "*" is allowed)
 * and, on OPTIONS, the preflight headers. Requests without an Origin
 * (curl, werift, other programs) are served without CORS headers.
 *
 * One thread of its own polls the listening socket and at most
 * CTL_SIGNAL_MAX_CLIENTS non-blocking clients; a request (headers and
 * Content-Length body) is at most 64 KiB (else 413) and must arrive within
 * the request timeout (5 s, else the connection is closed); every response
 * says Connection: close. Sessions are opened and closed through the
 * caller's ops, on the signaling thread; the server keeps a table of the
 * sessions it opened (at most CTL_SIGNAL_MAX_SESSIONS at once: their
 * resource ids and who opened them).
 *
 * (The file is signaling.h, not signal.h: control/signal/ is on the
 * include path and a signal.h there would hide the system <signal.h>.)
 */
#ifndef SWARMGEN_CONTROL_SIGNALING_H
#define SWARMGEN_CONTROL_SIGNALING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdp.h"

#define CTL_SIGNAL_MAX_CLIENTS  64
#define CTL_SIGNAL_MAX_REQUEST  (64 * 1024)
#define CTL_SIGNAL_TIMEOUT_MS   5000
#define CTL_SIGNAL_DEFAULT_PORT 8088
#define CTL_SIGNAL_MAX_SESSIONS   256  /* sessions with a WHIP resource at once */
#define CTL_SIGNAL_MAX_PER_CLIENT 16   /* default: connections, and sessions, of one address */
#define CTL_SIGNAL_TOKEN_MAX      256  /* characters of a bearer token */
#define CTL_SIGNAL_ORIGIN_MAX     256  /* characters of an allowed origin */
#define CTL_SIGNAL_ORIGINS_MAX    1024 /* characters of the list of allowed origins */

/* Our side of a session, filled by ops->open. */
struct sdp_local {
    char ufrag[16];          /* NUL-terminated, 4..15 ice-chars (ALPHA DIGIT + /) */
    char pwd[40];            /* NUL-terminated, 22..39 ice-chars */
    uint8_t fingerprint[32]; /* sha-256 of the agent's DTLS certificate */
    uint32_t ip;             /* host candidate, IPv4, host byte order */
    uint16_t port;           /* host candidate UDP port */
    bool audio;              /* accept the offer's audio line (media on) */
};

struct ctl_signal_ops {
    /* Opens a session of agent `agent` for `offer` (parsed and checked:
     * offer->ice_ufrag, ->fingerprint, ->setup, ->sctp_port,
     * ->max_message_size, ->audio are what the transport needs). Fills
     * `local`, and *setup_active (true: we are the DTLS client and answer
     * setup:active). *setup_active comes in as
     * sdp_choose_setup(offer->setup, SDP_SETUP_ACTIVE) == SDP_SETUP_ACTIVE;
     * open may flip it only when offer->setup is actpass (a choice that
     * contradicts the offer fails the request with 500).
     * Returns a session id >= 0, or a negative HTTP status (-404 unknown
     * agent, -409 agent busy, -503 no free session) with a one-line reason
     * in `reason` (cap bytes). Called on the signaling thread. */
    int (*open)(void *arg, uint32_t agent, const struct sdp_offer *offer, struct sdp_local *local,
                bool *setup_active, char *reason, size_t cap);
    /* Closes session `id` (from open; also called when the answer cannot be
     * written after a successful open). Returns 0, or -404 when there is no
     * such session. Called on the signaling thread. */
    int (*close)(void *arg, int id);
    /* Optional (NULL: a session lives until its DELETE): false once session
     * `id` has ended on its own (the peer left, it failed). Such a session
     * no longer counts against the limits, and its table entry may go to a
     * new one. Called on the signaling thread. */
    bool (*alive)(void *arg, int id);
};

/* Counters, read with ctl_signal_stats. */
struct ctl_signal_stats {
    uint64_t requests;        /* complete requests answered (any status) */
    uint64_t sessions_opened; /* 201 */
    uint64_t sessions_closed; /* DELETE -> 200 */
    uint64_t rejected_4xx;    /* every 4xx response */
    uint64_t errors_5xx;      /* every 5xx response */
    uint64_t timeouts;        /* connections closed for arriving too slowly */
    uint64_t refused;         /* connections refused: CTL_SIGNAL_MAX_CLIENTS busy */
    uint64_t refused_per_client; /* connections refused: the client's max_per_client busy */
};

struct ctl_signal; /* opaque */

/* Parses "ADDR:PORT" ("127.0.0.1:8088", "0.0.0.0:8088") or ":PORT"
 * (= 127.0.0.1: loopback by default) into *ip (host byte order) and *port.
 * IPv4 only. Returns 0, or -EINVAL with the reason in err. */
int ctl_signal_parse_addr(const char *text, uint32_t *ip, uint16_t *port, char *err, size_t errlen);

/* Where the server listens and how it treats clients; a zero field takes
 * its default. */
struct ctl_signal_config {
    uint32_t ip;             /* host byte order */
    uint16_t port;           /* 0: an ephemeral port, see ctl_signal_port */
    uint32_t timeout_ms;     /* a request's deadline from the accept (0: CTL_SIGNAL_TIMEOUT_MS) */
    const char *token;       /* NULL or "": none; else every method but OPTIONS needs
                              * "Authorization: Bearer <token>" (RFC 9725 section 4.5) */
    const char *origins;     /* NULL or "": no browser page may use the server; else a comma
                              * list of origins whose pages may ("*": any) */
    uint32_t max_per_client; /* connections at once, and live sessions, of one client
                              * address (0: CTL_SIGNAL_MAX_PER_CLIENT); beyond: 429 */
};

/* Binds cfg->ip:cfg->port, listens and starts the server thread, which
 * calls ops (copied) with arg. cfg is read during the call only (strings
 * are copied). Returns 0 with *out set, or a negative errno with the reason
 * in err (-EINVAL: a token over CTL_SIGNAL_TOKEN_MAX characters, an origin
 * list over CTL_SIGNAL_ORIGINS_MAX). */
int ctl_signal_start(struct ctl_signal **out, const struct ctl_signal_config *cfg,
                     const struct ctl_signal_ops *ops, void *arg, char *err, size_t errlen);

/* Stops the thread (joins it), closes every socket, frees s. Sessions that
 * are still open stay open: closing them is the caller's business. NULL is
 * a no-op. Not concurrently with other calls on s. */
void ctl_signal_stop(struct ctl_signal *s);

/* The bound port (the ephemeral one when started with port 0). Any thread. */
uint16_t ctl_signal_port(const struct ctl_signal *s);

/* A snapshot of the counters (each read atomically). Any thread. */
void ctl_signal_stats(const struct ctl_signal *s, struct ctl_signal_stats *out);

/* The server's reading of a request's head in in[0..len) (in[len] must be
 * writable), for fuzzing: -1 while the blank line has not arrived, 0 when
 * the request line, the headers and the route parse, else the HTTP status
 * the server answers (400, 404, 411, 413) with the reason in *why. */
int ctl_signal_parse_head(char *in, size_t len, const char **why);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * target_internal: the pieces of target mode (target.h) that tests and the
 * fuzz target reach directly: the SDP offer writer and the answer parser
 * (sans-I/O, reentrant, no globals), and the libcurl multi wrapper the
 * target thread drives its HTTP exchanges with.
 */
#ifndef SWARMGEN_CONTROL_TARGET_INTERNAL_H
#define SWARMGEN_CONTROL_TARGET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run_image.h"
#include "sdp.h"
#include "target.h"

/* ---- offer (offer.c) ---- */

/* What our offer says. */
struct tgt_offer_params {
    char ufrag[9], pwd[25];  /* ours (ctl_external_credentials) */
    uint8_t fingerprint[32]; /* sha-256 of the dataplane's certificate (ri_external.fingerprint) */
    uint32_t ip;             /* the agent's address, host byte order */
    uint16_t port;           /* RI_TARGET_PORT */
    bool audio;              /* an Opus m-line first */
    uint32_t ssrc;           /* our audio SSRC (a=ssrc) */
    bool video;              /* with audio: a VP8 m-line (payload type 96) after the Opus one */
    uint32_t video_ssrc;     /* our video SSRC (a=ssrc) */
    uint64_t sess_id;        /* o= sess-id (< 2^63) */
    uint32_t relay_ip;       /* --relay: the agent's relayed address (host byte order); 0: none */
    uint16_t relay_port;
};

/* Writes the offer into out[cap], NUL-terminated, CRLF line ends: session
 * lines, a=group:BUNDLE, then (with audio) m=audio UDP/TLS/RTP/SAVPF 111
 * with mid "0", then m=application UDP/DTLS/SCTP webrtc-datachannel (mid
 * "1" with audio, else "0"); every m-line carries the ICE credentials,
 * fingerprint, a=setup:actpass, the one candidate and
 * a=end-of-candidates (no trickle), and the m=/c= lines name that
 * candidate (RFC 8839 default destination). The candidate is the host
 * address ip:port, or with relay_ip the relayed one only (typ relay raddr
 * ip rport port, as a browser with iceTransportPolicy "relay"). Returns the length written,
 * or -ENOSPC when cap is too small. Reentrant. */
int tgt_offer_write(const struct tgt_offer_params *p, char *out, size_t cap);

/* Our video SSRC, drawn from the session's audio SSRC (never equal to it). */
static inline uint32_t tgt_video_ssrc(uint32_t audio_ssrc)
{
    uint32_t v = audio_ssrc * 2654435761u ^ 0x5bd1e995u;
    return v == audio_ssrc || v == 0 ? audio_ssrc ^ 0x80000001u : v;
}

/* ---- a subscriber's answer to the server's offer (sub_answer.c) ---- */

/* Writes our answer to the offer `o` (parsed by sdp_parse_offer; its
 * application line o->app is the DataChannel) into out[cap], NUL-
 * terminated, CRLF: each audio line with Opus accepted recvonly with
 * that payload type and rtcp-mux, the application line accepted
 * (sctp-port 5000, max-message-size 262144), every other line rejected
 * (port 0, its mid kept); each accepted line carries p's ICE credentials
 * and fingerprint, a=setup:active (we are the DTLS client) and p's host
 * candidate; a=group:BUNDLE lists the accepted mids in order. p->audio
 * and p->ssrc are not used. Returns the length, or -ENOSPC. Reentrant. */
int tgt_sub_answer_write(const struct tgt_offer_params *p, const struct sdp_offer *o, char *out,
                         size_t cap);

/* The first a=ssrc of each m=audio line of an SDP text (len bytes), in
 * order, into ssrc[max] (0 for a line without one). Returns the number
 * of audio lines (at most max). Reentrant. */
int tgt_offer_ssrcs(const char *text, size_t len, uint32_t *ssrc, unsigned max);

/* ---- answer (answer.c) ---- */

/* What an answer gives a session: the request half of a slot, less what
 * is ours. */
struct tgt_answer {
    char ufrag[36], pwd[68]; /* the server's ICE credentials */
    uint8_t fingerprint[32]; /* its certificate's sha-256 */
    bool ice_lite;
    bool dtls_client;     /* we are the DTLS client (the answer said passive or actpass) */
    bool audio;           /* the answer accepted our audio line (port != 0, Opus kept) */
    uint8_t audio_pt;     /* Opus payload type the answer kept */
    bool video;           /* the answer accepted our video line (port != 0, VP8 kept) */
    uint8_t video_pt;     /* VP8 payload type the answer kept */
    uint16_t sctp_port;   /* a=sctp-port (5000 when absent) */
    uint32_t max_message; /* a=max-message-size (65536 absent; 0 "no limit" -> UINT32_MAX) */
    uint8_t n_cands;      /* 1..RI_TARGET_CANDS */
    struct ri_target_cand cand[RI_TARGET_CANDS]; /* UDP IPv4, component 1, best first */
};

/* Parses an SDP answer (len bytes, need not be NUL-terminated) into *out,
 * using *work (about 16 KB, the caller's) for the SDP structure. Rules:
 * the answer must be SDP with an accepted (port != 0) m=application
 * UDP/DTLS/SCTP webrtc-datachannel line; ice-ufrag/ice-pwd (media level
 * wins) within the ICE agent's limits; a sha-256 fingerprint; a=setup
 * active (absent = active, RFC 4145) makes us the DTLS server, passive or
 * actpass the client; candidates UDP, IPv4, component 1, any type,
 * deduplicated, sorted by priority (highest first), at most
 * RI_TARGET_CANDS; without a usable candidate line, the application
 * line's c= address and m= port (not 0.0.0.0, not port 9) as a host
 * candidate. Audio counts as accepted when want_audio, the answer's first
 * audio line has a non-zero port and it kept opus/48000/2.
 * Returns 0, or -EINVAL with one line in reason[cap] saying why. */
int tgt_answer_parse(const char *text, size_t len, bool want_audio, struct tgt_answer *out,
                     struct sdp_offer *work, char *reason, size_t cap);

/* tgt_answer_parse, and with want_video the first m=video line: accepted
 * when its port is not 0 and it kept VP8/90000 (out->video, video_pt). */
int tgt_answer_parse_av(const char *text, size_t len, bool want_audio, bool want_video, struct tgt_answer *out,
                        struct sdp_offer *work, char *reason, size_t cap);

/* ---- HTTP (http.c): libcurl's multi interface on the target thread ---- */

enum tgt_method { TGT_GET, TGT_POST, TGT_DELETE };

struct curl_slist;

#define TGT_HTTP_BODY_MAX (256u * 1024u) /* a reply larger than this fails (protocol) */

/* One exchange. The caller owns the struct; it must stay put while the
 * request is in flight (between tgt_http_start and its completion or
 * tgt_http_cancel). */
struct tgt_req {
    void *easy; /* CURL *, NULL when idle */
    struct curl_slist *hdrs;
    char *body; /* the request body (copied), owned */
    char *resp; /* reply body, NUL-terminated, owned until the next start / free */
    size_t resp_len, resp_cap;
    bool resp_too_big;
    /* results, valid after completion */
    int status;                      /* HTTP status, 0 when the transport failed */
    int curl_rc;                     /* CURLcode */
    enum ctl_target_cause transport; /* NONE, or TIMEOUT / CONNECT / PROTOCOL when status is 0 */
    char location[512];              /* Location header of the reply, "" when none */
    char content_type[64];
    /* the caller's */
    uint32_t owner; /* session index */
    uint8_t what;   /* which request of the session's flow */
};

struct tgt_http;

/* Creates the multi handle. 0, or -ENOMEM. */
int tgt_http_new(struct tgt_http **out);
void tgt_http_free(struct tgt_http *h);

/* Starts a request: method, URL, optional content type and body (copied),
 * optional bearer token (NULL or ""), timeout (connect included) in ms.
 * 0, or a negative errno (-ENOMEM, -EINVAL). */
int tgt_http_start(struct tgt_http *h, struct tgt_req *r, enum tgt_method m, const char *url,
                   const char *content_type, const char *body, size_t body_len, const char *token,
                   uint64_t timeout_ms);

/* Drops a request in flight (its result is never reported). */
void tgt_http_cancel(struct tgt_http *h, struct tgt_req *r);

/* Frees the buffers of an idle request. */
void tgt_http_req_free(struct tgt_req *r);

/* Waits for I/O at most timeout_ms (tgt_http_wakeup cuts it short), runs
 * the transfers, and returns the next finished request (its results
 * filled), or NULL when none finished. Call tgt_http_next until NULL
 * after each tgt_http_poll. */
int tgt_http_poll(struct tgt_http *h, int timeout_ms);
struct tgt_req *tgt_http_next(struct tgt_http *h);

/* Wakes a tgt_http_poll in progress. Any thread. */
void tgt_http_wakeup(struct tgt_http *h);

/* Requests in flight. */
uint32_t tgt_http_inflight(const struct tgt_http *h);

/* Resolves `ref` (a Location: absolute, or relative to base) into out[cap].
 * 0, or -EINVAL. */
int tgt_url_resolve(const char *base, const char *ref, char *out, size_t cap);

/* ---- Janus replies (janus_reply.c) ---- */

/* The requests of a Janus session, in the order the client makes them. */
enum tgt_janus_step {
    TGT_J_CREATE,
    TGT_J_ATTACH,
    TGT_J_MESSAGE,
    TGT_J_POLL,
    TGT_J_KEEPALIVE,
    TGT_J_DETACH,
    TGT_J_DESTROY,
};

enum tgt_janus_verdict {
    TGT_JV_SUCCESS, /* create / attach: `id`; keepalive, detach, destroy: done */
    TGT_JV_ACK,     /* the message was taken: long-poll for the event */
    TGT_JV_ANSWER,  /* our handle's event with the jsep answer: `sdp` */
    TGT_JV_NOTHING, /* a long poll without our answer (keepalive, other events): poll again */
    TGT_JV_ERROR,   /* `cause` (protocol, or sdp for an undecodable jsep.sdp), `why` */
};

struct tgt_janus_reply {
    enum tgt_janus_verdict verdict;
    enum ctl_target_cause cause;
    uint64_t id;
    char *sdp; /* TGT_JV_ANSWER: NUL-terminated, sdp_len bytes, malloc'd: the caller frees */
    size_t sdp_len;
    char why[128]; /* TGT_JV_ERROR: one line */
};

/* Reads the body (len bytes) of a 2xx reply to request `step` of a
 * session whose request carried transaction `txn` and whose plugin handle
 * is `hid` (0 before attach) into *out (fully written; out->sdp NULL
 * unless ANSWER). A reply (create, attach, message, keepalive, detach,
 * destroy) must be a JSON object with our transaction: janus:error or
 * another transaction is an error; create/attach want success with a
 * non-zero integer data.id; message wants ack (or, synchronously, the
 * event below); destroy/detach want success, keepalive ack. A long poll
 * reply is one event object or an array of them: an event from our
 * handle with jsep {type:answer, sdp} is the answer; one with
 * plugindata.data.error(_code), a hangup or detached of our handle, or a
 * janus:error is an error; anything else is nothing. Returns
 * out->verdict. Reentrant; allocates (the JSON tree, the SDP). */
enum tgt_janus_verdict tgt_janus_read(const char *body, size_t len, int step, const char *txn,
                                      uint64_t hid, struct tgt_janus_reply *out);

/* tgt_janus_read for a jsep of type `want` ("answer" or "offer": a
 * VideoRoom subscriber gets Janus's offer); TGT_JV_ANSWER then means
 * "the jsep we wanted". A plugin's success reply to a message
 * (janus:success, a synchronous request such as VideoRoom's create) is
 * TGT_JV_SUCCESS. */
enum tgt_janus_verdict tgt_janus_read_jsep(const char *body, size_t len, int step, const char *txn,
                                           uint64_t hid, const char *want,
                                           struct tgt_janus_reply *out);

/* "create", "attach", "message", "long poll", "keepalive", "detach", "destroy". */
const char *tgt_janus_step_name(int step);

/* ---- JSON (json_str.c) ---- */

/* Unescapes the JSON string body raw[0..len) (as json_read keeps it) into
 * out[cap], NUL-terminated. Returns the length, or -EINVAL (bad escape,
 * a NUL, or no room). */
int tgt_json_unescape(const char *raw, size_t len, char *out, size_t cap);

#endif

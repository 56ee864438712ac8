/* SPDX-License-Identifier: MIT */
/*
 * sdp: the SDP offer/answer of a WebRTC session with an endpoint swarmgen did
 * not write (a browser, werift), sans-I/O. sdp_parse_offer reads an offer
 * (RFC 8866 structure, RFC 8839 ICE, RFC 8842 DTLS setup, RFC 8841 SCTP,
 * RFC 8843 BUNDLE) into a fixed-size struct; sdp_write_answer writes our
 * answer (RFC 3264) into a buffer the caller owns. No globals, no clock, no
 * allocation: every function is reentrant and safe on any thread.
 *
 * What an offer must have to be served: an m=application line with
 * UDP/DTLS/SCTP webrtc-datachannel and a non-zero port (or a=bundle-only),
 * ice-ufrag/ice-pwd and a sha-256 fingerprint (media level, else session
 * level), setup actpass/active/passive (absent = active, RFC 4145).
 * An audio line is served only when the answer accepts audio, the line is
 * UDP/TLS/RTP/SAVP(F) with rtcp-mux, offers opus or PCMU, and shares a BUNDLE
 * group with the application line (we have one candidate: one transport).
 */
#ifndef SWARMGEN_CONTROL_SDP_H
#define SWARMGEN_CONTROL_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_MEDIA 8   /* m-lines; an offer with more is rejected */
#define SDP_MAX_CAND  16  /* a=candidate lines kept; further ones are counted, not kept */
#define SDP_MAX_PT    32  /* payload types kept per m-line */
#define SDP_ICE_MAX   256 /* ice-ufrag / ice-pwd length limit (RFC 8839); a session takes less (ICE_UFRAG_MAX, ICE_PWD_MAX) */
#define SDP_MID_MAX   32  /* a=mid length limit (RFC 8843 identification-tag) */
#define SDP_FP_LEN    32  /* sha-256 */

enum sdp_setup {
    SDP_SETUP_NONE = 0, /* no a=setup: RFC 4145 makes it active */
    SDP_SETUP_ACTPASS,
    SDP_SETUP_ACTIVE,  /* DTLS client */
    SDP_SETUP_PASSIVE, /* DTLS server */
};

enum sdp_kind { SDP_KIND_APPLICATION, SDP_KIND_AUDIO, SDP_KIND_VIDEO, SDP_KIND_OTHER };

enum sdp_dir { SDP_DIR_SENDRECV = 0, SDP_DIR_SENDONLY, SDP_DIR_RECVONLY, SDP_DIR_INACTIVE };

enum sdp_transport { SDP_TRANSPORT_UDP, SDP_TRANSPORT_TCP };

enum sdp_cand_type { SDP_CAND_HOST, SDP_CAND_SRFLX, SDP_CAND_PRFLX, SDP_CAND_RELAY };

struct sdp_pt {
    uint8_t pt;
    char name[16];    /* rtpmap encoding name as written ("opus", "PCMU"); "" without rtpmap */
    uint32_t clock;   /* rtpmap clock rate, 0 without rtpmap */
    uint8_t channels; /* rtpmap channels, 1 when absent */
};

struct sdp_media {
    enum sdp_kind kind;
    char kind_text[16]; /* the media token as written ("application", "audio", "text" ...) */
    uint16_t port;      /* 0: the offerer disabled the line (unless bundle_only) */
    bool bundle_only;   /* a=bundle-only */
    char proto[32];     /* "UDP/DTLS/SCTP", "UDP/TLS/RTP/SAVPF" ... */
    /* first format token ("webrtc-datachannel", "111"): a rejected line repeats it */
    char fmt_first[32];
    char mid[SDP_MID_MAX + 1]; /* "" without a=mid */
    /* ICE/DTLS as written on this line; "" / false / NONE when absent here */
    char ufrag[SDP_ICE_MAX + 1];
    char pwd[SDP_ICE_MAX + 1];
    bool has_fingerprint;
    uint8_t fingerprint[SDP_FP_LEN];
    enum sdp_setup setup;
    /* application (UDP/DTLS/SCTP webrtc-datachannel) */
    uint16_t sctp_port;        /* a=sctp-port, 5000 when absent (RFC 8841) */
    uint64_t max_message_size; /* a=max-message-size, 65536 when absent; 0 = no limit */
    /* audio / video */
    uint8_t n_pt;
    struct sdp_pt pt[SDP_MAX_PT]; /* in m-line order */
    int opus_pt;                  /* payload type of opus/48000/2, -1 if not offered */
    int pcmu_pt; /* payload type of PCMU/8000 (static 0 counts), -1 if not offered */
    bool rtcp_mux;
    enum sdp_dir dir; /* sendrecv when absent */
};

struct sdp_candidate {
    char foundation[33];
    uint16_t component;
    enum sdp_transport transport;
    uint32_t priority;
    char ip[64]; /* IPv4/IPv6 literal or an mDNS name ("….local") as written */
    uint16_t port;
    enum sdp_cand_type type;
    uint8_t media; /* index of the m-line it was on (SDP_MAX_MEDIA: session level) */
};

/* About 16 KB: keep it off small stacks (the signaling server holds one). */
struct sdp_offer {
    /* Resolved for the application line (media level wins over session
     * level): what the DataChannel transport, and every line bundled with
     * it, uses. */
    char ice_ufrag[SDP_ICE_MAX + 1];
    char ice_pwd[SDP_ICE_MAX + 1];
    uint8_t fingerprint[SDP_FP_LEN];
    enum sdp_setup setup;
    bool ice_lite;    /* a=ice-lite (session level) */
    bool ice_trickle; /* a=ice-options containing "trickle" */
    bool end_of_candidates;
    uint16_t sctp_port;        /* = media[app].sctp_port */
    uint64_t max_message_size; /* = media[app].max_message_size */
    int app;                   /* index of the application line served */
    int audio;                 /* index of the first audio line that can be served, -1 if none */
    int audio_pt;              /* payload type the answer would pick for it (opus, else PCMU), -1 */
    /* Session level, as written. */
    uint64_t sess_id; /* o= sess-id (0 when not a number) */
    char sess_ufrag[SDP_ICE_MAX + 1];
    char sess_pwd[SDP_ICE_MAX + 1];
    bool sess_has_fingerprint;
    uint8_t sess_fingerprint[SDP_FP_LEN];
    enum sdp_setup sess_setup;
    /* The first a=group:BUNDLE, mids in offered order. */
    uint8_t n_bundle;
    char bundle[SDP_MAX_MEDIA][SDP_MID_MAX + 1];
    uint8_t n_media;
    struct sdp_media media[SDP_MAX_MEDIA];
    uint8_t n_cand;
    uint16_t n_cand_dropped; /* beyond SDP_MAX_CAND */
    struct sdp_candidate cand[SDP_MAX_CAND];
};

/* Parses the offer `text` (`len` bytes, need not be NUL-terminated; CRLF or
 * bare LF line ends; empty lines skipped) into *out. Returns 0, or -EINVAL
 * (malformed) / -ENOTSUP (well-formed but not servable) with a one-line
 * reason in `reason` (NUL-terminated, truncated to `cap`), such as
 * "not SDP: first line is not v=0", "no a=fingerprint:sha-256",
 * "fingerprint is not sha-256", "ice-pwd shorter than 22 characters",
 * "setup:holdconn not supported", "TCP/DTLS/SCTP not supported",
 * "no m=application UDP/DTLS/SCTP webrtc-datachannel line".
 * *out is fully written on success, unspecified on failure. */
int sdp_parse_offer(const char *text, size_t len, struct sdp_offer *out, char *reason, size_t cap);

/* The DTLS role of the answer (RFC 8842 §5.3): actpass -> `preferred`
 * (SDP_SETUP_ACTIVE or SDP_SETUP_PASSIVE), active or absent -> passive,
 * passive -> active. */
enum sdp_setup sdp_choose_setup(enum sdp_setup offer_setup, enum sdp_setup preferred);

struct sdp_answer_params {
    char ufrag[SDP_ICE_MAX + 1];     /* ours: 4..256 ice-chars */
    char pwd[SDP_ICE_MAX + 1];       /* ours: 22..256 ice-chars */
    uint8_t fingerprint[SDP_FP_LEN]; /* sha-256 of our certificate */
    enum sdp_setup setup; /* SDP_SETUP_ACTIVE or SDP_SETUP_PASSIVE (see sdp_choose_setup) */
    uint32_t ip;          /* our host candidate, IPv4, host byte order */
    uint16_t port;
    uint16_t sctp_port;        /* 5000 */
    uint64_t max_message_size; /* 262144 */
    bool audio;                /* accept the offer's audio line (o->audio) if there is one */
    uint64_t sess_id;          /* o= sess-id of the answer */
};

/* An SDP text being written into a caller buffer: sdp_put appends
 * printf-style and remembers an overflow (full) instead of failing at
 * once, so a writer checks once at the end. */
struct sdp_out {
    char *p;
    size_t cap, len;
    bool full;
};
void sdp_put(struct sdp_out *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes the answer to offer `o` (a successful sdp_parse_offer) into `out`,
 * NUL-terminated, CRLF line ends: a=ice-lite, a=group:BUNDLE of the accepted
 * mids when the offer had BUNDLE, then one m-line per offered m-line in the
 * same order with the same mid: the application line accepted with our ICE
 * credentials, fingerprint, setup, sctp-port, max-message-size and one host
 * candidate; the audio line o->audio accepted when p->audio (one codec,
 * rtcp-mux, the direction that matches the offer's); every other line
 * rejected with port 0. Returns the length written (without the NUL), or
 * -ENOSPC when `cap` is too small, or -EINVAL when p->setup is neither
 * active nor passive. */
int sdp_write_answer(const struct sdp_offer *o, const struct sdp_answer_params *p, char *out,
                     size_t cap);

/* Does the answer written with `audio` accept o's audio line? (o->audio >= 0 && audio) */
bool sdp_answer_accepts_audio(const struct sdp_offer *o, bool audio);

#endif

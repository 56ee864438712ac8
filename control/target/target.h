/* SPDX-License-Identifier: MIT */
/*
 * target: the control side of target mode (--target). Simulated agents
 * join a real WebRTC server as clients: for each session control builds
 * an SDP offer (our ICE credentials from getrandom, the fingerprint of
 * the certificate the dataplane published in ri_external.fingerprint,
 * the agent's address : RI_TARGET_PORT as the one host candidate,
 * a=setup:actpass, a DataChannel m-line and, with audio, an Opus audio
 * m-line), signals it to the server (a WHIP endpoint, RFC 9725; or
 * Janus's HTTP API with the EchoTest plugin, or its VideoRoom, where
 * subscribers get Janus's offer and answer it), parses the answer into a
 * slot of the run image's TARGET section and publishes it; the dataplane
 * (worker 0) runs the peer connection. At the end control asks the
 * dataplane to close each session (close_seq), then ends it on the
 * server (WHIP DELETE; Janus detach and destroy); a session the dataplane
 * ended on its own (failed, closed by the server) is ended on the server
 * at once.
 *
 * HTTP goes through libcurl's multi interface (many requests at once on
 * one thread, keep-alive, https:// for real servers), all on the target
 * thread; the main thread only starts, stops and reads results.
 *
 * Stages a session passes in control: "signal" (the HTTP exchange up to
 * a usable answer; Janus: create, attach, offer, the answer event), then
 * the dataplane's ICE, DTLS, SCTP, DataChannel (ri_stage). A failure in
 * "signal" is counted by cause: the HTTP status of the failing request
 * (4xx/5xx), "timeout" (no answer within the timeout), "connect" (no TCP
 * connection), "sdp" (an answer we cannot use: not SDP, no fingerprint,
 * no usable candidate, no DataChannel accepted), "protocol" (a Janus
 * reply that is not what the API says), "denied" (Janus error 403: a
 * wrong or missing apisecret, --target-token), "turn" (with --relay: the
 * agent's TURN allocation failed, so the session was never offered).
 */
#ifndef SWARMGEN_CONTROL_TARGET_H
#define SWARMGEN_CONTROL_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "run_image.h"

enum ctl_target_kind {
    CTL_TARGET_NONE = 0,
    CTL_TARGET_WHIP = 1,  /* whip:URL: POST the offer to URL, 201 + Location + answer, DELETE Location
                             ("{agent}" in URL: the agent's index) */
    CTL_TARGET_JANUS = 2, /* janus:URL: Janus HTTP API at URL (http://host:8088/janus), EchoTest */
    CTL_TARGET_JANUS_VR = 3, /* janus-videoroom:URL,rooms=R,publishers=P: Janus's VideoRoom; agents in
                                R contiguous blocks, the first P of each publish, the others subscribe
                                to all P (janus_videoroom.c) */
};

/* A session's part in a VideoRoom (ctl_target_client.role). */
enum ctl_target_role { CTL_TGT_ROLE_CLIENT = 0, CTL_TGT_ROLE_PUBLISHER = 1, CTL_TGT_ROLE_SUBSCRIBER = 2 };

/* Why signalling failed (per session; counted per cause in results). */
#define CTL_TARGET_CAUSES(X)                                     \
    X(NONE, "none")                                              \
    X(HTTP_4XX, "http_4xx")                                      \
    X(HTTP_5XX, "http_5xx")                                      \
    X(TIMEOUT, "timeout")                                        \
    X(CONNECT, "connect")                                        \
    X(SDP, "sdp")                                                \
    X(PROTOCOL, "protocol")                                      \
    X(SLOT, "slot") /* the dataplane did not take the slot in time */         \
    X(DENIED, "denied") /* Janus error 403: wrong or missing apisecret */     \
    X(TURN, "turn") /* --relay: the agent's TURN allocation failed */
enum ctl_target_cause {
#define CTL_TARGET_CAUSE_ENUM(id, name) CTL_TGT_CAUSE_##id,
    CTL_TARGET_CAUSES(CTL_TARGET_CAUSE_ENUM)
#undef CTL_TARGET_CAUSE_ENUM
    CTL_TGT_CAUSE_COUNT
};

struct ctl_target_config {
    enum ctl_target_kind kind;
    char url[512];          /* the URL after "whip:" or "janus:" (http:// or https://) */
    char token[256];        /* --target-token: Authorization: Bearer (WHIP), "apisecret" (Janus); "" none */
    uint32_t n_sessions;    /* --target-agents: sessions, agents 0 .. n-1 (<= n_agents, <= the slots) */
    double join_rate;       /* --join-rate: sessions started per second (0: as fast as slots allow) */
    bool join_ramp;         /* ramped joins: sessions start only while the load runs, at the rate
                               ctl_target_set_join_rate gives (join_rate is then the base) */
    bool audio;             /* --media audio: an Opus m-line in each offer */
    bool video;             /* --media video: the Opus line and a VP8 line (audio is set too) */
    uint64_t http_timeout_ns; /* one HTTP request (default 10 s) */
    uint32_t max_inflight;  /* HTTP exchanges at once (default 64) */
    uint64_t keepalive_ns;  /* Janus: a keepalive per session this often (0: 25 s; Janus ends
                               a session 60 s after its last request) */
    uint32_t rooms;         /* janus-videoroom: rooms (>= 1) */
    uint32_t publishers;    /* janus-videoroom: publishers per room (1..RI_TARGET_FEEDS) */
    bool relay;             /* --relay: a session waits for its agent's TURN allocation (slot
                               relay_state) and offers the relayed address as its one candidate
                               (typ relay); a failed allocation fails it with cause "turn" */
};

/* janus-videoroom: the room of session i, and its first session: rooms
 * are contiguous blocks, room r holds sessions [n*r/R, n*(r+1)/R). */
static inline uint32_t ctl_target_room_of(const struct ctl_target_config *c, uint32_t i)
{
    return (uint32_t)((uint64_t)i * c->rooms / c->n_sessions);
}
static inline uint32_t ctl_target_room_first(const struct ctl_target_config *c, uint32_t r)
{
    return (uint32_t)(((uint64_t)c->n_sessions * r + c->rooms - 1) / c->rooms);
}

/* One session as control saw it (results.client[i]: agent i). */
struct ctl_target_client {
    uint32_t agent;
    uint8_t started, signalled;  /* signalling began; an answer was handed to the dataplane */
    uint8_t cause;               /* enum ctl_target_cause when signalling failed */
    uint8_t deleted;             /* ended on the server at the end (DELETE 200 / Janus destroy success) */
    uint16_t http_status;        /* status of the last failing request (0: none) */
    uint16_t reserved;
    uint64_t t_start_ns;         /* CLOCK_MONOTONIC ns signalling began */
    uint64_t signal_ns;          /* signalling time (first request to usable answer) */
    uint32_t slot;               /* its slot of the TARGET section */
    uint32_t requests;           /* HTTP requests made for it (keepalives and long polls included) */
    char resource[160];          /* WHIP Location, or "janus:SESSION/HANDLE" */
    char detail[96];             /* one line: why signalling failed ("" when it did not) */
    uint32_t room;               /* janus-videoroom: its room (0..rooms-1) */
    uint8_t role;                /* enum ctl_target_role */
};

/* A VideoRoom of janus-videoroom (results.room[r]). */
struct ctl_target_room {
    uint64_t id;       /* Janus's room id (drawn per run) */
    uint8_t created;   /* the creator's request:create succeeded */
    uint8_t destroyed; /* its request:destroy at the end succeeded */
};

struct ctl_target_results {
    uint64_t started, signalled, signal_failed, deleted, delete_failed;
    uint64_t cause[CTL_TGT_CAUSE_COUNT];
    uint64_t http_requests, http_status[6]; /* by class: [1] 1xx .. [5] 5xx, [0] no status (transport) */
    uint64_t keepalives;                    /* Janus keepalives sent */
    struct met_hist signal;                 /* signalling time of the sessions signalled (ns) */
    uint64_t joins_per_s[600];              /* sessions that got up in each second of the run (the
                                               dataplane's up transitions as control polled them) */
    uint64_t starts_per_s[600];             /* sessions started in each second of the run */
    uint32_t joins_seconds;                 /* entries of joins_per_s and starts_per_s used */
    uint64_t last_up_ns;                    /* from the thread's start to the last session seen up */
    uint64_t settled_ns;                    /* from the thread's start to every session settled (0: never) */
    struct ctl_target_client *client;       /* n_sessions entries, owned by the ctl_target */
    uint32_t n_clients;
    struct ctl_target_room *room;           /* janus-videoroom: n_rooms entries, owned; else NULL */
    uint32_t n_rooms;
};

struct ctl_target;

/* Parses a --target value ("whip:http://h:p/path", "janus:http://h:p/janus",
 * "janus-videoroom:http://h:p/janus,rooms=R,publishers=P") into cfg->kind,
 * cfg->url and (videoroom) cfg->rooms and cfg->publishers (each 1 when
 * not given). 0, or -EINVAL with one line in err naming what is wrong
 * (unknown kind, not an http(s) URL, a bad rooms= or publishers=). */
int ctl_target_parse(const char *spec, struct ctl_target_config *cfg, char *err, size_t errlen);

/* The feeds a subscriber session of --target `spec` receives
 * (janus-videoroom: its publishers per room), 0 for other targets, no
 * target or a value ctl_target_parse refuses. */
uint32_t ctl_target_feeds(const char *spec);

/* Starts the target thread for the image's TARGET section `t` (n_slots
 * >= cfg->n_sessions), once the dataplane is READY (its fingerprint in
 * x->fingerprint). `agents` gives each agent's address. The thread starts
 * sessions at cfg->join_rate up to cfg->n_sessions, keeps Janus sessions
 * alive, and watches the slots. 0, or a negative errno with the reason
 * in err. Main thread. */
int ctl_target_start(struct ctl_target **out, const struct ctl_target_config *cfg, struct ri_target *t,
                     const struct ri_external *x, const struct ri_agent *agents, uint32_t n_agents,
                     char *err, size_t errlen);

/* Ramped joins (cfg.join_ramp): sessions start from the first call on,
 * `rate` per second (a token bucket; 0: none for now) until
 * ctl_target_end_joins. The first call restarts the clock of joins_per_s,
 * starts_per_s, last_up_ns and settled_ns: they count from the load's
 * start. Main thread, every 20 ms while the load runs. */
void ctl_target_set_join_rate(struct ctl_target *tg, double rate);

/* Ramped joins: no session starts any more (the load ended); those not
 * started stay not started. Main thread. */
void ctl_target_end_joins(struct ctl_target *tg);

/* Sessions up now (dp_state UP), as the target thread last counted. */
uint64_t ctl_target_up(const struct ctl_target *tg);

/* Sessions whose set-up is over either way (up or closed after up,
 * failed in a dataplane stage, or signalling failed), as the target
 * thread last counted. The connect phase waits for all n_sessions. */
uint64_t ctl_target_settled(const struct ctl_target *tg);

/* Ends every session: close_seq to the dataplane, then DELETE / Janus
 * detach + destroy on the server, waiting at most `grace_ns` for the
 * server's answers; joins the thread. Call before the dataplane is told
 * to stop. Idempotent. Main thread. */
void ctl_target_stop(struct ctl_target *tg, uint64_t grace_ns);

/* The results (valid until ctl_target_free; final after ctl_target_stop). */
const struct ctl_target_results *ctl_target_results(const struct ctl_target *tg);

void ctl_target_free(struct ctl_target *tg);

const char *ctl_target_cause_name(enum ctl_target_cause c);

#endif

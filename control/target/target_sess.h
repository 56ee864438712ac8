/* SPDX-License-Identifier: MIT */
/*
 * target_sess: the target thread's state (target.c) as the signalling
 * flows (whip_client.c, janus_client.c) see it. Everything here belongs to
 * the target thread, except `stop` and `up` (atomics the main thread reads
 * or writes).
 *
 * A session is agent i = slot i = results.client[i]. It is in one state at
 * a time and has at most one HTTP request in flight (from the pool of
 * max_inflight requests); a session that wants a request while the pool is
 * empty waits in the send queue (first come, first served, before any new
 * session starts).
 */
#ifndef SWARMGEN_CONTROL_TARGET_SESS_H
#define SWARMGEN_CONTROL_TARGET_SESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "target.h"
#include "target_internal.h"

enum tsess_state {
    TS_IDLE = 0, /* not started */
    TS_SIGNAL,   /* the exchange up to an answer */
    TS_LIVE,     /* the answer is in its slot (published) */
    TS_TEARDOWN, /* ending it on the server */
    TS_DONE,     /* nothing more to do (failed, or ended) */
};

struct tsess {
    uint32_t idx;
    uint8_t state;     /* enum tsess_state */
    uint8_t step;      /* the flow's next (or current) request */
    bool queued;       /* in the send queue */
    bool has_resource; /* the server holds a session to end (WHIP resource, Janus session) */
    bool published, took, up_counted, up;
    int32_t req;  /* index into the request pool, -1 none */
    uint32_t seq; /* the slot request we published */
    uint32_t ssrc;
    char ufrag[9], pwd[25];
    uint64_t t_pub_ns;    /* when published (the dataplane takes it within the timeout) */
    uint64_t deadline_ns; /* Janus: the answer is due by then */
    uint64_t next_ka_ns;  /* Janus: the next keepalive */
    uint64_t janus_sid, janus_hid;
    char *url;    /* WHIP: the resource URL (Location resolved), owned */
    char txn[20]; /* Janus: the transaction of the request in flight */
    bool waiting; /* janus-videoroom: parked until its room (or its publishers) is ready */
    uint64_t wait_since_ns;
};

struct tgt_flow;

struct ctl_target {
    struct ctl_target_config cfg;
    struct ri_target *t;
    const struct ri_external *x;
    const struct ri_agent *agents;
    uint32_t n_agents;
    const struct tgt_flow *flow;
    pthread_t thread;
    bool running;
    /* main thread -> target thread */
    uint32_t stop;     /* 1: end everything (atomic) */
    uint64_t grace_ns; /* written before stop */
    uint64_t join_mrate; /* ramped joins: sessions to start per 1000 s now (atomic) */
    uint32_t joins_on;   /* ramped joins: 1 from the load's start, 2 after its end (atomic) */
    /* target thread -> main thread */
    uint64_t up;      /* atomic */
    uint64_t settled; /* atomic: ctl_target_settled */
    struct ctl_target_results res;
    /* target thread */
    struct tgt_http *http;
    struct tsess *sess;
    struct tgt_req *pool;
    int32_t *pool_free;
    uint32_t n_free;
    uint32_t *queue; /* ring of session indices, n_sessions entries */
    uint32_t q_head, q_len;
    uint32_t next_start; /* the next session to start */
    double tokens;
    uint64_t t0_ns, last_tok_ns, last_watch_ns;
    uint32_t joins_seen;   /* the joins_on the thread acted on */
    bool stopping;
    uint64_t stop_deadline_ns;
    uint64_t rng;
    struct sdp_offer *work; /* the answer parser's scratch */
    struct tgt_vr *vr;      /* janus-videoroom: the rooms (janus_videoroom.c), NULL otherwise */
    char *buf;              /* an offer, a JSON body */
    size_t buf_cap;
};

/* The ops of a signalling flow. */
struct tgt_flow {
    /* Starts (or continues with) the request of s->step in pool request r.
     * 0, or a negative errno (the session fails: protocol). */
    int (*send)(struct ctl_target *tg, struct tsess *s, struct tgt_req *r);
    /* Handles the completion of s's request r (results filled). Sets what
     * comes next through the helpers below. */
    void (*done)(struct ctl_target *tg, struct tsess *s, struct tgt_req *r);
    /* Stop: what the session does to end on the server (s->has_resource):
     * sets s->step to the first teardown request. */
    void (*teardown)(struct ctl_target *tg, struct tsess *s);
    /* A live session's periodic need (Janus keepalive); NULL none. */
    void (*tick)(struct ctl_target *tg, struct tsess *s, uint64_t now);
    /* May s's request in flight be dropped at stop (a long poll, a
     * keepalive: nothing on the server depends on its answer)? */
    bool (*can_cancel)(const struct tsess *s);
    /* Every watch pass (20 ms) while not stopping: sessions waiting for
     * others (a VideoRoom's subscribers for its publishers) go on or
     * fail; NULL none. */
    void (*watch)(struct ctl_target *tg, uint64_t now);
};

extern const struct tgt_flow tgt_whip_flow, tgt_janus_flow, tgt_vr_flow;

uint64_t tgt_now_ns(void);

/* janus-videoroom: the flow's state (tg->vr, results.room) for tg->cfg.
 * 0 or -ENOMEM. tgt_vr_free frees what it made (results.room stays). */
int tgt_vr_init(struct ctl_target *tg);
void tgt_vr_free(struct ctl_target *tg);

/* Ends s on the server when it has something there (TEARDOWN, its first
 * teardown request queued), else DONE: at stop, after a failure, when the
 * dataplane ended it. */
void tgt_teardown(struct ctl_target *tg, struct tsess *s);

/* Queues s for a request of `step` (once stopping, a session still
 * signalling goes to its teardown instead). */
void tgt_want(struct ctl_target *tg, struct tsess *s, uint8_t step);

/* Signalling of s failed with `cause` (status: the HTTP status of the
 * failing request, 0 none; fmt: one line why, into client.detail); the
 * server's side is ended when it has one. */
void tgt_fail(struct ctl_target *tg, struct tsess *s, enum ctl_target_cause cause, int status,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* tgt_fail for request r that did not succeed (tgt_req_cause). */
void tgt_fail_req(struct ctl_target *tg, struct tsess *s, const struct tgt_req *r,
                  const char *what);

/* The cause of a request that did not succeed: its transport failure, or
 * its HTTP status class (other statuses: protocol). */
enum ctl_target_cause tgt_req_cause(const struct tgt_req *r);

/* Writes s's offer into tg->buf. Its length, or a negative errno. */
int tgt_make_offer(struct ctl_target *tg, struct tsess *s);

/* The answer `sdp` (len bytes) of s: parsed into its slot and published,
 * or the session fails with cause sdp. */
void tgt_answer(struct ctl_target *tg, struct tsess *s, const char *sdp, size_t len);

/* The publishers a subscriber receives (janus-videoroom). */
struct tgt_feeds {
    uint8_t n;
    uint32_t agent[RI_TARGET_FEEDS]; /* their agents (the src of their messages) */
    uint32_t ssrc[RI_TARGET_FEEDS];  /* the SSRC of each audio line of the server's offer, 0 none */
};

/* Hands a parsed answer `a` to s's slot and publishes it; f: s answered
 * the server's offer (a subscriber: a is what the offer says of the
 * server) and receives these feeds; NULL: s offered. Fails s (slot)
 * when the slot is still busy; ends it once stopping. */
void tgt_publish(struct ctl_target *tg, struct tsess *s, const struct tgt_answer *a,
                 const struct tgt_feeds *f);

/* Teardown of s is over (deleted: the server said it ended). */
void tgt_ended(struct ctl_target *tg, struct tsess *s, bool deleted);

/* The timeout of the next request: the configured one, cut to what is
 * left of the grace once stopping. ms >= 1. */
uint64_t tgt_timeout_ms(const struct ctl_target *tg);

/* Makes sure tg->buf holds cap bytes. 0 or -ENOMEM. */
int tgt_buf(struct ctl_target *tg, size_t cap);

/* A random transaction id (16 characters) into out[20]. */
void tgt_txn(struct ctl_target *tg, char out[20]);

/* Janus requests (janus_req.c), for the EchoTest and VideoRoom flows. */
/* Appends s (n bytes) as a JSON string body (no quotes) to out[cap] at *o;
 * false when it does not fit. */
bool tgt_json_escape(char *out, size_t cap, size_t *o, const char *s, size_t n);
/* --target-token as Janus's api_secret: auth = "\"apisecret\":\"TOKEN\"," to
 * open a request's JSON object, query = "&apisecret=TOKEN" for a GET; both
 * "" without a token. */
void tgt_janus_auth(const struct ctl_target *tg, char *auth, size_t acap, char *query, size_t qcap);
/* The length of the base URL without a trailing '/'. */
int tgt_janus_base_len(const struct ctl_target *tg);
/* POSTs json to url on request r. */
int tgt_janus_post(struct ctl_target *tg, struct tgt_req *r, const char *url, const char *json);
/* Closes a message object at json[o] with ,"jsep":{type, trickle:false,
 * sdp}}. 0 or -ENOSPC. */
int tgt_janus_with_jsep(char *json, size_t cap, size_t o, const char *type, const char *sdp, size_t len);

/* Counters of the results (single writer: the target thread; the main
 * thread may read them at any time). */
#define TGT_ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)

#endif

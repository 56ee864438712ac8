/* SPDX-License-Identifier: MIT */
/*
 * us: the usrsctp baseline backend (swarmgen-usrsctp) — shared context and
 * worker state.
 *
 * The architecture user-space WebRTC stacks use (libwebrtc, libdatachannel):
 * one kernel UDP socket per endpoint (a host candidate), ICE checks with our
 * crypto/ice engine, DTLS 1.2 on mbedTLS's own ssl context for the handshake
 * and for every record after it, SCTP by usrsctp over AF_CONN (its packets
 * handed to mbedtls_ssl_write by the conn_output callback, mbedtls_ssl_read's
 * plaintext handed to usrsctp_conninput), DataChannels by DCEP written here
 * over usrsctp_sendv. Workers are pthreads pinned one per core; a worker owns
 * the edges the run image gives it (both endpoints of each) and the agents
 * whose messages it generates, exactly as in swarmgen-dp. It writes only its
 * own metrics block (relaxed stores) and answers snapshot requests.
 *
 * Threads and usrsctp: usrsctp is one stack per process. It runs without
 * its own threads (usrsctp_init_nothreads); worker 0 drives its timers
 * (usrsctp_handle_timers every 10 ms, the tick of usrsctp's own timer
 * thread) from its loop. A timer may therefore emit a
 * packet of an association that another worker owns: conn_output then
 * queues the packet on the owner's foreign-output queue (a mutex that is a
 * leaf lock) and the owner encrypts and sends it in its next pass. mbedTLS
 * contexts and sockets are only ever touched by their owner.
 *
 * Time: each pass reads the TSC once; `now` (ns since the worker started,
 * from CLOCK_MONOTONIC's rate) drives ICE, the DTLS timers and set-up
 * deadlines; messages carry the TSC, latency is measured on it.
 */
#ifndef SWARMGEN_US_H
#define SWARMGEN_US_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>

#include "dtls.h"
#include "ice.h"
#include "mbed_glue.h"
#include "run_image.h"
#include "traffic.h"
#include "us_ring.h"

struct sig_keypair;
struct socket;

#define US_N_CERTS   8 /* certificates per worker, shared by its endpoints */
#define US_DGRAM_MAX 2048u
#define US_SCTP_PORT 5000
#define US_N_STREAMS 16
#define US_SCTP_MTU  1200 /* SCTP packet size inside a DTLS record */
#define US_DTLS_MTU  1280 /* UDP payload: the record of a US_SCTP_MTU packet (37 bytes more) fits  \
                           */
#define US_FOREIGN_SLOTS 4096 /* packets another thread's usrsctp timer emitted for us */
#define US_RING_BYTES    (4u << 20)
#define US_PPID_DCEP     50
#define US_PPID_BINARY   53

/* Where an endpoint is in set-up; a failed attempt counts in its stage. */
enum us_ep_stage { US_EP_ICE, US_EP_DTLS, US_EP_SCTP, US_EP_DC, US_EP_UP };

enum us_conn_state { US_CONN_QUEUED, US_CONN_SETUP, US_CONN_UP, US_CONN_GIVEN_UP, US_CONN_CLOSED };

struct us_worker;

/* One endpoint of a peer connection: agent `a` (side 0: ICE controlling,
 * DTLS client, opens the channel) or agent `b` (side 1). */
struct us_ep {
    struct us_worker *wk;
    uint32_t conn; /* index in wk->conns */
    uint8_t side;
    uint8_t stage; /* enum us_ep_stage */
    bool ssl_on;   /* ssl holds a context (an attempt is running or the connection is up) */
    bool hs_done, sctp_up, dc_open, failed;
    uint8_t fail_stage;             /* enum ri_stage when failed */
    int fd;                         /* kernel UDP socket, connected to the peer endpoint */
    uint16_t sid;                   /* the DataChannel's stream */
    uint64_t t_stage[US_EP_UP + 1]; /* ns when each stage was reached */
    struct ice_agent ice;
    mbedtls_ssl_context ssl;
    const uint8_t *in; /* the rest of the datagram being read (bio_recv: record by record) */
    size_t in_len;
    bool rec_app; /* the last record handed to mbedTLS after the handshake was application
                     data and gave no plaintext yet */
    struct mbed_glue_timer timer; /* mbedTLS's retransmission timer, on wk->now */
    uint8_t peer_fp[32];
    uint8_t client_id[6];  /* the peer's address, bound by the server's cookie */
    struct socket *sock;   /* usrsctp, AF_CONN, one-to-one */
    uint64_t sctp_rx_fill; /* bytes of a partial message in wk->rx */
};

struct us_conn {
    struct us_ep ep[2];
    uint32_t edge;
    uint8_t state; /* enum us_conn_state */
    uint8_t attempts;
    uint8_t up_mask;
    uint32_t setup_pos; /* index in wk->setup while in set-up */
    uint64_t t_attempt;
};

/* A packet usrsctp emitted on another thread for one of our endpoints. */
struct us_foreign {
    struct us_ep *ep;
    uint16_t len;
    uint8_t data[US_SCTP_MTU + 64];
};

struct us_ctx;

/* Per-worker state; written only by its thread, except the foreign-output
 * queue (under fo_lock). */
/* A certificate as mbedTLS holds it: made by our generator (dtls_cert.h)
 * and parsed by mbedTLS, so both stacks use certificates of one shape. */
struct us_cert {
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    uint8_t fingerprint[32];
};

struct us_worker {
    uint32_t idx, cpu;
    pthread_t th;
    bool started;
    struct us_ctx *ctx;
    struct ri_metrics *m;
    struct ri_agent_view av; /* this worker's per-agent figures (RI_SEC_AGENT_STATS) */
    int epfd;

    uint32_t n_conns;
    struct us_conn *conns; /* edges whose owner is this worker, ascending */
    uint32_t *queue;       /* connections waiting to start: a ring of n_conns */
    uint32_t q_head, q_len;
    uint32_t *setup; /* connections in set-up (at most setup_cap) */
    uint32_t n_setup;
    uint32_t hs_active, hs_high_water;

    struct traffic_gen traffic; /* the agents this worker generates for, their sequence numbers, pacing, generator */
    uint64_t snap_seen;

    uint64_t tsc0, tsc;     /* TSC at start and of this pass */
    uint64_t now;           /* ns of this pass (never 0) */
    uint64_t last_timer_ms; /* worker 0: usrsctp timers advanced up to here */
    uint64_t next_sweep;    /* ns of the next look at established sockets */

    uint64_t drbg_state;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_cookie_ctx cookie;
    struct us_cert certs[US_N_CERTS];
    mbedtls_ssl_config conf[2][US_N_CERTS]; /* [server][certificate] */
    bool conf_ready;

    pthread_mutex_t fo_lock;
    struct us_foreign *fo; /* US_FOREIGN_SLOTS */
    uint32_t fo_n;
    uint64_t fo_dropped; /* guarded by fo_lock */

    uint8_t *rx;  /* a received SCTP message (RI_MSG_MAX) */
    uint8_t *gen; /* the generated message */
    uint8_t *tmp; /* a message from another worker's ring */
    char *keylog; /* keylog_cap lines */
    uint32_t keylog_n, keylog_cap;

    /* usrsctp's process-wide counters already folded (worker 0) */
    uint64_t seen_retrans, seen_sacks;
} __attribute__((aligned(64)));

struct us_ctx {
    struct ri_view ri; /* the run image */

    uint32_t n_workers;
    uint32_t cpus[RI_MAX_WORKERS];
    struct us_worker *worker[RI_MAX_WORKERS];
    uint32_t *edge_local;                                 /* edge -> index in its owner's conns */
    struct us_ring *ring[RI_MAX_WORKERS][RI_MAX_WORKERS]; /* [from][to] agent messages */
    struct sig_keypair *sig_keys;
    uint64_t tsc_hz;
    double ns_per_cycle;
    uint64_t conn_bytes; /* preallocated per-connection state, all workers */
    uint64_t worker_bytes;
    int workers_done; /* atomic: worker threads that returned */
    /* Tests without sockets (tests/baseline/fuzz_usrsctp.c): when set
     * before us_setup, no UDP socket or epoll instance is made and every
     * datagram an endpoint sends is handed to tx (with tx_arg) instead of
     * send(); the caller delivers datagrams with us_ep_input and drives
     * us_conns_poll and usrsctp's timers itself. NULL in swarmgen-usrsctp. */
    void (*tx)(void *arg, struct us_ep *ep, const uint8_t *d, size_t len);
    void *tx_arg;
};

/* Set by SIGINT/SIGTERM; workers return at their next pass. */
extern volatile bool us_stop;

/* The TSC (rdtsc). */
static inline uint64_t us_rdtsc(void)
{
    return __builtin_ia32_rdtsc();
}

/* Builds the workers, their sockets (none when ctx->tx is set),
 * certificates and mbedTLS configs from the mapped image (ctx->ri.hdr set,
 * cpus and n_workers given). On failure writes one line into err and
 * returns a negative errno. Main thread. */
int us_setup(struct us_ctx *ctx, char *err, size_t errlen);

/* Frees what us_setup made (workers stopped). */
void us_teardown(struct us_ctx *ctx);

/* Thread entry of worker `arg` (struct us_worker *). */
void *us_worker_loop(void *arg);

/* usrsctp's conn_output: the packet of endpoint `addr` (struct us_ep *).
 * Any thread. */
int us_conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df);

/* Marks the calling thread as worker wk's (conn_output sends directly on
 * the owner's thread, queues the packet for the owner on any other). */
void us_conn_bind_thread(struct us_worker *wk);

/* Connection engine (us_conn.c), worker thread only: */

/* Starts queued connections up to the cap; runs set-up deadlines. Returns
 * true when it did something. */
bool us_conns_poll(struct us_worker *wk);

/* One datagram received on endpoint (conn c, side s). */
void us_ep_input(struct us_worker *wk, struct us_conn *c, int s, const uint8_t *d, size_t len);

/* Sends datagram d (len bytes) from endpoint ep to its peer: on its
 * connected UDP socket, or to ctx->tx when set. Counts it as sent, or as
 * RI_DROP_TX_FULL when the socket buffer is full (lost on the way, as on a
 * congested link: ICE, DTLS and SCTP retransmit). Owner's thread. */
void us_ep_send(struct us_ep *ep, const uint8_t *d, size_t len);

/* Sends the packets other threads queued for our endpoints. */
bool us_foreign_flush(struct us_worker *wk);

/* Reads what usrsctp has for the established connections (timer-made
 * notifications: a lost association). */
void us_conns_sweep(struct us_worker *wk);

/* Sends agent message `msg` from agent `from` over edge e (ours, or handed
 * to its owner through the ring). */
void us_send_msg(struct us_worker *wk, uint32_t from, uint32_t e, const uint8_t *msg, uint32_t len);

/* A DataChannel message received by agent `receiver` over edge e. */
void us_on_message(struct us_worker *wk, uint32_t receiver, uint32_t e, uint8_t *msg, uint32_t len);

/* Generates n messages from the first n_active local agents. */
void us_generate(struct us_worker *wk, uint32_t n, uint32_t n_active);

/* The loopback address (network order) of agent ip (host order):
 * 198.18.x.y -> 127.18.x.y. */
static inline uint32_t us_loop_ip(uint32_t ip)
{
    return (ip & 0x00ffffffu) | 0x7f000000u;
}


#endif

/* SPDX-License-Identifier: MIT */
/*
 * prom: live metrics for Prometheus — the text exposition format (0.0.4)
 * served over HTTP by the control process with io_uring.
 *
 *   GET /metrics  -> 200, text/plain; version=0.0.4
 *   anything else -> 404 (405 for other methods)
 *
 * The run loop publishes a rendered page once a second (ctl_prom_publish,
 * which swaps it under a mutex: control's slow path, never the dataplane's);
 * a server thread owns an io_uring with multishot accept, receives requests
 * and sends the latest page, partial sends resumed.
 *
 * At most CTL_PROM_MAX_CLIENTS connections at once (more are closed at
 * accept). Each has a deadline: its request head must arrive within the
 * client timeout (CTL_PROM_TIMEOUT_MS, 10 s) of the accept, and the response
 * must then be taken within another; a client past it is shut down, so idle
 * or trickling clients cannot hold the slots. The thread checks the
 * deadlines every quarter of the timeout (at most every second).
 */
#ifndef SWARMGEN_CONTROL_PROM_H
#define SWARMGEN_CONTROL_PROM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "met_stats.h"

#define CTL_PROM_MAX_CLIENTS 64    /* connections at once */
#define CTL_PROM_TIMEOUT_MS  10000 /* a client's deadline for its request, then for the response */

struct ctl_prom {
    pthread_t thread;
    bool running;
    int listen_fd;
    int wake_fd;              /* eventfd: tells the thread to stop */
    uint16_t port;            /* bound port (useful with :0) */
    uint32_t timeout_ms;      /* a client's deadline (CTL_PROM_TIMEOUT_MS) */
    char addr_text[64];
    pthread_mutex_t lock;
    char *page;               /* latest exposition, owned, under lock */
    size_t page_len;
    uint64_t scrapes;         /* served /metrics responses */
};

/* What a page shows besides the counters. */
struct ctl_prom_info {
    uint64_t tsc_hz;
    uint32_t agents;
    uint64_t edges;
    bool connections;         /* --traffic dc: the page has the connection metrics */
    const char *phase;        /* current phase name ("connect" during the connect phase) */
    double target_rate;       /* msgs/s */
    double elapsed_s;
    const struct ri_external *external; /* --external: the external-peer families (NULL: none) */
    uint64_t series_bytes;    /* memory control holds for the per-second series (rows written, RSS samples) */
};

/* Parses "ADDR:PORT" ("127.0.0.1:9100", "[::1]:9100", ":9100" = 127.0.0.1),
 * binds, listens and starts the server thread with the client timeout
 * CTL_PROM_TIMEOUT_MS. Returns 0, or a negative errno with the reason in
 * err (-EINVAL: not ADDR:PORT). Main thread. */
int ctl_prom_start(struct ctl_prom *p, const char *addr_port, char *err, size_t errlen);

/* ctl_prom_start with a client timeout of timeout_ms (0: the default;
 * tests use a short one). */
int ctl_prom_start_timeout(struct ctl_prom *p, const char *addr_port, uint32_t timeout_ms,
                           char *err, size_t errlen);

/* Renders the page for snapshot `s` and makes it the one served. */
void ctl_prom_publish(struct ctl_prom *p, const struct ctl_snap *s, const struct ctl_prom_info *info);

/* Stops the thread, closes every socket, frees the page. Safe twice. */
void ctl_prom_stop(struct ctl_prom *p);

/* Writes the exposition for `s` into buf (NUL-terminated). Returns the
 * length, or the length it would have needed (> cap - 1) when truncated. */
size_t ctl_prom_render(char *buf, size_t cap, const struct ctl_snap *s,
                       const struct ctl_prom_info *info);

#endif

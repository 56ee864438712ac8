/* SPDX-License-Identifier: MIT */
/*
 * prom_internal: the request side of the Prometheus endpoint without
 * sockets or io_uring (prom_http.c), so that tests and fuzz_prom drive the
 * same code the server thread runs. No clock, no globals; slow path.
 *
 * A connection receives into req->buf at req->buf + req->len (at most
 * ctl_prom_req_space bytes), then hands the count to ctl_prom_req_received,
 * which says whether the head is complete and, if so, what it asks for.
 */
#ifndef SWARMGEN_CONTROL_PROM_INTERNAL_H
#define SWARMGEN_CONTROL_PROM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_PROM_REQ_MAX 4096 /* a request head, with its terminating NUL */

/* What a request asks for, once its head has arrived. */
enum ctl_prom_route {
    CTL_PROM_MORE = 0,     /* head not complete yet: receive more */
    CTL_PROM_TOO_LARGE,    /* head fills the buffer without ending: close */
    CTL_PROM_METRICS,      /* GET or HEAD /metrics (with or without a query): 200 */
    CTL_PROM_NOT_FOUND,    /* GET or HEAD of another path: 404 */
    CTL_PROM_NOT_ALLOWED,  /* another method: 405 */
};

struct ctl_prom_req {
    char buf[CTL_PROM_REQ_MAX]; /* NUL-terminated at len */
    size_t len;
};

/* Empties req for a new connection. */
void ctl_prom_req_reset(struct ctl_prom_req *req);

/* Bytes that may be received at req->buf + req->len (never 0 while the
 * route is CTL_PROM_MORE). */
size_t ctl_prom_req_space(const struct ctl_prom_req *req);

/* Counts n more bytes received at req->buf + req->len (n at most
 * ctl_prom_req_space; more is clamped) and routes the request: CTL_PROM_MORE
 * until the head ends (CRLF CRLF or LF LF), CTL_PROM_TOO_LARGE when the
 * buffer is full first, else the route. *head is set to true for a HEAD
 * request (no body in the response). */
enum ctl_prom_route ctl_prom_req_received(struct ctl_prom_req *req, size_t n, bool *head);

/* Builds the whole response (status line, headers, body unless head) for a
 * route other than MORE and TOO_LARGE; page/page_len is the exposition for
 * CTL_PROM_METRICS (NULL: none published yet, an empty 200). Returns a
 * malloc'd buffer the caller frees and sets *len, or NULL when out of
 * memory or the route has no response. */
char *ctl_prom_response(enum ctl_prom_route route, bool head, const char *page, size_t page_len, size_t *len);

#endif

/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the Prometheus endpoint's request handling
 * (prom_http.c: ctl_prom_req_received, ctl_prom_response), the code its
 * server thread runs on each recv completion, on whole connections.
 *
 * Input: records as tests/common/fuzz_input.h reads them; each record is
 * one recv's bytes (its length taken modulo the room the connection has
 * left, so a head can reach the 4 KiB limit). A connection ends when its
 * request is routed; the next record starts a new one. The flags byte of the
 * record that completes a request picks the published page: bit 0 none
 * (NULL), else a page of (flags >> 1) * 97 bytes.
 *
 * Checked: a head is routed only once it holds an empty line; TOO_LARGE
 * only with a full buffer; METRICS only for GET or HEAD of /metrics; every
 * response is one status line, headers whose Content-Length is the body
 * length, and a body exactly when it is not a HEAD (405s have one). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "prom_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char page_buf[128 * 97];

static void check_response(const struct ctl_prom_req *req, enum ctl_prom_route route, bool head, uint8_t flags)
{
    const char *page = (flags & 1) ? NULL : page_buf;
    size_t page_len = page ? (size_t)(flags >> 1) * 97 : 0;
    if (route == CTL_PROM_METRICS &&
        strncmp(req->buf, head ? "HEAD /metrics" : "GET /metrics", head ? 13 : 12) != 0)
        __builtin_trap();
    if (head && strncmp(req->buf, "HEAD ", 5) != 0)
        __builtin_trap();
    size_t len = 0;
    char *resp = ctl_prom_response(route, head, page, page_len, &len);
    if (!resp)
        __builtin_trap(); /* every route but MORE/TOO_LARGE answers */
    char *hdr = malloc(len + 1);
    if (!hdr)
        abort();
    memcpy(hdr, resp, len);
    hdr[len] = '\0';
    char *end = strstr(hdr, "\r\n\r\n");
    const char *cl = strstr(hdr, "\r\nContent-Length: ");
    if (strncmp(hdr, "HTTP/1.1 ", 9) != 0 || !end || !cl || cl > end)
        __builtin_trap();
    size_t body = strtoul(cl + 18, NULL, 10);
    size_t hl = (size_t)(end + 4 - hdr);
    if (len != hl + (head ? 0 : body))
        __builtin_trap();
    if (route == CTL_PROM_METRICS && body != page_len)
        __builtin_trap();
    if (route == CTL_PROM_METRICS && !head && page_len && memcmp(resp + hl, page, page_len) != 0)
        __builtin_trap();
    free(hdr);
    free(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    if (!page_buf[0])
        memset(page_buf, 'm', sizeof(page_buf));
    static struct ctl_prom_req req;
    ctl_prom_req_reset(&req);
    size_t off = 0, n;
    uint8_t flags;
    while (fuzz_next(data, size, &off, (uint8_t *)req.buf + req.len, ctl_prom_req_space(&req) + 1, &n, &flags)) {
        bool head = true;
        enum ctl_prom_route route = ctl_prom_req_received(&req, n, &head);
        if (route == CTL_PROM_MORE) {
            if (head || strstr(req.buf, "\r\n\r\n") || strstr(req.buf, "\n\n") || ctl_prom_req_space(&req) == 0)
                __builtin_trap();
            continue;
        }
        if (route == CTL_PROM_TOO_LARGE) {
            if (req.len != CTL_PROM_REQ_MAX - 1)
                __builtin_trap();
        } else {
            if (!strstr(req.buf, "\r\n\r\n") && !strstr(req.buf, "\n\n"))
                __builtin_trap();
            check_response(&req, route, head, flags);
        }
        ctl_prom_req_reset(&req); /* the connection closes; the next record is a new one */
    }
    return 0;
}

/* SPDX-License-Identifier: MIT */
/* The Prometheus endpoint's requests and responses, apart from its sockets
 * (prom_internal.h). */
#include "prom_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ctl_prom_req_reset(struct ctl_prom_req *req)
{
    req->len = 0;
    req->buf[0] = '\0';
}

size_t ctl_prom_req_space(const struct ctl_prom_req *req)
{
    return req->len < CTL_PROM_REQ_MAX - 1 ? CTL_PROM_REQ_MAX - 1 - req->len : 0;
}

enum ctl_prom_route ctl_prom_req_received(struct ctl_prom_req *req, size_t n, bool *head)
{
    size_t space = ctl_prom_req_space(req);
    if (n > space)
        n = space;
    req->len += n;
    req->buf[req->len] = '\0';
    *head = false;
    if (!strstr(req->buf, "\r\n\r\n") && !strstr(req->buf, "\n\n"))
        return req->len >= CTL_PROM_REQ_MAX - 1 ? CTL_PROM_TOO_LARGE : CTL_PROM_MORE;
    if (strncmp(req->buf, "GET ", 4) != 0 && strncmp(req->buf, "HEAD ", 5) != 0)
        return CTL_PROM_NOT_ALLOWED;
    *head = req->buf[0] == 'H';
    const char *path = req->buf + (*head ? 5 : 4);
    if (strncmp(path, "/metrics ", 9) == 0 || strncmp(path, "/metrics?", 9) == 0)
        return CTL_PROM_METRICS;
    return CTL_PROM_NOT_FOUND;
}

char *ctl_prom_response(enum ctl_prom_route route, bool head, const char *page, size_t page_len, size_t *len)
{
    const char *status, *ctype = "text/plain; charset=utf-8", *body;
    size_t body_len;
    switch (route) {
    case CTL_PROM_METRICS:
        status = "200 OK";
        ctype = "text/plain; version=0.0.4; charset=utf-8";
        body = page ? page : "";
        body_len = page ? page_len : 0;
        break;
    case CTL_PROM_NOT_FOUND:
        status = "404 Not Found";
        body = "not found: try /metrics\n";
        body_len = strlen(body);
        break;
    case CTL_PROM_NOT_ALLOWED:
        status = "405 Method Not Allowed";
        body = "only GET\n";
        body_len = strlen(body);
        head = false; /* not a HEAD request */
        break;
    default:
        return NULL;
    }
    char hdr[256];
    int hl = snprintf(hdr, sizeof(hdr),
                      "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                      status, ctype, body_len);
    if (hl < 0 || (size_t)hl >= sizeof(hdr))
        return NULL;
    size_t total = (size_t)hl + (head ? 0 : body_len);
    char *resp = malloc(total);
    if (!resp)
        return NULL;
    memcpy(resp, hdr, (size_t)hl);
    if (!head)
        memcpy(resp + hl, body, body_len);
    *len = total;
    return resp;
}

/* SPDX-License-Identifier: MIT */
/* libcurl's multi interface for the target thread: see target_internal.h.
 * One multi handle keeps the connections (keep-alive) of every request;
 * each request has its own easy handle while in flight. */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target_internal.h"

struct tgt_http {
    CURLM *multi;
    uint32_t inflight;
};

int tgt_http_new(struct tgt_http **out)
{
    struct tgt_http *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return -ENOMEM;
    }
    *out = h;
    return 0;
}

void tgt_http_free(struct tgt_http *h)
{
    if (!h)
        return;
    curl_multi_cleanup(h->multi);
    free(h);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct tgt_req *r = arg;
    size_t len = size * n;
    if (r->resp_len + len + 1 > TGT_HTTP_BODY_MAX) {
        r->resp_too_big = true;
        return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
    }
    if (r->resp_len + len + 1 > r->resp_cap) {
        size_t cap = r->resp_cap ? r->resp_cap : 4096;
        while (cap < r->resp_len + len + 1)
            cap *= 2;
        char *p = realloc(r->resp, cap);
        if (!p)
            return 0;
        r->resp = p;
        r->resp_cap = cap;
    }
    memcpy(r->resp + r->resp_len, data, len);
    r->resp_len += len;
    r->resp[r->resp_len] = '\0';
    return len;
}

/* Keeps the Location and Content-Type of the reply (the last response's:
 * a 100 Continue resets them). */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct tgt_req *r = arg;
    size_t len = size * n;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        r->location[0] = '\0';
        r->content_type[0] = '\0';
        return len;
    }
    const char *colon = memchr(data, ':', len);
    if (!colon)
        return len;
    size_t nl = (size_t)(colon - data);
    char *dst = NULL;
    size_t cap = 0;
    if (nl == 8 && strncasecmp(data, "Location", 8) == 0) {
        dst = r->location;
        cap = sizeof(r->location);
    } else if (nl == 12 && strncasecmp(data, "Content-Type", 12) == 0) {
        dst = r->content_type;
        cap = sizeof(r->content_type);
    } else {
        return len;
    }
    const char *v = colon + 1, *e = data + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t vl = (size_t)(e - v);
    if (vl >= cap)
        vl = 0; /* too long to be ours: as if absent */
    memcpy(dst, v, vl);
    dst[vl] = '\0';
    return len;
}

void tgt_http_req_free(struct tgt_req *r)
{
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
    free(r->body);
    r->body = NULL;
    free(r->resp);
    r->resp = NULL;
    r->resp_len = r->resp_cap = 0;
}

int tgt_http_start(struct tgt_http *h, struct tgt_req *r, enum tgt_method m, const char *url,
                   const char *content_type, const char *body, size_t body_len, const char *token,
                   uint64_t timeout_ms)
{
    if (r->easy)
        return -EINVAL;
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
    free(r->body);
    r->body = NULL;
    r->resp_len = 0;
    if (r->resp)
        r->resp[0] = '\0';
    r->resp_too_big = false;
    r->status = 0;
    r->curl_rc = 0;
    r->transport = CTL_TGT_CAUSE_NONE;
    r->location[0] = r->content_type[0] = '\0';

    CURL *e = curl_easy_init();
    if (!e)
        return -ENOMEM;
    char line[320];
    struct curl_slist *hd = NULL, *t;
    if (content_type) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        if (!(t = curl_slist_append(hd, line)))
            goto nomem;
        hd = t;
    }
    if (token && token[0]) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        if (!(t = curl_slist_append(hd, line)))
            goto nomem;
        hd = t;
    }
    if (!(t = curl_slist_append(hd, "Expect:"))) /* no 100-continue round trip */
        goto nomem;
    hd = t;
    r->hdrs = hd;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "swarmgen");
    if (m == TGT_POST) {
        r->body = malloc(body_len + 1);
        if (!r->body)
            goto nomem;
        memcpy(r->body, body, body_len);
        r->body[body_len] = '\0';
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (m == TGT_DELETE) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        return -ENOMEM;
    }
    r->easy = e;
    h->inflight++;
    return 0;
nomem:
    curl_slist_free_all(hd);
    r->hdrs = NULL;
    curl_easy_cleanup(e);
    return -ENOMEM;
}

static void detach(struct tgt_http *h, struct tgt_req *r)
{
    curl_multi_remove_handle(h->multi, r->easy);
    curl_easy_cleanup(r->easy);
    r->easy = NULL;
    h->inflight--;
}

void tgt_http_cancel(struct tgt_http *h, struct tgt_req *r)
{
    if (r->easy)
        detach(h, r);
}

int tgt_http_poll(struct tgt_http *h, int timeout_ms)
{
    int running;
    if (curl_multi_poll(h->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK)
        return -EIO;
    if (curl_multi_perform(h->multi, &running) != CURLM_OK)
        return -EIO;
    return 0;
}

static enum ctl_target_cause transport_cause(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return CTL_TGT_CAUSE_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return CTL_TGT_CAUSE_CONNECT;
    default:
        return CTL_TGT_CAUSE_PROTOCOL; /* a reply that is not HTTP we can read */
    }
}

struct tgt_req *tgt_http_next(struct tgt_http *h)
{
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct tgt_req *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode rc = msg->data.result;
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        r->curl_rc = (int)rc;
        if (rc == CURLE_OK && status >= 100 && status <= 599) {
            r->status = (int)status;
        } else {
            r->status = 0;
            r->transport = r->resp_too_big ? CTL_TGT_CAUSE_PROTOCOL : transport_cause(rc);
        }
        detach(h, r);
        return r;
    }
    return NULL;
}

void tgt_http_wakeup(struct tgt_http *h)
{
    curl_multi_wakeup(h->multi);
}

uint32_t tgt_http_inflight(const struct tgt_http *h)
{
    return h->inflight;
}

int tgt_url_resolve(const char *base, const char *ref, char *out, size_t cap)
{
    CURLU *u = curl_url();
    if (!u)
        return -ENOMEM;
    int rc = -EINVAL;
    char *s = NULL;
    if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK && strlen(s) < cap) {
        memcpy(out, s, strlen(s) + 1);
        rc = 0;
    }
    curl_free(s);
    curl_url_cleanup(u);
    return rc;
}

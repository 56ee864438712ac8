/* SPDX-License-Identifier: MIT */
/*
 * Janus HTTP API requests as both flows build them (janus_client.c for
 * EchoTest, janus_videoroom.c for VideoRoom): the base URL, the
 * --target-token as Janus's api_secret, JSON string escaping, the jsep
 * member, and the POST itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "target_sess.h"

bool tgt_json_escape(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[8];
        int k;
        if (c == '"' || c == '\\')
            k = snprintf(e, sizeof(e), "\\%c", c);
        else if (c == '\r')
            k = snprintf(e, sizeof(e), "\\r");
        else if (c == '\n')
            k = snprintf(e, sizeof(e), "\\n");
        else if (c < 0x20)
            k = snprintf(e, sizeof(e), "\\u%04x", c);
        else
            k = snprintf(e, sizeof(e), "%c", c);
        if (*o + (size_t)k + 1 > cap)
            return false;
        memcpy(out + *o, e, (size_t)k);
        *o += (size_t)k;
    }
    out[*o] = '\0';
    return true;
}

void tgt_janus_auth(const struct ctl_target *tg, char *auth, size_t acap, char *query, size_t qcap)
{
    auth[0] = query[0] = '\0';
    if (!tg->cfg.token[0])
        return;
    snprintf(auth, acap, "\"apisecret\":\"%s\",", tg->cfg.token);
    /* '+', '/' and '=' percent-encoded in the query (the token's other
     * characters are unreserved in URLs) */
    size_t o = (size_t)snprintf(query, qcap, "&apisecret=");
    for (const char *p = tg->cfg.token; *p && o + 4 < qcap; p++) {
        if (*p == '+' || *p == '/' || *p == '=')
            o += (size_t)snprintf(query + o, qcap - o, "%%%02X", (unsigned char)*p);
        else
            query[o++] = *p;
    }
    query[o] = '\0';
}

int tgt_janus_base_len(const struct ctl_target *tg)
{
    size_t n = strlen(tg->cfg.url);
    while (n > 0 && tg->cfg.url[n - 1] == '/')
        n--;
    return (int)n;
}

int tgt_janus_post(struct ctl_target *tg, struct tgt_req *r, const char *url, const char *json)
{
    return tgt_http_start(tg->http, r, TGT_POST, url, "application/json", json, strlen(json), NULL,
                          tgt_timeout_ms(tg));
}

int tgt_janus_with_jsep(char *json, size_t cap, size_t o, const char *type, const char *sdp, size_t len)
{
    int k = snprintf(json + o, cap - o, ",\"jsep\":{\"type\":\"%s\",\"trickle\":false,\"sdp\":\"", type);
    if (k < 0 || (size_t)k >= cap - o)
        return -ENOSPC;
    o += (size_t)k;
    if (!tgt_json_escape(json, cap, &o, sdp, len) || o + 4 > cap)
        return -ENOSPC;
    memcpy(json + o, "\"}}", 4);
    return 0;
}

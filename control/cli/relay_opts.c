/* SPDX-License-Identifier: MIT */
/* --relay turn:HOST:PORT,user=U,pass=P[,realm=R][,transport=udp|tcp] */
#include "relay_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#define FORM "turn:HOST:PORT,user=U,pass=P[,realm=R][,transport=udp|tcp]"

/* Copies the value of a key (len bytes at v) into dst (cap bytes). */
static int take(const char *key, const char *v, size_t len, char *dst, size_t cap, char *err, size_t errlen)
{
    if (len == 0 || len >= cap) {
        snprintf(err, errlen, "%s= must have 1..%zu characters", key, cap - 1);
        return -EINVAL;
    }
    memcpy(dst, v, len);
    dst[len] = 0;
    return 0;
}

static int parse_hostport(const char *s, size_t len, struct ctl_relay *out, char *err, size_t errlen)
{
    char buf[64];
    const char *colon = memchr(s, ':', len);
    if (!colon || len >= sizeof(buf)) {
        snprintf(err, errlen, "'%.*s' is not HOST:PORT with an IPv4 HOST (" FORM ")", (int)len, s);
        return -EINVAL;
    }
    size_t hl = (size_t)(colon - s);
    memcpy(buf, s, hl);
    buf[hl] = 0;
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1 || a.s_addr == 0) {
        snprintf(err, errlen, "'%s' is not an IPv4 address (HOST of " FORM ")", buf);
        return -EINVAL;
    }
    out->ip = ntohl(a.s_addr);
    size_t pl = len - hl - 1;
    memcpy(buf, colon + 1, pl);
    buf[pl] = 0;
    char *end;
    unsigned long port = strtoul(buf, &end, 10);
    if (pl == 0 || *end || buf[0] == '+' || buf[0] == '-' || port == 0 || port > 65535) {
        snprintf(err, errlen, "port '%s' is not 1..65535", buf);
        return -EINVAL;
    }
    out->port = (uint16_t)port;
    return 0;
}

int ctl_relay_parse(const char *s, struct ctl_relay *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(s, "turns:", 6) == 0) {
        snprintf(err, errlen, "turns: (TLS to the server) is not supported yet; use turn:");
        return -ENOTSUP;
    }
    if (strncmp(s, "turn:", 5) != 0) {
        snprintf(err, errlen, "'%.20s...' is not " FORM, s);
        return -EINVAL;
    }
    s += 5;
    const char *comma = strchr(s, ',');
    size_t hl = comma ? (size_t)(comma - s) : strlen(s);
    int rc = parse_hostport(s, hl, out, err, errlen);
    if (rc < 0)
        return rc;
    bool tcp = false;
    s = comma ? comma + 1 : s + hl;
    while (comma && *s) {
        comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        size_t kl = eq ? (size_t)(eq - s) : len;
        const char *v = eq ? eq + 1 : NULL;
        size_t vl = eq ? len - kl - 1 : 0;
        if (!eq) {
            snprintf(err, errlen, "'%.*s' is not KEY=VALUE (" FORM ")", (int)len, s);
            return -EINVAL;
        }
        if (kl == 4 && memcmp(s, "user", 4) == 0)
            rc = take("user", v, vl, out->user, sizeof(out->user), err, errlen);
        else if (kl == 4 && memcmp(s, "pass", 4) == 0)
            rc = take("pass", v, vl, out->pass, sizeof(out->pass), err, errlen);
        else if (kl == 5 && memcmp(s, "realm", 5) == 0)
            rc = take("realm", v, vl, out->realm, sizeof(out->realm), err, errlen);
        else if (kl == 9 && memcmp(s, "transport", 9) == 0) {
            if (vl == 3 && memcmp(v, "udp", 3) == 0)
                tcp = false;
            else if (vl == 3 && memcmp(v, "tcp", 3) == 0)
                tcp = true;
            else {
                snprintf(err, errlen, "transport '%.*s' is not one of udp, tcp", (int)vl, v);
                return -EINVAL;
            }
        } else {
            snprintf(err, errlen, "unknown key '%.*s' (" FORM ")", (int)kl, s);
            return -EINVAL;
        }
        if (rc < 0)
            return rc;
        s += len + (comma ? 1 : 0);
    }
    if (!out->user[0] || !out->pass[0]) {
        snprintf(err, errlen, "needs user= and pass= (" FORM ")");
        return -EINVAL;
    }
    out->tcp = tcp;
    out->on = true;
    return 0;
}

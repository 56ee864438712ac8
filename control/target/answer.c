/* SPDX-License-Identifier: MIT */
/* The SDP answer of a target session: see target_internal.h. The SDP
 * structure comes from control/signal/sdp.c's parser (an answer has the
 * shape of an offer); what a target session needs is read off it here. */
#include <arpa/inet.h>
#include <errno.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>

#include "ice.h"
#include "target_internal.h"

/* A dotted-quad IPv4 address of exactly n bytes, host byte order. */
static bool ipv4(const char *s, size_t n, uint32_t *out)
{
    char buf[16];
    struct in_addr a;
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, &a) != 1)
        return false;
    *out = ntohl(a.s_addr);
    return true;
}

/* The c= address of m-line `want` (its own, else the session's): the
 * parser of sdp.c does not keep c= lines. */
static bool conn_addr(const char *text, size_t len, int want, uint32_t *ip)
{
    const char *p = text, *end = text + len;
    int cur = -1;
    bool have_sess = false, have_media = false;
    uint32_t sess = 0, media = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n >= 2 && p[0] == 'm' && p[1] == '=') {
            cur++;
        } else if (n > 9 && memcmp(p, "c=IN IP4 ", 9) == 0 && (cur == -1 || cur == want)) {
            const char *a = p + 9;
            size_t an = n - 9;
            const char *slash = memchr(a, '/', an); /* a multicast TTL */
            if (slash)
                an = (size_t)(slash - a);
            uint32_t v;
            if (ipv4(a, an, &v)) {
                if (cur == -1) {
                    sess = v;
                    have_sess = true;
                } else {
                    media = v;
                    have_media = true;
                }
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (have_media)
        *ip = media;
    else if (have_sess)
        *ip = sess;
    return have_media || have_sess;
}

static enum ri_cand_type cand_type(enum sdp_cand_type t)
{
    switch (t) {
    case SDP_CAND_SRFLX:
        return RI_CAND_SRFLX;
    case SDP_CAND_PRFLX:
        return RI_CAND_PRFLX;
    case SDP_CAND_RELAY:
        return RI_CAND_RELAY;
    case SDP_CAND_HOST:
    default:
        return RI_CAND_HOST;
    }
}

/* Inserts c by priority (highest first, stable), dropping duplicates and
 * what falls off the end. */
static void cand_add(struct tgt_answer *a, struct ri_target_cand c)
{
    for (unsigned i = 0; i < a->n_cands; i++)
        if (a->cand[i].ip == c.ip && a->cand[i].port == c.port)
            return;
    unsigned at = a->n_cands;
    while (at > 0 && a->cand[at - 1].priority < c.priority)
        at--;
    if (at >= RI_TARGET_CANDS)
        return;
    unsigned last = a->n_cands < RI_TARGET_CANDS ? a->n_cands : RI_TARGET_CANDS - 1;
    memmove(&a->cand[at + 1], &a->cand[at], (last - at) * sizeof(a->cand[0]));
    a->cand[at] = c;
    if (a->n_cands < RI_TARGET_CANDS)
        a->n_cands++;
}

int tgt_answer_parse(const char *text, size_t len, bool want_audio, struct tgt_answer *out,
                     struct sdp_offer *work, char *reason, size_t cap)
{
    return tgt_answer_parse_av(text, len, want_audio, false, out, work, reason, cap);
}

int tgt_answer_parse_av(const char *text, size_t len, bool want_audio, bool want_video, struct tgt_answer *out,
                        struct sdp_offer *work, char *reason, size_t cap)
{
    memset(out, 0, sizeof(*out));
    if (cap > 0)
        reason[0] = '\0';
    char why[160];
    if (sdp_parse_offer(text, len, work, why, sizeof(why)) != 0) {
        snprintf(reason, cap, "answer: %s", why);
        return -EINVAL;
    }
    const struct sdp_offer *o = work;
    size_t ul = strlen(o->ice_ufrag), pl = strlen(o->ice_pwd);
    _Static_assert(sizeof(out->ufrag) > ICE_UFRAG_MAX && sizeof(out->pwd) > ICE_PWD_MAX,
                   "a slot holds what the ICE agent takes");
    if (ul > ICE_UFRAG_MAX || pl > ICE_PWD_MAX) {
        snprintf(reason, cap, "answer: %s of %zu characters (swarmgen takes at most %d)",
                 ul > ICE_UFRAG_MAX ? "ice-ufrag" : "ice-pwd", ul > ICE_UFRAG_MAX ? ul : pl,
                 ul > ICE_UFRAG_MAX ? ICE_UFRAG_MAX : ICE_PWD_MAX);
        return -EINVAL;
    }
    memcpy(out->ufrag, o->ice_ufrag, ul + 1);
    memcpy(out->pwd, o->ice_pwd, pl + 1);
    memcpy(out->fingerprint, o->fingerprint, 32);
    out->ice_lite = o->ice_lite;
    /* our offer said actpass: the answer picks (RFC 8842 §5.3); an answer
     * that leaves it to us (actpass, not allowed in an answer) gets client */
    out->dtls_client = o->setup == SDP_SETUP_PASSIVE || o->setup == SDP_SETUP_ACTPASS;
    out->sctp_port = o->sctp_port;
    out->max_message = o->max_message_size == 0           ? UINT32_MAX
                       : o->max_message_size > UINT32_MAX ? UINT32_MAX
                                                          : (uint32_t)o->max_message_size;

    unsigned skipped = 0;
    for (unsigned i = 0; i < o->n_cand; i++) {
        const struct sdp_candidate *c = &o->cand[i];
        uint32_t ip;
        if (c->transport != SDP_TRANSPORT_UDP || c->component != 1 ||
            !ipv4(c->ip, strlen(c->ip), &ip) || ip == 0 || c->port == 0) {
            skipped++; /* TCP, RTCP, IPv6, mDNS names */
            continue;
        }
        cand_add(out, (struct ri_target_cand){.ip = ip,
                                              .port = c->port,
                                              .type = cand_type(c->type),
                                              .priority = c->priority});
    }
    if (out->n_cands == 0) {
        const struct sdp_media *app = &o->media[o->app];
        uint32_t ip;
        if (skipped > 0 || o->n_cand_dropped > 0) {
            snprintf(reason, cap, "answer: no UDP IPv4 candidate (%u candidates of other kinds)",
                     skipped + o->n_cand_dropped);
            return -EINVAL;
        }
        if (!conn_addr(text, len, o->app, &ip) || ip == 0 || app->port == 9 || app->port == 0) {
            snprintf(reason, cap, "answer: no candidate and no usable c= address and m= port");
            return -EINVAL;
        }
        cand_add(out,
                 (struct ri_target_cand){
                     .ip = ip, .port = app->port, .type = RI_CAND_HOST, .priority = 2130706431u});
    }

    if (want_audio) {
        for (unsigned i = 0; i < o->n_media; i++) {
            const struct sdp_media *m = &o->media[i];
            if (m->kind != SDP_KIND_AUDIO)
                continue;
            if (m->port != 0 && m->opus_pt >= 0) {
                out->audio = true;
                out->audio_pt = (uint8_t)m->opus_pt;
            }
            break; /* we offered one audio line */
        }
    }
    for (unsigned i = 0; want_video && i < o->n_media; i++) {
        const struct sdp_media *m = &o->media[i];
        if (m->kind != SDP_KIND_VIDEO)
            continue;
        for (unsigned k = 0; m->port != 0 && k < m->n_pt; k++)
            if (strcasecmp(m->pt[k].name, "VP8") == 0 && m->pt[k].clock == 90000) {
                out->video = true;
                out->video_pt = m->pt[k].pt;
                break;
            }
        break; /* we offered one video line */
    }
    return 0;
}

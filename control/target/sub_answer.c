/* SPDX-License-Identifier: MIT */
/* A subscriber's SDP answer to the server's offer (janus-videoroom): see
 * target_internal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target_internal.h"

int tgt_offer_ssrcs(const char *text, size_t len, uint32_t *ssrc, unsigned max)
{
    const char *p = text, *end = text + len;
    int line = -1;     /* index among the audio lines, -1 outside one */
    unsigned n = 0;    /* audio lines seen */
    bool have = false; /* this audio line's SSRC taken */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t k = (size_t)(le - p);
        if (k >= 2 && p[0] == 'm' && p[1] == '=') {
            bool audio = k >= 8 && memcmp(p, "m=audio ", 8) == 0;
            line = audio && n < max ? (int)n : -1;
            if (audio) {
                if (n < max)
                    ssrc[n] = 0;
                n++;
            }
            have = false;
        } else if (line >= 0 && !have && k > 7 && memcmp(p, "a=ssrc:", 7) == 0) {
            char num[12];
            size_t d = 0;
            while (7 + d < k && d < sizeof(num) - 1 && p[7 + d] >= '0' && p[7 + d] <= '9') {
                num[d] = p[7 + d];
                d++;
            }
            num[d] = '\0';
            unsigned long v = d ? strtoul(num, NULL, 10) : 0;
            if (d && d <= 10 && v <= UINT32_MAX) {
                ssrc[line] = (uint32_t)v;
                have = true;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return (int)(n < max ? n : max);
}

int tgt_sub_answer_write(const struct tgt_offer_params *p, const struct sdp_offer *o, char *out,
                         size_t cap)
{
    if (cap == 0)
        return -ENOSPC;
    struct sdp_out w = {.p = out, .cap = cap};
    char ip[16];
    snprintf(ip, sizeof(ip), "%u.%u.%u.%u", p->ip >> 24, (p->ip >> 16) & 255, (p->ip >> 8) & 255,
             p->ip & 255);
    bool take[SDP_MAX_MEDIA];
    for (unsigned i = 0; i < o->n_media; i++) {
        const struct sdp_media *m = &o->media[i];
        take[i] = (m->port != 0 || m->bundle_only) &&
                  ((m->kind == SDP_KIND_AUDIO && m->opus_pt >= 0) || (int)i == o->app);
    }
    sdp_put(&w, "v=0\r\no=- %llu 2 IN IP4 %s\r\ns=-\r\nt=0 0\r\n",
            (unsigned long long)(p->sess_id & INT64_MAX), ip);
    sdp_put(&w, "a=group:BUNDLE");
    for (unsigned i = 0; i < o->n_media; i++)
        if (take[i] && o->media[i].mid[0])
            sdp_put(&w, " %s", o->media[i].mid);
    sdp_put(&w, "\r\na=msid-semantic: WMS\r\n");
    for (unsigned i = 0; i < o->n_media; i++) {
        const struct sdp_media *m = &o->media[i];
        if (!take[i]) { /* RFC 8843 §7.3.3: rejected, port 0, the offer's first format */
            sdp_put(&w, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->kind_text, m->proto,
                    m->fmt_first[0] ? m->fmt_first : "0");
            if (m->mid[0])
                sdp_put(&w, "a=mid:%s\r\n", m->mid);
            continue;
        }
        bool app = (int)i == o->app;
        if (app)
            sdp_put(&w, "m=application %u UDP/DTLS/SCTP webrtc-datachannel\r\n", (unsigned)p->port);
        else
            sdp_put(&w, "m=audio %u UDP/TLS/RTP/SAVPF %d\r\n", (unsigned)p->port, m->opus_pt);
        sdp_put(&w, "c=IN IP4 %s\r\n", ip);
        sdp_put(&w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 ", p->ufrag, p->pwd);
        for (int b = 0; b < 32; b++)
            sdp_put(&w, "%02X%s", p->fingerprint[b], b + 1 < 32 ? ":" : "\r\n");
        /* the offer said actpass (Janus does): we take the client's part */
        sdp_put(&w, "a=setup:active\r\n");
        if (m->mid[0])
            sdp_put(&w, "a=mid:%s\r\n", m->mid);
        sdp_put(&w, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n", ip,
                (unsigned)p->port);
        if (app) {
            sdp_put(&w, "a=sctp-port:5000\r\na=max-message-size:262144\r\n");
        } else {
            sdp_put(&w, "a=recvonly\r\na=rtcp-mux\r\na=rtpmap:%d opus/48000/2\r\n", m->opus_pt);
            sdp_put(&w, "a=fmtp:%d minptime=10;useinbandfec=1\r\n", m->opus_pt);
        }
    }
    if (w.full)
        return -ENOSPC;
    return (int)w.len;
}

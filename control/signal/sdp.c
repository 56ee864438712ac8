/* SPDX-License-Identifier: MIT */
/* SDP offer parser and answer writer: see sdp.h. */
#include "sdp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A piece of the input: never NUL-terminated. */
struct span {
    const char *p;
    size_t n;
};

/* Parser state beside the offer being filled. */
struct parse {
    struct sdp_offer *o;
    char *reason;
    size_t cap;
    unsigned line;         /* 1-based number of the current line */
    int cur;               /* current m-line, -1 at session level */
    bool other_fp_session; /* a fingerprint with another hash was seen there */
    bool other_fp[SDP_MAX_MEDIA];
    bool old_sctpmap[SDP_MAX_MEDIA];
};

static int fail(struct parse *ps, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parse *ps, int err, const char *fmt, ...)
{
    if (ps->cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->reason, ps->cap, fmt, ap);
        va_end(ap);
    }
    return err;
}

static bool span_is(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool span_is_ci(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/* Splits the next space-separated token off *s; false at the end. */
static bool next_token(struct span *s, struct span *tok)
{
    while (s->n > 0 && (*s->p == ' ' || *s->p == '\t')) {
        s->p++;
        s->n--;
    }
    if (s->n == 0)
        return false;
    size_t i = 0;
    while (i < s->n && s->p[i] != ' ' && s->p[i] != '\t')
        i++;
    *tok = (struct span){s->p, i};
    s->p += i;
    s->n -= i;
    return true;
}

/* Decimal without sign; false on anything else or above max. */
static bool span_u64(struct span s, uint64_t max, uint64_t *v)
{
    if (s.n == 0 || s.n > 20)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        unsigned d = (unsigned)(s.p[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    if (x > max)
        return false;
    *v = x;
    return true;
}

/* Copies s into dst[cap] NUL-terminated; false when it does not fit. */
static bool span_copy(char *dst, size_t cap, struct span s)
{
    if (s.n + 1 > cap)
        return false;
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
    return true;
}

/* Only printable ASCII without spaces: what an answer may repeat. */
static bool visible(struct span s)
{
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] < 0x21 || (unsigned char)s.p[i] > 0x7e)
            return false;
    return true;
}

static bool is_ice_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "AB:CD:..." with exactly 32 bytes. */
static bool parse_fp(struct span s, uint8_t out[SDP_FP_LEN])
{
    if (s.n != SDP_FP_LEN * 3 - 1)
        return false;
    for (size_t i = 0; i < SDP_FP_LEN; i++) {
        int hi = hexval(s.p[3 * i]), lo = hexval(s.p[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i + 1 < SDP_FP_LEN && s.p[3 * i + 2] != ':'))
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static int parse_setup(struct parse *ps, struct span v, enum sdp_setup *out)
{
    if (span_is_ci(v, "actpass"))
        *out = SDP_SETUP_ACTPASS;
    else if (span_is_ci(v, "active"))
        *out = SDP_SETUP_ACTIVE;
    else if (span_is_ci(v, "passive"))
        *out = SDP_SETUP_PASSIVE;
    else if (span_is_ci(v, "holdconn"))
        return fail(ps, -ENOTSUP, "setup:holdconn not supported");
    else
        return fail(ps, -EINVAL, "line %u: unknown a=setup value", ps->line);
    return 0;
}

static int parse_fingerprint(struct parse *ps, struct span v)
{
    struct span hash, value;
    if (!next_token(&v, &hash) || !next_token(&v, &value))
        return fail(ps, -EINVAL, "line %u: malformed a=fingerprint", ps->line);
    bool media = ps->cur >= 0;
    if (!span_is_ci(hash, "sha-256")) {
        if (media)
            ps->other_fp[ps->cur] = true;
        else
            ps->other_fp_session = true;
        return 0;
    }
    bool *has = media ? &ps->o->media[ps->cur].has_fingerprint : &ps->o->sess_has_fingerprint;
    uint8_t *fp = media ? ps->o->media[ps->cur].fingerprint : ps->o->sess_fingerprint;
    uint8_t tmp[SDP_FP_LEN];
    if (!parse_fp(value, tmp))
        return fail(
            ps, -EINVAL,
            "line %u: malformed a=fingerprint:sha-256 value (want 32 hex bytes joined by ':')",
            ps->line);
    if (!*has) {
        memcpy(fp, tmp, SDP_FP_LEN);
        *has = true;
    }
    return 0;
}

static int parse_ice_cred(struct parse *ps, struct span v, char *dst, const char *name)
{
    if (v.n > SDP_ICE_MAX)
        return fail(ps, -EINVAL, "%s longer than %d characters", name, SDP_ICE_MAX);
    if (dst[0] == '\0')
        span_copy(dst, SDP_ICE_MAX + 1, v);
    return 0;
}

static int parse_candidate(struct parse *ps, struct span v)
{
    struct sdp_offer *o = ps->o;
    struct span f[8];
    for (int i = 0; i < 8; i++)
        if (!next_token(&v, &f[i]))
            return fail(ps, -EINVAL, "line %u: malformed a=candidate", ps->line);
    struct sdp_candidate c = {.media = ps->cur >= 0 ? (uint8_t)ps->cur : SDP_MAX_MEDIA};
    uint64_t comp, prio, port;
    if (f[0].n == 0 || !span_copy(c.foundation, sizeof(c.foundation), f[0]) ||
        !span_u64(f[1], 256, &comp) || comp == 0 || !span_u64(f[3], UINT32_MAX, &prio) ||
        !span_copy(c.ip, sizeof(c.ip), f[4]) || !span_u64(f[5], 65535, &port) ||
        !span_is(f[6], "typ"))
        return fail(ps, -EINVAL, "line %u: malformed a=candidate", ps->line);
    for (size_t i = 0; i < f[0].n; i++)
        if (!is_ice_char(f[0].p[i]))
            return fail(ps, -EINVAL, "line %u: malformed a=candidate foundation", ps->line);
    c.component = (uint16_t)comp;
    c.priority = (uint32_t)prio;
    c.port = (uint16_t)port;
    if (span_is_ci(f[2], "udp"))
        c.transport = SDP_TRANSPORT_UDP;
    else if (span_is_ci(f[2], "tcp"))
        c.transport = SDP_TRANSPORT_TCP;
    else
        return 0; /* another transport: not one we could use, not an error */
    if (span_is(f[7], "host"))
        c.type = SDP_CAND_HOST;
    else if (span_is(f[7], "srflx"))
        c.type = SDP_CAND_SRFLX;
    else if (span_is(f[7], "prflx"))
        c.type = SDP_CAND_PRFLX;
    else if (span_is(f[7], "relay"))
        c.type = SDP_CAND_RELAY;
    else
        return 0; /* a type from a later extension: ignored (RFC 8839 §5.1) */
    if (o->n_cand < SDP_MAX_CAND)
        o->cand[o->n_cand++] = c;
    else if (o->n_cand_dropped < UINT16_MAX)
        o->n_cand_dropped++;
    return 0;
}

static int parse_group(struct parse *ps, struct span v)
{
    struct sdp_offer *o = ps->o;
    struct span sem, mid;
    if (!next_token(&v, &sem) || !span_is_ci(sem, "BUNDLE") || o->n_bundle > 0)
        return 0; /* other semantics (LS, FID) and later BUNDLE groups are not ours */
    while (next_token(&v, &mid)) {
        if (o->n_bundle == SDP_MAX_MEDIA)
            return fail(ps, -EINVAL, "a=group:BUNDLE lists more than %d mids", SDP_MAX_MEDIA);
        if (!span_copy(o->bundle[o->n_bundle], SDP_MID_MAX + 1, mid))
            return fail(ps, -EINVAL, "a=group:BUNDLE mid longer than %d characters", SDP_MID_MAX);
        o->n_bundle++;
    }
    return 0;
}

static int parse_rtpmap(struct parse *ps, struct sdp_media *m, struct span v)
{
    struct span pt_s, enc;
    uint64_t pt;
    if (!next_token(&v, &pt_s) || !next_token(&v, &enc) || !span_u64(pt_s, 127, &pt))
        return fail(ps, -EINVAL, "line %u: malformed a=rtpmap", ps->line);
    for (unsigned i = 0; i < m->n_pt; i++) {
        struct sdp_pt *p = &m->pt[i];
        if (p->pt != pt)
            continue;
        /* name/clock[/channels] */
        const char *s1 = memchr(enc.p, '/', enc.n);
        if (s1 == NULL)
            return fail(ps, -EINVAL, "line %u: malformed a=rtpmap", ps->line);
        struct span name = {enc.p, (size_t)(s1 - enc.p)};
        struct span rest = {s1 + 1, enc.n - name.n - 1};
        const char *s2 = memchr(rest.p, '/', rest.n);
        struct span clock = {rest.p, s2 ? (size_t)(s2 - rest.p) : rest.n};
        uint64_t c, ch = 1;
        if (!span_u64(clock, UINT32_MAX, &c) ||
            (s2 && !span_u64((struct span){s2 + 1, rest.n - clock.n - 1}, 255, &ch)))
            return fail(ps, -EINVAL, "line %u: malformed a=rtpmap", ps->line);
        if (!visible(name) || !span_copy(p->name, sizeof(p->name), name))
            p->name[0] = '\0'; /* none we know, and none to repeat */
        p->clock = (uint32_t)c;
        p->channels = (uint8_t)ch;
        break;
    }
    return 0;
}

/* One a= line. */
static int parse_attr(struct parse *ps, struct span v)
{
    struct sdp_offer *o = ps->o;
    const char *colon = memchr(v.p, ':', v.n);
    struct span name = {v.p, colon ? (size_t)(colon - v.p) : v.n};
    struct span val =
        colon ? (struct span){colon + 1, v.n - name.n - 1} : (struct span){v.p + v.n, 0};
    bool media = ps->cur >= 0;
    struct sdp_media *m = media ? &o->media[ps->cur] : NULL;

    if (span_is(name, "ice-ufrag"))
        return parse_ice_cred(ps, val, media ? m->ufrag : o->sess_ufrag, "ice-ufrag");
    if (span_is(name, "ice-pwd"))
        return parse_ice_cred(ps, val, media ? m->pwd : o->sess_pwd, "ice-pwd");
    if (span_is(name, "fingerprint"))
        return parse_fingerprint(ps, val);
    if (span_is(name, "setup"))
        return parse_setup(ps, val, media ? &m->setup : &o->sess_setup);
    if (span_is(name, "candidate"))
        return parse_candidate(ps, val);
    if (span_is(name, "end-of-candidates")) {
        o->end_of_candidates = true;
        return 0;
    }
    if (span_is(name, "ice-lite")) {
        o->ice_lite |= !media; /* session level only (RFC 8839 §5.3) */
        return 0;
    }
    if (span_is(name, "ice-options")) {
        struct span tok;
        while (next_token(&val, &tok))
            if (span_is(tok, "trickle"))
                o->ice_trickle = true;
        return 0;
    }
    if (span_is(name, "group"))
        return media ? 0 : parse_group(ps, val);
    if (!media)
        return 0;
    if (span_is(name, "mid")) {
        if (val.n == 0 || !span_copy(m->mid, sizeof(m->mid), val))
            return fail(ps, -EINVAL, "line %u: a=mid empty or longer than %d characters", ps->line,
                        SDP_MID_MAX);
        if (!visible(val))
            return fail(ps, -EINVAL, "line %u: a=mid is not a token", ps->line);
        for (int i = 0; i < ps->cur; i++)
            if (strcmp(o->media[i].mid, m->mid) == 0)
                return fail(ps, -EINVAL, "duplicate a=mid:%s", m->mid);
        return 0;
    }
    if (span_is(name, "sctp-port")) {
        uint64_t port;
        if (!span_u64(val, 65535, &port) || port == 0)
            return fail(ps, -EINVAL, "line %u: malformed a=sctp-port", ps->line);
        m->sctp_port = (uint16_t)port;
        return 0;
    }
    if (span_is(name, "max-message-size")) {
        if (!span_u64(val, UINT64_MAX, &m->max_message_size))
            return fail(ps, -EINVAL, "line %u: malformed a=max-message-size", ps->line);
        return 0;
    }
    if (span_is(name, "sctpmap")) {
        ps->old_sctpmap[ps->cur] = true;
        return 0;
    }
    if (span_is(name, "rtpmap"))
        return parse_rtpmap(ps, m, val);
    if (span_is(name, "rtcp-mux"))
        m->rtcp_mux = true;
    else if (span_is(name, "bundle-only"))
        m->bundle_only = true;
    else if (span_is(name, "sendrecv"))
        m->dir = SDP_DIR_SENDRECV;
    else if (span_is(name, "sendonly"))
        m->dir = SDP_DIR_SENDONLY;
    else if (span_is(name, "recvonly"))
        m->dir = SDP_DIR_RECVONLY;
    else if (span_is(name, "inactive"))
        m->dir = SDP_DIR_INACTIVE;
    return 0; /* every other attribute is ignored (RFC 8866 §5.13) */
}

static bool is_rtp_proto(const char *proto)
{
    return strstr(proto, "RTP/") != NULL;
}

static int parse_m(struct parse *ps, struct span v)
{
    struct sdp_offer *o = ps->o;
    if (o->n_media == SDP_MAX_MEDIA)
        return fail(ps, -ENOTSUP, "more than %d m-lines", SDP_MAX_MEDIA);
    struct sdp_media *m = &o->media[o->n_media];
    *m = (struct sdp_media){
        .sctp_port = 5000, .max_message_size = 65536, .opus_pt = -1, .pcmu_pt = -1};
    struct span kind, port_s, proto, fmt;
    uint64_t port;
    if (!next_token(&v, &kind) || !next_token(&v, &port_s) || !next_token(&v, &proto) ||
        !next_token(&v, &fmt))
        return fail(ps, -EINVAL, "line %u: malformed m= line", ps->line);
    const char *slash = memchr(port_s.p, '/', port_s.n); /* <port>/<number of ports> */
    if (slash)
        port_s.n = (size_t)(slash - port_s.p);
    if (!span_u64(port_s, 65535, &port) || !span_copy(m->kind_text, sizeof(m->kind_text), kind) ||
        !span_copy(m->proto, sizeof(m->proto), proto) ||
        !span_copy(m->fmt_first, sizeof(m->fmt_first), fmt))
        return fail(ps, -EINVAL, "line %u: malformed m= line", ps->line);
    if (!visible(kind) || !visible(proto) || !visible(fmt))
        return fail(ps, -EINVAL, "line %u: malformed m= line", ps->line);
    m->port = (uint16_t)port;
    if (span_is(kind, "application"))
        m->kind = SDP_KIND_APPLICATION;
    else if (span_is(kind, "audio"))
        m->kind = SDP_KIND_AUDIO;
    else if (span_is(kind, "video"))
        m->kind = SDP_KIND_VIDEO;
    else
        m->kind = SDP_KIND_OTHER;
    if (is_rtp_proto(m->proto)) {
        do {
            uint64_t pt;
            if (span_u64(fmt, 127, &pt) && m->n_pt < SDP_MAX_PT)
                m->pt[m->n_pt++] = (struct sdp_pt){.pt = (uint8_t)pt, .channels = 1};
        } while (next_token(&v, &fmt));
    }
    ps->cur = o->n_media++;
    return 0;
}

/* Line types of RFC 8866 §5, and which may appear in a media section. */
static bool known_type(char t, bool *media_ok)
{
    static const char session_only[] = "vosuepzrt";
    static const char both[] = "icbkam";
    *media_ok = strchr(both, t) != NULL;
    return *media_ok || strchr(session_only, t) != NULL;
}

static int check_ice(struct parse *ps, const char *v, const char *name, size_t min)
{
    size_t n = strlen(v);
    if (n == 0)
        return fail(ps, -EINVAL, "no a=%s", name);
    if (n < min)
        return fail(ps, -EINVAL, "%s shorter than %zu characters", name, min);
    for (size_t i = 0; i < n; i++)
        if (!is_ice_char(v[i]))
            return fail(ps, -EINVAL, "%s has a character outside ALPHA DIGIT + /", name);
    return 0;
}

static bool in_bundle(const struct sdp_offer *o, const char *mid)
{
    if (mid[0] == '\0')
        return false;
    for (unsigned i = 0; i < o->n_bundle; i++)
        if (strcmp(o->bundle[i], mid) == 0)
            return true;
    return false;
}

static bool proto_is(const char *proto, const char *lit)
{
    return strcasecmp(proto, lit) == 0;
}

/* After the last line: the audio/video codecs, the application line, the
 * resolved ICE and DTLS attributes, the audio line. */
static int resolve(struct parse *ps)
{
    struct sdp_offer *o = ps->o;
    for (unsigned i = 0; i < o->n_media; i++) {
        struct sdp_media *m = &o->media[i];
        for (unsigned k = 0; k < m->n_pt; k++) {
            const struct sdp_pt *p = &m->pt[k];
            if (m->opus_pt < 0 && strcasecmp(p->name, "opus") == 0 && p->clock == 48000 &&
                p->channels == 2)
                m->opus_pt = p->pt;
            if (m->pcmu_pt < 0 && ((strcasecmp(p->name, "PCMU") == 0 && p->clock == 8000) ||
                                   (p->pt == 0 && p->name[0] == '\0')))
                m->pcmu_pt = p->pt;
        }
    }

    o->app = -1;
    const char *why = NULL;
    for (unsigned i = 0; i < o->n_media && o->app < 0; i++) {
        const struct sdp_media *m = &o->media[i];
        if (m->kind != SDP_KIND_APPLICATION)
            continue;
        if (proto_is(m->proto, "UDP/DTLS/SCTP") &&
            strcmp(m->fmt_first, "webrtc-datachannel") == 0) {
            if (m->port != 0 || m->bundle_only)
                o->app = (int)i;
            else
                why = "the m=application UDP/DTLS/SCTP line is disabled (port 0)";
        } else if (proto_is(m->proto, "TCP/DTLS/SCTP")) {
            why = "TCP/DTLS/SCTP not supported";
        } else if (proto_is(m->proto, "DTLS/SCTP") || ps->old_sctpmap[i]) {
            why = "DTLS/SCTP with a=sctpmap (the format before RFC 8841) not supported";
        }
    }
    if (o->app < 0)
        return fail(ps, -ENOTSUP, "%s",
                    why ? why : "no m=application UDP/DTLS/SCTP webrtc-datachannel line");
    const struct sdp_media *app = &o->media[o->app];

    memcpy(o->ice_ufrag, app->ufrag[0] ? app->ufrag : o->sess_ufrag, SDP_ICE_MAX + 1);
    memcpy(o->ice_pwd, app->pwd[0] ? app->pwd : o->sess_pwd, SDP_ICE_MAX + 1);
    int rc = check_ice(ps, o->ice_ufrag, "ice-ufrag", 4);
    if (rc == 0)
        rc = check_ice(ps, o->ice_pwd, "ice-pwd", 22);
    if (rc != 0)
        return rc;

    if (app->has_fingerprint)
        memcpy(o->fingerprint, app->fingerprint, SDP_FP_LEN);
    else if (o->sess_has_fingerprint)
        memcpy(o->fingerprint, o->sess_fingerprint, SDP_FP_LEN);
    else if (ps->other_fp[o->app] || ps->other_fp_session)
        return fail(ps, -ENOTSUP, "fingerprint is not sha-256");
    else
        return fail(ps, -EINVAL, "no a=fingerprint:sha-256");

    o->setup = app->setup != SDP_SETUP_NONE ? app->setup : o->sess_setup;
    o->sctp_port = app->sctp_port;
    o->max_message_size = app->max_message_size;

    /* Audio shares our one transport: it must be bundled with the
     * application line and carry RTCP on the RTP port. */
    o->audio = -1;
    o->audio_pt = -1;
    for (unsigned i = 0; i < o->n_media && o->audio < 0; i++) {
        const struct sdp_media *m = &o->media[i];
        if (m->kind != SDP_KIND_AUDIO || (m->port == 0 && !m->bundle_only) || !m->rtcp_mux ||
            (m->opus_pt < 0 && m->pcmu_pt < 0) ||
            !(proto_is(m->proto, "UDP/TLS/RTP/SAVPF") || proto_is(m->proto, "UDP/TLS/RTP/SAVP")) ||
            !in_bundle(o, m->mid) || !in_bundle(o, app->mid))
            continue;
        if (m->has_fingerprint && memcmp(m->fingerprint, o->fingerprint, SDP_FP_LEN) != 0)
            continue; /* a bundled line with another certificate: not one transport */
        o->audio = (int)i;
        o->audio_pt = m->opus_pt >= 0 ? m->opus_pt : m->pcmu_pt;
    }
    return 0;
}

int sdp_parse_offer(const char *text, size_t len, struct sdp_offer *out, char *reason, size_t cap)
{
    struct parse ps = {.o = out, .reason = reason, .cap = cap, .cur = -1};
    if (cap > 0)
        reason[0] = '\0';
    memset(out, 0, sizeof(*out));
    if (text == NULL || len == 0)
        return fail(&ps, -EINVAL, "not SDP: empty body");
    if (memchr(text, '\0', len) != NULL)
        return fail(&ps, -EINVAL, "not SDP: NUL byte in the body");

    const char *p = text, *end = text + len;
    unsigned n_lines = 0; /* non-empty lines seen */
    bool seen_t = false;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        struct span line = {p, (size_t)(le - p)};
        p = nl ? nl + 1 : end;
        ps.line++;
        if (line.n > 0 && line.p[line.n - 1] == '\r')
            line.n--;
        if (line.n == 0)
            continue;
        n_lines++;
        if (n_lines == 1) {
            if (!span_is(line, "v=0"))
                return fail(&ps, -EINVAL, "not SDP: first line is not v=0");
            continue;
        }
        bool media_ok;
        char t = line.p[0];
        if (line.n < 2 || line.p[1] != '=' || t < 'a' || t > 'z')
            return fail(&ps, -EINVAL, "line %u: not <type>=<value>", ps.line);
        if (!known_type(t, &media_ok))
            return fail(&ps, -EINVAL, "line %u: unknown SDP line type '%c='", ps.line, t);
        if (memchr(line.p, '\r', line.n) != NULL)
            return fail(&ps, -EINVAL, "line %u: CR inside a line", ps.line);
        struct span v = {line.p + 2, line.n - 2};
        if (n_lines == 2 && t != 'o')
            return fail(&ps, -EINVAL, "line %u: second line is not o=", ps.line);
        if (n_lines == 3 && t != 's')
            return fail(&ps, -EINVAL, "line %u: third line is not s=", ps.line);
        if (ps.cur >= 0 && !media_ok)
            return fail(&ps, -EINVAL, "line %u: '%c=' inside a media section", ps.line, t);
        if (t == 'v')
            return fail(&ps, -EINVAL, "line %u: a second v= line", ps.line);
        int rc = 0;
        if (t == 'o') {
            struct span f[6];
            for (int i = 0; i < 6; i++)
                if (!next_token(&v, &f[i]))
                    return fail(&ps, -EINVAL, "line %u: malformed o= line", ps.line);
            if (!span_u64(f[1], UINT64_MAX, &out->sess_id))
                out->sess_id = 0;
        } else if (t == 't') {
            seen_t = true;
        } else if (t == 'm') {
            if (!seen_t)
                return fail(&ps, -EINVAL, "line %u: m= before any t= line", ps.line);
            rc = parse_m(&ps, v);
        } else if (t == 'a') {
            rc = parse_attr(&ps, v);
        }
        if (rc != 0)
            return rc;
    }
    if (n_lines < 3)
        return fail(&ps, -EINVAL,
                    n_lines == 0 ? "not SDP: empty body" : "not SDP: no o= and s= lines");
    if (!seen_t)
        return fail(&ps, -EINVAL, "no t= line");
    return resolve(&ps);
}

enum sdp_setup sdp_choose_setup(enum sdp_setup offer_setup, enum sdp_setup preferred)
{
    switch (offer_setup) {
    case SDP_SETUP_ACTPASS:
        return preferred == SDP_SETUP_PASSIVE ? SDP_SETUP_PASSIVE : SDP_SETUP_ACTIVE;
    case SDP_SETUP_PASSIVE:
        return SDP_SETUP_ACTIVE;
    case SDP_SETUP_ACTIVE:
    case SDP_SETUP_NONE:
    default:
        return SDP_SETUP_PASSIVE;
    }
}

bool sdp_answer_accepts_audio(const struct sdp_offer *o, bool audio)
{
    return audio && o->audio >= 0;
}

void sdp_put(struct sdp_out *w, const char *fmt, ...)
{
    if (w->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) {
        w->full = true;
        return;
    }
    w->len += (size_t)n;
}

static void put_transport(struct sdp_out *w, const struct sdp_answer_params *pr, const char *ip)
{
    sdp_put(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 ", pr->ufrag, pr->pwd);
    for (int i = 0; i < SDP_FP_LEN; i++)
        sdp_put(w, "%02X%s", pr->fingerprint[i], i + 1 < SDP_FP_LEN ? ":" : "\r\n");
    sdp_put(w, "a=setup:%s\r\n", pr->setup == SDP_SETUP_ACTIVE ? "active" : "passive");
    sdp_put(w, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n", ip,
        (unsigned)pr->port);
}

static const char *answer_dir(enum sdp_dir offered)
{
    switch (offered) {
    case SDP_DIR_SENDONLY:
        return "recvonly";
    case SDP_DIR_RECVONLY:
        return "sendonly";
    case SDP_DIR_INACTIVE:
        return "inactive";
    case SDP_DIR_SENDRECV:
    default:
        return "sendrecv";
    }
}

int sdp_write_answer(const struct sdp_offer *o, const struct sdp_answer_params *pr, char *out,
                     size_t cap)
{
    if (pr->setup != SDP_SETUP_ACTIVE && pr->setup != SDP_SETUP_PASSIVE)
        return -EINVAL;
    if (o->app < 0 || o->app >= o->n_media)
        return -EINVAL;
    if (cap == 0)
        return -ENOSPC;
    struct sdp_out w = {.p = out, .cap = cap};
    char ip[16];
    snprintf(ip, sizeof(ip), "%u.%u.%u.%u", pr->ip >> 24, (pr->ip >> 16) & 255, (pr->ip >> 8) & 255,
             pr->ip & 255);
    int audio = sdp_answer_accepts_audio(o, pr->audio) ? o->audio : -1;
    const struct sdp_media *app = &o->media[o->app];

    sdp_put(&w, "v=0\r\no=swarmgen %llu 1 IN IP4 %s\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n",
        (unsigned long long)pr->sess_id, ip);
    /* BUNDLE: the accepted mids that were offered in the group, in its order
     * (the first is the answerer-tagged line, RFC 8843 §7.3.1). */
    bool group = false;
    for (unsigned i = 0; i < o->n_bundle; i++) {
        const char *mid = o->bundle[i];
        bool accepted =
            strcmp(mid, app->mid) == 0 || (audio >= 0 && strcmp(mid, o->media[audio].mid) == 0);
        if (!accepted || mid[0] == '\0')
            continue;
        sdp_put(&w, "%s %s", group ? "" : "a=group:BUNDLE", mid);
        group = true;
    }
    if (group)
        sdp_put(&w, "\r\n");

    for (int i = 0; i < o->n_media; i++) {
        const struct sdp_media *m = &o->media[i];
        if (i == o->app) {
            sdp_put(&w, "m=application %u UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 %s\r\n",
                (unsigned)pr->port, ip);
            if (m->mid[0])
                sdp_put(&w, "a=mid:%s\r\n", m->mid);
            put_transport(&w, pr, ip);
            sdp_put(&w, "a=sctp-port:%u\r\na=max-message-size:%llu\r\n", (unsigned)pr->sctp_port,
                (unsigned long long)pr->max_message_size);
        } else if (i == audio) {
            int pt = o->audio_pt;
            sdp_put(&w, "m=audio %u %s %d\r\nc=IN IP4 %s\r\n", (unsigned)pr->port, m->proto, pt, ip);
            if (m->mid[0])
                sdp_put(&w, "a=mid:%s\r\n", m->mid);
            put_transport(&w, pr, ip);
            sdp_put(&w, "a=rtcp-mux\r\na=%s\r\n", answer_dir(m->dir));
            if (pt == m->opus_pt)
                sdp_put(&w, "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d minptime=10;useinbandfec=1\r\n", pt,
                    pt);
            else
                sdp_put(&w, "a=rtpmap:%d PCMU/8000\r\n", pt);
        } else {
            /* rejected (RFC 3264 §6): port 0, the offered proto and a
             * format; its rtpmap too, as stacks that negotiate codecs on
             * every m-line (werift) otherwise fail the whole answer */
            sdp_put(&w, "m=%s 0 %s %s\r\nc=IN IP4 %s\r\n", m->kind_text, m->proto, m->fmt_first, ip);
            if (m->mid[0])
                sdp_put(&w, "a=mid:%s\r\n", m->mid);
            char first[8];
            if (m->n_pt > 0)
                snprintf(first, sizeof(first), "%u", m->pt[0].pt);
            if (m->n_pt > 0 && strcmp(first, m->fmt_first) == 0) {
                const struct sdp_pt *pt = &m->pt[0];
                sdp_put(&w, "a=inactive\r\n");
                if (pt->name[0] && pt->channels > 1)
                    sdp_put(&w, "a=rtpmap:%u %s/%u/%u\r\n", pt->pt, pt->name, pt->clock, pt->channels);
                else if (pt->name[0])
                    sdp_put(&w, "a=rtpmap:%u %s/%u\r\n", pt->pt, pt->name, pt->clock);
            }
        }
    }
    if (w.full)
        return -ENOSPC;
    return (int)w.len;
}

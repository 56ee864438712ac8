/* SPDX-License-Identifier: MIT */
/* RTCP (RFC 3550): receiver statistics, sender counts, compound SR/RR +
 * SDES packets, their parser, and the RTT. See rtcp.h. */
#include "rtcp.h"

#include <errno.h>
#include <string.h>

#include "wire.h"

#define NS_PER_S     1000000000ull
#define RTP_SEQ_MOD  (1u << 16)
#define RTCP_VERSION 2
#define RTT_ROUNDING 2 /* units of 1/65536 s that truncation may take off a true RTT of 0 */

/* a * b / c without overflow of the product; the quotient modulo 2^64. */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c)
{
    return (uint64_t)((unsigned __int128)a * b / c);
}

/* ---- time ---- */

uint64_t rtcp_ntp_from_ns(uint64_t ns)
{
    uint64_t sec = ns / NS_PER_S, frac = ((ns % NS_PER_S) << 32) / NS_PER_S;
    return sec << 32 | frac;
}

uint32_t rtcp_ntp_mid(uint64_t ntp)
{
    return (uint32_t)(ntp >> 16);
}

int rtcp_rtt_ns(uint64_t now_ns, uint32_t lsr, uint32_t dlsr, uint64_t *rtt_ns)
{
    if (lsr == 0)
        return -ENODATA;
    uint32_t a = rtcp_ntp_mid(rtcp_ntp_from_ns(now_ns));
    uint32_t d = a - lsr - dlsr;
    if ((int32_t)d < 0) {
        if ((int32_t)d < -RTT_ROUNDING)
            return -ERANGE;
        d = 0;
    }
    *rtt_ns = muldiv(d, NS_PER_S, 65536);
    return 0;
}

/* now on a clock of `rate` Hz, modulo 2^32 */
static uint32_t rtp_clock(uint64_t now_ns, uint32_t rate)
{
    return (uint32_t)muldiv(now_ns, rate, NS_PER_S);
}

/* ---- receiver statistics (RFC 3550 A.1, A.3, A.8) ---- */

void rtcp_source_init(struct rtcp_source *s, uint32_t ssrc, uint32_t clock_rate)
{
    memset(s, 0, sizeof(*s));
    s->ssrc = ssrc;
    s->bound = ssrc != 0;
    s->clock_rate = clock_rate ? clock_rate : 1;
}

/* A.1 init_seq; a restarted source also restarts its transit times */
static void init_seq(struct rtcp_source *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
    s->cycles = 0;
    s->received = 0;
    s->received_prior = 0;
    s->expected_prior = 0;
    s->has_transit = false;
}

/* A.1 update_seq, with max_seq + 1 taken modulo 2^16 */
static enum rtcp_seq_result update_seq(struct rtcp_source *s, uint16_t seq)
{
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    if (s->probation) {
        if (seq == (uint16_t)(s->max_seq + 1)) {
            s->probation--;
            s->max_seq = seq;
            if (s->probation == 0) {
                init_seq(s, seq);
                s->received++;
                s->valid = true;
                return RTCP_SEQ_COUNTED;
            }
        } else {
            s->probation = RTCP_MIN_SEQUENTIAL - 1;
            s->max_seq = seq;
        }
        return RTCP_SEQ_PROBATION;
    } else if (udelta < RTCP_MAX_DROPOUT) {
        if (seq < s->max_seq)
            s->cycles += RTP_SEQ_MOD; /* wrapped */
        s->max_seq = seq;
    } else if (udelta <= RTP_SEQ_MOD - RTCP_MAX_MISORDER) {
        if (seq == s->bad_seq) {
            /* two sequential packets after a jump: the sender restarted */
            init_seq(s, seq);
        } else {
            s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
            return RTCP_SEQ_JUMP;
        }
    } else {
        /* duplicate or reordered: counted, as A.1 does */
    }
    s->received++;
    return RTCP_SEQ_COUNTED;
}

/* A.8, on the integer jitter scaled by 16 */
static void update_jitter(struct rtcp_source *s, uint32_t rtp_ts, uint64_t now_ns)
{
    uint32_t transit = rtp_clock(now_ns, s->clock_rate) - rtp_ts;
    if (!s->has_transit) {
        s->has_transit = true;
        s->transit = transit;
        return;
    }
    uint32_t d = transit - s->transit;
    s->transit = transit;
    if ((int32_t)d < 0)
        d = 0u - d;
    s->jitter16 = s->jitter16 + d - ((s->jitter16 + 8) >> 4);
}

enum rtcp_seq_result rtcp_source_on_rtp(struct rtcp_source *s, uint32_t ssrc, uint16_t seq,
                                        uint32_t rtp_ts, uint64_t now_ns)
{
    if (!s->bound) {
        s->ssrc = ssrc;
        s->bound = true;
    } else if (ssrc != s->ssrc) {
        return RTCP_SEQ_FOREIGN;
    }
    if (now_ns < s->last_ns)
        now_ns = s->last_ns;
    s->last_ns = now_ns;
    if (!s->heard) {
        s->heard = true;
        init_seq(s, seq);
        s->max_seq = (uint16_t)(seq - 1);
        s->probation = RTCP_MIN_SEQUENTIAL;
    }
    enum rtcp_seq_result r = update_seq(s, seq);
    if (r == RTCP_SEQ_COUNTED)
        update_jitter(s, rtp_ts, now_ns);
    return r;
}

void rtcp_source_on_sr(struct rtcp_source *s, uint64_t ntp, uint64_t now_ns)
{
    if (now_ns < s->last_ns)
        now_ns = s->last_ns;
    s->last_ns = now_ns;
    s->lsr = rtcp_ntp_mid(ntp);
    s->lsr_at_ns = now_ns;
    s->has_lsr = true;
}

uint32_t rtcp_source_ext_max(const struct rtcp_source *s)
{
    return s->cycles + s->max_seq;
}

uint32_t rtcp_source_expected(const struct rtcp_source *s)
{
    if (!s->valid)
        return 0;
    return rtcp_source_ext_max(s) - s->base_seq + 1;
}

int32_t rtcp_source_lost(const struct rtcp_source *s)
{
    int64_t lost = (int64_t)rtcp_source_expected(s) - (int64_t)s->received;
    if (lost > RTCP_LOST_MAX)
        return RTCP_LOST_MAX;
    if (lost < RTCP_LOST_MIN)
        return RTCP_LOST_MIN;
    return (int32_t)lost;
}

uint32_t rtcp_source_jitter(const struct rtcp_source *s)
{
    uint64_t j = s->jitter16 >> 4;
    return j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
}

uint64_t rtcp_source_jitter_ns(const struct rtcp_source *s)
{
    return muldiv(s->jitter16, NS_PER_S, 16ull * s->clock_rate);
}

double rtcp_source_jitter_ms(const struct rtcp_source *s)
{
    return (double)s->jitter16 * 1e3 / (16.0 * s->clock_rate);
}

int rtcp_source_report(struct rtcp_source *s, uint64_t now_ns, struct rtcp_report_block *rb)
{
    if (!s->valid)
        return -ENODATA;
    if (now_ns < s->last_ns)
        now_ns = s->last_ns;
    s->last_ns = now_ns;
    uint32_t expected = rtcp_source_expected(s);
    uint32_t expected_interval = expected - s->expected_prior;
    uint32_t received_interval = s->received - s->received_prior;
    s->expected_prior = expected;
    s->received_prior = s->received;
    int64_t lost_interval = (int64_t)expected_interval - (int64_t)received_interval;
    rb->ssrc = s->ssrc;
    rb->fraction = expected_interval == 0 || lost_interval <= 0
                       ? 0
                       : (uint8_t)(((uint64_t)lost_interval << 8) / expected_interval);
    rb->lost = rtcp_source_lost(s);
    rb->ext_max_seq = rtcp_source_ext_max(s);
    rb->jitter = rtcp_source_jitter(s);
    rb->lsr = s->has_lsr ? s->lsr : 0;
    rb->dlsr = s->has_lsr ? (uint32_t)muldiv(now_ns - s->lsr_at_ns, 65536, NS_PER_S) : 0;
    return 0;
}

/* ---- sender state ---- */

void rtcp_sender_init(struct rtcp_sender *t, uint32_t ssrc, uint32_t clock_rate)
{
    memset(t, 0, sizeof(*t));
    t->ssrc = ssrc;
    t->clock_rate = clock_rate ? clock_rate : 1;
}

void rtcp_sender_on_rtp(struct rtcp_sender *t, uint32_t rtp_ts, uint32_t payload_len,
                        uint64_t now_ns)
{
    if (now_ns < t->last_rtp_ns)
        now_ns = t->last_rtp_ns;
    t->packets++;
    t->octets += payload_len;
    t->last_rtp_ts = rtp_ts;
    t->last_rtp_ns = now_ns;
}

uint32_t rtcp_sender_rtp_ts_at(const struct rtcp_sender *t, uint64_t now_ns)
{
    if (t->packets == 0)
        return 0;
    if (now_ns < t->last_rtp_ns)
        now_ns = t->last_rtp_ns;
    return t->last_rtp_ts + (uint32_t)muldiv(now_ns - t->last_rtp_ns, t->clock_rate, NS_PER_S);
}

/* ---- codec ---- */

static void read_block(const uint8_t *p, struct rtcp_report_block *b)
{
    b->ssrc = wire_get32(p);
    b->fraction = p[4];
    uint32_t lost = wire_get24(p + 5);
    b->lost = (lost & 0x800000u) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
    b->ext_max_seq = wire_get32(p + 8);
    b->jitter = wire_get32(p + 12);
    b->lsr = wire_get32(p + 16);
    b->dlsr = wire_get32(p + 20);
}

static void write_block(uint8_t *p, const struct rtcp_report_block *b)
{
    int32_t lost = b->lost > RTCP_LOST_MAX   ? RTCP_LOST_MAX
                   : b->lost < RTCP_LOST_MIN ? RTCP_LOST_MIN
                                             : b->lost;
    uint32_t l24 = (uint32_t)lost & 0xffffffu;
    wire_put32(p, b->ssrc);
    p[4] = b->fraction;
    p[5] = (uint8_t)(l24 >> 16), p[6] = (uint8_t)(l24 >> 8), p[7] = (uint8_t)l24;
    wire_put32(p + 8, b->ext_max_seq);
    wire_put32(p + 12, b->jitter);
    wire_put32(p + 16, b->lsr);
    wire_put32(p + 20, b->dlsr);
}

static uint8_t sat_inc(uint8_t v)
{
    return v == UINT8_MAX ? v : (uint8_t)(v + 1);
}

/* Report blocks of an SR or RR: p[0..n) of `rc` blocks, already checked
 * to fit. */
static void parse_blocks(const uint8_t *p, unsigned rc, struct rtcp_msg *m)
{
    for (unsigned i = 0; i < rc; i++, p += RTCP_BLOCK_LEN) {
        if (m->n_blocks < RTCP_MSG_MAX_BLOCKS)
            read_block(p, &m->blocks[m->n_blocks++]);
        m->blocks_total++;
    }
}

/* SDES chunks of packet buf[off..end) (end excludes padding); `sc` chunks. */
static int parse_sdes(const uint8_t *buf, size_t off, size_t end, unsigned sc, struct rtcp_msg *m)
{
    size_t p = off + RTCP_HDR_LEN;
    for (unsigned c = 0; c < sc; c++) {
        if (end - p < 4)
            return -EPROTO;
        uint32_t ssrc = wire_get32(buf + p);
        p += 4;
        for (;;) {
            if (p >= end)
                return -EPROTO; /* no null item before the end */
            uint8_t type = buf[p];
            if (type == 0) {
                p = (p + 4) & ~(size_t)3; /* the null octet and those up to a 32-bit boundary */
                if (p > end)
                    return -EPROTO;
                break;
            }
            if (end - p < 2 || end - p - 2 < buf[p + 1])
                return -EPROTO;
            uint8_t ilen = buf[p + 1];
            if (type == RTCP_SDES_CNAME && !m->has_cname) {
                m->has_cname = true;
                m->cname_ssrc = ssrc;
                m->cname = buf + p + 2;
                m->cname_len = ilen;
            }
            p += 2 + (size_t)ilen;
        }
    }
    return 0;
}

int rtcp_parse(const uint8_t *buf, size_t len, struct rtcp_msg *m)
{
    memset(m, 0, sizeof(*m));
    if (len < RTCP_RR_LEN || len % 4 != 0)
        return -EBADMSG;
    /* A.2: the first packet is SR or RR, version 2, no padding */
    if ((buf[0] & 0xe0) != RTCP_VERSION << 6 || (buf[1] != RTCP_PT_SR && buf[1] != RTCP_PT_RR))
        return -EBADMSG;
    size_t off = 0;
    while (off < len) {
        const uint8_t *h = buf + off;
        if (h[0] >> 6 != RTCP_VERSION)
            return -EBADMSG;
        size_t plen = ((size_t)wire_get16(h + 2) + 1) * 4;
        if (plen > len - off)
            return -EBADMSG;
        size_t end = off + plen;
        if (h[0] & 0x20) {
            /* padding only on the last packet, its count within the packet */
            uint8_t pad = buf[end - 1];
            if (end != len || pad == 0 || pad > plen - RTCP_HDR_LEN)
                return -EBADMSG;
            end -= pad;
        }
        size_t body = end - off;
        unsigned count = h[0] & 0x1f;
        uint8_t pt = h[1];
        if (pt == RTCP_PT_SR || pt == RTCP_PT_RR) {
            size_t fixed = pt == RTCP_PT_SR ? RTCP_SR_LEN : RTCP_RR_LEN;
            if (body < fixed + (size_t)count * RTCP_BLOCK_LEN)
                return -EPROTO;
            if (off == 0) {
                m->ssrc = wire_get32(h + 4);
                if (pt == RTCP_PT_SR) {
                    m->is_sr = true;
                    m->si.ntp = (uint64_t)wire_get32(h + 8) << 32 | wire_get32(h + 12);
                    m->si.rtp_ts = wire_get32(h + 16);
                    m->si.packets = wire_get32(h + 20);
                    m->si.octets = wire_get32(h + 24);
                }
            }
            parse_blocks(h + fixed, count, m);
        } else if (pt == RTCP_PT_SDES) {
            int rc = parse_sdes(buf, off, end, count, m);
            if (rc < 0)
                return rc;
        } else {
            m->has_bye |= pt == RTCP_PT_BYE;
            m->n_skipped = sat_inc(m->n_skipped);
        }
        m->n_packets = sat_inc(m->n_packets);
        off += plen;
    }
    return 0;
}

static size_t sdes_len(uint8_t cname_len)
{
    /* header, SSRC, type, length, text, at least one null octet, to 32 bits */
    return RTCP_HDR_LEN + 4 + (((size_t)cname_len + 2 + 1 + 3) & ~(size_t)3);
}

int rtcp_write(uint8_t *buf, size_t cap, const struct rtcp_msg *m)
{
    if (m->n_blocks > RTCP_MSG_MAX_BLOCKS)
        return -EINVAL;
    size_t first = (m->is_sr ? RTCP_SR_LEN : RTCP_RR_LEN) + (size_t)m->n_blocks * RTCP_BLOCK_LEN;
    size_t total = first + (m->has_cname ? sdes_len(m->cname_len) : 0);
    if (total > cap)
        return -ENOSPC;
    buf[0] = (uint8_t)(RTCP_VERSION << 6 | m->n_blocks);
    buf[1] = m->is_sr ? RTCP_PT_SR : RTCP_PT_RR;
    wire_put16(buf + 2, (uint16_t)(first / 4 - 1));
    wire_put32(buf + 4, m->ssrc);
    uint8_t *p = buf + RTCP_RR_LEN;
    if (m->is_sr) {
        wire_put32(p, (uint32_t)(m->si.ntp >> 32));
        wire_put32(p + 4, (uint32_t)m->si.ntp);
        wire_put32(p + 8, m->si.rtp_ts);
        wire_put32(p + 12, m->si.packets);
        wire_put32(p + 16, m->si.octets);
        p += 20;
    }
    for (unsigned i = 0; i < m->n_blocks; i++, p += RTCP_BLOCK_LEN)
        write_block(p, &m->blocks[i]);
    if (m->has_cname) {
        size_t sl = sdes_len(m->cname_len);
        memset(p, 0, sl);
        p[0] = RTCP_VERSION << 6 | 1;
        p[1] = RTCP_PT_SDES;
        wire_put16(p + 2, (uint16_t)(sl / 4 - 1));
        wire_put32(p + 4, m->cname_ssrc);
        p[8] = RTCP_SDES_CNAME;
        p[9] = m->cname_len;
        if (m->cname_len)
            memcpy(p + 10, m->cname, m->cname_len);
    }
    return (int)total;
}

/* ---- session ---- */

int rtcp_init(struct rtcp_session *s, const struct rtcp_config *cfg)
{
    size_t n = cfg->cname ? strlen(cfg->cname) : 0;
    if (cfg->clock_rate == 0 || cfg->remote_clock_rate == 0 || n == 0 || n > RTCP_CNAME_MAX)
        return -EINVAL;
    memset(s, 0, sizeof(*s));
    rtcp_sender_init(&s->tx, cfg->ssrc, cfg->clock_rate);
    rtcp_source_init(&s->rx, cfg->remote_ssrc, cfg->remote_clock_rate);
    memcpy(s->cname, cfg->cname, n);
    s->cname_len = (uint8_t)n;
    return 0;
}

static uint64_t session_now(struct rtcp_session *s, uint64_t now_ns)
{
    if (now_ns < s->last_ns)
        now_ns = s->last_ns;
    s->last_ns = now_ns;
    return now_ns;
}

void rtcp_on_rtp_sent(struct rtcp_session *s, uint32_t rtp_ts, uint32_t payload_len,
                      uint64_t now_ns)
{
    rtcp_sender_on_rtp(&s->tx, rtp_ts, payload_len, session_now(s, now_ns));
}

enum rtcp_seq_result rtcp_on_rtp_received(struct rtcp_session *s, uint32_t ssrc, uint16_t seq,
                                          uint32_t rtp_ts, uint64_t now_ns)
{
    return rtcp_source_on_rtp(&s->rx, ssrc, seq, rtp_ts, session_now(s, now_ns));
}

static int build(struct rtcp_session *s, bool sr, uint64_t now_ns, uint8_t *buf, size_t cap)
{
    size_t need = (sr ? RTCP_SR_LEN : RTCP_RR_LEN) + (s->rx.valid ? RTCP_BLOCK_LEN : 0) +
                  sdes_len(s->cname_len);
    if (need > cap)
        return -ENOSPC;
    now_ns = session_now(s, now_ns);
    struct rtcp_msg m;
    memset(&m, 0, sizeof(m));
    m.ssrc = s->tx.ssrc;
    m.is_sr = sr;
    if (sr) {
        m.si.ntp = rtcp_ntp_from_ns(now_ns);
        m.si.rtp_ts = rtcp_sender_rtp_ts_at(&s->tx, now_ns);
        m.si.packets = s->tx.packets;
        m.si.octets = s->tx.octets;
    }
    if (rtcp_source_report(&s->rx, now_ns, &m.blocks[0]) == 0)
        m.n_blocks = 1;
    m.has_cname = true;
    m.cname_ssrc = s->tx.ssrc;
    m.cname = (const uint8_t *)s->cname;
    m.cname_len = s->cname_len;
    int n = rtcp_write(buf, cap, &m);
    if (n < 0)
        return n; /* not reached: the length was checked above */
    s->tx.packets_at_report[1] = s->tx.packets_at_report[0];
    s->tx.packets_at_report[0] = s->tx.packets;
    if (sr)
        s->c.sr_sent++;
    else
        s->c.rr_sent++;
    return n;
}

int rtcp_build_sr(struct rtcp_session *s, uint64_t now_ns, uint8_t *buf, size_t cap)
{
    return build(s, true, now_ns, buf, cap);
}

int rtcp_build_rr(struct rtcp_session *s, uint64_t now_ns, uint8_t *buf, size_t cap)
{
    return build(s, false, now_ns, buf, cap);
}

int rtcp_build_report(struct rtcp_session *s, uint64_t now_ns, uint8_t *buf, size_t cap)
{
    return build(s, s->tx.packets != s->tx.packets_at_report[1], now_ns, buf, cap);
}

enum engine_input rtcp_handle_input(struct rtcp_session *s, const uint8_t *buf, size_t len,
                                    uint64_t now_ns, struct rtcp_msg *m)
{
    struct rtcp_msg local;
    if (!m)
        m = &local;
    now_ns = session_now(s, now_ns);
    if (rtcp_parse(buf, len, m) < 0) {
        s->c.malformed++;
        return ENGINE_IN_MALFORMED;
    }
    s->c.received++;
    if (!s->rx.bound) {
        s->rx.ssrc = m->ssrc;
        s->rx.bound = true;
    } else if (m->ssrc != s->rx.ssrc) {
        s->c.ignored++;
        return ENGINE_IN_IGNORED;
    }
    if (m->is_sr)
        rtcp_source_on_sr(&s->rx, m->si.ntp, now_ns);
    for (unsigned i = 0; i < m->n_blocks; i++) {
        const struct rtcp_report_block *b = &m->blocks[i];
        if (b->ssrc != s->tx.ssrc)
            continue;
        s->remote_report = *b;
        s->has_remote_report = true;
        uint64_t rtt;
        if (rtcp_rtt_ns(now_ns, b->lsr, b->dlsr, &rtt) == 0) {
            s->has_rtt = true;
            s->rtt_ns = rtt;
            s->c.rtt_samples++;
        }
        break;
    }
    return ENGINE_IN_ACCEPTED;
}

void rtcp_feedback_count(const uint8_t *buf, size_t len, uint32_t ssrc, struct rtcp_fb *fb)
{
    memset(fb, 0, sizeof(*fb));
    size_t at = 0;
    while (at + RTCP_HDR_LEN <= len) {
        const uint8_t *p = buf + at;
        size_t plen = ((size_t)wire_get16(p + 2) + 1) * 4;
        if ((p[0] >> 6) != 2 || at + plen > len)
            return;
        unsigned fmt = p[0] & 0x1f;
        if (plen >= 12 && (p[1] == RTCP_PT_RTPFB || p[1] == RTCP_PT_PSFB)) {
            uint32_t media = wire_get32(p + 8);
            if (p[1] == RTCP_PT_RTPFB && fmt == 1 && media == ssrc)
                fb->nack++;
            else if (p[1] == RTCP_PT_PSFB && fmt == 1 && media == ssrc)
                fb->pli++;
            else if (p[1] == RTCP_PT_PSFB && fmt == 4)
                for (size_t e = 12; e + 8 <= plen; e += 8)
                    if (wire_get32(p + e) == ssrc) {
                        fb->fir++;
                        break;
                    }
        }
        at += plen;
    }
}

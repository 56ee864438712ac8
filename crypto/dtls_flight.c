/* SPDX-License-Identifier: MIT */
/* Flights out (written afresh from the endpoint's state every time they are
 * sent, fragmented to the MTU, records packed into datagrams) and handshake
 * fragments in (reassembled in any order, processed in message order). */
#include <errno.h>
#include <string.h>

#include "dtls_internal.h"
#include "dtls_record_internal.h"

#define MIN_FRAGMENT 64 /* a smaller piece of a message waits for the next datagram */

/* ---- out ---- */

void dtls_flight_begin(struct dtls_endpoint *e)
{
    e->n_items = 0;
    e->tx_item = 0;
    e->tx_off = 0;
    e->tx_pending = false;
}

void dtls_flight_add(struct dtls_endpoint *e, enum dtls_item it)
{
    if (e->n_items == FLIGHT_ITEMS)
        return; /* no flight has more: a bug, not input */
    uint8_t type = dtls_item_type(it);
    e->items[e->n_items] = (uint8_t)it;
    e->item_seq[e->n_items] = type ? e->out_seq : 0;
    e->n_items++;
    if (!type)
        return;
    uint8_t body[MSG_MAX];
    size_t len = dtls_msg_write(e, it, body);
    /* the first ClientHello and HelloVerifyRequest stay out of the
     * transcript (RFC 6347 §4.2.6); dtls.c restarts it after a cookie */
    if (it != IT_HELLO_VERIFY && it != IT13_KEY_UPDATE) /* nor post-handshake messages */
        dtls_transcript(e, type, e->out_seq, body, len);
    e->out_seq++;
}

void dtls_flight_send(struct dtls_endpoint *e, bool timer)
{
    e->tx_item = 0;
    e->tx_off = 0;
    e->tx_pending = e->n_items > 0;
    e->c.flights_sent++;
    e->rto_ms = e->rto_initial_ms;
    e->t_retx = timer ? e->now + (uint64_t)e->rto_ms * 1000000u : UINT64_MAX;
}

static size_t aead_overhead(const struct dtls_endpoint *e)
{
    return dtls_crec(e->rec)->suite == DTLS_SUITE_CHACHA20_POLY1305 ? 16 : 8 + 16;
}

/* The alert record: sealed once our epoch is 1, in the clear before. */
static size_t write_alert(struct dtls_endpoint *e, uint8_t *buf, size_t cap)
{
    e->alert_pending = false;
    uint8_t a[2] = {DTLS_ALERT_FATAL, e->alert_desc};
    int n = e->ccs_sent                        ? dtls_record_alert(e->rec, DTLS_ALERT_FATAL, e->alert_desc, buf, cap)
            : dtls_is13(e) && e->t.w.suite     ? dtls13_seal_flight_record(e, DTLS_CT_ALERT, a, 2, buf, cap)
                                               : dtls_record_plain(e->rec, DTLS_CT_ALERT, DTLS_V12, a, 2, buf, cap);
    if (n <= 0)
        return 0;
    e->c.alerts_out++;
    e->c.records_out++;
    e->c.datagrams_out++;
    return (size_t)n;
}

size_t dtls_flight_datagram(struct dtls_endpoint *e, uint8_t *buf, size_t cap)
{
    if (e->alert_pending)
        return write_alert(e, buf, cap);
    if (e->t.ack_pending)
        return dtls13_ack_out(e, buf, cap);
    if (!e->tx_pending)
        return 0;
    size_t limit = cap < e->mtu ? cap : e->mtu, used = 0;
    bool is13 = dtls_is13(e);
    if (is13 && e->tx_item == 0 && e->tx_off == 0)
        dtls13_flight_start(e);
    uint8_t body[MSG_MAX], rec[HS_HEADER + MSG_MAX];
    while (e->tx_item < e->n_items) {
        enum dtls_item it = (enum dtls_item)e->items[e->tx_item];
        if (it == IT_CHANGE_CIPHER_SPEC) {
            static const uint8_t one = 1;
            if (used + DTLS_RECORD_HEADER + 1 > limit)
                break;
            int n = dtls_record_plain(e->rec, DTLS_CT_CHANGE_CIPHER_SPEC, DTLS_V12, &one, 1, buf + used, limit - used);
            if (n <= 0)
                break;
            used += (size_t)n;
            e->c.records_out++;
            e->ccs_sent = true;
            e->tx_item++;
            continue;
        }
        bool sealed = it == IT_FINISHED;
        bool sealed13 = it >= IT13_ENCRYPTED_EXTENSIONS;
        size_t over = sealed13 ? DTLS13_OVERHEAD + HS_HEADER
                               : DTLS_RECORD_HEADER + HS_HEADER + (sealed ? aead_overhead(e) : 0);
        if (used + over >= limit)
            break;
        size_t len = dtls_msg_write(e, it, body);
        size_t left = len - e->tx_off, room = limit - used - over;
        if (left > room && room < MIN_FRAGMENT && used > 0)
            break;
        size_t frag = left < room ? left : room;
        rec[0] = dtls_item_type(it);
        wire_put24(rec + 1, (uint32_t)len);
        wire_put16(rec + 4, e->item_seq[e->tx_item]);
        wire_put24(rec + 6, e->tx_off);
        wire_put24(rec + 9, (uint32_t)frag);
        memcpy(rec + HS_HEADER, body + e->tx_off, frag);
        /* the first ClientHello and HelloVerifyRequest go as DTLS 1.0
         * records, as BoringSSL and OpenSSL send them */
        uint16_t v = it == IT_CLIENT_HELLO || it == IT_HELLO_VERIFY ? DTLS_V10 : DTLS_V12;
        /* a KeyUpdate goes at our write epoch through the record layer;
         * the record numbers it takes are the ones its ACK names */
        bool post = it == IT13_KEY_UPDATE;
        uint64_t post_seq = post ? dtls_record_write_seq(e->rec) : 0;
        int n = post ? dtls_record_seal(e->rec, DTLS_CT_HANDSHAKE, rec, HS_HEADER + frag, buf + used, limit - used)
                : sealed13 ? dtls13_seal_flight_record(e, DTLS_CT_HANDSHAKE, rec, HS_HEADER + frag, buf + used,
                                                       limit - used)
                : sealed ? dtls_record_seal(e->rec, DTLS_CT_HANDSHAKE, rec, HS_HEADER + frag, buf + used, limit - used)
                         : dtls_record_plain(e->rec, DTLS_CT_HANDSHAKE, v, rec, HS_HEADER + frag, buf + used,
                                             limit - used);
        if (post && n > 0) {
            if (!e->p.ku_sealed)
                e->p.ku_first = post_seq;
            e->p.ku_last = post_seq;
            e->p.ku_sealed = true;
        }
        if (n <= 0)
            break;
        used += (size_t)n;
        e->c.records_out++;
        e->tx_off = (uint16_t)(e->tx_off + frag);
        if (e->tx_off < len)
            break; /* the datagram is full */
        e->tx_off = 0;
        e->tx_item++;
    }
    if (e->tx_item >= e->n_items)
        e->tx_pending = false;
    if (used)
        e->c.datagrams_out++;
    return used;
}

/* ---- in ---- */

void dtls_reasm_reset(struct dtls_endpoint *e)
{
    memset(e->reasm, 0, sizeof(e->reasm));
    e->reasm_used = 0;
}

static struct dtls_reasm *find(struct dtls_endpoint *e, uint16_t seq)
{
    for (int i = 0; i < REASM_MSGS; i++)
        if (e->reasm[i].used && e->reasm[i].seq == seq)
            return &e->reasm[i];
    return NULL;
}

static bool complete(const struct dtls_reasm *m)
{
    return m->len == 0 || (m->n_ranges == 1 && m->range[0][0] == 0 && m->range[0][1] == m->len);
}

/* Adds [a, b) to m's ranges; false when there is no room for a new range
 * (the fragment is dropped: the flight comes again). *fresh: any byte new. */
static bool add_range(struct dtls_reasm *m, uint16_t a, uint16_t b, bool *fresh)
{
    *fresh = true;
    for (int i = 0; i < m->n_ranges; i++)
        if (m->range[i][0] <= a && b <= m->range[i][1]) {
            *fresh = false;
            return true;
        }
    if (a == b) {
        *fresh = false;
        return true;
    }
    uint16_t lo = a, hi = b;
    int k = 0;
    uint16_t keep[REASM_RANGES][2];
    for (int i = 0; i < m->n_ranges; i++) {
        if (m->range[i][1] < lo || m->range[i][0] > hi) {
            keep[k][0] = m->range[i][0];
            keep[k][1] = m->range[i][1];
            k++;
        } else {
            lo = m->range[i][0] < lo ? m->range[i][0] : lo;
            hi = m->range[i][1] > hi ? m->range[i][1] : hi;
        }
    }
    if (k == REASM_RANGES)
        return false;
    keep[k][0] = lo;
    keep[k][1] = hi;
    k++;
    memcpy(m->range, keep, sizeof(keep[0]) * (size_t)k);
    m->n_ranges = (uint8_t)k;
    return true;
}

/* Processes complete messages in order. */
static int drain(struct dtls_endpoint *e)
{
    for (;;) {
        if (e->state == ST_FAILED)
            return -EPROTO;
        struct dtls_reasm *m = find(e, e->in_seq);
        if (!m || !complete(m))
            return 0;
        uint8_t type = m->type, epoch = m->epoch;
        uint16_t off = m->off, len = m->len;
        m->used = false;
        uint16_t seq = e->in_seq;
        int rc = dtls_on_message(e, type, epoch, e->reasm_buf + off, len);
        bool any = false;
        for (int i = 0; i < REASM_MSGS; i++)
            any |= e->reasm[i].used;
        if (!any)
            e->reasm_used = 0;
        if (rc < 0)
            return rc;
        if (e->in_seq == seq) /* not taken (a server's foreign first message): gone */
            return 0;
    }
}

/* The handshake types DTLS 1.2 carries. */
static bool known_type(uint8_t t)
{
    return (t >= HS_CLIENT_HELLO && t <= HS_NEW_SESSION_TICKET) || (t >= HS_CERTIFICATE && t <= HS_CLIENT_KEY_EXCHANGE) ||
           t == HS_FINISHED || t == HS_ENCRYPTED_EXTENSIONS || t == HS_KEY_UPDATE;
}

/* Whether a handshake record body is whole fragments of handshake types,
 * each within its message. */
static bool well_formed(const uint8_t *b, size_t len)
{
    while (len > 0) {
        if (len < HS_HEADER)
            return false;
        uint32_t mlen = wire_get24(b + 1), foff = wire_get24(b + 6), flen = wire_get24(b + 9);
        if (flen > len - HS_HEADER || foff > mlen || flen > mlen - foff || !known_type(b[0]))
            return false;
        b += HS_HEADER + flen;
        len -= HS_HEADER + flen;
    }
    return true;
}

int dtls_fragments_in(struct dtls_endpoint *e, uint8_t epoch, const uint8_t *b, size_t len)
{
    /* a fragment that does not fit its record, or of no handshake type,
     * makes the record malformed: discarded whole (RFC 6347 §4.1.2.7),
     * the handshake goes on */
    if (!well_formed(b, len))
        return 0;
    bool taken = false;
    while (len > 0) {
        uint8_t type = b[0];
        uint32_t mlen = wire_get24(b + 1), foff = wire_get24(b + 6), flen = wire_get24(b + 9);
        uint16_t seq = wire_get16(b + 4);
        const uint8_t *frag = b + HS_HEADER;
        b += HS_HEADER + flen;
        len -= HS_HEADER + flen;
        if (e->state == ST_SERVER_HELLO && (type != HS_CLIENT_HELLO || epoch != 0)) {
            e->c.fragments_dropped++; /* nothing accepted yet: only a ClientHello is ours */
            continue;
        }
        if (seq < e->in_seq) {
            /* a flight of the peer we have: when its last message comes
             * again the peer lacks our answer (RFC 6347 §4.2.4) */
            e->c.fragments_dup++;
            taken = true;
            if (e->have_peer_last && seq == e->peer_last && foff == 0)
                dtls_on_repeat(e);
            continue;
        }
        if (e->state == ST_CONNECTED || e->state == ST_FAILED) {
            e->c.fragments_dropped++; /* a new handshake (renegotiation): not ours */
            continue;
        }
        if (mlen > DTLS_REASM_BYTES) {
            dtls_fail(e, DTLS_FAIL_TOO_BIG, DTLS_ALERT_ILLEGAL_PARAMETER);
            return -EPROTO;
        }
        if (seq >= e->in_seq + REASM_MSGS) {
            e->c.fragments_dropped++;
            continue;
        }
        struct dtls_reasm *m = find(e, seq);
        bool created = !m;
        if (!m) {
            for (int i = 0; i < REASM_MSGS && !m; i++)
                if (!e->reasm[i].used)
                    m = &e->reasm[i];
            if (!m || e->reasm_used + mlen > DTLS_REASM_BYTES) {
                e->c.fragments_dropped++;
                continue;
            }
            memset(m, 0, sizeof(*m));
            m->used = true;
            m->seq = seq;
            m->type = type;
            m->epoch = epoch;
            m->len = (uint16_t)mlen;
            m->off = e->reasm_used;
            e->reasm_used = (uint16_t)(e->reasm_used + mlen);
        } else if (m->type != type || m->len != mlen || m->epoch != epoch) {
            e->c.fragments_dropped++; /* disagrees with what we hold: not the same message */
            continue;
        }
        bool fresh;
        if (!add_range(m, (uint16_t)foff, (uint16_t)(foff + flen), &fresh)) {
            e->c.fragments_dropped++;
            continue;
        }
        if (mlen == 0)
            fresh = created; /* an empty message (ServerHelloDone) is whole at once */
        taken = true;
        if (!fresh) {
            e->c.fragments_dup++;
            continue;
        }
        memcpy(e->reasm_buf + m->off + foff, frag, flen);
        if (seq != e->in_seq)
            e->c.fragments_held++;
        int rc = drain(e);
        if (rc < 0)
            return rc;
    }
    return taken;
}

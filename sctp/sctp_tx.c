/* SPDX-License-Identifier: MIT */
/*
 * The sending side: messages fragmented into DATA chunks with their TSNs at
 * queue time, one list in TSN order (in flight, gap-acknowledged, marked for
 * retransmission, abandoned, unsent), SACK processing (cumulative and gap
 * acknowledgements, missing reports and fast retransmit), RTT and RTO
 * (RFC 9260 §6.3), congestion control (§7.2: slow start, congestion
 * avoidance, fast recovery, T3 collapse), the peer's window, and PR-SCTP
 * abandonment with FORWARD-TSN (RFC 3758).
 */
#include <errno.h>

#include "sctp_internal.h"

#define MAX_FWD_STREAMS 32
#define CHUNK_OVERHEAD 256u

static struct sctp_buf *B(const struct sctp_assoc *a, uint32_t i) { return pbuf(a->pool, i); }

static void flight_add(struct sctp_assoc *a, const struct sctp_buf *b)
{
    a->flight += b->len;
    a->flight_n++;
}

static void flight_sub(struct sctp_assoc *a, const struct sctp_buf *b)
{
    a->flight -= b->len;
    a->flight_n--;
}

void sctp_tx_init(struct sctp_assoc *a, uint32_t itsn, uint32_t peer_rwnd)
{
    a->next_tsn = itsn;
    a->cum_acked = a->adv_ack = itsn - 1;
    a->flight = a->flight_n = a->buffered = a->pba = a->n_rtx = 0;
    a->peer_rwnd = peer_rwnd;
    a->ssthresh = peer_rwnd;
    a->fast_recovery = a->rtt_pending = a->fr_bypass = false;
    a->srtt = a->rttvar = 0;
}

void sctp_tx_free_all(struct sctp_assoc *a)
{
    sctp_pool_put_list(a->pool, a->snd_head);
    a->snd_head = a->snd_tail = a->snd_unsent = SCTP_NIL;
    a->flight = a->flight_n = a->buffered = a->n_rtx = 0;
}

int sctp_tx_queue(struct sctp_assoc *a, uint16_t sid, uint32_t ppid, const void *data, size_t len,
                  const struct sctp_send_opts *o)
{
    /* a fragment's chunk, padded to 4 bytes, must fit an MTU-sized packet
     * on its own (an MTU such as 1,163 is not a multiple of 4) */
    uint32_t frag = (a->mtu - 12u - 16u) & ~3u;
    if (frag > a->pool->cap)
        frag = a->pool->cap & ~3u;
    uint32_t nfrags = len ? (uint32_t)((len + frag - 1) / frag) : 1;
    struct sctp_pool *p = a->pool;
    /* keep an eighth of the pool for receiving */
    if (a->buffered + len > a->sndbuf || nfrags + p->n / 8 > p->free_count)
        return -EAGAIN;
    struct sctp_stream *s = &a->streams[sid];
    bool unordered = o && o->unordered;
    uint16_t ssn = unordered ? 0 : s->ssn_out++;
    const uint8_t *src = data;
    for (uint32_t k = 0; k < nfrags; k++) {
        uint32_t i = sctp_pool_get(p);
        struct sctp_buf *b = B(a, i);
        uint32_t n = (uint32_t)(len - (size_t)k * frag) < frag ? (uint32_t)(len - (size_t)k * frag) : frag;
        b->kind = BK_DATA;
        b->tsn = a->next_tsn++;
        b->sid = sid;
        b->ssn = ssn;
        b->ppid = ppid;
        b->len = (uint16_t)n;
        b->flags = (uint8_t)((k == 0 ? DF_B : 0) | (k + 1 == nfrags ? DF_E : 0) | (unordered ? DF_U : 0));
        b->state = TX_UNSENT;
        b->nsent = b->misses = b->fast_rtx = 0;
        b->pr = o ? (uint8_t)o->pr : SCTP_PR_NONE;
        b->pr_value = o ? o->pr_value : 0;
        b->born = a->now;
        b->sent_at = 0;
        if (n)
            memcpy(pdata(a->pool, b), src + (size_t)k * frag, n);
        b->next = SCTP_NIL;
        if (a->snd_tail == SCTP_NIL)
            a->snd_head = i;
        else
            B(a, a->snd_tail)->next = i;
        a->snd_tail = i;
        if (a->snd_unsent == SCTP_NIL)
            a->snd_unsent = i;
    }
    a->buffered += (uint32_t)len;
    a->c->messages_out++;
    return 0;
}

bool sctp_tx_has_sendable(const struct sctp_assoc *a)
{
    return a->n_rtx || a->snd_unsent != SCTP_NIL;
}

static void rtt_sample(struct sctp_assoc *a, uint64_t r)
{
    if (a->srtt == 0) {
        a->srtt = r ? r : 1;
        a->rttvar = r / 2;
    } else {
        uint64_t d = a->srtt > r ? a->srtt - r : r - a->srtt;
        a->rttvar = (3 * a->rttvar + d) / 4;
        a->srtt = (7 * a->srtt + r) / 8;
    }
    uint64_t rto = a->srtt + 4 * a->rttvar;
    uint64_t lo = (uint64_t)a->rto_min_ms * NS_PER_MS, hi = (uint64_t)a->rto_max_ms * NS_PER_MS;
    a->rto = rto < lo ? lo : rto > hi ? hi : rto;
}

/* Moves the advanced ack point over abandoned (or gap-acked) chunks that
 * follow the cumulative ack; a FORWARD-TSN is owed when it got ahead. */
static void advance_ack_point(struct sctp_assoc *a)
{
    if (tsn_lt(a->adv_ack, a->cum_acked))
        a->adv_ack = a->cum_acked;
    for (uint32_t i = a->snd_head; i != SCTP_NIL; i = B(a, i)->next) {
        struct sctp_buf *b = B(a, i);
        if (tsn_le(b->tsn, a->adv_ack))
            continue;
        if (b->tsn != a->adv_ack + 1 || b->state != TX_ABANDONED)
            break;
        a->adv_ack = b->tsn;
    }
    if (tsn_lt(a->cum_acked, a->adv_ack) && a->peer_fwd_tsn)
        a->need_fwd_tsn = true;
}

/* Abandons the whole message that chunk `at` belongs to (RFC 3758 §3.5). */
static void abandon_message(struct sctp_assoc *a, uint32_t at)
{
    struct sctp_buf *t = B(a, at);
    uint32_t first = SCTP_NIL;
    /* the message's first chunk: the last B at or before `at` */
    for (uint32_t i = a->snd_head; i != SCTP_NIL; i = B(a, i)->next) {
        if (B(a, i)->flags & DF_B)
            first = i;
        if (i == at)
            break;
    }
    if (first == SCTP_NIL)
        first = at;
    for (uint32_t i = first; i != SCTP_NIL; i = B(a, i)->next) {
        struct sctp_buf *b = B(a, i);
        if (b->sid != t->sid || (b->flags & DF_U) != (t->flags & DF_U))
            break;
        if (b->state == TX_INFLIGHT)
            flight_sub(a, b);
        else if (b->state == TX_RTX)
            a->n_rtx--;
        if (b->state != TX_ACKED)
            b->state = TX_ABANDONED;
        if (a->snd_unsent == i)
            a->snd_unsent = b->next;
        if (b->flags & DF_E)
            break;
    }
    a->c->abandoned_messages++;
    advance_ack_point(a);
}

static bool expired(const struct sctp_assoc *a, const struct sctp_buf *b)
{
    if (b->pr == SCTP_PR_TTL)
        return a->now - b->born >= (uint64_t)b->pr_value * NS_PER_MS;
    if (b->pr == SCTP_PR_RTX)
        return b->nsent > b->pr_value;
    return false;
}

static size_t put_data(const struct sctp_assoc *a, uint8_t *p, const struct sctp_buf *b)
{
    p[0] = CT_DATA;
    p[1] = b->flags;
    wire_put16(p + 2, (uint16_t)(16 + b->len));
    wire_put32(p + 4, b->tsn);
    wire_put16(p + 8, b->sid);
    wire_put16(p + 10, b->ssn);
    wire_put32(p + 12, b->ppid);
    memcpy(p + 16, pdata(a->pool, b), b->len);
    size_t n = 16 + (size_t)b->len;
    while (n & 3)
        p[n++] = 0;
    return n;
}

static size_t chunk_room(const struct sctp_buf *b) { return (16 + (size_t)b->len + 3) & ~(size_t)3; }

size_t sctp_tx_fill(struct sctp_assoc *a, uint8_t *pkt, size_t off, size_t cap, bool *sent_data)
{
    uint64_t now = a->now;
    /* retransmissions first, in TSN order */
    if (a->n_rtx) {
        for (uint32_t i = a->snd_head; i != SCTP_NIL && i != a->snd_unsent && a->n_rtx;) {
            struct sctp_buf *b = B(a, i);
            uint32_t next = b->next;
            if (b->state != TX_RTX) {
                i = next;
                continue;
            }
            if (b->pr != SCTP_PR_NONE && a->peer_fwd_tsn && expired(a, b)) {
                abandon_message(a, i);
                i = next;
                continue;
            }
            if (!a->fr_bypass && a->flight > 0 && a->flight + b->len > a->cwnd)
                break;
            if (off + chunk_room(b) > cap)
                break;
            off += put_data(a, pkt + off, b);
            b->state = TX_INFLIGHT;
            b->nsent++;
            b->misses = 0;
            b->sent_at = now;
            flight_add(a, b);
            a->n_rtx--;
            a->c->retransmissions++;
            a->c->data_chunks_out++;
            if (a->rtt_pending && a->rtt_tsn == b->tsn)
                a->rtt_pending = false; /* Karn: no sample from a retransmitted chunk */
            *sent_data = true;
            i = next;
        }
        a->fr_bypass = false;
    }
    /* then new data within the congestion and receive windows */
    while (a->snd_unsent != SCTP_NIL) {
        uint32_t i = a->snd_unsent;
        struct sctp_buf *b = B(a, i);
        if (b->state == TX_ABANDONED) {
            a->snd_unsent = b->next;
            continue;
        }
        if (b->pr == SCTP_PR_TTL && a->peer_fwd_tsn && expired(a, b)) {
            abandon_message(a, i);
            continue;
        }
        if (a->flight > 0 && (a->flight + b->len > a->cwnd || b->len + CHUNK_OVERHEAD > a->peer_rwnd))
            break;
        if (off + chunk_room(b) > cap)
            break;
        off += put_data(a, pkt + off, b);
        b->state = TX_INFLIGHT;
        b->nsent = 1;
        b->sent_at = now;
        flight_add(a, b);
        /* the peer's buffer pays for each chunk's bookkeeping too: count
         * it as usrsctp does (sctp_peer_chunk_oh), or tiny messages
         * overrun its window and get dropped */
        uint32_t cost = b->len + CHUNK_OVERHEAD;
        a->peer_rwnd = a->peer_rwnd > cost ? a->peer_rwnd - cost : 0;
        a->snd_unsent = b->next;
        a->c->data_chunks_out++;
        if (!a->rtt_pending) {
            a->rtt_pending = true;
            a->rtt_tsn = b->tsn;
        }
        *sent_data = true;
    }
    /* new DATA: the path is not idle (RFC 9260 8.3), its heartbeat period
     * starts again, so a busy association's heartbeat timer never runs
     * out (no visit every period just to find it busy) */
    if (*sent_data && a->timer[T_HB])
        timer_set(a, T_HB, now + (uint64_t)a->hb_ms * NS_PER_MS + a->rto);
    if (*sent_data && !a->timer[T_RTX])
        timer_set(a, T_RTX, now + a->rto);
    return off;
}

static void acked(struct sctp_assoc *a, struct sctp_buf *b, uint32_t *bytes)
{
    if (b->state == TX_INFLIGHT) {
        flight_sub(a, b);
        *bytes += b->len;
        if (a->rtt_pending && a->rtt_tsn == b->tsn && b->nsent == 1) {
            rtt_sample(a, a->now - b->sent_at);
            a->rtt_pending = false;
        }
    } else if (b->state == TX_RTX) {
        a->n_rtx--;
        *bytes += b->len;
    }
}

/* What one SACK newly acknowledged: the bytes, and the highest TSN it
 * acknowledges for the first time (HTNA; valid when newly is set). */
struct sack_news {
    uint32_t bytes, htna;
    bool newly;
};

/* The cumulative acknowledgement: frees what it covers from the head of
 * the send queue (never a chunk not yet sent). */
static void sack_cum_ack(struct sctp_assoc *a, uint32_t cum, struct sack_news *n)
{
    while (a->snd_head != SCTP_NIL && tsn_le(B(a, a->snd_head)->tsn, cum)) {
        uint32_t i = a->snd_head;
        struct sctp_buf *b = B(a, i);
        if (b->state == TX_UNSENT || i == a->snd_unsent)
            break; /* never sent: the peer cannot have it */
        if (b->state == TX_INFLIGHT || b->state == TX_RTX)
            n->htna = b->tsn, n->newly = true;
        acked(a, b, &n->bytes);
        a->buffered -= b->len;
        a->snd_head = b->next;
        if (a->snd_head == SCTP_NIL)
            a->snd_tail = SCTP_NIL;
        sctp_pool_put(a->pool, i);
    }
    a->cum_acked = cum;
}

/* The gap blocks: marks the sent chunks they cover acknowledged (they stay
 * queued until the cumulative TSN passes them). */
static void sack_gap_blocks(struct sctp_assoc *a, uint32_t cum, const uint8_t *gaps, uint16_t n_gaps,
                            struct sack_news *n)
{
    uint32_t i = a->snd_head;
    for (uint16_t g = 0; g < n_gaps; g++) {
        uint32_t start = cum + wire_get16(gaps + 4 * g), end = cum + wire_get16(gaps + 4 * g + 2);
        if (tsn_lt(end, start))
            continue;
        for (; i != SCTP_NIL && i != a->snd_unsent; i = B(a, i)->next) {
            struct sctp_buf *b = B(a, i);
            if (tsn_lt(b->tsn, start))
                continue;
            if (tsn_lt(end, b->tsn))
                break;
            if (b->state == TX_INFLIGHT || b->state == TX_RTX) {
                acked(a, b, &n->bytes);
                b->state = TX_ACKED;
                if (!n->newly || tsn_lt(n->htna, b->tsn))
                    n->htna = b->tsn, n->newly = true;
            }
        }
    }
}

/* Missing reports for what was sent before the highest TSN newly
 * acknowledged; a chunk is fast-retransmitted once, after that only its T3
 * timer retransmits it, and the first one marked starts fast recovery
 * (RFC 9260 §7.2.4). */
static void sack_missing_reports(struct sctp_assoc *a, const struct sack_news *n)
{
    bool marked = false;
    for (uint32_t j = a->snd_head; n->newly && j != SCTP_NIL && j != a->snd_unsent; j = B(a, j)->next) {
        struct sctp_buf *b = B(a, j);
        if (!tsn_lt(b->tsn, n->htna))
            break;
        if (b->state != TX_INFLIGHT || b->fast_rtx)
            continue;
        if (++b->misses >= 3) {
            b->state = TX_RTX;
            b->misses = 0;
            b->fast_rtx = 1;
            flight_sub(a, b);
            a->n_rtx++;
            a->c->fast_retransmits++;
            marked = true;
        }
    }
    if (marked && !a->fast_recovery) {
        uint32_t half = a->cwnd / 2, floor = 4u * a->mtu;
        a->ssthresh = half > floor ? half : floor;
        a->cwnd = a->ssthresh;
        a->pba = 0;
        a->fast_recovery = true;
        a->recovery_exit = a->next_tsn - 1;
        a->fr_bypass = true;
    }
}

/* The congestion window after a cumulative TSN that moved and acknowledged
 * bytes outside fast recovery: slow start or congestion avoidance, grown
 * only when the window was in use (RFC 9260 §7.2.1, §7.2.2). */
static void sack_grow_cwnd(struct sctp_assoc *a, uint32_t bytes, uint32_t flight_before)
{
    if (a->cwnd <= a->ssthresh) {
        if (flight_before + a->mtu >= a->cwnd)
            a->cwnd += bytes < a->mtu ? bytes : a->mtu;
    } else {
        a->pba += bytes;
        if (a->pba >= a->cwnd && flight_before + a->mtu >= a->cwnd) {
            a->pba -= a->cwnd;
            a->cwnd += a->mtu;
        }
    }
}

void sctp_tx_sack(struct sctp_assoc *a, uint32_t cum, uint32_t a_rwnd, bool has_rwnd,
                  const uint8_t *gaps, uint16_t n_gaps)
{
    if (tsn_lt(cum, a->cum_acked))
        return; /* older than what we know */
    if (tsn_le(a->next_tsn, cum)) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK); /* acknowledges what was never sent */
        return;
    }
    uint32_t flight_before = a->flight;
    bool cum_moved = cum != a->cum_acked;
    struct sack_news n = {0, 0, false};
    sack_cum_ack(a, cum, &n);
    if (n_gaps) {
        sack_gap_blocks(a, cum, gaps, n_gaps, &n);
        sack_missing_reports(a, &n);
    }
    if (a->fast_recovery && tsn_le(a->recovery_exit, cum))
        a->fast_recovery = false;
    if (cum_moved && n.bytes && !a->fast_recovery)
        sack_grow_cwnd(a, n.bytes, flight_before);
    if (has_rwnd) { /* the peer's window less what is in flight */
        uint64_t held = a->flight + (uint64_t)a->flight_n * CHUNK_OVERHEAD;
        a->peer_rwnd = a_rwnd > held ? (uint32_t)(a_rwnd - held) : 0;
    }
    if (n.bytes)
        a->errors = 0;
    advance_ack_point(a);
    /* T3: stopped when nothing is outstanding, restarted on progress */
    if (a->flight == 0 && !tsn_lt(a->cum_acked, a->adv_ack))
        timer_stop(a, T_RTX);
    else if (cum_moved || !a->timer[T_RTX])
        timer_set(a, T_RTX, a->now + a->rto);
}

void sctp_tx_t3(struct sctp_assoc *a)
{
    a->c->t3_timeouts++;
    uint32_t half = a->cwnd / 2, floor = 4u * a->mtu;
    a->ssthresh = half > floor ? half : floor;
    a->cwnd = a->mtu;
    a->pba = 0;
    uint64_t max = (uint64_t)a->rto_max_ms * NS_PER_MS;
    a->rto = a->rto * 2 < max ? a->rto * 2 : max;
    a->fast_recovery = false;
    a->rtt_pending = false;
    bool any = false;
    for (uint32_t i = a->snd_head; i != SCTP_NIL && i != a->snd_unsent; i = B(a, i)->next) {
        struct sctp_buf *b = B(a, i);
        if (b->state == TX_INFLIGHT) {
            b->state = TX_RTX;
            b->misses = 0;
            flight_sub(a, b);
            a->n_rtx++;
            any = true;
        }
    }
    if (tsn_lt(a->cum_acked, a->adv_ack) && a->peer_fwd_tsn) {
        a->need_fwd_tsn = true;
        any = true;
    }
    if (any)
        timer_set(a, T_RTX, a->now + a->rto);
}

size_t sctp_tx_put_fwd_tsn(struct sctp_assoc *a, uint8_t *p, size_t room)
{
    if (!tsn_lt(a->cum_acked, a->adv_ack)) {
        a->need_fwd_tsn = false;
        return 0;
    }
    uint16_t sids[MAX_FWD_STREAMS], ssns[MAX_FWD_STREAMS];
    int n = 0;
    for (uint32_t i = a->snd_head; i != SCTP_NIL; i = B(a, i)->next) {
        struct sctp_buf *b = B(a, i);
        if (tsn_lt(a->adv_ack, b->tsn))
            break;
        if (b->state != TX_ABANDONED || (b->flags & DF_U))
            continue; /* unordered chunks carry no stream entry (pion/sctp#106) */
        int k = 0;
        while (k < n && sids[k] != b->sid)
            k++;
        if (k == n) {
            if (n == MAX_FWD_STREAMS)
                continue;
            sids[n] = b->sid;
            n++;
        }
        ssns[k] = b->ssn;
    }
    size_t len = 8 + 4 * (size_t)n;
    if (len > room)
        return 0;
    p[0] = CT_FORWARD_TSN;
    p[1] = 0;
    wire_put16(p + 2, (uint16_t)len);
    wire_put32(p + 4, a->adv_ack);
    for (int k = 0; k < n; k++) {
        wire_put16(p + 8 + 4 * k, sids[k]);
        wire_put16(p + 10 + 4 * k, ssns[k]);
    }
    a->need_fwd_tsn = false;
    a->c->forward_tsns_out++;
    if (!a->timer[T_RTX])
        timer_set(a, T_RTX, a->now + a->rto);
    return len;
}

int sctp_send(struct sctp_assoc *a, uint16_t sid, uint32_t ppid, const void *data, size_t len,
              const struct sctp_send_opts *o, uint64_t now)
{
    if (now > a->now)
        a->now = now;
    if (a->state != SCTP_ST_ESTABLISHED)
        return -ENOTCONN;
    if (sid >= a->n_out || (a->streams[sid].flags & (SF_RESET_WANTED | SF_RESET_SENT)))
        return -EINVAL;
    if (len == 0 || len > a->max_message)
        return len ? -EMSGSIZE : -EINVAL;
    if (o && (o->pr != SCTP_PR_NONE && o->pr != SCTP_PR_RTX && o->pr != SCTP_PR_TTL))
        return -EINVAL;
    return sctp_tx_queue(a, sid, ppid, data, len, o);
}

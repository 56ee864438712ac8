/* SPDX-License-Identifier: MIT */
/*
 * The receiving side: which TSNs arrived (the cumulative point and, while
 * there is a hole, a 1,024-TSN bitmap above it in a pool buffer), duplicates, reassembly of fragments and
 * delivery in stream-sequence order (or at once when unordered), SACK with
 * gap blocks and duplicate TSNs, delayed SACK, and FORWARD-TSN (RFC 3758
 * §3.6: skip what the sender abandoned, drop the pieces of abandoned
 * messages, move the streams' expected SSNs).
 */
#include "sctp_internal.h"

#define MAX_GAPS 64

static struct sctp_buf *B(const struct sctp_assoc *a, uint32_t i) { return pbuf(a->pool, i); }

/* The received-TSN bitmap (RX_WINDOW bits, 128 bytes) lives in a pool
 * buffer taken when a TSN arrives above a hole and given back when the
 * hole closes: in order, the association carries only the cumulative
 * point. Set bits are always within (rcv_cum, rcv_highest]. */
static uint64_t *rmap(const struct sctp_assoc *a)
{
    return (uint64_t *)(void *)pdata(a->pool, B(a, a->rcv_map));
}

static bool bit_get(const struct sctp_assoc *a, uint32_t tsn)
{
    if (a->rcv_map == SCTP_NIL)
        return false;
    uint32_t k = tsn % RX_WINDOW;
    return rmap(a)[k / 64] >> (k % 64) & 1;
}

/* the map must exist (map_take) */
static void bit_set(struct sctp_assoc *a, uint32_t tsn)
{
    uint32_t k = tsn % RX_WINDOW;
    rmap(a)[k / 64] |= 1ull << (k % 64);
}

static void bit_clear(struct sctp_assoc *a, uint32_t tsn)
{
    uint32_t k = tsn % RX_WINDOW;
    rmap(a)[k / 64] &= ~(1ull << (k % 64));
}

/* Makes sure the map exists; false when the pool is empty. */
static bool map_take(struct sctp_assoc *a)
{
    if (a->rcv_map != SCTP_NIL)
        return true;
    uint32_t i = sctp_pool_get(a->pool);
    if (i == SCTP_NIL)
        return false;
    B(a, i)->kind = BK_BLOB;
    B(a, i)->len = RX_WINDOW / 8;
    a->rcv_map = i;
    memset(rmap(a), 0, RX_WINDOW / 8);
    return true;
}

/* Gives the map back once nothing above the cumulative point is held. */
static void map_trim(struct sctp_assoc *a)
{
    if (a->rcv_map != SCTP_NIL && a->rcv_highest == a->rcv_cum) {
        sctp_pool_put(a->pool, a->rcv_map);
        a->rcv_map = SCTP_NIL;
    }
}

static void map_free(struct sctp_assoc *a)
{
    sctp_pool_put(a->pool, a->rcv_map);
    a->rcv_map = SCTP_NIL;
}

void sctp_rx_init(struct sctp_assoc *a, uint32_t peer_itsn)
{
    a->rcv_cum = a->rcv_highest = peer_itsn - 1;
    map_free(a);
    a->n_dups = a->pkts_unacked = 0;
    a->sack_now = a->need_sack = false;
    a->rx_bytes = 0;
}

void sctp_rx_free_all(struct sctp_assoc *a)
{
    for (uint32_t i = a->rx_head; i != SCTP_NIL; i = B(a, i)->next) {
        a->rx_bytes -= B(a, i)->len;
        a->rx_bufs--;
    }
    sctp_pool_put_list(a->pool, a->rx_head);
    a->rx_head = a->rx_tail = SCTP_NIL;
    sctp_pool_put_list(a->pool, a->sack_q_head);
    a->sack_q_head = a->sack_q_tail = SCTP_NIL;
    a->sack_q_n = 0;
    map_free(a);
    sctp_reconf_free_deferred(a);
}

uint32_t sctp_rx_a_rwnd(const struct sctp_assoc *a)
{
    uint32_t win = a->rwnd_cfg > a->rx_bytes ? a->rwnd_cfg - a->rx_bytes : 0;
    /* never more than the buffers left of the association's share of the
     * pool can hold, so a peer that keeps to the window is not dropped */
    uint32_t bufs = a->max_rx_bufs > a->rx_bufs ? a->max_rx_bufs - a->rx_bufs : 0;
    uint64_t room = (uint64_t)bufs * a->pool->cap;
    return room < win ? (uint32_t)room : win;
}

bool sctp_rx_has_tsn(const struct sctp_assoc *a, uint32_t tsn)
{
    if (tsn_le(tsn, a->rcv_cum))
        return true;
    return tsn_le(tsn, a->rcv_highest) && tsn - a->rcv_cum <= RX_WINDOW && bit_get(a, tsn);
}

static void advance_cum(struct sctp_assoc *a)
{
    while (bit_get(a, a->rcv_cum + 1)) {
        a->rcv_cum++;
        bit_clear(a, a->rcv_cum);
    }
    if (tsn_lt(a->rcv_highest, a->rcv_cum))
        a->rcv_highest = a->rcv_cum;
    map_trim(a);
}

/* TSN tsn (new, in the window) arrived. Without a map nothing is held
 * above the cumulative point, and the caller took one for any TSN but the
 * next: so tsn is rcv_cum + 1 and moves it. */
static void mark_received(struct sctp_assoc *a, uint32_t tsn)
{
    if (a->rcv_map == SCTP_NIL) {
        a->rcv_cum = a->rcv_highest = tsn;
        return;
    }
    bit_set(a, tsn);
    if (tsn_lt(a->rcv_highest, tsn))
        a->rcv_highest = tsn;
    advance_cum(a);
}

static void note_dup(struct sctp_assoc *a, uint32_t tsn)
{
    a->c->dup_tsns_in++;
    if (a->n_dups < 4)
        a->dups[a->n_dups++] = tsn;
    a->sack_now = true;
}

void sctp_ready_append(struct sctp_assoc *a, uint32_t head, uint32_t tail)
{
    B(a, tail)->next = SCTP_NIL;
    if (a->ready_tail == SCTP_NIL)
        a->ready_head = head;
    else
        B(a, a->ready_tail)->next = head;
    a->ready_tail = tail;
}

bool sctp_push_marker(struct sctp_assoc *a, uint8_t kind, uint16_t sid)
{
    uint32_t i = sctp_pool_get(a->pool);
    if (i == SCTP_NIL) {
        sctp_drop(a, SCTP_DROP_NO_BUFFER);
        return false;
    }
    struct sctp_buf *b = B(a, i);
    b->kind = kind;
    b->sid = sid;
    b->len = 0;
    b->flags = DF_B | DF_E;
    sctp_ready_append(a, i, i);
    return true;
}

void sctp_rx_data(struct sctp_assoc *a, const uint8_t *ch, uint16_t len)
{
    if (len < 17) { /* no user data: a protocol violation */
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return;
    }
    uint32_t tsn = wire_get32(ch + 4);
    uint16_t sid = wire_get16(ch + 8), dlen = (uint16_t)(len - 16);
    if (tsn_le(tsn, a->rcv_cum) || (tsn_lt(a->rcv_cum, tsn) && tsn - a->rcv_cum <= RX_WINDOW &&
                                    bit_get(a, tsn))) {
        note_dup(a, tsn);
        return;
    }
    if (tsn - a->rcv_cum > RX_WINDOW) {
        sctp_drop(a, SCTP_DROP_OUT_OF_WINDOW);
        return;
    }
    if (dlen > a->pool->cap) {
        sctp_drop(a, SCTP_DROP_TOO_BIG);
        return;
    }
    /* Within the window we announced anything is taken, but a TSN above
     * a hole only while it leaves half the association's share of the
     * pool (max_buffers) free, and it needs the map (a pool buffer, see
     * rmap): the chunk that closes the hole then still finds a buffer for
     * itself and for the message it continues (a share holds twice the
     * largest message), or a peer that lost one chunk would deadlock with
     * the share full of what came after it. Beyond the window only the
     * chunk that moves the cumulative point, and only when its message is
     * the next its stream delivers (unordered, or the expected SSN): so a
     * window full of a message in reassembly, or of messages waiting for
     * the one before them, cannot deadlock (that message is the next one
     * and completes, or passes max_message and aborts, sctp_rx_deliver),
     * while messages behind a stream-sequence gap that never closes stay
     * within the window (dropped here; the peer retransmits). */
    bool in_window = a->rx_bytes + dlen <= a->rwnd_cfg;
    if (tsn != a->rcv_cum + 1 ? !in_window || a->rx_bufs >= a->max_rx_bufs / 2 || !map_take(a)
                              : !in_window && sid < a->n_in && !(ch[1] & DF_U) &&
                                    wire_get16(ch + 10) != a->streams[sid].ssn_in) {
        sctp_drop(a, SCTP_DROP_NO_BUFFER);
        return;
    }
    a->c->data_chunks_in++;
    if (sid >= a->n_in) {
        /* acknowledged and discarded (§6.5) */
        sctp_drop(a, SCTP_DROP_BAD_STREAM);
        mark_received(a, tsn);
        return;
    }
    /* over the association's share of the pool as with an empty pool */
    uint32_t i = a->rx_bufs < a->max_rx_bufs ? sctp_pool_get(a->pool) : SCTP_NIL;
    if (i == SCTP_NIL) {
        a->c->data_chunks_in--;
        sctp_drop(a, SCTP_DROP_NO_BUFFER);
        map_trim(a);
        return;
    }
    a->rx_bufs++;
    struct sctp_buf *b = B(a, i);
    b->kind = BK_DATA;
    b->tsn = tsn;
    b->flags = ch[1] & (DF_B | DF_E | DF_U);
    b->sid = sid;
    b->ssn = wire_get16(ch + 10);
    b->ppid = wire_get32(ch + 12);
    b->len = dlen;
    memcpy(pdata(a->pool, b), ch + 16, dlen);
    a->rx_bytes += dlen;
    /* insert in TSN order; arrivals are mostly in order, so try the tail */
    if (a->rx_tail == SCTP_NIL || tsn_lt(B(a, a->rx_tail)->tsn, tsn)) {
        b->next = SCTP_NIL;
        if (a->rx_tail == SCTP_NIL)
            a->rx_head = i;
        else
            B(a, a->rx_tail)->next = i;
        a->rx_tail = i;
    } else {
        uint32_t prev = SCTP_NIL, j = a->rx_head;
        while (j != SCTP_NIL && tsn_lt(B(a, j)->tsn, tsn)) {
            prev = j;
            j = B(a, j)->next;
        }
        b->next = j;
        if (prev == SCTP_NIL)
            a->rx_head = i;
        else
            B(a, prev)->next = i;
    }
    mark_received(a, tsn);
}

/* Unlinks buffers [from, to] (from follows prev) out of the receive list. */
static void unlink_run(struct sctp_assoc *a, uint32_t prev, uint32_t to)
{
    uint32_t after = B(a, to)->next;
    if (prev == SCTP_NIL)
        a->rx_head = after;
    else
        B(a, prev)->next = after;
    if (a->rx_tail == to)
        a->rx_tail = prev;
}

static bool in_deferred_reset(const struct sctp_assoc *a, uint16_t sid, uint32_t tsn)
{
    return a->in_reset_buf != SCTP_NIL && tsn_lt(sctp_reconf_deferred_tsn(a), tsn) &&
           sctp_reconf_deferred_has(a, sid);
}

bool sctp_rx_deliver(struct sctp_assoc *a)
{
    uint32_t prev = SCTP_NIL, i = a->rx_head;
    while (i != SCTP_NIL) {
        struct sctp_buf *b = B(a, i);
        /* the run of consecutive TSNs that makes one message */
        uint32_t last = i, n = 1, bytes = 0;
        bool complete = false;
        if (b->flags & DF_B) {
            for (uint32_t j = i;;) {
                struct sctp_buf *f = B(a, j);
                bytes += f->len;
                if (bytes > a->max_message)
                    return false; /* whole or not, over the limit */
                if (f->flags & DF_E) {
                    complete = true;
                    last = j;
                    break;
                }
                uint32_t nx = f->next;
                if (nx == SCTP_NIL || B(a, nx)->tsn != f->tsn + 1 || B(a, nx)->sid != b->sid ||
                    (B(a, nx)->flags & (DF_U | DF_B)) != (b->flags & DF_U))
                    break;
                j = nx;
                n++;
            }
        } else if (tsn_le(b->tsn - 1, a->rcv_cum) &&
                   (prev == SCTP_NIL || B(a, prev)->tsn != b->tsn - 1)) {
            /* a middle or last piece whose predecessor came and went: the
             * rest of a message skipped by FORWARD-TSN */
            uint32_t nx = b->next;
            unlink_run(a, prev, i);
            a->rx_bytes -= b->len;
            a->rx_bufs--;
            sctp_pool_put(a->pool, i);
            i = nx;
            continue;
        }
        if (complete && (b->flags & DF_U ? true
                         : b->ssn == a->streams[b->sid].ssn_in && !in_deferred_reset(a, b->sid, b->tsn))) {
            uint32_t nx = B(a, last)->next;
            unlink_run(a, prev, last);
            if (!(b->flags & DF_U))
                a->streams[b->sid].ssn_in++;
            sctp_ready_append(a, i, last);
            a->c->messages_in++;
            i = nx;
            continue;
        }
        if (complete && !(b->flags & DF_U) && ssn_lt(b->ssn, a->streams[b->sid].ssn_in) &&
            a->in_reset_buf == SCTP_NIL) {
            /* an old message of a stream FORWARD-TSN moved past */
            uint32_t nx = B(a, last)->next;
            unlink_run(a, prev, last);
            B(a, last)->next = SCTP_NIL;
            for (uint32_t j = i; j != SCTP_NIL; j = B(a, j)->next) {
                a->rx_bytes -= B(a, j)->len;
                a->rx_bufs--;
            }
            sctp_pool_put_list(a->pool, i);
            i = nx;
            continue;
        }
        prev = complete ? last : i;
        i = B(a, prev)->next;
    }
    return true;
}

bool sctp_rx_forward_tsn(struct sctp_assoc *a, const uint8_t *ch, uint16_t len)
{
    if (!a->peer_fwd_tsn) {
        /* the peer's INIT did not announce FORWARD-TSN, so it must not
         * send one (RFC 3758 §3.3.1): it would skip DATA still owed */
        sctp_drop(a, SCTP_DROP_UNEXPECTED);
        return false;
    }
    if (len < 8 || (len - 8) % 4) {
        sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        return false;
    }
    a->c->forward_tsns_in++;
    uint32_t fwd = wire_get32(ch + 4);
    a->sack_now = true;
    if (tsn_le(fwd, a->rcv_cum))
        return true;
    if (a->rcv_map != SCTP_NIL) {
        if (fwd - a->rcv_cum > RX_WINDOW) {
            memset(rmap(a), 0, RX_WINDOW / 8);
        } else {
            for (uint32_t t = a->rcv_cum + 1; tsn_le(t, fwd); t++)
                bit_clear(a, t);
        }
    }
    a->rcv_cum = fwd;
    advance_cum(a);
    for (uint16_t off = 8; off + 4 <= len; off += 4) {
        uint16_t sid = wire_get16(ch + off), ssn = wire_get16(ch + off + 2);
        if (sid < a->n_in && !ssn_lt(ssn, a->streams[sid].ssn_in)) {
            /* every SSN passed over is a message never delivered: what
             * came of it is dropped here or by sctp_rx_deliver */
            a->c->messages_skipped += (uint16_t)(ssn + 1 - a->streams[sid].ssn_in);
            a->streams[sid].ssn_in = (uint16_t)(ssn + 1);
        }
    }
    /* drop incomplete messages the sender gave up (at or below fwd) */
    uint32_t prev = SCTP_NIL, i = a->rx_head;
    while (i != SCTP_NIL) {
        struct sctp_buf *b = B(a, i);
        if (tsn_lt(fwd, b->tsn))
            break;
        /* keep a complete message (it may wait for its turn) */
        uint32_t last = i;
        bool complete = false;
        if (b->flags & DF_B) {
            for (uint32_t j = i; j != SCTP_NIL; j = B(a, j)->next) {
                struct sctp_buf *f = B(a, j);
                if (j != i && (f->tsn != B(a, last)->tsn + 1 || (f->flags & DF_B)))
                    break;
                last = j;
                if (f->flags & DF_E) {
                    complete = true;
                    break;
                }
            }
        }
        if (complete) {
            prev = last;
            i = B(a, last)->next;
            continue;
        }
        uint32_t nx = b->next;
        unlink_run(a, prev, i);
        a->rx_bytes -= b->len;
        a->rx_bufs--;
        sctp_pool_put(a->pool, i);
        i = nx;
    }
    return true;
}

/* A SACK that falls due while a packet is handled is built right then:
 * when a burst of packets is handed in before anything is sent, the peer
 * still gets one SACK per two DATA packets and one per out-of-order packet,
 * which its congestion window growth (per SACK) and its fast retransmit
 * (three missing reports) count on. At most 8 wait; beyond, the newest is
 * rebuilt in place. */
static void queue_sack(struct sctp_assoc *a)
{
    uint32_t i;
    if (a->sack_q_n >= 8) {
        i = a->sack_q_tail;
    } else {
        i = sctp_pool_get(a->pool);
        if (i == SCTP_NIL) {
            a->need_sack = true; /* built at transmit time instead */
            return;
        }
        B(a, i)->next = SCTP_NIL;
        if (a->sack_q_tail == SCTP_NIL)
            a->sack_q_head = i;
        else
            B(a, a->sack_q_tail)->next = i;
        a->sack_q_tail = i;
        a->sack_q_n++;
    }
    struct sctp_buf *b = B(a, i);
    size_t room = a->mtu - 12u < a->pool->cap ? a->mtu - 12u : a->pool->cap;
    b->kind = BK_BLOB;
    b->len = (uint16_t)sctp_rx_put_sack(a, pdata(a->pool, b), room);
}

uint32_t sctp_rx_pop_sack(struct sctp_assoc *a)
{
    uint32_t i = a->sack_q_head;
    if (i == SCTP_NIL)
        return i;
    a->sack_q_head = B(a, i)->next;
    if (a->sack_q_head == SCTP_NIL)
        a->sack_q_tail = SCTP_NIL;
    a->sack_q_n--;
    return i;
}

void sctp_rx_after_packet(struct sctp_assoc *a, bool had_data)
{
    if (!had_data)
        return;
    if (!sctp_rx_deliver(a)) {
        sctp_abort_violation(a);
        return;
    }
    a->pkts_unacked++;
    /* DATA after a pause longer than the SACK delay is acknowledged at
     * once (as TCP's quick ack, RFC 9260 6.2 asks for no delay, only for
     * no more than one SACK a packet): its SACK then leaves while the
     * association is still in the cache, bundled with any answer the
     * application sends now, instead of from a timer sack_delay_ms later
     * that brings it back from memory for a lone SACK; a busy association
     * still acknowledges every second packet */
    uint32_t now_ms = (uint32_t)(a->now / NS_PER_MS);
    bool after_pause = now_ms - a->rcv_last_ms > a->sack_delay_ms;
    a->rcv_last_ms = now_ms;
    if (a->sack_now || a->rcv_highest != a->rcv_cum || a->pkts_unacked >= 2)
        queue_sack(a);
    else if (after_pause)
        a->need_sack = true;
    else if (!a->timer[T_SACK])
        timer_set(a, T_SACK, a->now + (uint64_t)a->sack_delay_ms * NS_PER_MS);
}

bool sctp_rx_sack_delayed(const struct sctp_assoc *a)
{
    /* the timer runs only after a lone in-order DATA packet; anything that
     * would add a gap block or a duplicate makes the SACK due at once and
     * stops it, so this holds whenever the timer runs (checked anyway:
     * the caller reserves exactly SACK_LEN_DELAYED bytes) */
    return a->timer[T_SACK] && a->rcv_highest == a->rcv_cum && a->n_dups == 0;
}

size_t sctp_rx_put_sack(struct sctp_assoc *a, uint8_t *p, size_t room)
{
    if (room < 16)
        return 0;
    /* the duplicates that fit (the others go unreported), then the gap
     * blocks that fit in what is left */
    size_t n_dups = a->n_dups;
    if (4u * n_dups > room - 16)
        n_dups = (room - 16) / 4;
    size_t max_gaps = (room - 16 - 4u * n_dups) / 4;
    if (max_gaps > MAX_GAPS)
        max_gaps = MAX_GAPS;
    uint16_t n_gaps = 0;
    size_t o = 16;
    if (a->rcv_highest != a->rcv_cum) {
        uint32_t t = a->rcv_cum + 2, end = a->rcv_highest;
        while (tsn_le(t, end) && n_gaps < max_gaps) {
            while (tsn_le(t, end) && !bit_get(a, t))
                t++;
            if (!tsn_le(t, end))
                break;
            uint32_t s = t;
            while (tsn_le(t, end) && bit_get(a, t))
                t++;
            wire_put16(p + o, (uint16_t)(s - a->rcv_cum));
            wire_put16(p + o + 2, (uint16_t)(t - 1 - a->rcv_cum));
            o += 4;
            n_gaps++;
        }
    }
    for (size_t k = 0; k < n_dups; k++, o += 4)
        wire_put32(p + o, a->dups[k]);
    p[0] = CT_SACK;
    p[1] = 0;
    wire_put16(p + 2, (uint16_t)o);
    wire_put32(p + 4, a->rcv_cum);
    wire_put32(p + 8, sctp_rx_a_rwnd(a));
    wire_put16(p + 12, n_gaps);
    wire_put16(p + 14, (uint16_t)n_dups);
    a->n_dups = 0;
    a->pkts_unacked = 0;
    a->need_sack = a->sack_now = false;
    timer_stop(a, T_SACK);
    a->c->sacks_out++;
    return o;
}

/* SPDX-License-Identifier: MIT */
/*
 * Stream reset (RFC 6525), the outgoing SSN reset request and its
 * response, the only RE-CONFIG operation WebRTC uses: one request of ours
 * outstanding at a time (more streams wait their turn, and a stream id is
 * not reused while its reset is pending), retransmitted on the RTO (backed
 * off, each retransmission counted toward Association.Max.Retrans); the
 * peer's requests performed once every TSN it had assigned before them has
 * arrived ("deferred reset processing", §5.2.2), answered when performed,
 * and answered again when the request is retransmitted.
 */
#include <errno.h>

#include "sctp_internal.h"

enum { RR_NOTHING = 0, RR_PERFORMED = 1, RR_DENIED = 2, RR_BAD_SEQ = 5, RR_IN_PROGRESS = 6 };

void sctp_reconf_kick(struct sctp_assoc *a)
{
    if (a->reconf_outstanding || a->state != SCTP_ST_ESTABLISHED)
        return;
    bool any = false;
    for (uint16_t s = 0; s < a->n_out; s++) {
        if (a->streams[s].flags & SF_RESET_WANTED) {
            a->streams[s].flags = (uint8_t)((a->streams[s].flags & ~SF_RESET_WANTED) | SF_RESET_SENT);
            any = true;
        }
    }
    if (!any)
        return;
    a->reconf_outstanding = true;
    a->reconf_last_tsn = a->next_tsn - 1;
    a->need_reconf_req = true;
    timer_set(a, T_RECONF, a->now + a->rto);
}

int sctp_reset_outgoing(struct sctp_assoc *a, const uint16_t *sids, int n, uint64_t now)
{
    if (now > a->now)
        a->now = now;
    if (a->state != SCTP_ST_ESTABLISHED)
        return -ENOTCONN;
    if (!a->peer_reconf)
        return -EOPNOTSUPP;
    if (n < 1)
        return -EINVAL;
    for (int k = 0; k < n; k++) {
        if (sids[k] >= a->n_out)
            return -EINVAL;
        if (a->streams[sids[k]].flags & (SF_RESET_WANTED | SF_RESET_SENT))
            return -EBUSY;
    }
    for (int k = 0; k < n; k++)
        a->streams[sids[k]].flags |= SF_RESET_WANTED;
    sctp_reconf_kick(a);
    return 0;
}

/* Both directions of a stream reset: a DataChannel is closed, the stream
 * free for a new channel. */
static void check_closed(struct sctp_assoc *a, uint16_t sid)
{
    struct sctp_stream *s = &a->streams[sid];
    if ((s->flags & (SF_IN_RESET | SF_OUT_RESET)) != (SF_IN_RESET | SF_OUT_RESET))
        return;
    if (s->flags & SF_DC_OUT)
        sctp_push_marker(a, BK_CLOSED_MARK, sid);
    memset(s, 0, sizeof(*s));
}

void sctp_dcep_stream_reset(struct sctp_assoc *a, uint16_t sid)
{
    struct sctp_stream *s = &a->streams[sid];
    if (sid < a->n_out && !(s->flags & (SF_OUT_RESET | SF_RESET_WANTED | SF_RESET_SENT))) {
        s->flags |= SF_RESET_WANTED | SF_CLOSING; /* answer by resetting ours (pion/sctp#238) */
        sctp_reconf_kick(a);
    }
    if (sid >= a->n_out)
        s->flags |= SF_OUT_RESET;
    check_closed(a, sid);
}

static void reset_one_incoming(struct sctp_assoc *a, uint16_t sid)
{
    if (sid >= a->n_in)
        return;
    a->streams[sid].ssn_in = 0;
    if (a->dcep) {
        a->streams[sid].flags |= SF_IN_RESET;
        sctp_dcep_stream_reset(a, sid);
    } else {
        sctp_push_marker(a, BK_RESET_MARK, sid);
    }
}

static void perform(struct sctp_assoc *a, const uint16_t *sids, uint16_t n, const uint8_t *wire)
{
    (void)sctp_rx_deliver(a); /* what came before the reset is delivered before it (a
                               * message over max_message aborts at the packet's end) */
    if (n == 0) {
        for (uint16_t s = 0; s < a->n_in; s++)
            reset_one_incoming(a, s);
    }
    for (uint16_t k = 0; k < n; k++)
        reset_one_incoming(a, sids ? sids[k] : wire_get16(wire + 2 * k));
    a->c->reconf_in++;
}

static void respond(struct sctp_assoc *a, uint32_t seq, uint32_t result)
{
    a->resp_seq = seq;
    a->resp_result = (uint8_t)result;
    a->need_reconf_resp = true;
}

/* A request deferred until the TSNs before it arrive (§5.2.2) waits in a
 * pool buffer: the sender's last TSN, then the stream ids (none: all). */
#define DEFER_MAX 8

static uint8_t *deferred(const struct sctp_assoc *a)
{
    return pdata(a->pool, pbuf(a->pool, a->in_reset_buf));
}

static bool defer(struct sctp_assoc *a, uint32_t last_tsn, uint16_t n, const uint8_t *list)
{
    uint32_t i = sctp_pool_get(a->pool);
    if (i == SCTP_NIL)
        return false;
    struct sctp_buf *b = pbuf(a->pool, i);
    b->kind = BK_BLOB;
    b->len = (uint16_t)(4 + 2 * n);
    a->in_reset_buf = i;
    uint8_t *d = deferred(a);
    wire_put32(d, last_tsn);
    memcpy(d + 4, list, 2 * (size_t)n);
    return true;
}

uint32_t sctp_reconf_deferred_tsn(const struct sctp_assoc *a)
{
    return wire_get32(deferred(a));
}

bool sctp_reconf_deferred_has(const struct sctp_assoc *a, uint16_t sid)
{
    const struct sctp_buf *b = pbuf(a->pool, a->in_reset_buf);
    const uint8_t *d = deferred(a);
    uint16_t n = (uint16_t)((b->len - 4) / 2);
    if (n == 0)
        return true; /* an empty list resets every stream */
    for (uint16_t k = 0; k < n; k++)
        if (wire_get16(d + 4 + 2 * k) == sid)
            return true;
    return false;
}

static void handle_request(struct sctp_assoc *a, const uint8_t *v, uint16_t vlen)
{
    uint32_t seq = wire_get32(v), last_tsn = wire_get32(v + 8);
    uint16_t n = (uint16_t)((vlen - 12) / 2);
    const uint8_t *list = v + 12;
    if (seq == a->peer_reconf_seq) {
        if (a->in_reset_buf != SCTP_NIL)
            return; /* this request, deferred: answered once performed */
        if (tsn_le(last_tsn, a->rcv_cum)) {
            perform(a, NULL, n, list);
            a->peer_reconf_seq++;
            respond(a, seq, RR_PERFORMED);
        } else if (n <= DEFER_MAX) {
            if (!defer(a, last_tsn, n, list))
                respond(a, seq, RR_IN_PROGRESS); /* no buffer: the peer asks again */
        } else {
            a->peer_reconf_seq++;
            respond(a, seq, RR_DENIED);
        }
    } else if (seq == a->peer_reconf_seq - 1) {
        respond(a, seq, a->resp_seq == seq ? a->resp_result : RR_PERFORMED);
    } else {
        respond(a, seq, RR_BAD_SEQ);
    }
}

static void handle_response(struct sctp_assoc *a, uint32_t seq, uint32_t result)
{
    if (!a->reconf_outstanding || seq != a->reconf_seq || result == RR_IN_PROGRESS)
        return; /* in progress: our timer asks again */
    for (uint16_t s = 0; s < a->n_out; s++) {
        struct sctp_stream *st = &a->streams[s];
        if (!(st->flags & SF_RESET_SENT))
            continue;
        st->flags &= (uint8_t)~SF_RESET_SENT;
        if (result == RR_PERFORMED || result == RR_NOTHING) {
            st->ssn_out = 0;
            st->flags |= SF_OUT_RESET;
            if (a->dcep)
                check_closed(a, s);
            else
                st->flags &= (uint8_t)~SF_OUT_RESET;
        }
    }
    a->reconf_outstanding = false;
    a->need_reconf_req = false;
    a->reconf_seq++;
    timer_stop(a, T_RECONF);
    sctp_reconf_kick(a);
}

void sctp_reconf_handle(struct sctp_assoc *a, const uint8_t *ch, uint16_t len)
{
    uint16_t off = 4;
    int n = 0;
    while (off + 4 <= len && n < 2) {
        uint16_t type = wire_get16(ch + off), plen = wire_get16(ch + off + 2);
        if (plen < 4 || off + plen > len) {
            sctp_drop(a, SCTP_DROP_BAD_CHUNK);
            return;
        }
        const uint8_t *v = ch + off + 4;
        uint16_t vlen = (uint16_t)(plen - 4);
        if (type == PT_RECONF_OUT_REQ && vlen >= 12 && vlen % 2 == 0)
            handle_request(a, v, vlen);
        else if (type == PT_RECONF_RESP && vlen >= 8)
            handle_response(a, wire_get32(v), wire_get32(v + 4));
        else
            sctp_drop(a, SCTP_DROP_BAD_CHUNK);
        off = (uint16_t)(off + ((plen + 3) & ~3));
        n++;
    }
}

void sctp_reconf_check_deferred(struct sctp_assoc *a)
{
    if (a->in_reset_buf == SCTP_NIL || !tsn_le(sctp_reconf_deferred_tsn(a), a->rcv_cum))
        return;
    uint16_t sids[DEFER_MAX];
    uint16_t n = (uint16_t)((pbuf(a->pool, a->in_reset_buf)->len - 4) / 2);
    for (uint16_t k = 0; k < n; k++)
        sids[k] = wire_get16(deferred(a) + 4 + 2 * k);
    perform(a, sids, n, NULL); /* still deferred while it delivers what came before */
    sctp_reconf_free_deferred(a);
    respond(a, a->peer_reconf_seq++, RR_PERFORMED);
    (void)sctp_rx_deliver(a); /* messages held behind the reset (sizes checked on arrival) */
}

void sctp_reconf_free_deferred(struct sctp_assoc *a)
{
    sctp_pool_put(a->pool, a->in_reset_buf);
    a->in_reset_buf = SCTP_NIL;
}

void sctp_reconf_timeout(struct sctp_assoc *a)
{
    if (!a->reconf_outstanding)
        return;
    a->need_reconf_req = true;
    timer_set(a, T_RECONF, a->now + a->rto);
}

size_t sctp_reconf_put(struct sctp_assoc *a, uint8_t *p, size_t room)
{
    size_t o = 4;
    if (a->need_reconf_req && a->reconf_outstanding) {
        uint16_t n = 0;
        for (uint16_t s = 0; s < a->n_out; s++)
            if (a->streams[s].flags & SF_RESET_SENT)
                n++;
        size_t plen = 16 + 2 * (size_t)n;
        if (o + ((plen + 3) & ~(size_t)3) + 12 > room)
            return 0;
        wire_put16(p + o, PT_RECONF_OUT_REQ);
        wire_put16(p + o + 2, (uint16_t)plen);
        wire_put32(p + o + 4, a->reconf_seq);
        wire_put32(p + o + 8, a->peer_reconf_seq - 1);
        wire_put32(p + o + 12, a->reconf_last_tsn);
        size_t q = o + 16;
        for (uint16_t s = 0; s < a->n_out; s++)
            if (a->streams[s].flags & SF_RESET_SENT) {
                wire_put16(p + q, s);
                q += 2;
            }
        while (q & 3)
            p[q++] = 0;
        o = q;
        a->c->reconf_out++;
    }
    a->need_reconf_req = false;
    if (a->need_reconf_resp) {
        if (o + 12 > room)
            return o > 4 ? (p[0] = CT_RECONFIG, p[1] = 0, wire_put16(p + 2, (uint16_t)o), o) : 0;
        wire_put16(p + o, PT_RECONF_RESP);
        wire_put16(p + o + 2, 12);
        wire_put32(p + o + 4, a->resp_seq);
        wire_put32(p + o + 8, a->resp_result);
        o += 12;
        a->need_reconf_resp = false;
    }
    if (o == 4)
        return 0;
    p[0] = CT_RECONFIG;
    p[1] = 0;
    wire_put16(p + 2, (uint16_t)o);
    return o;
}

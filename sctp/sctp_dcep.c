/* SPDX-License-Identifier: MIT */
/*
 * DataChannels over the association (RFC 8831) and their establishment
 * protocol (DCEP, RFC 8832): DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK on
 * PPID 50, stream ids by DTLS role (client even, server odd), the channel
 * type deciding each message's ordering and partial reliability, the
 * string/binary PPIDs (51/53, and 56/57 with one dummy byte for empty
 * messages), and closing by stream reset both ways.
 */
#include <errno.h>

#include "sctp_internal.h"

enum { DCEP_ACK = 0x02, DCEP_OPEN = 0x03 };

static const struct sctp_send_opts reliable_ordered = {0};

static bool valid_type(uint8_t t)
{
    switch (t) {
    case SCTP_DC_RELIABLE: case SCTP_DC_RELIABLE_UNORDERED: case SCTP_DC_REXMIT:
    case SCTP_DC_REXMIT_UNORDERED: case SCTP_DC_TIMED: case SCTP_DC_TIMED_UNORDERED:
        return true;
    }
    return false;
}

int sctp_dc_open(struct sctp_assoc *a, const struct sctp_dc_opts *o, uint64_t now)
{
    if (now > a->now)
        a->now = now;
    if (a->state != SCTP_ST_ESTABLISHED || !a->dcep)
        return -ENOTCONN;
    if (!o || !valid_type((uint8_t)o->type) || (o->label_len && !o->label) ||
        (o->protocol_len && !o->protocol) || 12u + o->label_len + o->protocol_len > a->max_message)
        return -EINVAL;
    uint16_t sid = a->dtls_client ? 0 : 1;
    uint16_t limit = a->n_out < a->n_in ? a->n_out : a->n_in;
    while (sid < limit && a->streams[sid].flags)
        sid = (uint16_t)(sid + 2);
    if (sid >= limit)
        return -ENOSPC;
    uint8_t msg[12 + 2 * 1024];
    size_t len = 12u + o->label_len + o->protocol_len;
    if (len > sizeof(msg))
        return -EINVAL;
    msg[0] = DCEP_OPEN;
    msg[1] = (uint8_t)o->type;
    wire_put16(msg + 2, o->priority);
    wire_put32(msg + 4, o->type == SCTP_DC_RELIABLE || o->type == SCTP_DC_RELIABLE_UNORDERED ? 0 : o->reliability);
    wire_put16(msg + 8, o->label_len);
    wire_put16(msg + 10, o->protocol_len);
    if (o->label_len)
        memcpy(msg + 12, o->label, o->label_len);
    if (o->protocol_len)
        memcpy(msg + 12 + o->label_len, o->protocol, o->protocol_len);
    int rc = sctp_tx_queue(a, sid, SCTP_PPID_DCEP, msg, len, &reliable_ordered);
    if (rc < 0)
        return rc;
    struct sctp_stream *s = &a->streams[sid];
    s->flags = SF_DC_OUT;
    s->dc_type = (uint8_t)o->type;
    stream_set_rel(s, o->reliability); /* the priority schedules nothing here: not kept */
    return sid;
}

int sctp_dc_send(struct sctp_assoc *a, uint16_t sid, const void *data, size_t len, bool binary,
                 uint64_t now)
{
    if (sid >= a->n_out || !(a->streams[sid].flags & SF_DC_OUT) ||
        (a->streams[sid].flags & SF_CLOSING))
        return -EINVAL;
    const struct sctp_stream *s = &a->streams[sid];
    struct sctp_send_opts o = {0};
    /* unordered only once the peer acknowledged the channel (RFC 8832 §6) */
    o.unordered = (s->dc_type & 0x80) && (s->flags & SF_DC_ACKED);
    switch (s->dc_type & 0x7f) {
    case 0x01: o.pr = SCTP_PR_RTX; o.pr_value = stream_rel(s); break;
    case 0x02: o.pr = SCTP_PR_TTL; o.pr_value = stream_rel(s); break;
    default: break;
    }
    static const uint8_t dummy = 0;
    if (len == 0)
        return sctp_send(a, sid, binary ? SCTP_PPID_BINARY_EMPTY : SCTP_PPID_STRING_EMPTY, &dummy, 1,
                         &o, now);
    return sctp_send(a, sid, binary ? SCTP_PPID_BINARY : SCTP_PPID_STRING, data, len, &o, now);
}

int sctp_dc_close(struct sctp_assoc *a, uint16_t sid, uint64_t now)
{
    if (sid >= a->n_out || !(a->streams[sid].flags & SF_DC_OUT))
        return -EINVAL;
    if (a->streams[sid].flags & SF_CLOSING)
        return 0;
    int rc = sctp_reset_outgoing(a, &sid, 1, now);
    if (rc == 0)
        a->streams[sid].flags |= SF_CLOSING;
    return rc;
}

enum sctp_event_type sctp_dcep_message(struct sctp_assoc *a, uint16_t sid, const uint8_t *m,
                                       uint32_t len, struct sctp_ev *ev, uint8_t *buf,
                                       size_t cap)
{
    struct sctp_stream *s = sid < a->n_streams ? &a->streams[sid] : NULL;
    if (!s || len < 1) {
        sctp_drop(a, SCTP_DROP_BAD_DCEP);
        return SCTP_EV_NONE;
    }
    if (m[0] == DCEP_ACK && len == 1) {
        if ((s->flags & SF_DC_OUT) && !(s->flags & SF_DC_ACKED)) {
            s->flags |= SF_DC_ACKED;
            ev->type = SCTP_EV_DC_ACKED;
            ev->sid = sid;
            return ev->type;
        }
        sctp_drop(a, SCTP_DROP_BAD_DCEP);
        return SCTP_EV_NONE;
    }
    if (m[0] != DCEP_OPEN || len < 12 || 12u + wire_get16(m + 8) + wire_get16(m + 10) != len ||
        !valid_type(m[1]) || s->flags || sid >= a->n_out) {
        sctp_drop(a, SCTP_DROP_BAD_DCEP); /* malformed, or on a stream in use */
        return SCTP_EV_NONE;
    }
    /* RFC 8832 §6 gives the DTLS client even ids and the server odd ones;
     * werift 0.24 opens odd ids as client. Accepted on a free stream (we
     * only ever open free ones, so no two channels can share an id), and
     * counted. */
    if ((sid & 1) == (a->dtls_client ? 0 : 1))
        a->c->dcep_wrong_parity++;
    uint8_t ack = DCEP_ACK;
    if (sctp_tx_queue(a, sid, SCTP_PPID_DCEP, &ack, 1, &reliable_ordered) < 0) {
        sctp_drop(a, SCTP_DROP_NO_BUFFER);
        return SCTP_EV_NONE;
    }
    s->flags = SF_DC_OUT | SF_DC_ACKED;
    s->dc_type = m[1];
    stream_set_rel(s, wire_get32(m + 4));
    ev->type = SCTP_EV_DC_OPEN;
    ev->sid = sid;
    ev->ppid = SCTP_PPID_DCEP;
    ev->dc_type = m[1];
    ev->dc_priority = wire_get16(m + 2);
    ev->dc_reliability = wire_get32(m + 4);
    ev->label_len = wire_get16(m + 8);
    ev->protocol_len = wire_get16(m + 10);
    ev->len = len - 12;
    if (ev->len <= cap)
        memmove(buf, m + 12, ev->len); /* m may be buf itself */
    return ev->type;
}

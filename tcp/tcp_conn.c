/* SPDX-License-Identifier: MIT */
#include "tcp_conn.h"

#include <errno.h>
#include <string.h>

#include "wire.h"

#define F_FIN 0x01u
#define F_SYN 0x02u
#define F_RST 0x04u
#define F_PSH 0x08u
#define F_ACK 0x10u

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

#define NEVER UINT64_MAX
#define EVQ 4

struct tcp_conn {
    enum tcp_state state;
    uint32_t lip, rip;
    uint16_t lport, rport;
    uint16_t mss, peer_mss, rcv_wnd;
    bool used, syn_due, ack_due, rst_due, fin_queued, fin_rcvd, probe;
    uint32_t rst_seq;

    /* send side: [snd_una, snd_max) sent, [snd_max, q_end) queued; the FIN,
     * once queued, has sequence number q_end */
    uint32_t iss, snd_una, snd_nxt, snd_max, q_end;
    uint32_t snd_wnd, snd_wl1, snd_wl2;
    uint32_t cwnd, ssthresh;
    uint32_t dupacks;  /* duplicate ACKs in a row (RFC 5681 §3.2: the third resends) */
    bool rtx_one;      /* fast retransmit: the segment at snd_una is due */
    /* receive side */
    uint32_t irs, rcv_nxt;

    /* RFC 6298 */
    uint64_t srtt, rttvar, rto, rto_min, rto_max;
    bool timing;
    uint32_t rtt_seq; /* the timed segment is acknowledged when ack passes this */
    uint64_t rtt_t0;
    uint64_t rtx_due;
    uint32_t n_retx, max_retx;

    uint64_t last_now;
    struct tcp_ev ev[EVQ];
    uint8_t ev_head, ev_n;
    struct tcp_counters c;
    uint32_t cap; /* ring bytes, a power of two */
    uint8_t ring[];
};

static const char *const state_names[] = {"closed",     "syn-sent",   "established", "fin-wait-1",
                                          "fin-wait-2", "closing",    "close-wait",  "last-ack"};

const char *tcp_state_name(enum tcp_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

size_t tcp_size(uint32_t sndbuf)
{
    return (sizeof(struct tcp_conn) + (sndbuf ? sndbuf : TCP_SNDBUF_DEFAULT) + 7) & ~(size_t)7;
}

uint16_t tcp_checksum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len)
{
    uint64_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6u + (uint64_t)len;
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        sum += (uint32_t)seg[i] << 8 | seg[i + 1];
    if (i < len)
        sum += (uint32_t)seg[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void event(struct tcp_conn *c, enum tcp_event_type t)
{
    if (c->ev_n == EVQ)
        return; /* at most three per call and the caller drains after each */
    c->ev[(c->ev_head + c->ev_n++) % EVQ].type = t;
}

struct tcp_conn *tcp_init(void *mem, const struct tcp_config *cfg)
{
    uint32_t cap = cfg->sndbuf ? cfg->sndbuf : TCP_SNDBUF_DEFAULT;
    if (cap < 1024 || (cap & (cap - 1)) || (cfg->mss && cfg->mss < 64))
        return NULL;
    struct tcp_conn *c = mem;
    memset(c, 0, sizeof(*c));
    c->state = TCP_CLOSED_STATE;
    c->lip = cfg->local_ip;
    c->rip = cfg->remote_ip;
    c->lport = cfg->local_port;
    c->rport = cfg->remote_port;
    c->mss = cfg->mss ? cfg->mss : 1460;
    c->peer_mss = 536;
    c->rcv_wnd = cfg->rcv_wnd ? cfg->rcv_wnd : 65535;
    c->iss = c->snd_una = c->snd_nxt = c->snd_max = cfg->isn;
    c->q_end = cfg->isn + 1;
    c->rto = cfg->rto_init_ns ? cfg->rto_init_ns : 1000000000ull;
    c->rto_min = cfg->rto_min_ns ? cfg->rto_min_ns : 200000000ull;
    c->rto_max = cfg->rto_max_ns ? cfg->rto_max_ns : 60000000000ull;
    c->max_retx = cfg->max_retx ? cfg->max_retx : 8;
    c->rtx_due = NEVER;
    c->cap = cap;
    return c;
}

static void touch(struct tcp_conn *c, uint64_t *now)
{
    if (*now > c->last_now)
        c->last_now = *now;
    *now = c->last_now;
}

int tcp_connect(struct tcp_conn *c, uint64_t now)
{
    if (c->used)
        return -EISCONN;
    touch(c, &now);
    c->used = true;
    c->state = TCP_SYN_SENT;
    c->syn_due = true;
    return 0;
}

/* The first data byte's sequence number still in the ring. */
static uint32_t ring_start(const struct tcp_conn *c)
{
    return SEQ_LT(c->snd_una, c->iss + 1) ? c->iss + 1 : c->snd_una;
}

size_t tcp_send_space(const struct tcp_conn *c)
{
    return c->cap - (c->q_end - ring_start(c));
}

static bool can_send(const struct tcp_conn *c)
{
    return c->state == TCP_SYN_SENT || c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT;
}

int tcp_send(struct tcp_conn *c, const uint8_t *data, size_t len, uint64_t now)
{
    touch(c, &now);
    if (!can_send(c) || c->fin_queued)
        return -ENOTCONN;
    if (len > tcp_send_space(c))
        return -EAGAIN;
    uint32_t off = (c->q_end - c->iss - 1) & (c->cap - 1);
    size_t first = len < c->cap - off ? len : c->cap - off;
    memcpy(c->ring + off, data, first);
    memcpy(c->ring, data + first, len - first);
    c->q_end += (uint32_t)len;
    return 0;
}

static void closed(struct tcp_conn *c, enum tcp_event_type why)
{
    c->state = TCP_CLOSED_STATE;
    c->rtx_due = NEVER;
    c->syn_due = c->probe = false;
    if (why != TCP_EV_CLOSED)
        c->ack_due = false; /* the final ACK of a clean close still goes */
    event(c, why);
}

void tcp_close(struct tcp_conn *c, uint64_t now)
{
    touch(c, &now);
    switch (c->state) {
    case TCP_SYN_SENT:
        closed(c, TCP_EV_CLOSED);
        break;
    case TCP_ESTABLISHED:
        c->fin_queued = true;
        c->state = TCP_FIN_WAIT_1;
        break;
    case TCP_CLOSE_WAIT:
        c->fin_queued = true;
        c->state = TCP_LAST_ACK;
        break;
    default:
        break;
    }
}

void tcp_abort(struct tcp_conn *c, uint64_t now)
{
    touch(c, &now);
    if (c->state == TCP_CLOSED_STATE)
        return;
    if (c->state != TCP_SYN_SENT) {
        c->rst_due = true;
        c->rst_seq = c->snd_nxt;
    }
    c->state = TCP_CLOSED_STATE;
    c->rtx_due = NEVER;
    c->syn_due = c->ack_due = c->probe = false;
}

/* ---- output ------------------------------------------------------------- */

static size_t put_header(struct tcp_conn *c, uint8_t *b, uint32_t seq, uint8_t flags, size_t hlen)
{
    wire_put16(b, c->lport);
    wire_put16(b + 2, c->rport);
    wire_put32(b + 4, seq);
    wire_put32(b + 8, (flags & F_ACK) ? c->rcv_nxt : 0);
    b[12] = (uint8_t)((hlen / 4) << 4);
    b[13] = flags;
    wire_put16(b + 14, c->rcv_wnd);
    wire_put16(b + 16, 0);
    wire_put16(b + 18, 0);
    return hlen;
}

static size_t finish_seg(struct tcp_conn *c, uint8_t *b, size_t len)
{
    wire_put16(b + 16, tcp_checksum(c->lip, c->rip, b, len));
    c->c.segs_out++;
    return len;
}

static void arm(struct tcp_conn *c)
{
    if (c->rtx_due == NEVER)
        c->rtx_due = c->last_now + c->rto;
}

static bool synchronized(const struct tcp_conn *c)
{
    return c->state != TCP_CLOSED_STATE && c->state != TCP_SYN_SENT;
}

size_t tcp_poll_transmit(struct tcp_conn *c, uint8_t *buf, size_t cap, uint64_t now)
{
    touch(c, &now);
    if (cap < TCP_SYN_LEN)
        return 0;
    if (c->rst_due) {
        c->rst_due = false;
        c->c.rst_out++;
        put_header(c, buf, c->rst_seq, F_RST | F_ACK, TCP_HDR_LEN);
        return finish_seg(c, buf, TCP_HDR_LEN);
    }
    if (c->syn_due) {
        c->syn_due = false;
        put_header(c, buf, c->iss, F_SYN, TCP_SYN_LEN);
        buf[20] = 2; /* MSS */
        buf[21] = 4;
        wire_put16(buf + 22, c->mss);
        if (SEQ_LT(c->snd_max, c->iss + 1))
            c->snd_max = c->iss + 1;
        else
            c->c.retx_segments++;
        c->snd_nxt = c->iss + 1;
        if (!c->timing && !c->n_retx) {
            c->timing = true;
            c->rtt_seq = c->iss;
            c->rtt_t0 = now;
        }
        arm(c);
        return finish_seg(c, buf, TCP_SYN_LEN);
    }
    if (synchronized(c) && c->rtx_one) {
        /* fast retransmit: the oldest unacknowledged segment, once */
        c->rtx_one = false;
        uint32_t data_end = SEQ_LT(c->q_end, c->snd_max) ? c->q_end : c->snd_max;
        uint32_t n = SEQ_LT(c->snd_una, data_end) ? data_end - c->snd_una : 0;
        uint32_t seg_max = c->mss < c->peer_mss ? c->mss : c->peer_mss;
        if (cap - TCP_HDR_LEN < seg_max)
            seg_max = (uint32_t)(cap - TCP_HDR_LEN);
        if (n > seg_max)
            n = seg_max;
        if (n) {
            put_header(c, buf, c->snd_una, F_ACK | F_PSH, TCP_HDR_LEN);
            uint32_t off = (c->snd_una - c->iss - 1) & (c->cap - 1);
            uint32_t first = n < c->cap - off ? n : c->cap - off;
            memcpy(buf + TCP_HDR_LEN, c->ring + off, first);
            memcpy(buf + TCP_HDR_LEN + first, c->ring, n - first);
            c->c.retx_segments++;
            c->c.fast_retransmits++;
            c->ack_due = false;
            return finish_seg(c, buf, TCP_HDR_LEN + n);
        }
    }
    if (synchronized(c)) {
        /* data within the peer's and the congestion window (one byte past a
         * zero window when probing), then the FIN after the last byte */
        uint32_t wnd = c->snd_wnd < c->cwnd ? c->snd_wnd : c->cwnd;
        uint32_t limit = c->snd_una + wnd;
        uint32_t avail = SEQ_LT(c->snd_nxt, c->q_end) ? c->q_end - c->snd_nxt : 0;
        uint32_t room = SEQ_LT(c->snd_nxt, limit) ? limit - c->snd_nxt : 0;
        if (!room && c->probe && avail && c->snd_nxt == c->snd_una)
            room = 1;
        uint32_t seg_max = c->mss < c->peer_mss ? c->mss : c->peer_mss;
        if (cap - TCP_HDR_LEN < seg_max)
            seg_max = (uint32_t)(cap - TCP_HDR_LEN);
        uint32_t n = avail < room ? avail : room;
        if (n > seg_max)
            n = seg_max;
        bool fin = c->fin_queued && c->state != TCP_CLOSED_STATE && c->snd_nxt + n == c->q_end &&
                   SEQ_LEQ(c->snd_nxt, c->q_end);
        if (n || fin) {
            uint32_t seq = c->snd_nxt;
            uint8_t flags = F_ACK | (n ? F_PSH : 0) | (fin ? F_FIN : 0);
            put_header(c, buf, seq, flags, TCP_HDR_LEN);
            uint32_t off = (seq - c->iss - 1) & (c->cap - 1);
            uint32_t first = n < c->cap - off ? n : c->cap - off;
            memcpy(buf + TCP_HDR_LEN, c->ring + off, first);
            memcpy(buf + TCP_HDR_LEN + first, c->ring, n - first);
            uint32_t end = seq + n + (fin ? 1 : 0);
            if (SEQ_LT(seq, c->snd_max))
                c->c.retx_segments++;
            else if (!c->timing) {
                c->timing = true;
                c->rtt_seq = seq;
                c->rtt_t0 = now;
            }
            if (SEQ_GT(end, c->snd_max)) {
                c->c.bytes_out += (uint32_t)(end - (SEQ_GT(seq, c->snd_max) ? seq : c->snd_max)) - (fin ? 1u : 0u);
                c->snd_max = end;
            }
            c->snd_nxt = end;
            c->ack_due = false;
            c->probe = false;
            arm(c);
            return finish_seg(c, buf, TCP_HDR_LEN + n);
        }
        if (c->probe || (avail && !room && c->snd_una == c->snd_max))
            arm(c); /* the timer probes a zero window */
    }
    if (c->ack_due) {
        c->ack_due = false;
        put_header(c, buf, c->snd_nxt, F_ACK, TCP_HDR_LEN);
        return finish_seg(c, buf, TCP_HDR_LEN);
    }
    return 0;
}

/* ---- input -------------------------------------------------------------- */

static void rtt_sample(struct tcp_conn *c, uint64_t r)
{
    if (!c->c.rtt_samples++) {
        c->srtt = r;
        c->rttvar = r / 2;
    } else {
        uint64_t d = c->srtt > r ? c->srtt - r : r - c->srtt;
        c->rttvar = (3 * c->rttvar + d) / 4;
        c->srtt = (7 * c->srtt + r) / 8;
    }
    uint64_t rto = c->srtt + (4 * c->rttvar > 1000000 ? 4 * c->rttvar : 1000000); /* G: 1 ms */
    c->rto = rto < c->rto_min ? c->rto_min : rto > c->rto_max ? c->rto_max : rto;
}

/* The MSS option of a SYN-ACK; false when an option is malformed. */
static bool parse_options(struct tcp_conn *c, const uint8_t *o, size_t n, bool syn)
{
    size_t i = 0;
    while (i < n) {
        if (o[i] == 0)
            break;
        if (o[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
            return false;
        if (o[i] == 2 && syn) {
            if (o[i + 1] != 4)
                return false;
            uint16_t m = wire_get16(o + i + 2);
            c->peer_mss = m < 64 ? 64 : m;
        }
        i += o[i + 1];
    }
    return true;
}

static void take_ack(struct tcp_conn *c, uint32_t ack, uint32_t seq, uint16_t wnd, uint64_t now, bool pure)
{
    if (pure && ack == c->snd_una && c->snd_una != c->snd_max && wnd == c->snd_wnd) {
        if (++c->dupacks == 3) { /* RFC 5681 §3.2, without the window inflation of recovery */
            uint32_t mss = c->mss < c->peer_mss ? c->mss : c->peer_mss;
            uint32_t flight = c->snd_max - c->snd_una;
            c->ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
            c->cwnd = c->ssthresh;
            c->rtx_one = true;
            c->timing = false; /* Karn */
        }
    }
    if (SEQ_GT(ack, c->snd_una)) {
        c->dupacks = 0;
        uint32_t acked = ack - c->snd_una;
        c->snd_una = ack;
        if (SEQ_LT(c->snd_nxt, ack))
            c->snd_nxt = ack;
        if (c->timing && SEQ_GT(ack, c->rtt_seq)) {
            c->timing = false;
            rtt_sample(c, now - c->rtt_t0);
        }
        uint32_t mss = c->mss < c->peer_mss ? c->mss : c->peer_mss;
        if (c->cwnd < c->ssthresh)
            c->cwnd += acked < mss ? acked : mss;
        else
            c->cwnd += (uint32_t)((uint64_t)mss * mss / c->cwnd) + 1;
        c->n_retx = 0;
        c->rtx_due = NEVER;
        if (c->snd_una != c->snd_max)
            arm(c); /* RFC 6298 5.3 */
    }
    if (SEQ_LT(c->snd_wl1, seq) || (c->snd_wl1 == seq && SEQ_LEQ(c->snd_wl2, ack))) {
        c->snd_wnd = wnd;
        c->snd_wl1 = seq;
        c->snd_wl2 = ack;
        if (wnd)
            c->probe = false;
    }
}

static void update_state(struct tcp_conn *c)
{
    bool fin_acked = c->fin_queued && SEQ_GT(c->snd_una, c->q_end);
    switch (c->state) {
    case TCP_ESTABLISHED:
        if (c->fin_rcvd)
            c->state = TCP_CLOSE_WAIT;
        break;
    case TCP_FIN_WAIT_1:
        if (fin_acked && c->fin_rcvd)
            closed(c, TCP_EV_CLOSED);
        else if (fin_acked)
            c->state = TCP_FIN_WAIT_2;
        else if (c->fin_rcvd)
            c->state = TCP_CLOSING;
        break;
    case TCP_FIN_WAIT_2:
        if (c->fin_rcvd)
            closed(c, TCP_EV_CLOSED);
        break;
    case TCP_CLOSING:
    case TCP_LAST_ACK:
        if (fin_acked)
            closed(c, TCP_EV_CLOSED);
        break;
    default:
        break;
    }
}

static enum engine_input syn_sent_input(struct tcp_conn *c, const uint8_t *seg, size_t doff, uint8_t flags,
                                        uint32_t seq, uint32_t ack, uint16_t wnd, uint64_t now)
{
    if ((flags & F_ACK) && ack != c->iss + 1) {
        if (!(flags & F_RST)) {
            c->rst_due = true; /* RFC 9293 3.10.7.3: <SEQ=SEG.ACK><CTL=RST> */
            c->rst_seq = ack;
        }
        c->c.bad_acks++;
        return ENGINE_IN_IGNORED;
    }
    if (flags & F_RST) {
        if (!(flags & F_ACK))
            return ENGINE_IN_IGNORED;
        c->c.rst_in++;
        closed(c, TCP_EV_RESET);
        return ENGINE_IN_ACCEPTED;
    }
    if (!(flags & F_SYN) || !(flags & F_ACK))
        return ENGINE_IN_IGNORED; /* no simultaneous open: we only connect */
    if (!parse_options(c, seg + TCP_HDR_LEN, doff - TCP_HDR_LEN, true)) {
        c->c.bad_segments++;
        return ENGINE_IN_MALFORMED;
    }
    c->irs = seq;
    c->rcv_nxt = seq + 1;
    c->snd_wl1 = seq - 1; /* so that this segment's window is taken */
    uint32_t mss = c->mss < c->peer_mss ? c->mss : c->peer_mss;
    c->cwnd = 10 * mss; /* RFC 6928 */
    c->ssthresh = UINT32_MAX;
    c->state = TCP_ESTABLISHED;
    take_ack(c, ack, seq, wnd, now, false);
    c->ack_due = true;
    event(c, TCP_EV_CONNECTED);
    if (c->fin_queued) /* tcp_close cannot queue one in SYN_SENT; kept for clarity */
        c->state = TCP_FIN_WAIT_1;
    return ENGINE_IN_ACCEPTED;
}

enum engine_input tcp_handle_input(struct tcp_conn *c, const uint8_t *seg, size_t len, uint64_t now,
                                   const uint8_t **rx_data, size_t *rx_len)
{
    *rx_data = NULL;
    *rx_len = 0;
    touch(c, &now);
    if (len < TCP_HDR_LEN || len > 0xffff) {
        c->c.bad_segments++;
        return ENGINE_IN_MALFORMED;
    }
    size_t doff = (size_t)(seg[12] >> 4) * 4;
    if (doff < TCP_HDR_LEN || doff > len) {
        c->c.bad_segments++;
        return ENGINE_IN_MALFORMED;
    }
    if (tcp_checksum(c->rip, c->lip, seg, len) != 0) {
        c->c.bad_checksum++;
        return ENGINE_IN_MALFORMED;
    }
    if (wire_get16(seg) != c->rport || wire_get16(seg + 2) != c->lport) {
        c->c.foreign++;
        return ENGINE_IN_IGNORED;
    }
    c->c.segs_in++;
    uint8_t flags = seg[13];
    uint32_t seq = wire_get32(seg + 4), ack = wire_get32(seg + 8);
    uint16_t wnd = wire_get16(seg + 14);
    if (c->state == TCP_CLOSED_STATE)
        return ENGINE_IN_IGNORED;
    if (c->state == TCP_SYN_SENT)
        return syn_sent_input(c, seg, doff, flags, seq, ack, wnd, now);

    uint32_t plen = (uint32_t)(len - doff);
    if (flags & F_RST) {
        if (seq == c->rcv_nxt) {
            c->c.rst_in++;
            closed(c, TCP_EV_RESET);
        } else if (SEQ_GEQ(seq, c->rcv_nxt) && SEQ_LT(seq, c->rcv_nxt + c->rcv_wnd)) {
            c->c.challenge_acks++; /* RFC 5961 §3.2 */
            c->ack_due = true;
        }
        return ENGINE_IN_ACCEPTED;
    }
    if (flags & F_SYN) {
        if (seq != c->irs)
            c->c.challenge_acks++; /* RFC 5961 §4.2 */
        c->ack_due = true; /* a repeated SYN-ACK: our ACK was lost */
        return ENGINE_IN_ACCEPTED;
    }
    if (!(flags & F_ACK))
        return ENGINE_IN_IGNORED;
    if (!parse_options(c, seg + TCP_HDR_LEN, doff - TCP_HDR_LEN, false)) {
        c->c.bad_segments++;
        return ENGINE_IN_MALFORMED;
    }
    if (SEQ_GT(ack, c->snd_max)) {
        c->c.bad_acks++;
        c->ack_due = true;
        return ENGINE_IN_ACCEPTED;
    }
    /* the payload: in order, or its new part; nothing above rcv_nxt */
    bool fin = flags & F_FIN;
    if (plen || fin) {
        c->ack_due = true;
        if (SEQ_GT(seq, c->rcv_nxt)) {
            c->c.out_of_order++;
            take_ack(c, ack, seq, wnd, now, false);
            update_state(c);
            return ENGINE_IN_ACCEPTED;
        }
        uint32_t skip = c->rcv_nxt - seq;
        if (skip >= plen + (fin ? 1u : 0u)) {
            c->c.duplicates++;
        } else if (!c->fin_rcvd) {
            uint32_t n = skip < plen ? plen - skip : 0;
            if (n > c->rcv_wnd)
                n = c->rcv_wnd, fin = false;
            if (n) {
                *rx_data = seg + doff + skip;
                *rx_len = n;
                c->rcv_nxt += n;
                c->c.bytes_in += n;
            }
            if (fin) {
                c->rcv_nxt++;
                c->fin_rcvd = true;
                event(c, TCP_EV_PEER_FIN);
            }
        }
    }
    take_ack(c, ack, seq, wnd, now, !plen && !fin);
    update_state(c);
    return ENGINE_IN_ACCEPTED;
}

void tcp_handle_timeout(struct tcp_conn *c, uint64_t now)
{
    if (now < c->last_now || c->rtx_due > now)
        return;
    c->last_now = now;
    c->rtx_due = NEVER;
    bool outstanding = c->snd_una != c->snd_max;
    if (!outstanding) {
        if (synchronized(c) && SEQ_LT(c->snd_nxt, c->q_end) && c->snd_wnd == 0) {
            c->probe = true; /* a zero-window probe; backs off like a retransmission */
            c->rto = c->rto * 2 < c->rto_max ? c->rto * 2 : c->rto_max;
        }
        return;
    }
    if (c->n_retx >= c->max_retx) {
        bool sync = synchronized(c);
        closed(c, TCP_EV_FAILED);
        if (sync) {
            c->rst_due = true;
            c->rst_seq = c->snd_nxt;
        }
        return;
    }
    c->n_retx++;
    c->c.retransmits++;
    c->rto = c->rto * 2 < c->rto_max ? c->rto * 2 : c->rto_max;
    c->timing = false; /* Karn */
    if (c->state == TCP_SYN_SENT) {
        c->syn_due = true;
        return;
    }
    uint32_t mss = c->mss < c->peer_mss ? c->mss : c->peer_mss;
    uint32_t flight = c->snd_max - c->snd_una;
    c->ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss; /* RFC 5681 (4) */
    c->cwnd = mss;
    if (c->snd_wnd == 0)
        c->probe = true;
    c->snd_nxt = c->snd_una; /* go back: resend from the oldest unacknowledged byte */
    arm(c);
}

enum tcp_event_type tcp_poll_event(struct tcp_conn *c, struct tcp_ev *ev)
{
    if (!c->ev_n) {
        ev->type = TCP_EV_NONE;
        return TCP_EV_NONE;
    }
    *ev = c->ev[c->ev_head];
    c->ev_head = (uint8_t)((c->ev_head + 1) % EVQ);
    c->ev_n--;
    return ev->type;
}

/* Something tcp_poll_transmit would write now (a caller that could not
 * take it, out of buffers, is reminded by the deadline). */
static bool tx_due(const struct tcp_conn *c)
{
    if (c->syn_due || c->rst_due || c->ack_due || c->rtx_one)
        return true;
    if (!synchronized(c))
        return false;
    uint32_t wnd = c->snd_wnd < c->cwnd ? c->snd_wnd : c->cwnd;
    bool data = SEQ_LT(c->snd_nxt, c->q_end) && SEQ_LT(c->snd_nxt, c->snd_una + wnd);
    bool fin = c->fin_queued && c->snd_nxt == c->q_end;
    return data || fin;
}

uint64_t tcp_next_timeout(const struct tcp_conn *c)
{
    return tx_due(c) ? c->last_now : c->rtx_due;
}

enum tcp_state tcp_state(const struct tcp_conn *c) { return c->state; }
const struct tcp_counters *tcp_counters(const struct tcp_conn *c) { return &c->c; }
uint64_t tcp_srtt_ns(const struct tcp_conn *c) { return c->srtt; }
uint64_t tcp_rto_ns(const struct tcp_conn *c) { return c->rto; }
uint16_t tcp_peer_mss(const struct tcp_conn *c) { return c->peer_mss; }
uint32_t tcp_peer_window(const struct tcp_conn *c) { return c->snd_wnd; }

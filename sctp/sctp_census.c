/* SPDX-License-Identifier: MIT */
/*
 * sctp_census: the user messages an association (or the two ends of one
 * association) still holds: what a run counts as in flight when it stops,
 * and what an association going down discards. Reads the queues only; it
 * walks them, so it is for the end of a run and for an association going
 * down, never for the packet path.
 */
#include "sctp_internal.h"

static struct sctp_buf *B(const struct sctp_assoc *a, uint32_t i)
{
    return pbuf(a->pool, i);
}

/* A buffer of a user message (not a DataChannel's DCEP message). */
static bool user_data(const struct sctp_assoc *a, const struct sctp_buf *b)
{
    return b->kind == BK_DATA && !(a->dcep && b->ppid == SCTP_PPID_DCEP);
}

/* An ordered message whose stream `to` has moved past: delivered, or
 * skipped on a FORWARD-TSN (counted there), whatever pieces of it the
 * FORWARD-TSN's cumulative TSN did not cover (a piece gap-acknowledged in
 * the middle of an abandoned message stops the sender's advanced ack
 * point before the pieces after it). */
static bool passed(const struct sctp_assoc *to, const struct sctp_buf *b)
{
    return to && !(b->flags & DF_U) && b->sid < to->n_in &&
           ssn_lt(b->ssn, to->streams[b->sid].ssn_in);
}

/* The messages of a's send queue with a piece not received by `to` (or,
 * `to` NULL, not acknowledged to a), but for those `to` has passed. The
 * pieces of a message are consecutive in the queue and its last (E) goes
 * last: the pieces before that left the queue were acknowledged, so
 * received. */
static uint32_t send_side(const struct sctp_assoc *a, const struct sctp_assoc *to)
{
    uint32_t n = 0;
    bool missing = false;
    for (uint32_t i = a->snd_head; i != SCTP_NIL; i = B(a, i)->next) {
        const struct sctp_buf *b = B(a, i);
        if (b->kind != BK_DATA)
            continue;
        if (to ? !sctp_rx_has_tsn(to, b->tsn) : b->state != TX_ACKED)
            missing = true;
        if (b->flags & DF_E) {
            n += missing && user_data(a, b) && !passed(to, b);
            missing = false;
        }
    }
    return n;
}

/* The complete messages on a's receive side not yet polled: runs B..E of
 * consecutive TSNs on the receive list (an ordered message waiting for an
 * earlier one; not one a FORWARD-TSN moved its stream past, counted
 * skipped already), and with `ready` the messages on the ready list. */
static uint32_t receive_side(const struct sctp_assoc *a, bool ready)
{
    uint32_t n = 0;
    for (uint32_t i = a->rx_head; i != SCTP_NIL;) {
        const struct sctp_buf *b = B(a, i);
        uint32_t last = i;
        bool complete = false;
        if (b->flags & DF_B) {
            for (uint32_t j = i; j != SCTP_NIL; j = B(a, j)->next) {
                const struct sctp_buf *f = B(a, j);
                if (j != i &&
                    (f->tsn != B(a, last)->tsn + 1 || (f->flags & DF_B) || f->sid != b->sid))
                    break;
                last = j;
                if (f->flags & DF_E) {
                    complete = true;
                    break;
                }
            }
        }
        bool old =
            !(b->flags & DF_U) && b->sid < a->n_in && ssn_lt(b->ssn, a->streams[b->sid].ssn_in);
        n += complete && !old && user_data(a, b);
        i = B(a, last)->next;
    }
    for (uint32_t i = ready ? a->ready_head : SCTP_NIL; i != SCTP_NIL; i = B(a, i)->next) {
        const struct sctp_buf *b = B(a, i);
        n += (b->flags & DF_E) && user_data(a, b);
    }
    return n;
}

uint32_t sctp_msgs_in_flight(const struct sctp_assoc *from, const struct sctp_assoc *to)
{
    return (from ? send_side(from, to) : 0) + (to ? receive_side(to, true) : 0);
}

/* The ready list is left out: an association going down keeps it, its
 * messages are still polled (before the DOWN event). */
uint32_t sctp_census_held(const struct sctp_assoc *a)
{
    return send_side(a, NULL) + receive_side(a, false);
}

/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the Janus HTTP API replies the target's Janus client
 * reads (tgt_janus_read_jsep). Input: one byte whose value mod 7 picks
 * the request the reply answers (create, attach, message, long poll,
 * keepalive, detach, destroy), bit 3 whether we offered audio and bit 4
 * whether the jsep wanted is an offer (janus-videoroom's subscribers),
 * then the reply body; the request's
 * transaction is "T1" and our handle 7. Checks beyond "no crash": the
 * verdict fits the request (ACK only for a message, ANSWER only for a
 * message or a long poll, NOTHING only for a long poll, an id only with
 * SUCCESS to create/attach), an error says why on one line, an answer's
 * SDP is NUL-free and as long as it says; and an answer goes on to the
 * SDP answer parser as the client would hand it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp_offer work;
    if (size < 1 || size > 262144)
        return 0;
    int step = data[0] % 7;
    struct tgt_janus_reply r;
    /* bit 4: the jsep wanted is an offer (a VideoRoom subscriber's) */
    enum tgt_janus_verdict v = tgt_janus_read_jsep((const char *)data + 1, size - 1, step, "T1", 7,
                                                   data[0] & 16 ? "offer" : "answer", &r);
    if (v != r.verdict)
        __builtin_trap();
    switch (v) {
    case TGT_JV_ACK:
        if (step != TGT_J_MESSAGE)
            __builtin_trap();
        break;
    case TGT_JV_NOTHING:
        if (step != TGT_J_POLL)
            __builtin_trap();
        break;
    case TGT_JV_ANSWER: {
        if ((step != TGT_J_MESSAGE && step != TGT_J_POLL) || !r.sdp || strlen(r.sdp) != r.sdp_len)
            __builtin_trap();
        struct tgt_answer a;
        char why[128];
        tgt_answer_parse(r.sdp, r.sdp_len, data[0] & 8, &a, &work, why, sizeof(why));
        break;
    }
    case TGT_JV_ERROR:
        if (r.why[0] == '\0' || strchr(r.why, '\n') || strchr(r.why, '\r') || r.sdp ||
            (r.cause != CTL_TGT_CAUSE_PROTOCOL && r.cause != CTL_TGT_CAUSE_SDP))
            __builtin_trap();
        break;
    case TGT_JV_SUCCESS:
        if ((step == TGT_J_CREATE || step == TGT_J_ATTACH) != (r.id != 0))
            __builtin_trap();
        break;
    default:
        __builtin_trap();
    }
    if (v != TGT_JV_ANSWER && r.sdp)
        __builtin_trap();
    free(r.sdp);
    return 0;
}

/* SPDX-License-Identifier: MIT */
/* libFuzzer target: target mode's SDP answer parser (tgt_answer_parse) on
 * arbitrary bytes. Input: one flags byte (bit 0: we offered audio, bit 1:
 * the bytes are a JSON string body, unescaped first as the Janus client
 * does with jsep.sdp, bit 2: we offered video), then the answer. Checks beyond "no crash": a
 * refusal says why on one line; an accepted answer gives 1..RI_TARGET_CANDS
 * candidates, best first, no duplicates, no zero address or port, ICE
 * credentials within the slot's fields, audio and video only when offered; the same
 * bytes parse the same way twice (no hidden state). The same bytes as a
 * VideoRoom subscriber's offer (janus-videoroom): tgt_offer_ssrcs stays
 * within its array, and the answer tgt_sub_answer_write makes to an
 * accepted one parses back with as many m-lines, the data line where it
 * was, setup:active. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp_offer work;
    static char text[65536];
    if (size < 1 || size > sizeof(text))
        return 0;
    uint8_t flags = data[0];
    bool audio = flags & 1;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    if (flags & 2) {
        int n = tgt_json_unescape(in, len, text, sizeof(text));
        if (n < 0)
            return 0;
        if ((size_t)n != strlen(text))
            __builtin_trap(); /* no NUL comes out of an escape */
        in = text;
        len = (size_t)n;
    }
    struct tgt_answer a, b;
    char why[128], why2[128];
    bool video = flags & 4;
    int rc = tgt_answer_parse_av(in, len, audio, video, &a, &work, why, sizeof(why));
    if (rc != 0) {
        if (why[0] == '\0' || strchr(why, '\n') != NULL)
            __builtin_trap();
    } else {
        if (a.n_cands < 1 || a.n_cands > RI_TARGET_CANDS)
            __builtin_trap();
        for (unsigned i = 0; i < a.n_cands; i++) {
            if (a.cand[i].ip == 0 || a.cand[i].port == 0 || a.cand[i].type > RI_CAND_RELAY)
                __builtin_trap();
            if (i > 0 && a.cand[i - 1].priority < a.cand[i].priority)
                __builtin_trap();
            for (unsigned k = 0; k < i; k++)
                if (a.cand[k].ip == a.cand[i].ip && a.cand[k].port == a.cand[i].port)
                    __builtin_trap();
        }
        if (strnlen(a.ufrag, sizeof(a.ufrag)) >= sizeof(a.ufrag) ||
            strnlen(a.pwd, sizeof(a.pwd)) >= sizeof(a.pwd) || strlen(a.ufrag) < 4 ||
            strlen(a.pwd) < 22 || (a.audio && !audio) || (a.video && !video) || a.sctp_port == 0)
            __builtin_trap();
    }
    int rc2 = tgt_answer_parse_av(in, len, audio, video, &b, &work, why2, sizeof(why2));
    if (rc2 != rc || (rc == 0 && memcmp(&a, &b, sizeof(a)) != 0) ||
        (rc != 0 && strcmp(why, why2) != 0))
        __builtin_trap();
    /* janus-videoroom: the same text as a server's offer to a subscriber:
     * its SSRCs read without overrun, our answer to it written and read
     * back with as many m-lines, setup:active */
    uint32_t ssrc[RI_TARGET_FEEDS + 1];
    ssrc[RI_TARGET_FEEDS] = 0xdeadbeef;
    int ns = tgt_offer_ssrcs(in, len, ssrc, RI_TARGET_FEEDS);
    if (ns < 0 || ns > (int)RI_TARGET_FEEDS || ssrc[RI_TARGET_FEEDS] != 0xdeadbeef)
        __builtin_trap();
    if (rc == 0) {
        static struct sdp_offer back;
        static char ans[16384];
        struct tgt_offer_params p = {.ufrag = "AbCd1234", .pwd = "0123456789abcdefghij+/XY",
                                     .ip = 0xc6120003, .port = RI_TARGET_PORT};
        int n = tgt_sub_answer_write(&p, &work, ans, sizeof(ans));
        if (n < 0 || (size_t)n != strlen(ans))
            __builtin_trap();
        char why3[160];
        if (sdp_parse_offer(ans, (size_t)n, &back, why3, sizeof(why3)) != 0 ||
            back.n_media != work.n_media || back.app != work.app || back.setup != SDP_SETUP_ACTIVE)
            __builtin_trap();
    }
    return 0;
}

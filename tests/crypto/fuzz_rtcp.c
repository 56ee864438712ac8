/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the RTCP compound parser and a session fed with it.
 * Whatever parses must write back and parse again to the same fields; a
 * session must survive any input and still build reports that parse; the
 * input's bytes also drive the receiver statistics as RTP headers, whose
 * invariants must hold. The feedback counter (PLI, FIR, NACK) reads only
 * the input and counts at most one of each per 12 bytes. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "rtcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_block(const struct rtcp_report_block *a, const struct rtcp_report_block *b)
{
    if (a->ssrc != b->ssrc || a->fraction != b->fraction || a->lost != b->lost ||
        a->ext_max_seq != b->ext_max_seq || a->jitter != b->jitter || a->lsr != b->lsr ||
        a->dlsr != b->dlsr)
        __builtin_trap();
}

/* parse -> write -> parse gives the same message (the part rtcp_write carries) */
static void round_trip(const struct rtcp_msg *m)
{
    uint8_t buf[RTCP_SR_LEN + RTCP_MSG_MAX_BLOCKS * RTCP_BLOCK_LEN + 8 + 260];
    int n = rtcp_write(buf, sizeof(buf), m);
    if (n < 0)
        __builtin_trap(); /* the buffer holds the largest message */
    struct rtcp_msg again;
    if (rtcp_parse(buf, (size_t)n, &again) != 0)
        __builtin_trap();
    if (again.ssrc != m->ssrc || again.is_sr != m->is_sr || again.n_blocks != m->n_blocks ||
        again.has_cname != m->has_cname)
        __builtin_trap();
    if (m->is_sr && memcmp(&again.si, &m->si, sizeof(m->si)) != 0)
        __builtin_trap();
    for (unsigned i = 0; i < m->n_blocks; i++)
        same_block(&again.blocks[i], &m->blocks[i]);
    if (m->has_cname && (again.cname_ssrc != m->cname_ssrc || again.cname_len != m->cname_len ||
                         memcmp(again.cname, m->cname, m->cname_len) != 0))
        __builtin_trap();
    if (rtcp_write(buf, (size_t)n - 1, m) != -ENOSPC)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rtcp_msg m;
    int rc = rtcp_parse(data, size, &m);
    if (rc == 0) {
        if (m.n_blocks > RTCP_MSG_MAX_BLOCKS || m.n_blocks > m.blocks_total ||
            m.n_skipped > m.n_packets || (m.has_cname && m.cname + m.cname_len > data + size))
            __builtin_trap();
        round_trip(&m);
    } else if (rc != -EBADMSG && rc != -EPROTO) {
        __builtin_trap();
    }
    struct rtcp_fb fb;
    rtcp_feedback_count(data, size, size >= 12 ? (uint32_t)data[8] << 24 | (uint32_t)data[9] << 16 |
                                                     (uint32_t)data[10] << 8 | data[11]
                                               : 0, &fb);
    if ((uint64_t)fb.pli + fb.fir + fb.nack > size / 12)
        __builtin_trap();

    /* a session learns the sender from the input and must keep working */
    static const struct rtcp_config cfg = {0x01020304, 48000, 0, 90000, "fuzz@swarmgen"};
    struct rtcp_session s;
    if (rtcp_init(&s, &cfg) != 0)
        __builtin_trap();
    uint64_t now = 1000000000ull;
    /* the input as RTP headers too: seq (2), timestamp (4), arrival step (2) */
    for (size_t i = 0; i + 8 <= size && i < 8 * 512; i += 8) {
        uint16_t seq = (uint16_t)(data[i] << 8 | data[i + 1]);
        uint32_t ts = (uint32_t)data[i + 2] << 24 | (uint32_t)data[i + 3] << 16 |
                      (uint32_t)data[i + 4] << 8 | data[i + 5];
        now += (uint64_t)(data[i + 6] << 8 | data[i + 7]) * 1000;
        rtcp_on_rtp_received(&s, 0x0a0b0c0d, seq, ts, now);
        rtcp_on_rtp_sent(&s, ts, seq, now);
    }
    int32_t lost = rtcp_source_lost(&s.rx);
    if (lost > RTCP_LOST_MAX || lost < RTCP_LOST_MIN)
        __builtin_trap();
    enum engine_input in = rtcp_handle_input(&s, data, size, now + 1000000, NULL);
    if (in != ENGINE_IN_ACCEPTED && in != ENGINE_IN_IGNORED && in != ENGINE_IN_MALFORMED)
        __builtin_trap();
    uint8_t out[RTCP_BUILD_MAX];
    struct rtcp_msg back;
    for (int k = 0; k < 3; k++) {
        int n = k == 0   ? rtcp_build_sr(&s, now + 2000000, out, sizeof(out))
                : k == 1 ? rtcp_build_rr(&s, now + 3000000, out, sizeof(out))
                         : rtcp_build_report(&s, now + 4000000, out, sizeof(out));
        if (n <= 0 || n > RTCP_BUILD_MAX || rtcp_parse(out, (size_t)n, &back) != 0 ||
            back.ssrc != cfg.ssrc || !back.has_cname || back.n_blocks != (s.rx.valid ? 1 : 0))
            __builtin_trap();
        if (back.n_blocks && back.blocks[0].fraction != 0 && k > 0)
            __builtin_trap(); /* nothing arrived since the previous report */
    }
    return 0;
}

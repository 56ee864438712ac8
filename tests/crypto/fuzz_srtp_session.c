/* SPDX-License-Identifier: MIT */
/* libFuzzer target: our SRTP/SRTCP unprotect paths on arbitrary bytes.
 * The first byte chooses the profile and RTP or RTCP; the rest is handed
 * to unprotect as it is (nothing may open it: the keys are not the
 * fuzzer's), then the same bytes, as a plaintext, are protected by a peer
 * and must open again byte-exact. Every call is counted exactly once, and
 * a refusal leaves the packet alone. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t refusals(const struct srtps_counters *c)
{
    return c->auth_failures + c->replays + c->malformed + c->foreign_ssrc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[65536 + 64], copy[65536 + 64];
    if (size < 1 || size > 65536)
        return 0;
    bool rtcp = data[0] & 1;
    enum srtps_profile prof = data[0] & 2 ? SRTPS_AES128_CM_SHA1_32 : SRTPS_AES128_CM_SHA1_80;
    data++, size--;
    uint8_t a[SRTPS_MASTER_LEN], b[SRTPS_MASTER_LEN];
    for (int i = 0; i < SRTPS_MASTER_LEN; i++)
        a[i] = (uint8_t)(i + 1), b[i] = (uint8_t)(0x80 + i);
    struct srtps_session tx, rx;
    if (srtps_init(&tx, prof, a, b) || srtps_init(&rx, prof, b, a))
        abort();
    /* arbitrary bytes: refused (a fresh receiver has seen nothing, so
     * not as a replay), counted once, untouched */
    memcpy(buf, data, size);
    size_t n = size;
    int rc = rtcp ? srtps_unprotect_rtcp(&rx, buf, &n) : srtps_unprotect_rtp(&rx, buf, &n);
    if (rc == 0 || refusals(&rx.c) != 1 || n != size || memcmp(buf, data, size) != 0)
        abort();
    /* the same bytes protected by the peer open again */
    memcpy(buf, data, size);
    n = size;
    rc = rtcp ? srtps_protect_rtcp(&tx, buf, &n, sizeof(buf))
              : srtps_protect_rtp(&tx, buf, &n, sizeof(buf));
    if (rc != 0)
        return 0; /* not an RTP/RTCP packet of version 2 */
    memcpy(copy, buf, n);
    size_t m = n;
    rc = rtcp ? srtps_unprotect_rtcp(&rx, buf, &m) : srtps_unprotect_rtp(&rx, buf, &m);
    if (rc != 0 || m != size || memcmp(buf, data, size) != 0)
        abort();
    /* and once only */
    m = n;
    rc = rtcp ? srtps_unprotect_rtcp(&rx, copy, &m) : srtps_unprotect_rtp(&rx, copy, &m);
    if (rc != -EALREADY || refusals(&rx.c) != 2 || rx.c.replays != 1)
        abort();
    return 0;
}

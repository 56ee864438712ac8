/* SPDX-License-Identifier: MIT */
/* libFuzzer target: sdp_parse_offer on arbitrary bytes; every offer it
 * accepts is answered (with and without audio, into a roomy and a tight
 * buffer) and the answer must parse back with the same ICE credentials. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp_offer o, back;
    static char ans[16384];
    char reason[128];
    if (size > 65536)
        return 0;
    int rc = sdp_parse_offer((const char *)data, size, &o, reason, sizeof(reason));
    if (rc != 0) {
        if (reason[0] == '\0' || strchr(reason, '\n') != NULL)
            __builtin_trap(); /* a failure always says why, on one line */
        return 0;
    }
    if (o.app < 0 || o.app >= o.n_media || o.n_cand > SDP_MAX_CAND)
        __builtin_trap();
    struct sdp_answer_params p = {
        .ufrag = "sgFz",
        .pwd = "0123456789abcdefghijklmn",
        .setup = sdp_choose_setup(o.setup, SDP_SETUP_ACTIVE),
        .ip = 0x0a000001,
        .port = 4242,
        .sctp_port = 5000,
        .max_message_size = 262144,
        .audio = size & 1,
        .sess_id = size,
    };
    int n = sdp_write_answer(&o, &p, ans, sizeof(ans));
    if (n < 0)
        return 0; /* an offer of 8 long m-lines may not fit */
    if ((size_t)n != strlen(ans))
        __builtin_trap();
    for (int i = 0; i < n; i++) /* printable lines ending in CRLF: nothing injected */
        if ((ans[i] == '\r') != (i + 1 < n && ans[i + 1] == '\n') ||
            (ans[i] == '\n' && (i == 0 || ans[i - 1] != '\r')) ||
            ((ans[i] < 0x20 || ans[i] > 0x7e) && ans[i] != '\r' && ans[i] != '\n'))
            __builtin_trap();
    if (sdp_write_answer(&o, &p, ans, (size_t)n) != -ENOSPC && n > 0)
        __builtin_trap();
    n = sdp_write_answer(&o, &p, ans, sizeof(ans));
    if (sdp_parse_offer(ans, (size_t)n, &back, reason, sizeof(reason)) != 0) {
        /* our answer must be an SDP our own parser takes, unless the offer's
         * own tokens (media, proto) make a rejected line unparsable */
        if (strstr(reason, "m= line") == NULL)
            __builtin_trap();
        return 0;
    }
    if (strcmp(back.ice_ufrag, "sgFz") != 0 || back.n_media != o.n_media || !back.ice_lite ||
        back.n_cand != 1 + sdp_answer_accepts_audio(&o, p.audio))
        __builtin_trap();
    return 0;
}

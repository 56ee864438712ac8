/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the WHIP server's whole-request state machine
 * (signaling.c: on_received, handle, handle_post through
 * ctl_signal_feed on a detached server, signaling_internal.h): head, body
 * by Content-Length, 100-continue, early close, route, CORS, bearer token,
 * the session table and the per-client limit, with a fake dataplane as
 * tests/control/test_signal.c has (agent 7 serves, 8 is busy, 9 picks an
 * illegal DTLS role, 10 answers invalid ICE credentials, others are
 * unknown). fuzz_signal covers the head parser alone.
 *
 * Input: the first byte configures the server (bit 0: token "s3cret";
 * bit 1: origins "https://a.example,https://b.example"; bit 2: origins
 * "*"; bits 3-4: max_per_client 1..4). Then records as
 * tests/common/fuzz_input.h reads them, each one recv's bytes on the
 * current connection; the flags byte: bit 0 the client closes its side
 * after them, bits 1-2 which of four client addresses (taken when a
 * connection starts), bit 3 the newest session ends on its own (alive
 * false). "$S" in a record becomes the last session's 32-hex id, so a
 * DELETE can name a session the server made up.
 *
 * Checked: every response is a known status with Content-Length equal to
 * its body (none for 204); the server never closes a session twice or one
 * it did not open; a 201 opened exactly one session, has a Location, and
 * the client has at most max_per_client live sessions.
 *
 * FUZZ_WHIP_TRACE=1 in the environment prints each response's status line
 * to stderr (to check what a seed reaches). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "signaling_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAKE_SESS 512

static struct fake {
    bool open[FAKE_SESS];
    bool ended[FAKE_SESS];
    uint32_t client[FAKE_SESS];
    uint32_t current_client;
    int next, opens;
} fake;

static int fake_open(void *arg, uint32_t agent, const struct sdp_offer *offer, struct sdp_local *local,
                     bool *setup_active, char *reason, size_t cap)
{
    struct fake *f = arg;
    if (agent == 8) {
        snprintf(reason, cap, "agent 8 is busy");
        return -409;
    }
    if (agent < 7 || agent > 10) {
        snprintf(reason, cap, "no agent %u", agent);
        return -404;
    }
    if (f->next == FAKE_SESS) {
        snprintf(reason, cap, "no free session");
        return -503;
    }
    int sid = f->next++;
    f->open[sid] = true;
    f->client[sid] = f->current_client;
    f->opens++;
    snprintf(local->ufrag, sizeof(local->ufrag), agent == 10 ? "b!" : "sg%02d", sid % 100);
    snprintf(local->pwd, sizeof(local->pwd), "0123456789abcdefghijklmn");
    for (int i = 0; i < 32; i++)
        local->fingerprint[i] = (uint8_t)i;
    local->ip = 0x7f000001;
    local->port = 40000;
    if (agent == 9 && offer->setup == SDP_SETUP_ACTIVE)
        *setup_active = true; /* both active: contradicts the offer */
    return sid;
}

static int fake_close(void *arg, int id)
{
    struct fake *f = arg;
    if (id < 0 || id >= f->next || !f->open[id])
        __builtin_trap(); /* closed twice, or never opened */
    f->open[id] = false;
    return 0;
}

static bool fake_alive(void *arg, int id)
{
    struct fake *f = arg;
    return id >= 0 && id < f->next && f->open[id] && !f->ended[id];
}

static const struct ctl_signal_ops ops = {.open = fake_open, .close = fake_close, .alive = fake_alive};

static void check_response(const char *r, size_t len, int opens_before, uint32_t max_per_client)
{
    char *t = malloc(len + 1);
    if (!t)
        abort();
    memcpy(t, r, len);
    t[len] = '\0';
    int status = 0;
    if (sscanf(t, "HTTP/1.1 %3d ", &status) != 1 || status < 200 || status > 599)
        __builtin_trap();
    char *end = strstr(t, "\r\n\r\n");
    if (!end)
        __builtin_trap();
    size_t hl = (size_t)(end + 4 - t);
    const char *cl = strstr(t, "\r\nContent-Length: ");
    size_t body = cl && cl < end ? strtoul(cl + 18, NULL, 10) : 0;
    if (status == 204 ? (cl && cl < end) : (!cl || cl > end))
        __builtin_trap();
    if (hl + body != len)
        __builtin_trap();
    if (status == 201) {
        const char *loc = strstr(t, "\r\nLocation: /whip/sessions/");
        if (!loc || loc > end || fake.opens != opens_before + 1)
            __builtin_trap();
        uint32_t live = 0;
        for (int i = 0; i < fake.next; i++)
            live += fake.open[i] && !fake.ended[i] && fake.client[i] == fake.current_client;
        if (live > max_per_client)
            __builtin_trap();
    }
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256 * 1024)
        return 0;
    static int trace = -1;
    if (trace < 0)
        trace = getenv("FUZZ_WHIP_TRACE") != NULL;
    memset(&fake, 0, sizeof(fake));
    uint8_t cfgb = data[0];
    struct ctl_signal_config cfg = {
        .token = (cfgb & 1) ? "s3cret" : NULL,
        .origins = (cfgb & 4) ? "*" : (cfgb & 2) ? "https://a.example,https://b.example" : NULL,
        .max_per_client = ((cfgb >> 3) & 3) + 1,
    };
    /* one server per configuration, made once and reset for each input */
    static struct ctl_signal *servers[32];
    struct ctl_signal **s_at = &servers[cfgb & 31], *s;
    char err[160];
    if (!*s_at && ctl_signal_new_detached(s_at, &cfg, &ops, &fake, err, sizeof(err)) != 0)
        __builtin_trap();
    s = *s_at;
    ctl_signal_reset_detached(s);
    static uint8_t rec[65536];
    static char fed[65536 * 17];
    char last_sid[33] = "00000000000000000000000000000000";
    bool fresh = true; /* the next record starts a connection */
    size_t off = 1, n;
    uint8_t flags;
    while (fuzz_next(data, size, &off, rec, sizeof(rec), &n, &flags)) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (i + 1 < n && rec[i] == '$' && rec[i + 1] == 'S') {
                memcpy(fed + m, last_sid, 32);
                m += 32;
                i++;
            } else {
                fed[m++] = (char)rec[i];
            }
        }
        if (fresh)
            fake.current_client = 0x0a000001u + ((flags >> 1) & 3);
        if ((flags & 8) && fake.next > 0)
            fake.ended[fake.next - 1] = true;
        int opens = fake.opens;
        const char *resp;
        size_t rlen;
        int rc = ctl_signal_feed(s, fake.current_client, fed, m, flags & 1, &resp, &rlen);
        if (rc == 1) {
            check_response(resp, rlen, opens, cfg.max_per_client);
            if (trace)
                fprintf(stderr, "whip: %.*s\n", (int)(strchr(resp, '\r') - resp), resp);
            const char *loc = strstr(resp, "Location: /whip/sessions/");
            if (loc && loc < resp + rlen && (size_t)(resp + rlen - loc) > 25 + 32)
                memcpy(last_sid, loc + 25, 32);
        } else if (fake.opens != opens) {
            __builtin_trap(); /* a session opened without a 201 */
        }
        fresh = rc != 0;
    }
    return 0;
}

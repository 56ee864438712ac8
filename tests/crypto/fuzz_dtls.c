/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: our DTLS handshake engine (dtls.h) in both roles.
 * The first input byte chooses what the rest means:
 *
 *   mode 0  a fresh server fed datagrams;
 *   mode 1  a client that has sent its ClientHello fed datagrams;
 *   mode 2  a real handshake between a client and a server of ours in
 *           memory, the datagrams delivered to the client edited;
 *   mode 3  the same, the datagrams delivered to the server edited.
 *
 * Modes 2 and 3 take the fuzzer past the ClientHello into every state: a
 * handshake runs, and the edits (replace, XOR in, overwrite, cut, drop,
 * duplicate, insert a datagram) land on the k-th datagram the role under
 * test receives, or after the handshake ended.
 *
 * Crypto: bit 2 of the first byte chooses the default provider (cp.h) or
 * a stand-in made here from it, cheap and deterministic so that a
 * handshake's bytes depend on the input alone (coverage-guided fuzzing
 * wants that): the default's operations and self, with its random bytes,
 * key agreement and signatures replaced. Its random bytes come from a
 * generator seeded per input, its "ECDH" key pair is a random scalar and
 * a public value made of it, the shared secret SHA-256 of the two scalars
 * in order, its "signature" SHA-256 of the public value and the digest;
 * the hashes are the default's. It keeps the properties the engine relies
 * on (both ends derive the same secret, a signature verifies only for its
 * key and digest), nothing more.
 *
 * Input layout after the mode byte: a configuration byte (bit 0 server
 * cookies, bit 1 no client certificate, bits 2-3 suite, bits 4-5 group,
 * bit 6 the smallest MTU, bit 7 use_srtp); then for modes 0 and 1
 * chunks [op, len_hi, len_lo, len bytes] (op bit 0: first let (op >> 1)
 * + 1 times 25 ms pass and the timers run), and for modes 2 and 3 edits
 * [k, op, off_hi, off_lo, len, len bytes].
 *
 * Oracles (abort with a message): no datagram over the MTU; a datagram
 * count that matches the counters; an endpoint connected or failed, not
 * both, and told so by exactly one event; a failure reason in range and
 * set only on failure; nothing to send or wait for once failed and the
 * alert is out; a role fed only fuzz never connects; a handshake with no
 * edit completes; and when both ends of a handshake connected they
 * export the same keying material and their record layers carry
 * application data both ways.
 */
#define FUZZ_NAME "fuzz_dtls"
#include "fuzz_dtls_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void end_init(int side, uint8_t cfg, int prov)
{
    static const uint8_t secret[DTLS_COOKIE_SECRET] = {7, 7, 7};
    static const uint8_t id[] = "198.18.0.1:50000";
    static const uint8_t suites[4] = {0, DTLS_OFFER_AES_128_GCM, DTLS_OFFER_AES_256_GCM,
                                      DTLS_OFFER_CHACHA20};
    static const uint8_t groups[4] = {0, DTLS_OFFER_X25519, DTLS_OFFER_P256, 0};
    struct end *x = &ends[side];
    dtls_record_keys_clear(&x->keys);
    memset(&x->rec_counters, 0, sizeof(x->rec_counters));
    dtls_record_reset(&x->rec, &x->keys, &x->rec_counters, side == 0);
    x->e = (struct dtls_endpoint *)x->mem;
    x->mtu = cfg & 0x40 ? DTLS_MTU_MIN : DTLS_MTU;
    x->sent = x->received = x->events = 0;
    x->up = x->down = false;
    struct dtls_config c = {
        .is_server = side == 1,
        .cp = &providers[prov],
        .cert = &certs[prov][side],
        .peer_fingerprint = certs[prov][1 - side].fingerprint,
        .rec = &x->rec,
        .cookie_secret = side == 1 && (cfg & 1) ? secret : NULL,
        .client_id = id,
        .client_id_len = sizeof(id) - 1,
        .no_client_cert = (cfg & 2) != 0,
        .suites = suites[cfg >> 2 & 3],
        /* a client always lists P-256, its certificate's curve */
        .groups = side == 0 && groups[cfg >> 4 & 3] ? groups[cfg >> 4 & 3] | DTLS_OFFER_P256
                                                    : groups[cfg >> 4 & 3],
        .srtp = cfg & 0x80 ? DTLS_SRTP_ALL : 0,
        .mtu = x->mtu,
        .rto_initial_ms = 50,
        .rto_max_ms = 200,
    };
    CHECK(dtls_endpoint_size() <= sizeof(x->mem), "endpoint size");
    CHECK(dtls_init(x->e, &c, now) == 0, "dtls_init");
}

/* ---- modes 0 and 1: fuzz straight in ---------------------------------- */

static void direct(int side, uint8_t cfg, int prov, const uint8_t *p, size_t n)
{
    uint8_t buf[DGRAM];
    end_init(side, cfg, prov);
    struct end *x = &ends[side];
    while (end_poll(x, buf)) /* the client's ClientHello: gone */
        ;
    while (n >= 3) {
        uint8_t op = p[0];
        size_t len = (size_t)(p[1] << 8 | p[2]) & (DGRAM - 1);
        p += 3, n -= 3;
        if (len > n)
            len = n;
        if (op & 1) {
            now += ((uint64_t)(op >> 1) + 1) * 25 * MS;
            dtls_handle_timeout(x->e, now);
            end_events(x);
        }
        end_input(x, p, len);
        p += len, n -= len;
        while (end_poll(x, buf))
            ;
    }
    run_timers(16);
    end_events(x);
    /* no peer: a fingerprint to match, a signature and a Finished to forge */
    CHECK(!dtls_connected(x->e), "the %s connected on fuzz alone", side ? "server" : "client");
    end_quiet(x);
}

/* ---- modes 2 and 3: a handshake, edited -------------------------------- */

enum edit_op { ED_REPLACE, ED_XOR, ED_OVERWRITE, ED_CUT, ED_DROP, ED_DUP, ED_INSERT, ED_OPS };

struct edit {
    uint8_t k, op;
    uint16_t off, len;
    const uint8_t *data;
    bool used;
};

#define MAX_EDITS 16
#define QN        64

struct queued {
    int to;
    uint16_t len;
    uint8_t d[DGRAM];
};

static struct queued q[QN];
static int q_head, q_n;

static void enqueue(int to, const uint8_t *d, size_t len)
{
    if (q_n == QN)
        return; /* full: lost */
    struct queued *g = &q[(q_head + q_n++) % QN];
    g->to = to;
    g->len = (uint16_t)len;
    memcpy(g->d, d, len);
}

/* Datagram d (len bytes, DGRAM room) to the role under test, through the
 * edits aimed at index k. */
static void deliver_edited(int side, struct edit *ed, int n_ed, unsigned k, uint8_t *d, size_t len)
{
    int copies = 1;
    for (int i = 0; i < n_ed; i++) {
        struct edit *x = &ed[i];
        if (x->k != k)
            continue;
        x->used = true;
        switch (x->op) {
        case ED_REPLACE:
            memcpy(d, x->data, x->len);
            len = x->len;
            break;
        case ED_XOR:
            for (size_t j = 0; j < x->len && len; j++)
                d[(x->off + j) % len] ^= x->data[j];
            break;
        case ED_OVERWRITE:
            if (x->off < len) {
                size_t m = len - x->off < x->len ? len - x->off : x->len;
                memcpy(d + x->off, x->data, m);
            }
            break;
        case ED_CUT:
            len = x->off < len ? x->off : len;
            break;
        case ED_DROP:
            copies = 0;
            break;
        case ED_DUP:
            copies++;
            break;
        case ED_INSERT:
            end_input(&ends[side], x->data, x->len);
            break;
        }
    }
    for (int c = 0; c < copies; c++)
        end_input(&ends[side], d, len);
}

static void handshake(int side, uint8_t cfg, int prov, const uint8_t *p, size_t n)
{
    static struct edit ed[MAX_EDITS];
    int n_ed = 0;
    while (n >= 5 && n_ed < MAX_EDITS) {
        struct edit *x = &ed[n_ed++];
        x->k = p[0];
        x->op = p[1] % ED_OPS;
        x->off = (uint16_t)(p[2] << 8 | p[3]) & (DGRAM - 1);
        x->len = p[4];
        p += 5, n -= 5;
        if (x->len > n)
            x->len = (uint16_t)n;
        x->data = p;
        x->used = false;
        p += x->len, n -= x->len;
    }
    end_init(0, cfg, prov);
    end_init(1, cfg, prov);
    q_head = q_n = 0;
    unsigned k = 0;
    static uint8_t buf[DGRAM];
    for (int step = 0; step < 400; step++) {
        for (int s = 0; s < 2; s++) {
            size_t len;
            while ((len = end_poll(&ends[s], buf)) > 0)
                enqueue(1 - s, buf, len);
            end_events(&ends[s]);
        }
        if (q_n) {
            struct queued *g = &q[q_head];
            q_head = (q_head + 1) % QN, q_n--;
            memcpy(buf, g->d, g->len);
            if (g->to == side)
                deliver_edited(side, ed, n_ed, k++, buf, g->len);
            else
                end_input(&ends[g->to], buf, g->len);
            continue;
        }
        uint64_t t = dtls_next_timeout(ends[0].e), t1 = dtls_next_timeout(ends[1].e);
        t = t1 < t ? t1 : t;
        if (t == UINT64_MAX)
            break;
        if (t > now)
            now = t;
        for (int s = 0; s < 2; s++) {
            dtls_handle_timeout(ends[s].e, now);
            end_events(&ends[s]);
        }
    }
    /* edits past the datagrams the handshake had: what comes after it */
    for (int i = 0; i < n_ed; i++)
        if (!ed[i].used && (ed[i].op == ED_INSERT || ed[i].op == ED_REPLACE))
            end_input(&ends[side], ed[i].data, ed[i].len);
    run_timers(16);
    /* untouched, every configuration here completes */
    CHECK(n_ed > 0 || (ends[0].up && ends[1].up),
          "an unedited handshake ended: client %s, server %s",
          dtls_failure_name(dtls_failure(ends[0].e)), dtls_failure_name(dtls_failure(ends[1].e)));
    if (ends[0].up && ends[1].up) {
        /* both finished: the same handshake on both sides, or a bug */
        uint8_t a[DTLS_KEYING_MAX], b[DTLS_KEYING_MAX];
        CHECK(dtls_suite(ends[0].e) == dtls_suite(ends[1].e), "suites differ");
        CHECK(dtls_srtp_profile(ends[0].e) == dtls_srtp_profile(ends[1].e), "SRTP profiles differ");
        CHECK(dtls_export_keying(ends[0].e, "EXTRACTOR-dtls_srtp", a, sizeof(a)) == 0,
              "no exporter");
        CHECK(dtls_export_keying(ends[1].e, "EXTRACTOR-dtls_srtp", b, sizeof(b)) == 0,
              "no exporter");
        CHECK(memcmp(a, b, sizeof(a)) == 0, "both connected with different keys");
        for (int s = 0; s < 2; s++) {
            uint8_t msg[32] = "application data", rec[128], out[128], type;
            size_t used;
            int m = dtls_record_seal(&ends[s].rec, DTLS_CT_APPLICATION_DATA, msg, sizeof(msg), rec,
                                     sizeof(rec));
            CHECK(m > 0, "seal %d", m);
            int o =
                dtls_record_open(&ends[1 - s].rec, rec, (size_t)m, &used, &type, out, sizeof(out));
            CHECK(o == (int)sizeof(msg) && memcmp(out, msg, sizeof(msg)) == 0, "open %d", o);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    if (size < 2)
        return 0;
    int mode = data[0] & 3, prov = data[0] & 4 ? REAL : FAKE;
    uint8_t cfg = data[1];
    now = 0;
    fake_rng =
        0x5eed0000u + data[0] + ((uint64_t)cfg << 8); /* each input: its own, repeatable bytes */
    if (mode < 2)
        direct(mode == 0 ? 1 : 0, cfg, prov, data + 2, size - 2);
    else
        handshake(mode == 2 ? 0 : 1, cfg, prov, data + 2, size - 2);
    ends_free();
    return 0;
}

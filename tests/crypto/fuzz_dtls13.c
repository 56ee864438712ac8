/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: our DTLS handshake engine (dtls.h) negotiating DTLS
 * 1.3 (RFC 9147), both roles. fuzz_dtls's design and oracles, with the
 * versions each side offers chosen by the input, and edits that reach
 * inside the encrypted epoch-2 flights. The first input byte:
 *
 *   bits 0-1  mode: 0 a fresh server fed datagrams; 1 a client that has
 *             sent its ClientHello fed datagrams; 2 a real handshake
 *             between a client and a server of ours in memory, the
 *             datagrams delivered to the client edited; 3 the same, the
 *             server's edited;
 *   bit 2     the default provider (cp.h) or fuzz_dtls's deterministic
 *             stand-in (a handshake's bytes then depend on the input
 *             alone);
 *   bits 3-4  versions, client/server: 0 auto/auto, 1 1.3/1.3,
 *             2 auto/1.3, 3 1.3/auto (always 1.3 when both connect).
 *
 * The second byte configures both ends: bit 0 the server's cookie (a
 * HelloRetryRequest for it), bit 1 no client certificate, bits 2-3 the
 * suite (0 all), bits 4-5 the groups (0 all, 1 X25519 (the client lists
 * P-256 too), 2 P-256, 3 the client both and the server P-256 alone: a
 * HelloRetryRequest for the group), bit 6 the smallest MTU, bit 7
 * use_srtp. Then, as fuzz_dtls13: for modes 0 and 1 chunks [op, len_hi,
 * len_lo, len bytes] (op bit 0: first let (op >> 1) + 1 times 25 ms pass),
 * for modes 2 and 3 edits [k, op, off_hi, off_lo, len, len bytes] on the
 * k-th datagram the role under test receives. Beside fuzz_dtls's edits of
 * the datagram's bytes, four reach the plaintext of its epoch-2 records
 * (the handshake flights under the handshake traffic keys): each such
 * record is opened with the receiver's own epoch-2 read keys, the edit
 * applied to the records' contents taken end to end (XOR in at off,
 * overwrite at off, cut at off) or to their inner content type (set to
 * the edit's first byte), and the records sealed again with the
 * same keys and record numbers, so the receiver authenticates them and
 * its message parsers (EncryptedExtensions, CertificateRequest,
 * Certificate, CertificateVerify, Finished, ACK) see the edit. Epoch-0
 * records ahead of them in the datagram go in first, in a datagram of
 * their own, so that the keys they bring are there.
 *
 * Oracles (abort with a message), fuzz_dtls's: no datagram over the MTU;
 * datagrams_out equal to the datagrams polled and datagrams_in to the
 * datagrams handed in; connected or failed, not both, told by exactly
 * one event; the failure reason in range and set exactly when
 * dtls_failed(); nothing to send or wait for once failed; a role fed
 * only fuzz never connects; an unedited handshake completes; when both
 * connected, the same suite, SRTP profile and exporter output, and
 * application data both ways through their record layers, then the
 * KeyUpdate path (post_handshake below: a requested KeyUpdate each way,
 * unedited the epochs agree; the leftover edits' bytes sealed by the
 * peer's record layer as post-handshake handshake or ACK records into
 * dtls_open_record). And for 1.3:
 * when both connected, the version is DTLS 1.3 on both (every version
 * setting here allows 1.3 on both sides: an edit never downgrades) and
 * the record layers are in the 1.3 form.
 *
 * SWARMGEN_FUZZ_CAPTURE=dir in the environment (not while fuzzing): a
 * handshake mode input writes every datagram the role under test was
 * sent, as a mode-0 or mode-1 input (chunks) to dir/<role>-<hex of the
 * first two bytes>: how tests/fuzz-corpus/fuzz_dtls13's flight seeds
 * were made (docs/fuzzing.md).
 */
#define FUZZ_NAME "fuzz_dtls13"
#include "fuzz_dtls_harness.h"
#include "dtls_internal.h"
#include "dtls_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *capture_dir; /* SWARMGEN_FUZZ_CAPTURE */

static uint8_t versions[2]; /* what each side offers / accepts, from the first byte */

static void end_init(int side, uint8_t cfg, int prov)
{
    static const uint8_t secret[DTLS_COOKIE_SECRET] = {7, 7, 7};
    static const uint8_t id[] = "198.18.0.1:50000";
    static const uint8_t suites[4] = {0, DTLS_OFFER_AES_128_GCM, DTLS_OFFER_AES_256_GCM,
                                      DTLS_OFFER_CHACHA20};
    static const uint8_t groups[4] = {0, DTLS_OFFER_X25519, DTLS_OFFER_P256, 0};
    unsigned gi = cfg >> 4 & 3;
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
        .groups = gi == 3                   ? (side == 0 ? DTLS_OFFER_ALL_GROUPS : DTLS_OFFER_P256)
                  : side == 0 && groups[gi] ? groups[gi] | DTLS_OFFER_P256
                                            : groups[gi],
        .srtp = cfg & 0x80 ? DTLS_SRTP_ALL : 0,
        .mtu = x->mtu,
        .rto_initial_ms = 50,
        .rto_max_ms = 200,
        .versions = versions[side],
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

enum edit_op {
    ED_REPLACE,
    ED_XOR,
    ED_OVERWRITE,
    ED_CUT,
    ED_DROP,
    ED_DUP,
    ED_INSERT,
    ED_INNER_XOR,
    ED_INNER_OVERWRITE,
    ED_INNER_CUT,  /* inside the epoch-2 records, sealed again */
    ED_INNER_TYPE, /* their inner content type: data[0] (0 never: what a record's padding ends on)
                    */
    ED_OPS
};

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

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

#define INNER_MAX 12 /* epoch-2 records a datagram may have edited */

/* The ED_INNER_* edit x on datagram d (len bytes, DGRAM room) to side:
 * its epoch-2 records opened with the receiver's epoch-2 read keys, their
 * contents edited (taken end to end), sealed again with the same keys and
 * record numbers. Returns the datagram's new length. */
static size_t inner_edit(int side, const struct edit *x, uint8_t *d, size_t len)
{
    struct dtls_endpoint *e = ends[side].e;
    /* past the DTLSPlaintext (epoch-0) records in front */
    size_t off = 0;
    while (off + 13 <= len && (d[off] & 0xe0) != 0x20) {
        size_t rl = get16(d + off + 11);
        if (rl > len - off - 13)
            return len;
        off += 13 + rl;
    }
    if (off >= len || (d[off] & 0xe0) != 0x20)
        return len;
    if (off > 0 && !e->t.r.suite) {
        /* the records that bring the keys go in first, on their own */
        end_input(&ends[side], d, off);
        memmove(d, d + off, len - off);
        len -= off;
        off = 0;
    }
    if (!e->t.r.suite || dtls_failed(e))
        return len;
    static uint8_t plain[INNER_MAX][DGRAM], out[DGRAM + 8 * INNER_MAX];
    struct {
        bool opened;
        uint8_t type;
        uint64_t seq;
        size_t at, used, n; /* where it was in d, its length there; the content's */
    } r[INNER_MAX];
    int nr = 0;
    size_t total = 0;
    for (size_t pos = off; pos < len && nr < INNER_MAX; nr++) {
        r[nr].at = pos;
        r[nr].opened = false;
        if ((d[pos] & 0xe0) != 0x20) { /* DTLSPlaintext: kept as it is */
            size_t rl = pos + 13 <= len ? get16(d + pos + 11) : 0;
            r[nr].used = pos + 13 <= len && rl <= len - pos - 13 ? 13 + rl : len - pos;
        } else {
            struct dtls13_hdr h = {0};
            if (dtls13_parse_header(d + pos, len - pos, &h) == 0 && h.epoch_bits == 2) {
                int n = dtls13_open(&e->t.r, d + pos, len - pos, e->t_in.r_top, &r[nr].used,
                                    &r[nr].seq, &r[nr].type, plain[nr], DGRAM);
                r[nr].opened = n >= 0;
                r[nr].n = n >= 0 ? (size_t)n : 0;
                total += r[nr].n;
            } else {
                r[nr].used = h.rec_len ? h.rec_len : len - pos;
            }
        }
        if (r[nr].used == 0 || r[nr].used > len - pos)
            r[nr].used = len - pos;
        pos += r[nr].used;
    }
    if (total == 0)
        return len;
    /* the edit, over the contents end to end */
    size_t base = 0;
    for (int i = 0; i < nr; i++) {
        if (!r[i].opened)
            continue;
        for (size_t j = 0; j < r[i].n; j++) {
            size_t at = base + j;
            /* XOR: data[t] into content byte (off + t) % total, as ED_XOR does */
            if (x->op == ED_INNER_XOR) {
                for (size_t t = (at + total - x->off % total) % total; t < x->len; t += total)
                    plain[i][j] ^= x->data[t];
            } else if (x->op == ED_INNER_OVERWRITE && at >= x->off && at - x->off < x->len)
                plain[i][j] = x->data[at - x->off];
        }
        if (x->op == ED_INNER_TYPE && x->len && x->data[0])
            r[i].type = x->data[0];
        size_t n = r[i].n, cut = x->off % (total + 1);
        if (x->op == ED_INNER_CUT && cut >= base && cut < base + n)
            r[i].n = cut - base;
        base += n;
    }
    /* and the datagram again */
    size_t o = 0;
    memcpy(out, d, off);
    o = off;
    for (int i = 0; i < nr; i++) {
        if (!r[i].opened) {
            memcpy(out + o, d + r[i].at, r[i].used);
            o += r[i].used;
            continue;
        }
        int m = dtls13_seal(&e->t.r, 2, r[i].seq, r[i].type, plain[i], r[i].n, out + o,
                            sizeof(out) - o);
        CHECK(m > 0, "sealing an epoch-2 record again: %d", m);
        o += (size_t)m;
    }
    /* what a record count cap left out, as it was */
    size_t tail = nr ? r[nr - 1].at + r[nr - 1].used : len;
    if (tail < len && o + (len - tail) <= sizeof(out)) {
        memcpy(out + o, d + tail, len - tail);
        o += len - tail;
    }
    if (o > DGRAM)
        return len; /* grown past a datagram: not sent */
    memcpy(d, out, o);
    return o;
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
        case ED_INNER_XOR:
        case ED_INNER_OVERWRITE:
        case ED_INNER_CUT:
        case ED_INNER_TYPE:
            len = inner_edit(side, x, d, len);
            break;
        }
    }
    for (int c = 0; c < copies; c++)
        end_input(&ends[side], d, len);
}

/* SWARMGEN_FUZZ_CAPTURE: the datagrams the role under test was sent, as
 * a direct-mode input (chunks) */
static uint8_t cap_buf[1 << 16];
static size_t cap_len;

static void capture(const uint8_t *d, size_t len)
{
    if (!capture_dir || cap_len + 3 + len > sizeof(cap_buf) || len > DGRAM - 1)
        return;
    cap_buf[cap_len] = 0;
    cap_buf[cap_len + 1] = (uint8_t)(len >> 8);
    cap_buf[cap_len + 2] = (uint8_t)len;
    memcpy(cap_buf + cap_len + 3, d, len);
    cap_len += 3 + len;
}

static void capture_write(int side, uint8_t b0, uint8_t cfg)
{
    if (!capture_dir)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s/flights-%s-%02x%02x", capture_dir, side ? "server" : "client",
             b0, cfg);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot write %s", path);
    /* mode 0 feeds a fresh server, mode 1 a client */
    uint8_t head[2] = {(uint8_t)((b0 & ~3u) | (side ? 0 : 1)), cfg};
    CHECK(fwrite(head, 1, 2, f) == 2 && fwrite(cap_buf, 1, cap_len, f) == cap_len, "writing %s",
          path);
    fclose(f);
}

/* After the handshake: every record of a datagram through
 * dtls_open_record (KeyUpdates, ACKs, the previous epoch's records). */
static void open_all(struct end *x, const uint8_t *d, size_t len)
{
    uint8_t out[DGRAM];
    size_t off = 0;
    while (off < len) {
        size_t used = 0;
        uint8_t type = 0;
        int n = dtls_open_record(x->e, d + off, len - off, &used, &type, out, sizeof(out), now);
        CHECK(used > 0 && used <= len - off, "dtls_open_record used %zu of %zu", used, len - off);
        CHECK(n < 0 || (size_t)n <= sizeof(out), "dtls_open_record gave %d", n);
        off += used;
    }
}

/* Both ends' datagrams to each other through open_all, timers as they
 * come, for at most `rounds` steps. */
static void pump_post(int rounds)
{
    uint8_t buf[DGRAM];
    for (int r = 0; r < rounds; r++) {
        bool moved = false;
        for (int s = 0; s < 2; s++) {
            size_t n;
            while ((n = end_poll(&ends[s], buf)) > 0) {
                moved = true;
                open_all(&ends[1 - s], buf, n);
            }
        }
        if (moved)
            continue;
        uint64_t t = dtls_next_timeout(ends[0].e), t1 = dtls_next_timeout(ends[1].e);
        t = t1 < t ? t1 : t;
        if (t == UINT64_MAX)
            return;
        if (t > now)
            now = t;
        for (int s = 0; s < 2; s++)
            dtls_handle_timeout(ends[s].e, now);
    }
}

/* The KeyUpdate path (RFC 9147 §8): the peer of the role under test sends
 * a KeyUpdate asking for one back, the datagrams go both ways; unedited,
 * both write epochs move on and each is the other end's read epoch. Then
 * the leftover edits' bytes, sealed by the peer's record layer at its
 * write epoch as a handshake record (odd op: KeyUpdates, fragments,
 * message sequence numbers the engine must sort out) or an ACK, into the
 * role under test, with the exchange going on after each. */
static void post_handshake(int side, struct edit *ed, int n_ed)
{
    struct end *peer = &ends[1 - side];
    int rc = dtls_key_update(peer->e, true, now);
    CHECK(n_ed > 0 || rc == 0, "dtls_key_update %d", rc);
    pump_post(256);
    if (n_ed == 0) {
        for (int s = 0; s < 2; s++) {
            CHECK(dtls_write_epoch(ends[s].e) == 4, "write epoch %u", dtls_write_epoch(ends[s].e));
            CHECK(dtls_read_epoch(ends[1 - s].e) == dtls_write_epoch(ends[s].e), "read epoch %u, write %u",
                  dtls_read_epoch(ends[1 - s].e), dtls_write_epoch(ends[s].e));
        }
    }
    for (int i = 0; i < n_ed; i++) {
        if (ed[i].used || !ed[i].len)
            continue;
        uint8_t rec[DGRAM];
        int m = dtls_record_seal(&peer->rec, ed[i].op & 1 ? DTLS_CT_HANDSHAKE : DTLS_CT_ACK, ed[i].data, ed[i].len,
                                 rec, sizeof(rec));
        if (m > 0)
            open_all(&ends[side], rec, (size_t)m);
        pump_post(32);
    }
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
                capture(buf, g->len);
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
        /* every version setting allows 1.3 on both sides: nothing an edit
         * does may leave them on 1.2 */
        CHECK(dtls_version(ends[0].e) == DTLS_V13 && dtls_version(ends[1].e) == DTLS_V13,
              "connected as %04x / %04x", dtls_version(ends[0].e), dtls_version(ends[1].e));
        CHECK(dtls_record_version(&ends[0].rec) == DTLS_V13 &&
                  dtls_record_version(&ends[1].rec) == DTLS_V13,
              "record layers not in the 1.3 form");
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
        post_handshake(side, ed, n_ed);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t vers[4][2] = {{DTLS_OFFER_ALL_VERSIONS, DTLS_OFFER_ALL_VERSIONS},
                                       {DTLS_OFFER_V13, DTLS_OFFER_V13},
                                       {DTLS_OFFER_ALL_VERSIONS, DTLS_OFFER_V13},
                                       {DTLS_OFFER_V13, DTLS_OFFER_ALL_VERSIONS}};
    setup_once();
    if (!capture_dir)
        capture_dir = getenv("SWARMGEN_FUZZ_CAPTURE");
    if (size < 2)
        return 0;
    int mode = data[0] & 3, prov = data[0] & 4 ? REAL : FAKE;
    versions[0] = vers[data[0] >> 3 & 3][0];
    versions[1] = vers[data[0] >> 3 & 3][1];
    cap_len = 0;
    uint8_t cfg = data[1];
    now = 0;
    fake_rng =
        0x5eed0000u + data[0] + ((uint64_t)cfg << 8); /* each input: its own, repeatable bytes */
    if (mode < 2)
        direct(mode == 0 ? 1 : 0, cfg, prov, data + 2, size - 2);
    else {
        handshake(mode == 2 ? 0 : 1, cfg, prov, data + 2, size - 2);
        capture_write(mode == 2 ? 0 : 1, data[0], cfg);
    }
    ends_free();
    return 0;
}

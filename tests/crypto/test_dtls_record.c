/* SPDX-License-Identifier: MIT */
/*
 * Our DTLS record layer against mbedTLS's, both directions: after a real
 * handshake, one side's keys go into a dtls_record (its mbedTLS context is
 * then freed) while the other side keeps its mbedTLS session; 10,000
 * records of random sizes from 1 to 1,200 bytes each way must come out
 * byte-exact, for AES-128-GCM (carry-less and portable GHASH) and
 * ChaCha20-Poly1305, with our layer on the client and on the server. Our
 * key block equals the one mbedTLS derived; our first record follows the
 * Finished message's sequence number (a restart at 0 is dropped by
 * mbedTLS). Then replayed, too old, reordered-within-window, truncated,
 * tampered and wrong-epoch records, alerts both ways (close_notify and
 * fatal), a final flight repeated after our layer took over, a moved
 * record layer, and the handshake slot pool.
 */
#include <errno.h>

#include <mbedtls/ssl_ciphersuites.h>

#include "dtls_link.h"
#include "dtls_record.h"

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* The mbedTLS side's transport once the handshake is done: one datagram
 * each way at a time, up to 1,500 bytes, so records of 1,200 bytes of
 * plaintext fit (the endpoint's own queue keeps to its 1,200-byte MTU). */
struct wire {
    uint8_t in[1600], out[1600];
    size_t in_len, out_len;
};

static int wire_send(void *ctx, const unsigned char *b, size_t n)
{
    struct wire *w = ctx;
    if (w->out_len || n > sizeof(w->out))
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    memcpy(w->out, b, n);
    w->out_len = n;
    return (int)n;
}

static int wire_recv(void *ctx, unsigned char *b, size_t n)
{
    struct wire *w = ctx;
    if (!w->in_len)
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t l = w->in_len < n ? w->in_len : n;
    memcpy(b, w->in, l);
    w->in_len = 0;
    return (int)l;
}

static void wire_attach(struct wire *w, struct dtls_endpoint *e)
{
    memset(w, 0, sizeof(*w));
    mbedtls_ssl_set_bio(&e->ssl, w, wire_send, wire_recv, NULL);
    mbedtls_ssl_set_mtu(&e->ssl, 1500);
}

/* mbedTLS reads one datagram we hand it */
static int mbed_read(struct dtls_endpoint *e, struct wire *w, const uint8_t *dgram, size_t len, uint8_t *out,
                     size_t cap)
{
    memcpy(w->in, dgram, len);
    w->in_len = len;
    int rc = mbedtls_ssl_read(&e->ssl, out, cap);
    w->in_len = 0;
    return rc;
}

/* mbedTLS writes one record; we take the datagram */
static int mbed_write(struct dtls_endpoint *e, struct wire *w, const uint8_t *in, size_t len, uint8_t *dgram)
{
    int rc = mbedtls_ssl_write(&e->ssl, in, len);
    if (rc < 0)
        return rc;
    cr_assert_eq(rc, (int)len);
    int n = (int)w->out_len;
    memcpy(dgram, w->out, w->out_len);
    w->out_len = 0;
    return n;
}

static uint64_t seq_of(const uint8_t *rec)
{
    uint64_t v = 0;
    for (int i = 5; i < 11; i++)
        v = v << 8 | rec[i];
    return v;
}

static void put48(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 6; i++)
        p[i] = (uint8_t)(v >> (40 - 8 * i));
}

static void interop(uint8_t suites, bool ours_is_client, bool portable_ghash)
{
    struct link l;
    setup_suites(&l, NULL, suites);
    run(&l, 60000000000ull);
    cr_assert(l.c_up && l.s_up);
    struct dtls_endpoint *mine = ours_is_client ? &l.c : &l.s, *theirs = ours_is_client ? &l.s : &l.c;
    /* our key block is the one mbedTLS derived for itself */
    uint8_t kb[DTLS_KEY_BLOCK_MAX];
    enum dtls_suite suite;
    unsigned kl, il;
    cr_assert_eq(dtls_record_key_block(mine, kb, &suite, &kl, &il), 0);
    cr_assert_eq(suite, suites == DTLS_OFFER_CHACHA ? DTLS_SUITE_CHACHA20_POLY1305 : DTLS_SUITE_AES_128_GCM);
    cr_assert_eq(kl, mine->kb_keylen);
    cr_assert_eq(il, mine->kb_ivlen);
    cr_assert_arr_eq(kb, mine->keyblock, 2 * (kl + il), "PRF key expansion differs from mbedTLS's key block");
    struct dtls_record r;
    cr_assert_eq(dtls_record_init_from(&r, mine), 0);
    cr_assert_eq(r.suite, suite);
    if (portable_ghash)
        r.clmul = false;
    uint64_t first_seq = r.w_seq;
    cr_assert_gt(first_seq, 0, "the Finished message took epoch-1 sequence number 0");
    dtls_free(mine); /* from here on only our record layer on this side */
    struct wire w;
    wire_attach(&w, theirs);
    static uint8_t msg[1200], rec[1500], out[1500];
    /* a layer that restarted at sequence number 0 is dropped by mbedTLS's
     * replay window: following on from the Finished message matters */
    {
        const uint8_t *ck = kb, *sk = kb + kl, *civ = kb + 2 * kl, *siv = kb + 2 * kl + il;
        struct dtls_record naive;
        cr_assert_eq(ours_is_client ? dtls_record_init_keys(&naive, suite, ck, civ, sk, siv, 0)
                                    : dtls_record_init_keys(&naive, suite, sk, siv, ck, civ, 0),
                     0);
        int n = dtls_record_seal(&naive, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"zero", 4, rec, sizeof(rec));
        cr_assert_eq(mbed_read(theirs, &w, rec, (size_t)n, out, sizeof(out)), MBEDTLS_ERR_SSL_WANT_READ,
                     "mbedTLS took a record at a sequence number it has seen");
        dtls_record_free(&naive);
    }
    uint32_t ours_to_mbed = 0, mbed_to_ours = 0;
    static uint8_t last[3][1500];
    size_t last_len[3] = {0};
    for (int i = 0; i < 20000; i++) {
        size_t len = 1 + rnd() % 1200;
        for (size_t k = 0; k < len; k++)
            msg[k] = (uint8_t)rnd();
        if (i % 2 == 0) {
            int n = dtls_record_seal(&r, DTLS_CT_APPLICATION_DATA, msg, len, rec, sizeof(rec));
            cr_assert_eq(n, (int)(len + (suite == DTLS_SUITE_AES_128_GCM ? DTLS_RECORD_OVERHEAD_GCM
                                                                       : DTLS_RECORD_OVERHEAD_CHACHA)));
            if (i == 0)
                cr_assert_eq(seq_of(rec), first_seq);
            int got = mbed_read(theirs, &w, rec, (size_t)n, out, sizeof(out));
            cr_assert_eq(got, (int)len, "record %d: mbedTLS read %d (-0x%04x)", i, got, -got);
            cr_assert_arr_eq(out, msg, len);
            ours_to_mbed++;
        } else {
            int n = mbed_write(theirs, &w, msg, len, rec);
            cr_assert_gt(n, 0, "mbedTLS write -0x%04x", -n);
            size_t used;
            uint8_t type;
            int got = dtls_record_open(&r, rec, (size_t)n, &used, &type, out, sizeof(out));
            cr_assert_eq(got, (int)len, "record %d: open %d", i, got);
            cr_assert_eq(type, DTLS_CT_APPLICATION_DATA);
            cr_assert_eq(used, (size_t)n);
            cr_assert_arr_eq(out, msg, len);
            if (i >= 19995) { /* the last three, kept to replay */
                memcpy(last[(i - 19995) / 2], rec, (size_t)n);
                last_len[(i - 19995) / 2] = (size_t)n;
            }
            mbed_to_ours++;
        }
    }
    cr_assert_eq(ours_to_mbed, 10000);
    cr_assert_eq(mbed_to_ours, 10000);
    cr_assert_eq(r.c.sealed, 10000);
    cr_assert_eq(r.c.opened, 10000);
    /* records that came in order are remembered by the window */
    for (int k = 0; k < 3; k++) {
        size_t u;
        uint8_t t;
        cr_assert_eq(dtls_record_open(&r, last[k], last_len[k], &u, &t, out, sizeof(out)), DTLS_REC_REPLAY);
    }
    r.c.replayed -= 3;

    /* replay and the window: 70 records from mbedTLS, delivered out of order */
    static uint8_t recs[70][1500];
    int lens[70];
    for (int i = 0; i < 70; i++) {
        msg[0] = (uint8_t)i;
        lens[i] = mbed_write(theirs, &w, msg, 1 + (size_t)i, recs[i]);
        cr_assert_gt(lens[i], 0);
    }
    size_t used;
    uint8_t type;
    cr_assert_eq(dtls_record_open(&r, recs[69], (size_t)lens[69], &used, &type, out, sizeof(out)), 70);
    cr_assert_eq(dtls_record_open(&r, recs[69], (size_t)lens[69], &used, &type, out, sizeof(out)), DTLS_REC_REPLAY);
    cr_assert_eq(dtls_record_open(&r, recs[10], (size_t)lens[10], &used, &type, out, sizeof(out)), 11,
                 "59 behind: inside the window");
    cr_assert_eq(dtls_record_open(&r, recs[6], (size_t)lens[6], &used, &type, out, sizeof(out)), 7,
                 "63 behind: the window's last place");
    cr_assert_eq(dtls_record_open(&r, recs[10], (size_t)lens[10], &used, &type, out, sizeof(out)), DTLS_REC_REPLAY);
    cr_assert_eq(dtls_record_open(&r, recs[5], (size_t)lens[5], &used, &type, out, sizeof(out)), DTLS_REC_TOO_OLD,
                 "64 behind: outside");
    cr_assert_eq(dtls_record_open(&r, recs[0], (size_t)lens[0], &used, &type, out, sizeof(out)), DTLS_REC_TOO_OLD);
    /* truncated, tampered, wrong epoch */
    cr_assert_eq(dtls_record_open(&r, recs[20], 10, &used, &type, out, sizeof(out)), DTLS_REC_TRUNCATED);
    cr_assert_eq(dtls_record_open(&r, recs[20], (size_t)lens[20] - 1, &used, &type, out, sizeof(out)),
                 DTLS_REC_TRUNCATED);
    uint8_t bad[1500];
    memcpy(bad, recs[20], (size_t)lens[20]);
    bad[11] = 0, bad[12] = 15; /* a fragment shorter than nonce and tag */
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[20], &used, &type, out, sizeof(out)), DTLS_REC_TRUNCATED);
    memcpy(bad, recs[21], (size_t)lens[21]);
    bad[lens[21] - 3] ^= 0x40; /* the tag */
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[21], &used, &type, out, sizeof(out)), DTLS_REC_BAD_AUTH);
    memcpy(bad, recs[21], (size_t)lens[21]);
    bad[lens[21] - 17] ^= 0x01; /* the last ciphertext byte */
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[21], &used, &type, out, sizeof(out)), DTLS_REC_BAD_AUTH);
    memcpy(bad, recs[22], (size_t)lens[22]);
    bad[0] = DTLS_CT_HANDSHAKE; /* the type is authenticated too */
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[22], &used, &type, out, sizeof(out)), DTLS_REC_BAD_AUTH);
    memcpy(bad, recs[22], (size_t)lens[22]);
    put48(bad + 5, seq_of(recs[69]) + 1000); /* and the sequence number (a fresh one, so it reaches the tag) */
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[22], &used, &type, out, sizeof(out)), DTLS_REC_BAD_AUTH);
    memcpy(bad, recs[23], (size_t)lens[23]);
    bad[4] = 0;
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[23], &used, &type, out, sizeof(out)), DTLS_REC_WRONG_EPOCH);
    memcpy(bad, recs[23], (size_t)lens[23]);
    bad[2] = 0xff; /* DTLS 1.0 */
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[23], &used, &type, out, sizeof(out)), DTLS_REC_BAD_VERSION);
    bad[2] = 0xfd, bad[0] = 24;
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[23], &used, &type, out, sizeof(out)), DTLS_REC_BAD_TYPE);
    cr_assert_eq(dtls_record_open(&r, recs[23], (size_t)lens[23], &used, &type, out, 10), DTLS_REC_TOO_BIG);
    /* refusals did not move the window: the genuine ones open */
    cr_assert_eq(dtls_record_open(&r, recs[21], (size_t)lens[21], &used, &type, out, sizeof(out)), 22);
    cr_assert_eq(dtls_record_open(&r, recs[22], (size_t)lens[22], &used, &type, out, sizeof(out)), 23);
    cr_assert_eq(dtls_record_open(&r, recs[23], (size_t)lens[23], &used, &type, out, sizeof(out)), 24);
    cr_assert_eq(r.c.replayed, 2);
    cr_assert_eq(r.c.too_old, 2);
    cr_assert_eq(r.c.truncated, 3);
    cr_assert_eq(r.c.bad_auth, 4);
    cr_assert_eq(r.c.wrong_epoch, 1);
    cr_assert_eq(r.c.bad_version, 1);
    cr_assert_eq(r.c.bad_type, 1);
    cr_assert_eq(r.c.too_big, 1);
    cr_assert_eq(r.c.opened, 10000 + 6);
    /* our close_notify reaches mbedTLS as such; nothing is sealed after it */
    int n = dtls_record_close(&r, rec, sizeof(rec));
    cr_assert_gt(n, 0);
    cr_assert_eq(mbed_read(theirs, &w, rec, (size_t)n, out, sizeof(out)), MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
    cr_assert_eq(dtls_record_seal(&r, DTLS_CT_APPLICATION_DATA, msg, 1, rec, sizeof(rec)), -EPIPE);
    cr_assert_eq(r.c.alerts_out, 1);
    /* mbedTLS's close_notify opened by us; nothing is opened after it */
    cr_assert_eq(mbedtls_ssl_close_notify(&theirs->ssl), 0);
    cr_assert_gt(w.out_len, 0);
    cr_assert_eq(dtls_record_open(&r, w.out, w.out_len, &used, &type, out, sizeof(out)), 2);
    cr_assert_eq(type, DTLS_CT_ALERT);
    cr_assert_eq(out[0], DTLS_ALERT_WARNING);
    cr_assert_eq(out[1], DTLS_ALERT_CLOSE_NOTIFY);
    cr_assert(r.peer_closed);
    cr_assert_eq(r.c.alerts_in, 1);
    cr_assert_eq(dtls_record_open(&r, recs[30], (size_t)lens[30], &used, &type, out, sizeof(out)), DTLS_REC_CLOSED);
    dtls_record_free(&r);
    dtls_free(theirs);
}

Test(dtls_record, gcm_ours_client_vs_mbedtls_server, .timeout = 120) { interop(DTLS_OFFER_GCM, true, false); }
Test(dtls_record, gcm_ours_server_vs_mbedtls_client, .timeout = 120) { interop(DTLS_OFFER_GCM, false, false); }
Test(dtls_record, gcm_portable_ghash_vs_mbedtls, .timeout = 120) { interop(DTLS_OFFER_GCM, true, true); }
Test(dtls_record, chacha_ours_client_vs_mbedtls_server, .timeout = 120) { interop(DTLS_OFFER_CHACHA, true, false); }
Test(dtls_record, chacha_ours_server_vs_mbedtls_client, .timeout = 120) { interop(DTLS_OFFER_CHACHA, false, false); }

Test(dtls_record, the_default_offer_negotiates_gcm, .timeout = 60)
{
    struct link l;
    setup(&l, NULL);
    run(&l, 60000000000ull);
    cr_assert(l.c_up && l.s_up);
    cr_assert_eq(l.c.suite_id, MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    struct dtls_record r;
    cr_assert_eq(dtls_record_init_from(&r, &l.c), 0);
    cr_assert_eq(r.suite, DTLS_SUITE_AES_128_GCM);
    dtls_record_free(&r);
    done(&l);
}

Test(dtls_record, fatal_alerts_both_ways_with_mbedtls, .timeout = 60)
{
    struct link l;
    setup(&l, NULL);
    run(&l, 60000000000ull);
    struct dtls_record r;
    cr_assert_eq(dtls_record_init_from(&r, &l.c), 0);
    struct wire w;
    wire_attach(&w, &l.s);
    uint8_t rec[256], out[256];
    size_t used;
    uint8_t type;
    /* mbedTLS's fatal alert fails our side */
    cr_assert_eq(mbedtls_ssl_send_alert_message(&l.s.ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                                MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR), 0);
    cr_assert_eq(dtls_record_open(&r, w.out, w.out_len, &used, &type, out, sizeof(out)), 2);
    w.out_len = 0;
    cr_assert_eq(type, DTLS_CT_ALERT);
    cr_assert(r.failed);
    cr_assert_eq(r.last_alert_level, DTLS_ALERT_FATAL);
    cr_assert_eq(r.last_alert_desc, DTLS_ALERT_INTERNAL_ERROR);
    cr_assert_eq(dtls_record_seal(&r, DTLS_CT_APPLICATION_DATA, out, 1, rec, sizeof(rec)), -EPIPE);
    /* ours fails mbedTLS's */
    struct dtls_record q;
    cr_assert_eq(dtls_record_init_from(&q, &l.c), 0);
    q.w_seq = r.w_seq;
    int n = dtls_record_alert(&q, DTLS_ALERT_FATAL, DTLS_ALERT_HANDSHAKE_FAILURE, rec, sizeof(rec));
    cr_assert_gt(n, 0);
    cr_assert_eq(mbed_read(&l.s, &w, rec, (size_t)n, out, sizeof(out)), MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
    cr_assert(q.failed);
    cr_assert_eq(q.c.alerts_out, 1);
    dtls_record_free(&r);
    dtls_record_free(&q);
    done(&l);
}

Test(dtls_record, both_sides_ours_several_records_a_datagram_and_malformed_alerts)
{
    struct link l;
    setup(&l, NULL);
    run(&l, 60000000000ull);
    struct dtls_record a, b;
    cr_assert_eq(dtls_record_init_from(&a, &l.c), 0);
    cr_assert_eq(dtls_record_init_from(&b, &l.s), 0);
    done(&l);
    uint8_t rec[1500], out[1500];
    size_t used;
    uint8_t type;
    /* two records in one datagram */
    int n1 = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"one", 3, rec, sizeof(rec));
    int n2 = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"three", 5, rec + n1,
                              sizeof(rec) - (size_t)n1);
    cr_assert_eq(dtls_record_open(&b, rec, (size_t)(n1 + n2), &used, &type, out, sizeof(out)), 3);
    cr_assert_eq(used, (size_t)n1);
    cr_assert_eq(dtls_record_open(&b, rec + used, (size_t)n2, &used, &type, out, sizeof(out)), 5);
    cr_assert_eq(memcmp(out, "three", 5), 0);
    /* no room, too long */
    cr_assert_eq(dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, out, 100, rec, 100 + DTLS_RECORD_OVERHEAD_GCM - 1),
                 -ENOSPC);
    static uint8_t big[DTLS_RECORD_MAX_PLAINTEXT + 1];
    cr_assert_eq(dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, big, sizeof(big), rec, sizeof(rec)), -EMSGSIZE);
    cr_assert_eq(a.c.sealed, 2);
    /* a 3-byte alert and one of level 3 are malformed, and change nothing */
    int n = dtls_record_seal(&a, DTLS_CT_ALERT, (const uint8_t *)"\x02\x28\x00", 3, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &type, out, sizeof(out)), DTLS_REC_BAD_ALERT);
    n = dtls_record_seal(&a, DTLS_CT_ALERT, (const uint8_t *)"\x03\x00", 2, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &type, out, sizeof(out)), DTLS_REC_BAD_ALERT);
    cr_assert_eq(b.c.malformed, 2);
    cr_assert(!b.failed && !b.peer_closed);
    /* a warning that is not close_notify is reported and changes nothing */
    n = dtls_record_alert(&a, DTLS_ALERT_WARNING, 100 /* no_renegotiation */, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &type, out, sizeof(out)), 2);
    cr_assert(!b.failed && !b.peer_closed);
    /* a fatal alert ends it, both ways */
    n = dtls_record_alert(&b, DTLS_ALERT_FATAL, DTLS_ALERT_HANDSHAKE_FAILURE, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&a, rec, (size_t)n, &used, &type, out, sizeof(out)), 2);
    cr_assert(a.failed);
    cr_assert_eq(dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, out, 1, rec, sizeof(rec)), -EPIPE);
    cr_assert_eq(dtls_record_seal(&b, DTLS_CT_APPLICATION_DATA, out, 1, rec, sizeof(rec)), -EPIPE);
    cr_log_info("record layer state: %zu bytes", sizeof(struct dtls_record));
    cr_assert_leq(sizeof(struct dtls_record), 1024);
    dtls_record_free(&a);
    dtls_record_free(&b);
}

Test(dtls_record, a_moved_record_layer_keeps_working)
{
    static const uint8_t k[16] = {1, 2, 3}, iv[4] = {9, 9, 9, 9};
    struct dtls_record a, b;
    cr_assert_eq(dtls_record_init_keys(&a, DTLS_SUITE_AES_128_GCM, k, iv, k, iv, 7), 0);
    cr_assert_eq(dtls_record_init_keys(&b, DTLS_SUITE_AES_128_GCM, k, iv, k, iv, 0), 0);
    uint8_t rec[128], out[128], rec2[128];
    int n = dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"before", 6, rec, sizeof(rec));
    static struct dtls_record moved[2];
    memcpy(&moved[1], &a, sizeof(a));
    memset(&a, 0xee, sizeof(a)); /* the old place is gone */
    int m = dtls_record_seal(&moved[1], DTLS_CT_APPLICATION_DATA, (const uint8_t *)"after", 5, rec2, sizeof(rec2));
    size_t used;
    uint8_t type;
    cr_assert_eq(dtls_record_open(&b, rec, (size_t)n, &used, &type, out, sizeof(out)), 6);
    cr_assert_eq(dtls_record_open(&b, rec2, (size_t)m, &used, &type, out, sizeof(out)), 5);
    cr_assert_eq(memcmp(out, "after", 5), 0);
    dtls_record_free(&moved[1]);
    dtls_record_free(&b);
}

/* The server's final flight (ChangeCipherSpec, Finished) is lost after the
 * server moved to our record layer: the client repeats its flight, the
 * server's kept endpoint answers with a Finished at the next epoch-1
 * sequence number, which our layer would use again for its first record:
 * the client drops that record as a replay, unless the server resyncs. */
Test(dtls_record, a_repeated_final_flight_and_resync, .timeout = 60)
{
    struct link l;
    setup(&l, NULL);
    l.drop_mask = 1u << 5; /* the server's ChangeCipherSpec + Finished */
    run(&l, 0);            /* no time passes: no retransmission yet */
    cr_assert(l.s_up && !l.c_up, "server %d client %d after %u datagrams", l.s_up, l.c_up, l.sent);
    struct dtls_record s, c;
    cr_assert_eq(dtls_record_init_from(&s, &l.s), 0);
    uint64_t first = s.w_seq;
    run(&l, 60000000000ull); /* the client retransmits; the server's endpoint answers */
    cr_assert(l.c_up);
    cr_assert_eq(dtls_record_init_from(&c, &l.c), 0);
    uint8_t rec[128], out[128];
    size_t used;
    uint8_t type;
    struct dtls_record stale = s;
    int n = dtls_record_seal(&stale, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&c, rec, (size_t)n, &used, &type, out, sizeof(out)), DTLS_REC_REPLAY,
                 "without resync the first record reuses the resent Finished's number");
    cr_assert_eq(dtls_record_resync(&s, &l.s), 0);
    cr_assert_gt(s.w_seq, first);
    n = dtls_record_seal(&s, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"y", 1, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&c, rec, (size_t)n, &used, &type, out, sizeof(out)), 1);
    /* the client's repeated Finished went to the server's endpoint: our
     * layer now counts its sequence number as spent */
    uint64_t top = l.s.ssl.in_window_top;
    cr_assert_gt(top, 0);
    cr_assert_geq(s.r_top, top);
    cr_assert(s.r_window >> (s.r_top - top) & 1);
    n = dtls_record_seal(&c, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"z", 1, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&s, rec, (size_t)n, &used, &type, out, sizeof(out)), 1);
    dtls_record_free(&s);
    dtls_record_free(&c);
    done(&l);
}

Test(dtls_record, init_refuses_an_unfinished_handshake, .timeout = 60)
{
    struct link l;
    setup(&l, NULL);
    struct dtls_record r;
    cr_assert_eq(dtls_record_init_from(&r, &l.c), -EINVAL);
    uint8_t kb[DTLS_KEY_BLOCK_MAX];
    enum dtls_suite su;
    unsigned kl, il;
    cr_assert_eq(dtls_record_key_block(&l.c, kb, &su, &kl, &il), -EINVAL);
    done(&l);
}

/* Six connections handshake through two slots: each waits for a slot, none
 * holds one after its keys are in the record layer, at most two mbedTLS
 * contexts exist at any time. */
Test(dtls_record, handshake_slot_pool_caps_concurrency, .timeout = 120)
{
    enum { CONNS = 6, SLOTS = 2 };
    struct dtls_hs_pool p;
    cr_assert_eq(dtls_hs_pool_init(&p, 0), -EINVAL);
    cr_assert_eq(dtls_hs_pool_init(&p, SLOTS), 0);
    make_certs();
    struct conn {
        int64_t cs, ss; /* client and server slots, -1 none */
        bool done;
        struct dtls_record rc, rs;
    } conn[CONNS];
    for (int i = 0; i < CONNS; i++)
        conn[i] = (struct conn){.cs = -1, .ss = -1};
    static const uint8_t id[] = "198.18.0.9:5000";
    int finished = 0;
    for (int round = 0; round < 100 && finished < CONNS; round++) {
        for (int i = 0; i < CONNS; i++) {
            struct conn *k = &conn[i];
            if (k->done)
                continue;
            if (k->cs < 0) { /* both ends of a connection need a slot here */
                if (dtls_hs_pool_in_use(&p) + 2 > SLOTS) {
                    cr_assert_eq(dtls_hs_pool_acquire(&p), -EAGAIN);
                    continue;
                }
                k->cs = dtls_hs_pool_acquire(&p);
                k->ss = dtls_hs_pool_acquire(&p);
                cr_assert(k->cs >= 0 && k->ss >= 0);
                struct dtls_config ccfg = {false, &cc, sc.fingerprint, 100 + (uint64_t)i, NULL, 0, 0, 0, 0};
                struct dtls_config scfg = {true, &sc, cc.fingerprint, 200 + (uint64_t)i, id, sizeof(id) - 1, 0, 0, 0};
                cr_assert_eq(dtls_init(dtls_hs_pool_slot(&p, (uint32_t)k->cs), &ccfg, 0), 0);
                cr_assert_eq(dtls_init(dtls_hs_pool_slot(&p, (uint32_t)k->ss), &scfg, 0), 0);
                dtls_start(dtls_hs_pool_slot(&p, (uint32_t)k->cs), 0);
            }
            struct dtls_endpoint *c = dtls_hs_pool_slot(&p, (uint32_t)k->cs), *s = dtls_hs_pool_slot(&p, (uint32_t)k->ss);
            uint8_t buf[DTLS_MTU];
            int n; /* one exchange per round, interleaved with the others */
            while ((n = dtls_poll_transmit(c, buf, sizeof(buf))) > 0)
                dtls_handle_input(s, buf, (size_t)n, 0);
            while ((n = dtls_poll_transmit(s, buf, sizeof(buf))) > 0)
                dtls_handle_input(c, buf, (size_t)n, 0);
            if (c->connected && s->connected) {
                cr_assert_eq(dtls_record_init_from(&k->rc, c), 0);
                cr_assert_eq(dtls_record_init_from(&k->rs, s), 0);
                dtls_free(c);
                dtls_free(s);
                cr_assert_eq(dtls_hs_pool_release(&p, (uint32_t)k->cs), 0);
                cr_assert_eq(dtls_hs_pool_release(&p, (uint32_t)k->ss), 0);
                k->done = true;
                finished++;
            }
        }
        cr_assert_leq(dtls_hs_pool_in_use(&p), SLOTS);
    }
    cr_assert_eq(finished, CONNS);
    cr_assert_eq(p.high_water, SLOTS);
    cr_assert_gt(p.refused, 0, "connections had to wait for a slot");
    cr_assert_eq(dtls_hs_pool_in_use(&p), 0);
    /* every connection carries data on its record layers */
    for (int i = 0; i < CONNS; i++) {
        uint8_t rec[64], out[64];
        size_t used;
        uint8_t type;
        int n = dtls_record_seal(&conn[i].rc, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, rec, sizeof(rec));
        cr_assert_eq(dtls_record_open(&conn[i].rs, rec, (size_t)n, &used, &type, out, sizeof(out)), 1);
        dtls_record_free(&conn[i].rc);
        dtls_record_free(&conn[i].rs);
    }
    /* a slot is given back once */
    int64_t s = dtls_hs_pool_acquire(&p);
    cr_assert_geq(s, 0);
    cr_assert_eq(dtls_hs_pool_release(&p, (uint32_t)s), 0);
    cr_assert_eq(dtls_hs_pool_release(&p, (uint32_t)s), -EINVAL);
    cr_assert_eq(dtls_hs_pool_release(&p, SLOTS), -EINVAL);
    cr_assert_eq(p.bad_releases, 2);
    cr_assert_eq(dtls_hs_pool_in_use(&p), 0);
    cr_assert_null(dtls_hs_pool_slot(&p, SLOTS));
    cr_log_info("handshake slot: %zu bytes (plus mbedTLS's heap during the handshake)",
                sizeof(struct dtls_endpoint));
    dtls_hs_pool_destroy(&p);
}

/* SPDX-License-Identifier: MIT */
/*
 * Our DTLS record layer against mbedTLS's, both directions: after a real
 * handshake, one side's keys go into a dtls_record (its mbedTLS context is
 * then freed) while the other side keeps its mbedTLS session; 10,000
 * records of mixed sizes each way must come out byte-exact, for
 * AES-128-GCM and ChaCha20-Poly1305, with our layer on the client and on
 * the server. Then replayed, too old, reordered-within-window, truncated,
 * tampered and wrong-epoch records, alerts and close_notify both ways, the
 * handshake slot pool.
 */
#include <errno.h>

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

/* mbedTLS reads one datagram we hand it */
static int mbed_read(struct dtls_endpoint *e, const uint8_t *dgram, size_t len, uint8_t *out, size_t cap)
{
    e->in = dgram;
    e->in_len = len;
    int rc = mbedtls_ssl_read(&e->ssl, out, cap);
    e->in = NULL;
    return rc;
}

/* mbedTLS writes one record; we take the datagram */
static int mbed_write(struct dtls_endpoint *e, const uint8_t *in, size_t len, uint8_t *dgram, size_t cap)
{
    int rc = mbedtls_ssl_write(&e->ssl, in, len);
    if (rc < 0)
        return rc;
    return dtls_poll_transmit(e, dgram, (uint16_t)cap);
}

static void interop(uint8_t suites, bool ours_is_client)
{
    struct link l;
    setup_suites(&l, NULL, suites);
    run(&l, 60000000000ull);
    cr_assert(l.c_up && l.s_up);
    struct dtls_endpoint *mine = ours_is_client ? &l.c : &l.s, *theirs = ours_is_client ? &l.s : &l.c;
    struct dtls_record r;
    cr_assert_eq(dtls_record_init_from(&r, mine), 0);
    cr_assert_eq(r.suite, suites == 2 ? DTLS_SUITE_CHACHA20_POLY1305 : DTLS_SUITE_AES_128_GCM);
    dtls_free(mine); /* from here on only our record layer on this side */
    static uint8_t msg[1200], rec[1500], out[1500];
    uint32_t ours_to_mbed = 0, mbed_to_ours = 0;
    /* mixed sizes up to what fits the 1,200-byte datagrams (DTLS does not
     * fragment application data) */
    int maxp = mbedtls_ssl_get_max_out_record_payload(&theirs->ssl);
    cr_assert_gt(maxp, 1100);
    for (int i = 0; i < 20000; i++) {
        size_t len = 1 + rnd() % (uint32_t)maxp;
        for (size_t k = 0; k < len; k++)
            msg[k] = (uint8_t)rnd();
        if (i % 2 == 0) {
            int n = dtls_record_seal(&r, DTLS_CT_APPLICATION_DATA, msg, len, rec, sizeof(rec));
            cr_assert_gt(n, 0);
            int got = mbed_read(theirs, rec, (size_t)n, out, sizeof(out));
            cr_assert_eq(got, (int)len, "record %d: mbedTLS read %d (-0x%04x)", i, got, -got);
            cr_assert_arr_eq(out, msg, len);
            ours_to_mbed++;
        } else {
            int n = mbed_write(theirs, msg, len, rec, sizeof(rec));
            cr_assert_gt(n, 0, "mbedTLS write %d", n);
            size_t used;
            uint8_t type;
            int got = dtls_record_open(&r, rec, (size_t)n, &used, &type, out, sizeof(out));
            cr_assert_eq(got, (int)len, "record %d: open %d", i, got);
            cr_assert_eq(type, DTLS_CT_APPLICATION_DATA);
            cr_assert_eq(used, (size_t)n);
            cr_assert_arr_eq(out, msg, len);
            mbed_to_ours++;
        }
    }
    cr_assert_eq(ours_to_mbed, 10000);
    cr_assert_eq(mbed_to_ours, 10000);
    cr_assert_eq(r.c.sealed, 10000);
    cr_assert_eq(r.c.opened, 10000);

    /* replay and the window: 70 records from mbedTLS, delivered out of order */
    static uint8_t recs[70][1500];
    int lens[70];
    for (int i = 0; i < 70; i++) {
        msg[0] = (uint8_t)i;
        lens[i] = mbed_write(theirs, msg, 1 + (size_t)i, recs[i], sizeof(recs[i]));
        cr_assert_gt(lens[i], 0);
    }
    size_t used;
    uint8_t type;
    cr_assert_eq(dtls_record_open(&r, recs[69], (size_t)lens[69], &used, &type, out, sizeof(out)), 70);
    cr_assert_eq(dtls_record_open(&r, recs[69], (size_t)lens[69], &used, &type, out, sizeof(out)), DTLS_REC_REPLAY);
    cr_assert_eq(dtls_record_open(&r, recs[10], (size_t)lens[10], &used, &type, out, sizeof(out)), 11,
                 "59 behind: inside the window");
    cr_assert_eq(dtls_record_open(&r, recs[10], (size_t)lens[10], &used, &type, out, sizeof(out)), DTLS_REC_REPLAY);
    cr_assert_eq(dtls_record_open(&r, recs[5], (size_t)lens[5], &used, &type, out, sizeof(out)), DTLS_REC_TOO_OLD,
                 "64 behind: outside");
    /* truncated, tampered, wrong epoch */
    cr_assert_eq(dtls_record_open(&r, recs[20], 10, &used, &type, out, sizeof(out)), DTLS_REC_TRUNCATED);
    cr_assert_eq(dtls_record_open(&r, recs[20], (size_t)lens[20] - 1, &used, &type, out, sizeof(out)),
                 DTLS_REC_TRUNCATED);
    uint8_t bad[1500];
    memcpy(bad, recs[21], (size_t)lens[21]);
    bad[lens[21] - 3] ^= 0x40;
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[21], &used, &type, out, sizeof(out)), DTLS_REC_BAD_AUTH);
    memcpy(bad, recs[22], (size_t)lens[22]);
    bad[0] = DTLS_CT_HANDSHAKE; /* the type is authenticated too */
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[22], &used, &type, out, sizeof(out)), DTLS_REC_BAD_AUTH);
    memcpy(bad, recs[23], (size_t)lens[23]);
    bad[4] = 0;
    cr_assert_eq(dtls_record_open(&r, bad, (size_t)lens[23], &used, &type, out, sizeof(out)), DTLS_REC_WRONG_EPOCH);
    /* failed authentication did not move the window: the genuine ones open */
    cr_assert_eq(dtls_record_open(&r, recs[21], (size_t)lens[21], &used, &type, out, sizeof(out)), 22);
    cr_assert_eq(dtls_record_open(&r, recs[22], (size_t)lens[22], &used, &type, out, sizeof(out)), 23);
    cr_assert_eq(r.c.replayed, 2);
    cr_assert_eq(r.c.too_old, 1);
    cr_assert_eq(r.c.truncated, 2);
    cr_assert_eq(r.c.bad_auth, 2);
    cr_assert_eq(r.c.wrong_epoch, 1);
    /* a warning alert from us reaches mbedTLS as such; then close_notify both ways */
    int n = dtls_record_alert(&r, 1, 0, rec, sizeof(rec));
    cr_assert_gt(n, 0);
    cr_assert_eq(mbed_read(theirs, rec, (size_t)n, out, sizeof(out)), MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
    cr_assert_eq(dtls_record_seal(&r, DTLS_CT_APPLICATION_DATA, msg, 1, rec, sizeof(rec)), -EPIPE);
    cr_assert_eq(mbedtls_ssl_close_notify(&theirs->ssl), 0);
    n = dtls_poll_transmit(theirs, rec, sizeof(rec));
    cr_assert_gt(n, 0);
    cr_assert_eq(dtls_record_open(&r, rec, (size_t)n, &used, &type, out, sizeof(out)), 2);
    cr_assert_eq(type, DTLS_CT_ALERT);
    cr_assert(r.peer_closed);
    cr_assert_eq(r.c.alerts_in, 1);
    dtls_record_free(&r);
    dtls_free(theirs);
}

Test(dtls_record, gcm_ours_client_vs_mbedtls_server, .timeout = 120) { interop(1, true); }
Test(dtls_record, gcm_ours_server_vs_mbedtls_client, .timeout = 120) { interop(1, false); }
Test(dtls_record, chacha_ours_client_vs_mbedtls_server, .timeout = 120) { interop(2, true); }
Test(dtls_record, chacha_ours_server_vs_mbedtls_client, .timeout = 120) { interop(2, false); }

Test(dtls_record, both_sides_ours_and_fatal_alert)
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
    /* a fatal alert ends it */
    int n = dtls_record_alert(&b, 2, 40, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&a, rec, (size_t)n, &used, &type, out, sizeof(out)), 2);
    cr_assert(a.failed);
    cr_assert_eq(dtls_record_seal(&a, DTLS_CT_APPLICATION_DATA, out, 1, rec, sizeof(rec)), -EPIPE);
    cr_log_info("record layer state: %zu bytes", sizeof(struct dtls_record));
    cr_assert_leq(sizeof(struct dtls_record), 1024);
    dtls_record_free(&a);
    dtls_record_free(&b);
}

Test(dtls_record, handshake_slot_pool_caps_concurrency)
{
    struct dtls_hs_pool p;
    cr_assert_eq(dtls_hs_pool_init(&p, 3), 0);
    int64_t s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = dtls_hs_pool_acquire(&p);
        cr_assert_geq(s[i], 0);
    }
    cr_assert_eq(dtls_hs_pool_acquire(&p), -EAGAIN);
    cr_assert_eq(p.refused, 1);
    /* a full handshake in a borrowed slot pair, keys taken, slots returned */
    make_certs();
    struct dtls_endpoint *c = dtls_hs_pool_slot(&p, (uint32_t)s[0]), *sv = dtls_hs_pool_slot(&p, (uint32_t)s[1]);
    static const uint8_t id[] = "198.18.0.9:5000";
    struct dtls_config cc_cfg = {false, &cc, sc.fingerprint, 5, NULL, 0, 0, 0, 0};
    struct dtls_config sc_cfg = {true, &sc, cc.fingerprint, 6, id, sizeof(id) - 1, 0, 0, 0};
    cr_assert_eq(dtls_init(c, &cc_cfg, 0), 0);
    cr_assert_eq(dtls_init(sv, &sc_cfg, 0), 0);
    dtls_start(sv, 0);
    dtls_start(c, 0);
    uint8_t buf[DTLS_MTU];
    for (int k = 0; k < 50 && !(c->connected && sv->connected); k++) {
        int n;
        while ((n = dtls_poll_transmit(c, buf, sizeof(buf))) > 0)
            dtls_handle_input(sv, buf, (size_t)n, 0);
        while ((n = dtls_poll_transmit(sv, buf, sizeof(buf))) > 0)
            dtls_handle_input(c, buf, (size_t)n, 0);
    }
    cr_assert(c->connected && sv->connected);
    struct dtls_record rc, rs;
    cr_assert_eq(dtls_record_init_from(&rc, c), 0);
    cr_assert_eq(dtls_record_init_from(&rs, sv), 0);
    dtls_free(c);
    dtls_free(sv);
    dtls_hs_pool_release(&p, (uint32_t)s[0]);
    dtls_hs_pool_release(&p, (uint32_t)s[1]);
    cr_assert_geq(dtls_hs_pool_acquire(&p), 0, "a slot is free again");
    cr_assert_eq(p.high_water, 3);
    uint8_t rec[64], out[64];
    size_t used;
    uint8_t type;
    int n = dtls_record_seal(&rc, DTLS_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, rec, sizeof(rec));
    cr_assert_eq(dtls_record_open(&rs, rec, (size_t)n, &used, &type, out, sizeof(out)), 1);
    cr_log_info("handshake slot: %zu bytes (plus mbedTLS's heap during the handshake)",
                sizeof(struct dtls_endpoint));
    dtls_record_free(&rc);
    dtls_record_free(&rs);
    dtls_hs_pool_destroy(&p);
}

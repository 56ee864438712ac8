/* SPDX-License-Identifier: MIT */
/*
 * The TLS 1.3 / DTLS 1.3 key schedule (tls13_keys.h) against published
 * values and against an implementation we did not write.
 *
 * RFC 8448 §3 (Simple 1-RTT Handshake, TLS_AES_128_GCM_SHA256, prefix
 * "tls13 ", through the prefixed functions of tls13_keys_internal.h): the
 * X25519 shared secret from the trace's keys (the default provider), the
 * early, handshake and master secrets, the transcript hash of the given
 * ClientHello + ServerHello bytes, both handshake and application traffic
 * secrets, the exporter master secret, the handshake and application keys
 * and IVs of both sides, the server's finished key and Finished computed
 * from the transcript of the given ClientHello..CertificateVerify bytes (and
 * that Finished message hashed onto the transcript gives the trace's
 * Hash(ClientHello..server Finished)), the client's Finished.
 *
 * The DTLS prefix "dtls13" (RFC 9147 §5.9), which no published trace
 * covers, against OpenSSL 3.0's own KDFs: EVP_KDF "TLS13-KDF" in
 * EXPAND_ONLY mode with PREFIX "dtls13" for many labels, SHA-256 and
 * SHA-384, contexts of 0, hl and 255 bytes and lengths 12/16/32/48 up to
 * the 255 * hl maximum; EVP_KDF "HKDF" EXTRACT_ONLY for HKDF-Extract with
 * salts and keys shorter than, equal to and longer than the hash block.
 * The whole DTLS schedule of both hashes (early .. master, traffic
 * secrets, keys/IV/record-number key, Finished, KeyUpdate, exporter with
 * and without context) recomputed by hand in this file from OpenSSL's
 * primitives (HKDF, TLS13-KDF, HMAC(), EVP_Digest) and compared. OpenSSL
 * computes the HKDF, the HkdfLabel and the HMAC itself; only SHA-2 is the
 * same library on both sides.
 *
 * Refusals: label, context and length limits give -EINVAL and write
 * nothing; outputs may alias inputs where the header says so.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "cp.h"
#include "tls13_keys.h"
#include "tls13_keys_internal.h"

static struct cp cp;

static void setup(void)
{
    cr_assert_eq(cp_default_create(&cp), 0);
}

static void teardown(void)
{
    cp_destroy(&cp);
}

TestSuite(tls13_keys, .init = setup, .fini = teardown);

/* Hex with any whitespace between bytes (as the RFC prints it) into out;
 * returns the byte count. */
static size_t hexb(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*s) {
        if (isspace((unsigned char)*s)) {
            s++;
            continue;
        }
        unsigned v;
        cr_assert_eq(sscanf(s, "%2x", &v), 1, "bad hex at '%.8s'", s);
        cr_assert_lt(n, cap);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

/* out must equal the hex string (the same length as n). */
static void expect_hex(const uint8_t *got, size_t n, const char *want, const char *what)
{
    uint8_t w[512];
    size_t wl = hexb(want, w, sizeof(w));
    cr_assert_eq(wl, n, "%s: %zu bytes expected, %zu compared", what, wl, n);
    cr_assert(memcmp(got, w, n) == 0, "%s differs", what);
}

/* ---- RFC 8448 §3 (values from the RFC's text) ---- */

static const char CLIENT_HELLO[] = "01 00 00 c0 03 03 cb 34 ec b1 e7 81 63"
                                   "ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12 ec 18 a2 ef 62 83"
                                   "02 4d ec e7 00 00 06 13 01 13 03 13 02 01 00 00 91 00 00 00 0b"
                                   "00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 14 00"
                                   "12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 23"
                                   "00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d e5 60 e4 bd 43 d2"
                                   "3d 8e 43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a"
                                   "af 2c 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03"
                                   "02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02 06"
                                   "02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01";
static const char SERVER_HELLO[] = "02 00 00 56 03 03 a6 af 06 a4 12 18 60"
                                   "dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a c5 cb 14 34 da c1 55 77 2e"
                                   "d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24 00 1d 00 20 c9 82 88"
                                   "76 11 20 95 fe 66 76 2b db f7 c6 72 e1 56 d6 cc 25 3b 83 3d f1"
                                   "dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04";
static const char ENCRYPTED_EXTENSIONS[] =
    "08 00 00 24 00 22 00 0a 00 14 00"
    "12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c"
    "00 02 40 01 00 00 00 00";
static const char CERTIFICATE[] = "0b 00 01 b9 00 00 01 b5 00 01 b0 30 82"
                                  "01 ac 30 82 01 15 a0 03 02 01 02 02 01 02 30 0d 06 09 2a 86 48"
                                  "86 f7 0d 01 01 0b 05 00 30 0e 31 0c 30 0a 06 03 55 04 03 13 03"
                                  "72 73 61 30 1e 17 0d 31 36 30 37 33 30 30 31 32 33 35 39 5a 17"
                                  "0d 32 36 30 37 33 30 30 31 32 33 35 39 5a 30 0e 31 0c 30 0a 06"
                                  "03 55 04 03 13 03 72 73 61 30 81 9f 30 0d 06 09 2a 86 48 86 f7"
                                  "0d 01 01 01 05 00 03 81 8d 00 30 81 89 02 81 81 00 b4 bb 49 8f"
                                  "82 79 30 3d 98 08 36 39 9b 36 c6 98 8c 0c 68 de 55 e1 bd b8 26"
                                  "d3 90 1a 24 61 ea fd 2d e4 9a 91 d0 15 ab bc 9a 95 13 7a ce 6c"
                                  "1a f1 9e aa 6a f9 8c 7c ed 43 12 09 98 e1 87 a8 0e e0 cc b0 52"
                                  "4b 1b 01 8c 3e 0b 63 26 4d 44 9a 6d 38 e2 2a 5f da 43 08 46 74"
                                  "80 30 53 0e f0 46 1c 8c a9 d9 ef bf ae 8e a6 d1 d0 3e 2b d1 93"
                                  "ef f0 ab 9a 80 02 c4 74 28 a6 d3 5a 8d 88 d7 9f 7f 1e 3f 02 03"
                                  "01 00 01 a3 1a 30 18 30 09 06 03 55 1d 13 04 02 30 00 30 0b 06"
                                  "03 55 1d 0f 04 04 03 02 05 a0 30 0d 06 09 2a 86 48 86 f7 0d 01"
                                  "01 0b 05 00 03 81 81 00 85 aa d2 a0 e5 b9 27 6b 90 8c 65 f7 3a"
                                  "72 67 17 06 18 a5 4c 5f 8a 7b 33 7d 2d f7 a5 94 36 54 17 f2 ea"
                                  "e8 f8 a5 8c 8f 81 72 f9 31 9c f3 6b 7f d6 c5 5b 80 f2 1a 03 01"
                                  "51 56 72 60 96 fd 33 5e 5e 67 f2 db f1 02 70 2e 60 8c ca e6 be"
                                  "c1 fc 63 a4 2a 99 be 5c 3e b7 10 7c 3c 54 e9 b9 eb 2b d5 20 3b"
                                  "1c 3b 84 e0 a8 b2 f7 59 40 9b a3 ea c9 d9 1d 40 2d cc 0c c8 f8"
                                  "96 12 29 ac 91 87 b4 2b 4d e1 00 00";
static const char CERTIFICATE_VERIFY[] =
    "0f 00 00 84 08 04 00 80 5a 74 7c"
    "5d 88 fa 9b d2 e5 5a b0 85 a6 10 15 b7 21 1f 82 4c d4 84 14 5a"
    "b3 ff 52 f1 fd a8 47 7b 0b 7a bc 90 db 78 e2 d3 3a 5c 14 1a 07"
    "86 53 fa 6b ef 78 0c 5e a2 48 ee aa a7 85 c4 f3 94 ca b6 d3 0b"
    "be 8d 48 59 ee 51 1f 60 29 57 b1 54 11 ac 02 76 71 45 9e 46 44"
    "5c 9e a5 8c 18 1e 81 8e 95 b8 c3 fb 0b f3 27 84 09 d3 be 15 2a"
    "3d a5 04 3e 06 3d da 65 cd f5 ae a2 0d 53 df ac d4 2f 74 f3";

#define CLIENT_X25519_PUB                                                                          \
    "99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe "                                             \
    "b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c"
#define SERVER_X25519_PRIV                                                                         \
    "b1 58 0e ea df 6d d5 89 b8 ef 4f 2d 56 52 57 8c "                                             \
    "c8 10 e9 98 01 91 ec 8d 05 83 08 ce a2 16 a2 1e"
#define ECDHE                                                                                      \
    "8b d4 05 4f b5 5b 9d 63 fd fb ac f9 f0 4b 9f 0d "                                             \
    "35 e6 d6 3f 53 75 63 ef d4 62 72 90 0f 89 49 2d"
#define EARLY                                                                                      \
    "33 ad 0a 1c 60 7e c0 3b 09 e6 cd 98 93 68 0c e2 "                                             \
    "10 ad f3 00 aa 1f 26 60 e1 b2 2e 10 f1 70 f9 2a"
#define EMPTY_SHA256                                                                               \
    "e3 b0 c4 42 98 fc 1c 14 9a fb f4 c8 99 6f b9 24 "                                             \
    "27 ae 41 e4 64 9b 93 4c a4 95 99 1b 78 52 b8 55"
#define DERIVED_HS                                                                                 \
    "6f 26 15 a1 08 c7 02 c5 67 8f 54 fc 9d ba b6 97 "                                             \
    "16 c0 76 18 9c 48 25 0c eb ea c3 57 6c 36 11 ba"
#define HANDSHAKE                                                                                  \
    "1d c8 26 e9 36 06 aa 6f dc 0a ad c1 2f 74 1b 01 "                                             \
    "04 6a a6 b9 9f 69 1e d2 21 a9 f0 ca 04 3f be ac"
#define TH_HELLO                                                                                   \
    "86 0c 06 ed c0 78 58 ee 8e 78 f0 e7 42 8c 58 ed "                                             \
    "d6 b4 3f 2c a3 e6 e9 5f 02 ed 06 3c f0 e1 ca d8"
#define C_HS                                                                                       \
    "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f "                                             \
    "3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21"
#define S_HS                                                                                       \
    "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 "                                             \
    "e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38"
#define DERIVED_MS                                                                                 \
    "43 de 77 e0 c7 77 13 85 9a 94 4d b9 db 25 90 b5 "                                             \
    "31 90 a6 5b 3e e2 e4 f1 2d d7 a0 bb 7c e2 54 b4"
#define MASTER                                                                                     \
    "18 df 06 84 3d 13 a0 8b f2 a4 49 84 4c 5f 8a 47 "                                             \
    "80 01 bc 4d 4c 62 79 84 d5 a4 1d a8 d0 40 29 19"
#define S_HS_KEY "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc"
#define S_HS_IV  "5d 31 3e b2 67 12 76 ee 13 00 0b 30"
#define C_HS_KEY "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01"
#define C_HS_IV  "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f"
#define S_FIN_KEY                                                                                  \
    "00 8d 3b 66 f8 16 ea 55 9f 96 b5 37 e8 85 c3 1f "                                             \
    "c0 68 bf 49 2c 65 2f 01 f2 88 a1 d8 cd c1 9f c8"
#define S_FINISHED                                                                                 \
    "9b 9b 14 1d 90 63 37 fb d2 cb dc e7 1d f4 de da "                                             \
    "4a b4 2c 30 95 72 cb 7f ff ee 54 54 b7 8f 07 18"
#define TH_SERVER_FIN                                                                              \
    "96 08 10 2a 0f 1c cc 6d b6 25 0b 7b 7e 41 7b 1a "                                             \
    "00 0e aa da 3d aa e4 77 7a 76 86 c9 ff 83 df 13"
#define C_AP                                                                                       \
    "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 "                                             \
    "87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5"
#define S_AP                                                                                       \
    "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 "                                             \
    "82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43"
#define EXP_MASTER                                                                                 \
    "fe 22 f8 81 17 6e da 18 eb 8f 44 52 9e 67 92 c5 "                                             \
    "0c 9a 3f 89 45 2f 68 d8 ae 31 1b 43 09 d3 cf 50"
#define S_AP_KEY "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56"
#define S_AP_IV  "cf 78 2b 88 dd 83 54 9a ad f1 e9 84"
#define C_AP_KEY "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51"
#define C_AP_IV  "5b 78 92 3d ee 08 57 90 33 e5 23 d9"
#define C_FIN_KEY                                                                                  \
    "b8 0a d0 10 15 fb 2f 0b d6 5f f7 d4 da 5d 6b f8 "                                             \
    "3f 84 82 1d 1f 87 fd c7 d3 c7 5b 5a 7b 42 d9 c4"
#define C_FINISHED                                                                                 \
    "a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03 "                                             \
    "9e c1 76 94 fa c6 e9 85 27 b6 42 f2 ed d5 ce 61"

#define T TLS13_PREFIX_TLS

/* The trace's messages, each checked for the length the RFC prints. */
struct trace {
    uint8_t ch[196], sh[90], ee[40], cert[445], cv[136];
};

static void trace_load(struct trace *t)
{
    cr_assert_eq(hexb(CLIENT_HELLO, t->ch, sizeof(t->ch)), 196);
    cr_assert_eq(hexb(SERVER_HELLO, t->sh, sizeof(t->sh)), 90);
    cr_assert_eq(hexb(ENCRYPTED_EXTENSIONS, t->ee, sizeof(t->ee)), 40);
    cr_assert_eq(hexb(CERTIFICATE, t->cert, sizeof(t->cert)), 445);
    cr_assert_eq(hexb(CERTIFICATE_VERIFY, t->cv, sizeof(t->cv)), 136);
}

Test(tls13_keys, rfc8448_ecdhe_early_handshake_master)
{
    uint8_t priv[32], pub[32], shared[32], s[CP_HASH_MAX], eh[CP_HASH_MAX], d[CP_HASH_MAX];
    hexb(SERVER_X25519_PRIV, priv, sizeof(priv));
    hexb(CLIENT_X25519_PUB, pub, sizeof(pub));
    cr_assert_eq(cp.ops->ecdh_shared(cp.self, CP_GROUP_X25519, priv, pub, 32, shared), 0);
    expect_hex(shared, 32, ECDHE, "x25519 shared secret");

    tls13_early_secret(&cp, CP_SHA256, s);
    expect_hex(s, 32, EARLY, "early secret");
    tls13_empty_hash(&cp, CP_SHA256, eh);
    expect_hex(eh, 32, EMPTY_SHA256, "Hash(\"\")");
    cr_assert_eq(tls13_derive_secret_prefix(&cp, CP_SHA256, T, s, "derived", eh, d), 0);
    expect_hex(d, 32, DERIVED_HS, "derived (handshake)");

    cr_assert_eq(tls13_handshake_secret_prefix(&cp, CP_SHA256, T, s, shared, 32, s),
                 0); /* in place */
    expect_hex(s, 32, HANDSHAKE, "handshake secret");
    cr_assert_eq(tls13_derive_secret_prefix(&cp, CP_SHA256, T, s, "derived", eh, d), 0);
    expect_hex(d, 32, DERIVED_MS, "derived (master)");
    uint8_t m[CP_HASH_MAX];
    cr_assert_eq(tls13_master_secret_prefix(&cp, CP_SHA256, T, s, m), 0);
    expect_hex(m, 32, MASTER, "master secret");
}

Test(tls13_keys, rfc8448_traffic_secrets_keys_finished)
{
    struct trace t;
    trace_load(&t);
    uint8_t hs[32], ms[32], th[32], th_sf[32], sec[32], key[16], iv[12], fin[32], fk[32];
    hexb(HANDSHAKE, hs, 32);
    hexb(MASTER, ms, 32);

    /* Transcript-Hash(ClientHello, ServerHello) from the given bytes */
    struct cp_hash h;
    cp.ops->hash_init(cp.self, &h, CP_SHA256);
    cp.ops->hash_update(cp.self, &h, t.ch, sizeof(t.ch));
    cp.ops->hash_update(cp.self, &h, t.sh, sizeof(t.sh));
    struct cp_hash fork = h;
    cp.ops->hash_final(cp.self, &fork, th);
    expect_hex(th, 32, TH_HELLO, "Hash(ClientHello..ServerHello)");

    cr_assert_eq(tls13_derive_secret_prefix(&cp, CP_SHA256, T, hs, "c hs traffic", th, sec), 0);
    expect_hex(sec, 32, C_HS, "client handshake traffic secret");
    cr_assert_eq(tls13_traffic_keys_prefix(&cp, CP_SHA256, T, sec, 16, key, iv, NULL), 0);
    expect_hex(key, 16, C_HS_KEY, "client handshake key");
    expect_hex(iv, 12, C_HS_IV, "client handshake iv");
    uint8_t c_hs[32];
    memcpy(c_hs, sec, 32);

    cr_assert_eq(tls13_derive_secret_prefix(&cp, CP_SHA256, T, hs, "s hs traffic", th, sec), 0);
    expect_hex(sec, 32, S_HS, "server handshake traffic secret");
    cr_assert_eq(tls13_traffic_keys_prefix(&cp, CP_SHA256, T, sec, 16, key, iv, NULL), 0);
    expect_hex(key, 16, S_HS_KEY, "server handshake key");
    expect_hex(iv, 12, S_HS_IV, "server handshake iv");

    /* the server's Finished over Transcript-Hash(ClientHello..CertificateVerify) */
    cr_assert_eq(tls13_expand_label_prefix(&cp, CP_SHA256, T, sec, "finished", NULL, 0, fk, 32), 0);
    expect_hex(fk, 32, S_FIN_KEY, "server finished key");
    cp.ops->hash_update(cp.self, &h, t.ee, sizeof(t.ee));
    cp.ops->hash_update(cp.self, &h, t.cert, sizeof(t.cert));
    cp.ops->hash_update(cp.self, &h, t.cv, sizeof(t.cv));
    fork = h;
    cp.ops->hash_final(cp.self, &fork, th);
    cr_assert_eq(tls13_finished_prefix(&cp, CP_SHA256, T, sec, th, fin), 0);
    expect_hex(fin, 32, S_FINISHED, "server Finished verify_data");

    /* that Finished message (type 20, length 32) on the transcript gives
     * the trace's hash for the application secrets */
    const uint8_t fin_hdr[4] = {20, 0, 0, 32};
    cp.ops->hash_update(cp.self, &h, fin_hdr, 4);
    cp.ops->hash_update(cp.self, &h, fin, 32);
    cp.ops->hash_final(cp.self, &h, th_sf);
    expect_hex(th_sf, 32, TH_SERVER_FIN, "Hash(ClientHello..server Finished)");

    cr_assert_eq(tls13_derive_secret_prefix(&cp, CP_SHA256, T, ms, "c ap traffic", th_sf, sec), 0);
    expect_hex(sec, 32, C_AP, "client application traffic secret");
    cr_assert_eq(tls13_traffic_keys_prefix(&cp, CP_SHA256, T, sec, 16, key, iv, NULL), 0);
    expect_hex(key, 16, C_AP_KEY, "client application key");
    expect_hex(iv, 12, C_AP_IV, "client application iv");
    cr_assert_eq(tls13_derive_secret_prefix(&cp, CP_SHA256, T, ms, "s ap traffic", th_sf, sec), 0);
    expect_hex(sec, 32, S_AP, "server application traffic secret");
    cr_assert_eq(tls13_traffic_keys_prefix(&cp, CP_SHA256, T, sec, 16, key, NULL, NULL), 0);
    expect_hex(key, 16, S_AP_KEY, "server application key");
    cr_assert_eq(tls13_traffic_keys_prefix(&cp, CP_SHA256, T, sec, 16, NULL, iv, NULL), 0);
    expect_hex(iv, 12, S_AP_IV, "server application iv");
    cr_assert_eq(tls13_derive_secret_prefix(&cp, CP_SHA256, T, ms, "exp master", th_sf, sec), 0);
    expect_hex(sec, 32, EXP_MASTER, "exporter master secret");

    /* the client's Finished over Transcript-Hash(ClientHello..server Finished) */
    cr_assert_eq(tls13_expand_label_prefix(&cp, CP_SHA256, T, c_hs, "finished", NULL, 0, fk, 32),
                 0);
    expect_hex(fk, 32, C_FIN_KEY, "client finished key");
    cr_assert_eq(tls13_finished_prefix(&cp, CP_SHA256, T, c_hs, th_sf, fin), 0);
    expect_hex(fin, 32, C_FINISHED, "client Finished verify_data");

    /* the DTLS prefix gives other values from the same inputs */
    cr_assert_eq(tls13_finished(&cp, CP_SHA256, c_hs, th_sf, fin), 0);
    uint8_t w[32];
    hexb(C_FINISHED, w, 32);
    cr_assert(memcmp(fin, w, 32) != 0);
}

/* ---- OpenSSL 3.0 as the independent implementation ---- */

static const char *md_name(enum cp_hash_alg alg)
{
    return alg == CP_SHA384 ? "SHA384" : "SHA256";
}

/* HKDF-Expand-Label by OpenSSL's TLS13-KDF (EXPAND_ONLY, its own HkdfLabel). */
static void ossl_expand_label(enum cp_hash_alg alg, const char *prefix, const uint8_t *secret,
                              const char *label, const uint8_t *ctx, size_t ctx_len, uint8_t *out,
                              size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, NULL);
    cr_assert_not_null(kdf);
    EVP_KDF_CTX *k = EVP_KDF_CTX_new(kdf);
    cr_assert_not_null(k);
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM p[7], *q = p;
    *q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md_name(alg), 0);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, cp_hash_len(alg));
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix, strlen(prefix));
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label));
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA,
                                             (void *)(ctx ? ctx : (const uint8_t *)""), ctx_len);
    *q = OSSL_PARAM_construct_end();
    cr_assert_eq(EVP_KDF_derive(k, out, out_len, p), 1, "OpenSSL TLS13-KDF %s '%s' %zu",
                 md_name(alg), label, out_len);
    EVP_KDF_CTX_free(k);
    EVP_KDF_free(kdf);
}

/* HKDF-Extract by OpenSSL's HKDF (EXTRACT_ONLY). */
static void ossl_extract(enum cp_hash_alg alg, const uint8_t *salt, size_t salt_len,
                         const uint8_t *ikm, size_t ikm_len, uint8_t *out)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    cr_assert_not_null(kdf);
    EVP_KDF_CTX *k = EVP_KDF_CTX_new(kdf);
    cr_assert_not_null(k);
    int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
    OSSL_PARAM p[5], *q = p;
    *q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md_name(alg), 0);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    *q = OSSL_PARAM_construct_end();
    cr_assert_eq(EVP_KDF_derive(k, out, cp_hash_len(alg), p), 1, "OpenSSL HKDF extract");
    EVP_KDF_CTX_free(k);
    EVP_KDF_free(kdf);
}

static void ossl_hmac(enum cp_hash_alg alg, const uint8_t *key, size_t key_len, const uint8_t *msg,
                      size_t msg_len, uint8_t *out)
{
    unsigned ol = 0;
    cr_assert_not_null(HMAC(alg == CP_SHA384 ? EVP_sha384() : EVP_sha256(), key, (int)key_len, msg,
                            msg_len, out, &ol));
    cr_assert_eq(ol, cp_hash_len(alg));
}

static void ossl_hash(enum cp_hash_alg alg, const void *p, size_t n, uint8_t *out)
{
    unsigned ol = 0;
    cr_assert_eq(EVP_Digest(p, n, out, &ol, alg == CP_SHA384 ? EVP_sha384() : EVP_sha256(), NULL),
                 1);
    cr_assert_eq(ol, cp_hash_len(alg));
}

/* A deterministic byte pattern. */
static void pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 3));
}

static const enum cp_hash_alg ALGS[] = {CP_SHA256, CP_SHA384};

Test(tls13_keys, dtls_expand_label_matches_openssl_tls13_kdf)
{
    static const char *labels[] = {
        "key",          "iv",           "sn",         "finished", "traffic upd",         "derived",
        "c hs traffic", "s ap traffic", "exp master", "exporter", "EXTRACTOR-dtls_srtp", ""};
    static const size_t lens[] = {12, 16, 32, 48, 1, 100};
    unsigned compared = 0;
    for (size_t a = 0; a < 2; a++) {
        enum cp_hash_alg alg = ALGS[a];
        size_t hl = cp_hash_len(alg);
        uint8_t secret[48], ctx[255], ours[128], theirs[128];
        pattern(secret, hl, (unsigned)a + 1);
        pattern(ctx, sizeof(ctx), 9);
        const size_t ctx_lens[] = {0, hl, 255};
        for (size_t l = 0; l < sizeof(labels) / sizeof(labels[0]); l++)
            for (size_t c = 0; c < 3; c++)
                for (size_t n = 0; n < sizeof(lens) / sizeof(lens[0]); n++) {
                    memset(ours, 0xa5, sizeof(ours));
                    cr_assert_eq(tls13_expand_label(&cp, alg, secret, labels[l],
                                                    ctx_lens[c] ? ctx : NULL, ctx_lens[c], ours,
                                                    lens[n]),
                                 0);
                    ossl_expand_label(alg, TLS13_PREFIX_DTLS, secret, labels[l], ctx, ctx_lens[c],
                                      theirs, lens[n]);
                    cr_assert(memcmp(ours, theirs, lens[n]) == 0, "%s '%s' ctx %zu len %zu differs",
                              md_name(alg), labels[l], ctx_lens[c], lens[n]);
                    cr_assert_eq(ours[lens[n]], 0xa5, "wrote past out_len");
                    compared++;
                }
        /* the longest label (prefix + label = 255 bytes) and the longest output */
        char longl[250];
        memset(longl, 'x', 249);
        longl[249] = 0;
        cr_assert_eq(tls13_expand_label(&cp, alg, secret, longl, ctx, 255, ours, 48), 0);
        ossl_expand_label(alg, TLS13_PREFIX_DTLS, secret, longl, ctx, 255, theirs, 48);
        cr_assert(memcmp(ours, theirs, 48) == 0);
        static uint8_t big_o[255 * 48], big_t[255 * 48];
        cr_assert_eq(tls13_expand_label(&cp, alg, secret, "key", NULL, 0, big_o, 255 * hl), 0);
        ossl_expand_label(alg, TLS13_PREFIX_DTLS, secret, "key", NULL, 0, big_t, 255 * hl);
        cr_assert(memcmp(big_o, big_t, 255 * hl) == 0, "%s 255 * hl bytes differ", md_name(alg));
        compared += 2;
    }
    cr_assert_eq(compared, 2 * (12 * 3 * 6 + 2));
}

Test(tls13_keys, hkdf_extract_matches_openssl_hkdf)
{
    const size_t salt_lens[] = {1, 32, 48, 64, 128, 129, 200};
    const size_t ikm_lens[] = {1, 32, 48, 300};
    uint8_t salt[200], ikm[300], ours[48], theirs[48], zeros[48] = {0};
    pattern(salt, sizeof(salt), 3);
    pattern(ikm, sizeof(ikm), 5);
    for (size_t a = 0; a < 2; a++) {
        enum cp_hash_alg alg = ALGS[a];
        size_t hl = cp_hash_len(alg);
        for (size_t s = 0; s < sizeof(salt_lens) / sizeof(salt_lens[0]); s++)
            for (size_t i = 0; i < sizeof(ikm_lens) / sizeof(ikm_lens[0]); i++) {
                tls13_hkdf_extract(&cp, alg, salt, salt_lens[s], ikm, ikm_lens[i], ours);
                ossl_extract(alg, salt, salt_lens[s], ikm, ikm_lens[i], theirs);
                cr_assert(memcmp(ours, theirs, hl) == 0, "%s salt %zu ikm %zu differs",
                          md_name(alg), salt_lens[s], ikm_lens[i]);
            }
        /* NULL salt and NULL ikm stand for hl zeros */
        tls13_hkdf_extract(&cp, alg, NULL, 0, ikm, 32, ours);
        ossl_extract(alg, zeros, hl, ikm, 32, theirs);
        cr_assert(memcmp(ours, theirs, hl) == 0);
        tls13_hkdf_extract(&cp, alg, salt, 32, NULL, 0, ours);
        ossl_extract(alg, salt, 32, zeros, hl, theirs);
        cr_assert(memcmp(ours, theirs, hl) == 0);
        tls13_early_secret(&cp, alg, ours);
        ossl_extract(alg, zeros, hl, zeros, hl, theirs);
        cr_assert(memcmp(ours, theirs, hl) == 0);
    }
}

/* The whole DTLS schedule of one hash and key length by hand from OpenSSL's
 * primitives, against ours. */
static void schedule_vs_openssl(enum cp_hash_alg alg, size_t key_len)
{
    size_t hl = cp_hash_len(alg);
    const char *D = TLS13_PREFIX_DTLS;
    uint8_t zeros[48] = {0}, eh[48], ecdhe[32], th1[48], th2[48], th3[48];
    pattern(ecdhe, 32, 77);
    ossl_hash(alg, "", 0, eh);
    ossl_hash(alg, "ClientHello..ServerHello", 24, th1);
    ossl_hash(alg, "ClientHello..CertificateVerify", 30, th2);
    ossl_hash(alg, "ClientHello..server Finished", 28, th3);

    /* OpenSSL */
    uint8_t e_o[48], d_o[48], hs_o[48], ms_o[48], chs_o[48], shs_o[48], cap_o[48], sap_o[48],
        ems_o[48];
    ossl_extract(alg, zeros, hl, zeros, hl, e_o);
    ossl_expand_label(alg, D, e_o, "derived", eh, hl, d_o, hl);
    ossl_extract(alg, d_o, hl, ecdhe, 32, hs_o);
    ossl_expand_label(alg, D, hs_o, "derived", eh, hl, d_o, hl);
    ossl_extract(alg, d_o, hl, zeros, hl, ms_o);
    ossl_expand_label(alg, D, hs_o, "c hs traffic", th1, hl, chs_o, hl);
    ossl_expand_label(alg, D, hs_o, "s hs traffic", th1, hl, shs_o, hl);
    ossl_expand_label(alg, D, ms_o, "c ap traffic", th3, hl, cap_o, hl);
    ossl_expand_label(alg, D, ms_o, "s ap traffic", th3, hl, sap_o, hl);
    ossl_expand_label(alg, D, ms_o, "exp master", th3, hl, ems_o, hl);

    /* ours */
    uint8_t e[48], hs[48], ms[48], sec[48], eh_ours[48];
    tls13_empty_hash(&cp, alg, eh_ours);
    cr_assert(memcmp(eh_ours, eh, hl) == 0, "Hash(\"\")");
    tls13_early_secret(&cp, alg, e);
    cr_assert(memcmp(e, e_o, hl) == 0, "early");
    cr_assert_eq(tls13_handshake_secret(&cp, alg, e, ecdhe, 32, hs), 0);
    cr_assert(memcmp(hs, hs_o, hl) == 0, "handshake");
    cr_assert_eq(tls13_master_secret(&cp, alg, hs, ms), 0);
    cr_assert(memcmp(ms, ms_o, hl) == 0, "master");
    cr_assert_eq(tls13_derive_secret(&cp, alg, hs, "c hs traffic", th1, sec), 0);
    cr_assert(memcmp(sec, chs_o, hl) == 0, "c hs traffic");
    cr_assert_eq(tls13_derive_secret(&cp, alg, hs, "s hs traffic", th1, sec), 0);
    cr_assert(memcmp(sec, shs_o, hl) == 0, "s hs traffic");
    cr_assert_eq(tls13_derive_secret(&cp, alg, ms, "c ap traffic", th3, sec), 0);
    cr_assert(memcmp(sec, cap_o, hl) == 0, "c ap traffic");
    cr_assert_eq(tls13_derive_secret(&cp, alg, ms, "s ap traffic", th3, sec), 0);
    cr_assert(memcmp(sec, sap_o, hl) == 0, "s ap traffic");
    cr_assert_eq(tls13_derive_secret(&cp, alg, ms, "exp master", th3, sec), 0);
    cr_assert(memcmp(sec, ems_o, hl) == 0, "exp master");

    /* keys, IV and record-number key of the server handshake secret */
    uint8_t key[48], iv[12], sn[48], key_o[48], iv_o[12], sn_o[48];
    cr_assert_eq(tls13_traffic_keys(&cp, alg, shs_o, key_len, key, iv, sn), 0);
    ossl_expand_label(alg, D, shs_o, "key", NULL, 0, key_o, key_len);
    ossl_expand_label(alg, D, shs_o, "iv", NULL, 0, iv_o, 12);
    ossl_expand_label(alg, D, shs_o, "sn", NULL, 0, sn_o, key_len);
    cr_assert(memcmp(key, key_o, key_len) == 0, "key");
    cr_assert(memcmp(iv, iv_o, 12) == 0, "iv");
    cr_assert(memcmp(sn, sn_o, key_len) == 0, "sn");
    cr_assert(memcmp(key, sn, key_len) != 0);

    /* Finished of each side: HMAC(Expand-Label(base, "finished", "", hl), thash) */
    uint8_t fk[48], fin[48], fin_o[48];
    ossl_expand_label(alg, D, shs_o, "finished", NULL, 0, fk, hl);
    ossl_hmac(alg, fk, hl, th2, hl, fin_o);
    cr_assert_eq(tls13_finished(&cp, alg, shs_o, th2, fin), 0);
    cr_assert(memcmp(fin, fin_o, hl) == 0, "server Finished");
    ossl_expand_label(alg, D, chs_o, "finished", NULL, 0, fk, hl);
    ossl_hmac(alg, fk, hl, th3, hl, fin_o);
    cr_assert_eq(tls13_finished(&cp, alg, chs_o, th3, fin), 0);
    cr_assert(memcmp(fin, fin_o, hl) == 0, "client Finished");

    /* KeyUpdate twice, the second in place */
    uint8_t nx[48], nx_o[48];
    ossl_expand_label(alg, D, cap_o, "traffic upd", NULL, 0, nx_o, hl);
    cr_assert_eq(tls13_next_secret(&cp, alg, cap_o, nx), 0);
    cr_assert(memcmp(nx, nx_o, hl) == 0, "traffic upd 1");
    uint8_t nx2_o[48];
    ossl_expand_label(alg, D, nx_o, "traffic upd", NULL, 0, nx2_o, hl);
    memcpy(nx_o, nx2_o, hl);
    cr_assert_eq(tls13_next_secret(&cp, alg, nx, nx), 0);
    cr_assert(memcmp(nx, nx_o, hl) == 0, "traffic upd 2");

    /* the exporter: DTLS-SRTP's 2 * (key + salt) with no context, and a
     * labelled export with a context */
    uint8_t tmp[48], ch[48], x[255], x_o[255];
    ossl_expand_label(alg, D, ems_o, "EXTRACTOR-dtls_srtp", eh, hl, tmp, hl);
    ossl_expand_label(alg, D, tmp, "exporter", eh, hl, x_o, 60);
    memset(x, 0, sizeof(x));
    cr_assert_eq(tls13_export(&cp, alg, ems_o, "EXTRACTOR-dtls_srtp", NULL, 0, x, 60), 0);
    cr_assert(memcmp(x, x_o, 60) == 0, "exporter, no context");
    cr_assert_eq(
        tls13_export(&cp, alg, ems_o, "EXTRACTOR-dtls_srtp", (const uint8_t *)"", 0, x, 60), 0);
    cr_assert(memcmp(x, x_o, 60) == 0, "exporter, empty context = no context");
    uint8_t context[100];
    pattern(context, sizeof(context), 11);
    ossl_hash(alg, context, sizeof(context), ch);
    ossl_expand_label(alg, D, ems_o, "EXPORTER-test", eh, hl, tmp, hl);
    ossl_expand_label(alg, D, tmp, "exporter", ch, hl, x_o, 255);
    cr_assert_eq(tls13_export(&cp, alg, ems_o, "EXPORTER-test", context, sizeof(context), x, 255),
                 0);
    cr_assert(memcmp(x, x_o, 255) == 0, "exporter with context, 255 bytes");
}

Test(tls13_keys, dtls_schedule_sha256_matches_openssl)
{
    schedule_vs_openssl(CP_SHA256, 16);
}

Test(tls13_keys, dtls_schedule_sha384_matches_openssl)
{
    schedule_vs_openssl(CP_SHA384, 32);
}

/* Every refusal returns -EINVAL and leaves out as it was. */
Test(tls13_keys, limits_refused_without_writing)
{
    uint8_t secret[48], ctx[256], out[256 * 48 + 1], key[48], iv[12], sn[48];
    pattern(secret, sizeof(secret), 1);
    pattern(ctx, sizeof(ctx), 2);
    char l250[251];
    memset(l250, 'x', 250);
    l250[250] = 0;
    memset(out, 0x5a, sizeof(out));
    memset(key, 0x5a, sizeof(key));
    cr_assert_eq(tls13_expand_label(&cp, CP_SHA256, secret, l250, NULL, 0, out, 32),
                 -EINVAL); /* 6 + 250 */
    cr_assert_eq(tls13_expand_label(&cp, CP_SHA256, secret, "key", ctx, 256, out, 32), -EINVAL);
    cr_assert_eq(tls13_expand_label(&cp, CP_SHA256, secret, "key", NULL, 0, out, 255 * 32 + 1),
                 -EINVAL);
    cr_assert_eq(tls13_expand_label(&cp, CP_SHA384, secret, "key", NULL, 0, out, 255 * 48 + 1),
                 -EINVAL);
    cr_assert_eq(tls13_expand_label(&cp, (enum cp_hash_alg)3, secret, "key", NULL, 0, out, 16),
                 -EINVAL);
    cr_assert_eq(tls13_expand_label(&cp, (enum cp_hash_alg)0, secret, "key", NULL, 0, out, 16),
                 -EINVAL);
    cr_assert_eq(tls13_derive_secret(&cp, (enum cp_hash_alg)0, secret, "c hs traffic", ctx, out),
                 -EINVAL);
    cr_assert_eq(tls13_derive_secret(&cp, CP_SHA256, secret, l250, ctx, out), -EINVAL);
    cr_assert_eq(tls13_handshake_secret(&cp, (enum cp_hash_alg)0, secret, ctx, 32, out), -EINVAL);
    cr_assert_eq(tls13_master_secret(&cp, (enum cp_hash_alg)0, secret, out), -EINVAL);
    cr_assert_eq(tls13_traffic_keys(&cp, CP_SHA256, secret, 0, key, iv, sn), -EINVAL);
    cr_assert_eq(tls13_traffic_keys(&cp, CP_SHA256, secret, 49, key, iv, sn), -EINVAL);
    cr_assert_eq(tls13_traffic_keys(&cp, (enum cp_hash_alg)0, secret, 16, key, iv, sn), -EINVAL);
    cr_assert_eq(tls13_finished(&cp, (enum cp_hash_alg)0, secret, ctx, out), -EINVAL);
    cr_assert_eq(tls13_next_secret(&cp, (enum cp_hash_alg)0, secret, out), -EINVAL);
    cr_assert_eq(tls13_export(&cp, CP_SHA256, secret, "EXTRACTOR-dtls_srtp", NULL, 0, out, 256),
                 -EINVAL);
    cr_assert_eq(tls13_export(&cp, CP_SHA256, secret, l250, NULL, 0, out, 16), -EINVAL);
    cr_assert_eq(tls13_export(&cp, (enum cp_hash_alg)0, secret, "x", NULL, 0, out, 16), -EINVAL);
    tls13_early_secret(&cp, (enum cp_hash_alg)0, out);
    tls13_empty_hash(&cp, (enum cp_hash_alg)0, out);
    tls13_hkdf_extract(&cp, (enum cp_hash_alg)0, secret, 32, secret, 32, out);
    for (size_t i = 0; i < sizeof(out); i++)
        cr_assert_eq(out[i], 0x5a, "byte %zu written on a refusal", i);
    for (size_t i = 0; i < sizeof(key); i++)
        cr_assert_eq(key[i], 0x5a);

    /* the limits themselves are accepted: prefix + label = 255, context 255,
     * 255 * hl bytes out, key_len 1 and 48, export 255 */
    l250[249] = 0;
    cr_assert_eq(tls13_expand_label(&cp, CP_SHA256, secret, l250, ctx, 255, out, 32), 0);
    cr_assert_eq(tls13_expand_label(&cp, CP_SHA384, secret, "key", NULL, 0, out, 255 * 48), 0);
    cr_assert_eq(tls13_traffic_keys(&cp, CP_SHA256, secret, 1, key, NULL, NULL), 0);
    cr_assert_eq(tls13_traffic_keys(&cp, CP_SHA384, secret, 48, key, iv, sn), 0);
    cr_assert_eq(tls13_export(&cp, CP_SHA384, secret, "EXTRACTOR-dtls_srtp", NULL, 0, out, 255), 0);
}

/* Outputs that alias an input give what separate buffers give. */
Test(tls13_keys, aliasing)
{
    for (size_t a = 0; a < 2; a++) {
        enum cp_hash_alg alg = ALGS[a];
        size_t hl = cp_hash_len(alg);
        uint8_t s[48], th[48], want[48], buf[48], big[200], big_want[200];
        pattern(s, hl, 21);
        pattern(th, hl, 22);
        cr_assert_eq(tls13_derive_secret(&cp, alg, s, "c hs traffic", th, want), 0);
        memcpy(buf, th, hl);
        cr_assert_eq(tls13_derive_secret(&cp, alg, s, "c hs traffic", buf, buf),
                     0); /* out = thash */
        cr_assert(memcmp(buf, want, hl) == 0);
        memcpy(buf, s, hl);
        cr_assert_eq(tls13_derive_secret(&cp, alg, buf, "c hs traffic", th, buf),
                     0); /* out = secret */
        cr_assert(memcmp(buf, want, hl) == 0);
        /* a multi-block expansion into its own secret */
        cr_assert_eq(
            tls13_expand_label(&cp, alg, s, "exporter", th, hl, big_want, sizeof(big_want)), 0);
        memcpy(big, s, hl);
        cr_assert_eq(tls13_expand_label(&cp, alg, big, "exporter", th, hl, big, sizeof(big)), 0);
        cr_assert(memcmp(big, big_want, sizeof(big)) == 0);
        /* a multi-block expansion into its own context */
        memcpy(big, th, hl);
        cr_assert_eq(tls13_expand_label(&cp, alg, s, "exporter", big, hl, big, sizeof(big)), 0);
        cr_assert(memcmp(big, big_want, sizeof(big)) == 0);
        /* master from handshake in place */
        cr_assert_eq(tls13_master_secret(&cp, alg, s, want), 0);
        memcpy(buf, s, hl);
        cr_assert_eq(tls13_master_secret(&cp, alg, buf, buf), 0);
        cr_assert(memcmp(buf, want, hl) == 0);
    }
}

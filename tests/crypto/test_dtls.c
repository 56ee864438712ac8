/* SPDX-License-Identifier: MIT */
/* DTLS 1.2 handshake between two endpoints in memory, virtual clock,
 * loss; fingerprints, HelloVerifyRequest, use_srtp, exporter, key log. */
#include <criterion/criterion.h>
#include <string.h>

#include "dtls_link.h"

Test(dtls, handshake_with_cookie_srtp_and_matching_keys, .timeout = 60)
{
    struct link l;
    setup(&l, NULL);
    run(&l, 60000000000ull);
    cr_assert(l.c_up && l.s_up, "client error %d, server error %d", l.c.last_error, l.s.last_error);
    cr_assert_eq(l.now, 0, "no retransmission without loss");
    cr_assert_eq(l.s.c.cookies_sent, 1, "the server asked for a cookie first");
    cr_assert_eq(l.c.srtp_profile, MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80);
    cr_assert_eq(l.s.srtp_profile, MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80);
    cr_assert_eq(memcmp(l.c.keying, l.s.keying, DTLS_KEYING_LEN), 0, "both ends export the same keys");
    uint8_t zero[DTLS_KEYING_LEN] = {0};
    cr_assert_neq(memcmp(l.c.keying, zero, DTLS_KEYING_LEN), 0);
    char a[200], b[200];
    cr_assert_eq(dtls_keylog_line(&l.c, a), 0);
    cr_assert_eq(dtls_keylog_line(&l.s, b), 0);
    cr_assert_str_eq(a, b);
    cr_assert_eq(strncmp(a, "CLIENT_RANDOM ", 14), 0);
    cr_assert_eq(strlen(a), 14 + 64 + 1 + 96 + 1);
    done(&l);
}

Test(dtls, lost_flights_are_retransmitted_on_the_given_clock, .timeout = 60)
{
    struct link l;
    setup(&l, NULL);
    l.drop_mask = 0x15; /* the 1st, 3rd and 5th datagrams */
    run(&l, 60000000000ull);
    cr_assert(l.c_up && l.s_up, "client error %d, server error %d", l.c.last_error, l.s.last_error);
    cr_assert_gt(l.now, 0, "recovery took virtual time");
    cr_assert_gt(l.c.c.retransmit_timeouts + l.s.c.retransmit_timeouts, 0);
    cr_assert_eq(memcmp(l.c.keying, l.s.keying, DTLS_KEYING_LEN), 0);
    done(&l);
}

Test(dtls, a_wrong_fingerprint_fails_the_handshake, .timeout = 60)
{
    struct link l;
    uint8_t wrong[32];
    make_certs();
    memcpy(wrong, sc.fingerprint, 32);
    wrong[0] ^= 1;
    setup(&l, wrong);
    run(&l, 60000000000ull);
    cr_assert(l.c_failed, "the client accepted a certificate with another fingerprint");
    cr_assert(!l.c_up);
    cr_assert_eq(l.c.c.fingerprint_mismatches, 1);
    done(&l);
}

Test(dtls, fingerprint_text_as_sdp_writes_it)
{
    make_certs();
    char t[104];
    dtls_fingerprint_text(cc.fingerprint, t);
    cr_assert_eq(strncmp(t, "sha-256 ", 8), 0);
    cr_assert_eq(strlen(t), 8 + 32 * 3 - 1);
    cr_assert_eq(t[10], ':');
}

/* ---- the same handshake dissected by Wireshark (tshark), decrypted with
 * our key log: an implementation we did not write reads every record ---- */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "wire_capture.h"

Test(dtls, tshark_dissects_and_decrypts_the_handshake, .timeout = 120)
{
    if (system("command -v tshark >/dev/null 2>&1") != 0) {
        if (getenv("SWARMGEN_REQUIRE_TSHARK"))
            cr_assert_fail("tshark is not installed");
        cr_skip_test("tshark is not installed");
    }
    struct link l;
    setup(&l, NULL);
    char pcap[64], keylog[64];
    snprintf(pcap, sizeof(pcap), "/tmp/sg-dtls-%d.pcap", (int)getpid());
    snprintf(keylog, sizeof(keylog), "/tmp/sg-dtls-%d.keys", (int)getpid());
    FILE *f = fopen(pcap, "wb");
    wire_pcap_begin(f);
    uint8_t buf[DTLS_MTU];
    uint32_t t = 0;
    for (int round = 0; round < 50 && !(l.c_up && l.s_up); round++) {
        int n;
        while ((n = dtls_poll_transmit(&l.c, buf, sizeof(buf))) > 0) {
            wire_pcap_udp(f, buf, (size_t)n, true, 50000, 50001, 1000ull * t++);
            dtls_handle_input(&l.s, buf, (size_t)n, 0);
        }
        while ((n = dtls_poll_transmit(&l.s, buf, sizeof(buf))) > 0) {
            wire_pcap_udp(f, buf, (size_t)n, false, 50000, 50001, 1000ull * t++);
            dtls_handle_input(&l.c, buf, (size_t)n, 0);
        }
        enum dtls_event e;
        while ((e = dtls_poll_event(&l.c)) != DTLS_EV_NONE)
            l.c_up |= e == DTLS_EV_CONNECTED;
        while ((e = dtls_poll_event(&l.s)) != DTLS_EV_NONE)
            l.s_up |= e == DTLS_EV_CONNECTED;
    }
    fclose(f);
    cr_assert(l.c_up && l.s_up);
    char line[200];
    dtls_keylog_line(&l.c, line);
    f = fopen(keylog, "w");
    fputs(line, f);
    fclose(f);
    char base[512], args[1024];
    snprintf(base, sizeof(base), "-r %s -d udp.port==50000,dtls -o tls.keylog_file:%s", pcap, keylog);
    long frames = wire_tshark_lines(base);
    cr_assert_gt(frames, 5);
    snprintf(args, sizeof(args), "%s -Y _ws.malformed", base);
    cr_assert_eq(wire_tshark_lines(args), 0, "malformed records");
    snprintf(args, sizeof(args), "%s -Y 'dtls.handshake.type == 3'", base);
    cr_assert_eq(wire_tshark_lines(args), 1, "one HelloVerifyRequest");
    snprintf(args, sizeof(args), "%s -Y 'dtls.handshake.type == 1 && dtls.handshake.cookie_length == 16'", base);
    cr_assert_eq(wire_tshark_lines(args), 1, "a ClientHello carrying the cookie");
    snprintf(args, sizeof(args), "%s -Y 'dtls.handshake.extension.type == 14'", base);
    cr_assert_geq(wire_tshark_lines(args), 2, "use_srtp offered and chosen");
    /* Finished messages are encrypted: visible only when the key log is right */
    snprintf(args, sizeof(args), "%s -Y 'dtls.handshake.type == 20'", base);
    cr_assert_eq(wire_tshark_lines(args), 2, "both Finished messages decrypted with our key log");
    unlink(pcap);
    unlink(keylog);
    done(&l);
}

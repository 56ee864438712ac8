/* SPDX-License-Identifier: MIT */
/*
 * A peer connection end to end, both endpoints in memory on a virtual
 * clock (the sctp_pipe link: delay, seeded loss): ICE check and nomination,
 * DTLS handshake in capped slots, our record layer, SCTP inside DTLS, the
 * DataChannel by DCEP, messages both ways; with 5 % loss every stage
 * recovers by its own retransmission. The whole conversation is written to
 * a pcap with the DTLS key log and read back by tshark (Wireshark's
 * dissectors): STUN, DTLS, SCTP with verified CRC32c and DataChannel (DCEP)
 * layers present, zero malformed packets.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pc.h"
#include "sctp_pipe.h"
#include "wire.h"
#include "wire_capture.h"

#define NBUF 4096

struct side {
    struct pc pc;
    struct pc_setup su;
    struct dtls_record_keys keys;
    struct pc_counters cnt;
    void *amem, *pmem;
    struct sctp_pool *pool;
    char keylog[DTLS_KEYLOG_MAX];
    uint32_t got, bad;
    uint32_t next_expect;
    uint32_t closed;        /* PC_EV_CLOSED seen */
    bool up, failed;
};

static struct dtls_cert certs[2];
static struct cp cp;
static struct dtls_hs_pool hs;
static struct side S[2];
static struct pipe P[2];
static uint64_t now;
static uint8_t versions[2]; /* pc_config.dtls_versions of each side (0: the default, 1.2 only) */
static uint64_t ku_after;   /* not 0: pc_config.dtls_keep with this dtls_key_update_after */
static FILE *pcap;

static void pcap_write(int from, const uint8_t *d, size_t len)
{
    if (pcap)
        wire_pcap_udp(pcap, d, len, from == 0, 5000, 5001, now);
}

static void setup(uint32_t loss_ppm, uint32_t slots)
{
    memset(S, 0, sizeof(S));
    now = 1000000000ull;
    if (!cp.ops) {
        cr_assert_eq(cp_default_create(&cp), 0);
        cr_assert_eq(dtls_cert_generate(&certs[0], &cp), 0);
        cr_assert_eq(dtls_cert_generate(&certs[1], &cp), 0);
    }
    cr_assert_eq(dtls_hs_pool_init(&hs, slots), 0);
    static const char *uf[2] = {"agA1", "agB2"}, *pw[2] = {"passwordA-passwordA-pa", "passwordB-passwordB-pb"};
    for (int i = 0; i < 2; i++) {
        pipe_init(&P[i], 100 + (uint64_t)i, 5000000ull);
        P[i].loss_ppm = loss_ppm;
        S[i].pmem = aligned_alloc(64, (sctp_pool_size(NBUF, 1200) + 63) & ~(size_t)63);
        S[i].pool = sctp_pool_init(S[i].pmem, NBUF, 1200);
        S[i].amem = aligned_alloc(64, sctp_assoc_size(16));
        struct pc_config c = {
            .controlling = i == 0,
            .local_ufrag = uf[i], .local_pwd = pw[i], .remote_ufrag = uf[1 - i], .remote_pwd = pw[1 - i],
            .peer = {4, (uint16_t)(i == 0 ? 5001 : 5000), {198, 18, 0, (uint8_t)(i == 0 ? 2 : 1)}},
            .cert = &certs[i], .peer_fingerprint = certs[1 - i].fingerprint, .cp = &cp, .hs = &hs,
            .sctp_mem = S[i].amem, .sctp_pool = S[i].pool, .label = "agents", .seed = 77 + (uint64_t)i,
            .keylog = S[i].keylog, .setup = &S[i].su, .rec_keys = &S[i].keys, .counters = &S[i].cnt,
            .dtls_versions = versions[i], .dtls_keep = ku_after != 0, .dtls_key_update_after = ku_after};
        cr_assert_eq(pc_init(&S[i].pc, &c, now), 0);
    }
}

static void teardown(void)
{
    for (int i = 0; i < 2; i++) {
        pc_free(&S[i].pc);
        free(S[i].amem);
        free(S[i].pmem);
        pipe_free(&P[i]);
    }
    dtls_hs_pool_destroy(&hs);
}

static void events(int i)
{
    static uint8_t buf[1 << 18];
    struct pc_ev ev = {.buf = buf, .cap = sizeof(buf)};
    while (pc_poll_event(&S[i].pc, &ev) != PC_EV_NONE) {
        uint32_t len = ev.len;
        if (ev.type == PC_EV_UP)
            S[i].up = true;
        else if (ev.type == PC_EV_FAILED)
            S[i].failed = true;
        else if (ev.type == PC_EV_CLOSED)
            S[i].closed++;
        else if (ev.type == PC_EV_MESSAGE) {
            uint32_t idx = len >= 4 ? wire_get32(buf) : 0;
            bool ok = len >= 4 && idx == S[i].next_expect;
            for (uint32_t k = 4; k < len && ok; k++)
                ok = buf[k] == (uint8_t)(idx + k);
            if (ok)
                S[i].next_expect++, S[i].got++;
            else
                S[i].bad++;
        }
    }
}

/* one step of the world; false when nothing is pending at all */
static bool step(void)
{
    bool moved = false;
    uint8_t d[1500];
    for (int i = 0; i < 2; i++) {
        size_t n;
        while ((n = pc_poll_transmit(&S[i].pc, d, sizeof(d), now)) > 0) {
            pcap_write(i, d, n);
            pipe_send(&P[i], d, n, now);
            moved = true;
        }
    }
    for (int i = 0; i < 2; i++) {
        size_t n;
        while ((n = pipe_recv(&P[i], now, d)) > 0) {
            pc_handle_input(&S[1 - i].pc, d, n, now);
            events(1 - i);
            moved = true;
        }
    }
    for (int i = 0; i < 2; i++)
        if (pc_next_timeout(&S[i].pc) <= now) {
            pc_handle_timeout(&S[i].pc, now);
            events(i);
            moved = true;
        }
    if (moved)
        return true;
    uint64_t t = UINT64_MAX;
    for (int i = 0; i < 2; i++) {
        uint64_t a = pc_next_timeout(&S[i].pc), b = pipe_next(&P[i]);
        t = a < t ? a : t;
        t = b < t ? b : t;
    }
    if (t == UINT64_MAX)
        return false;
    now = t > now ? t : now;
    return true;
}

static void send_some(int from, uint32_t *sent, uint32_t total, size_t size)
{
    uint8_t m[2000];
    while (*sent < total) {
        for (size_t k = 0; k < size; k++)
            m[k] = (uint8_t)(*sent + k);
        wire_put32(m, *sent);
        if (pc_send(&S[from].pc, m, size, now) != 0)
            return;
        (*sent)++;
    }
}

static void run_connection(uint32_t loss_ppm, uint32_t count)
{
    for (int k = 0; k < 200000 && !(S[0].up && S[1].up) && !S[0].failed && !S[1].failed; k++)
        if (!step())
            break;
    cr_assert(S[0].up && S[1].up, "stages: %s / %s", pc_stage_name(pc_stage(&S[0].pc)), pc_stage_name(pc_stage(&S[1].pc)));
    cr_assert_eq(hs.n_free, hs.n, "both handshake slots returned");
    uint32_t sent[2] = {0, 0};
    for (int k = 0; k < 2000000 && (S[0].got < count || S[1].got < count); k++) {
        send_some(0, &sent[0], count, 300);
        send_some(1, &sent[1], count, 300);
        if (!step())
            break;
    }
    cr_assert_eq(S[1].got, count, "client → server %u of %u", S[1].got, count);
    cr_assert_eq(S[0].got, count, "server → client %u of %u", S[0].got, count);
    cr_assert_eq(S[0].bad + S[1].bad, 0);
    cr_log_info("loss %u ppm: up at %.3f s (ice %.3f, dtls %.3f, sctp %.3f, dc %.3f), %u messages each way",
                loss_ppm, (double)(pc_stage_time(&S[0].pc, PC_UP) - pc_stage_time(&S[0].pc, PC_ICE)) / 1e9,
                (double)(pc_stage_time(&S[0].pc, PC_DTLS_WAIT) - pc_stage_time(&S[0].pc, PC_ICE)) / 1e9,
                (double)(pc_stage_time(&S[0].pc, PC_SCTP) - pc_stage_time(&S[0].pc, PC_ICE)) / 1e9,
                (double)(pc_stage_time(&S[0].pc, PC_DC) - pc_stage_time(&S[0].pc, PC_ICE)) / 1e9,
                (double)(pc_stage_time(&S[0].pc, PC_UP) - pc_stage_time(&S[0].pc, PC_ICE)) / 1e9, count);
}

Test(pc, connection_up_and_messages_both_ways)
{
    setup(0, 2);
    run_connection(0, 2000);
    cr_assert_eq(pc_counters(&S[0].pc)->records_dropped + pc_counters(&S[1].pc)->records_dropped, 0);
    teardown();
}

/* Issue 21: what each side offers (client) or accepts (server) reaches
 * the handshake, and the version it negotiated stays readable once the
 * handshake slot and the set-up state went back. A side limited to 1.2
 * makes it 1.2; offering both gives 1.2 or 1.3, the same on both ends. */
/* pc_shutdown (--churn): what SCTP holds is delivered first, then
 * SHUTDOWN, SHUTDOWN ACK, SHUTDOWN COMPLETE end both associations
 * (PC_EV_CLOSED on each end, nothing sent after); then each end's
 * close_notify reaches the other (its record layer opens nothing more). */
static void shutdown_gracefully(uint8_t version)
{
    versions[0] = versions[1] = version;
    setup(0, 2);
    run_connection(0, 100);
    uint32_t sent = 100;
    send_some(0, &sent, 150, 300); /* queued, not yet on the wire */
    cr_assert_eq(sent, 150);
    cr_assert_eq(pc_shutdown(&S[0].pc, now), 0);
    uint8_t m[8] = {0};
    cr_assert_neq(pc_send(&S[0].pc, m, sizeof(m), now), 0, "nothing new after the shutdown started");
    for (int k = 0; k < 200000 && (S[0].closed == 0 || S[1].closed == 0); k++)
        if (!step())
            break;
    cr_assert_eq(S[1].got, 150, "what was queued before the shutdown delivered: %u of 150", S[1].got);
    cr_assert(S[0].closed == 1 && S[1].closed == 1, "both associations ended: %u %u", S[0].closed, S[1].closed);
    cr_assert_eq(pc_shutdown(&S[0].pc, now), -ENOTCONN);
    cr_assert(pc_close_notify(&S[0].pc));
    cr_assert(pc_close_notify(&S[1].pc));
    for (int k = 0; k < 1000; k++)
        if (!step())
            break;
    cr_assert(S[0].closed == 2 && S[1].closed == 2, "each end got the other's close_notify: %u %u", S[0].closed,
              S[1].closed);
    cr_assert_eq(pc_counters(&S[0].pc)->records_dropped + pc_counters(&S[1].pc)->records_dropped, 0);
    cr_assert_not(pc_close_notify(&S[0].pc), "one close_notify");
    versions[0] = versions[1] = 0;
    teardown();
}

Test(pc, shutdown_delivers_what_it_holds_then_close_notify_both_ways_dtls_1_2)
{
    shutdown_gracefully(DTLS_OFFER_V12);
}

Test(pc, shutdown_delivers_what_it_holds_then_close_notify_both_ways_dtls_1_3)
{
    shutdown_gracefully(DTLS_OFFER_V13);
}

Test(pc, negotiated_dtls_version_outlives_the_handshake_slot)
{
    static const uint8_t offers[] = {0, DTLS_OFFER_V12, DTLS_OFFER_ALL_VERSIONS};
    for (size_t a = 0; a < sizeof(offers); a++)
        for (size_t b = 0; b < sizeof(offers); b++) {
            versions[0] = offers[a];
            versions[1] = offers[b];
            setup(0, 2);
            cr_assert_eq(pc_dtls_version(&S[0].pc), 0, "no version before the handshake");
            run_connection(0, 10);
            uint16_t v = pc_dtls_version(&S[0].pc);
            cr_assert_eq(pc_dtls_version(&S[1].pc), v, "both ends agree (offers %u/%u)", offers[a], offers[b]);
            cr_assert(v == DTLS_V12 || v == DTLS_V13, "version %#x", v);
            if (offers[a] != DTLS_OFFER_ALL_VERSIONS || offers[b] != DTLS_OFFER_ALL_VERSIONS)
                cr_assert_eq(v, DTLS_V12, "a side limited to 1.2 (offers %u/%u)", offers[a], offers[b]);
            for (int i = 0; i < 2; i++)
                cr_assert_not_null(pc_release_setup(&S[i].pc));
            cr_assert_eq(pc_dtls_version(&S[0].pc), v, "kept after pc_release_setup");
            teardown();
        }
    versions[0] = versions[1] = 0;
}

/* The dataplane gives the set-up state back once a connection is up:
 * what is left (record layer, association, stage) carries messages on
 * its own, under loss, and STUN is dropped and counted. */
Test(pc, established_state_alone_carries_messages)
{
    setup(0, 2);
    for (int k = 0; k < 200000 && !(S[0].up && S[1].up); k++)
        if (!step())
            break;
    cr_assert(S[0].up && S[1].up);
    for (int i = 0; i < 2; i++) {
        struct pc_setup *su = pc_release_setup(&S[i].pc);
        cr_assert_eq(su, &S[i].su, "the memory lent comes back");
        memset(su, 0xee, sizeof(*su)); /* the endpoint must not read it any more */
        cr_assert_null(pc_release_setup(&S[i].pc), "only once");
        cr_assert_eq(pc_stage(&S[i].pc), PC_UP);
        cr_assert_eq(pc_stage_time(&S[i].pc, PC_UP), 0);
        cr_assert_null(pc_ice_counters(&S[i].pc));
    }
    struct srtps_session srtp;
    cr_assert_eq(pc_srtp_init(&S[0].pc, &srtp), -ENOKEY, "the keying went with the set-up state");
    P[0].loss_ppm = P[1].loss_ppm = 20000;
    uint32_t sent[2] = {0, 0}, count = 500;
    for (int k = 0; k < 2000000 && (S[0].got < count || S[1].got < count); k++) {
        send_some(0, &sent[0], count, 300);
        send_some(1, &sent[1], count, 300);
        if (!step())
            break;
    }
    cr_assert_eq(S[1].got, count);
    cr_assert_eq(S[0].got, count);
    cr_assert_eq(S[0].bad + S[1].bad, 0);
    cr_assert_gt(pc_sctp_counters(&S[0].pc)->retransmissions + pc_sctp_counters(&S[1].pc)->retransmissions, 0,
                 "loss made the associations retransmit on their own timers");
    /* a binding request (RFC 5389 header, no attributes) */
    uint8_t stun[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    cr_assert_eq(pc_handle_input(&S[1].pc, stun, sizeof(stun), now), ENGINE_IN_IGNORED);
    cr_assert_eq(pc_counters(&S[1].pc)->stun_dropped, 1);
    struct pc_drops d;
    pc_drops(&S[1].pc, &d);
    cr_assert_eq(d.stun, 1);
    teardown();
}

Test(pc, every_stage_recovers_from_loss)
{
    setup(50000, 2);
    run_connection(50000, 2000);
    teardown();
}

/* The same with both ends offering DTLS 1.3: the client's Finished and
 * the server's ACK of it lost too, both ends hold their handshake until
 * the peer's first application record (pc.c, dtls_events). Seeds: the
 * loss pattern of each pipe differs per run of setup. */
Test(pc, every_stage_recovers_from_loss_over_dtls_1_3)
{
    versions[0] = versions[1] = DTLS_OFFER_ALL_VERSIONS;
    for (int k = 0; k < 4; k++) {
        setup(100000, 2);
        for (int i = 0; i < 2; i++)
            P[i].rng += (uint64_t)k * 7919; /* another loss pattern each round */
        run_connection(100000, 500);
        cr_assert_eq(pc_dtls_version(&S[0].pc), DTLS_V13);
        cr_assert_eq(pc_dtls_version(&S[1].pc), DTLS_V13);
        teardown();
    }
    versions[0] = versions[1] = 0;
}

Test(pc, wireshark_dissects_every_layer, .timeout = 120)
{
    if (system("command -v tshark >/dev/null 2>&1") != 0) {
        if (getenv("SWARMGEN_REQUIRE_TSHARK"))
            cr_assert_fail("tshark is not installed");
        cr_skip_test("tshark is not installed");
    }
    char dir[] = "/tmp/swarmgen-pc-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char pcap_path[256], keylog_path[256], lua_path[256];
    snprintf(pcap_path, sizeof(pcap_path), "%s/pc.pcap", dir);
    snprintf(keylog_path, sizeof(keylog_path), "%s/keylog", dir);
    snprintf(lua_path, sizeof(lua_path), "%s/sctp_in_dtls.lua", dir);
    pcap = fopen(pcap_path, "wb");
    wire_pcap_begin(pcap);
    setup(20000, 2);
    run_connection(20000, 50);
    fclose(pcap);
    pcap = NULL;
    FILE *k = fopen(keylog_path, "w");
    fputs(S[0].keylog, k);
    fclose(k);
    /* Wireshark 4.0 has no Decode-As from DTLS to SCTP: two lines of Lua */
    FILE *l = fopen(lua_path, "w");
    fputs("local t = DissectorTable.get(\"dtls.port\")\n"
          "for _, p in ipairs({5000, 5001}) do t:add(p, Dissector.get(\"sctp\")) end\n", l);
    fclose(l);
    char base[1024], args[1400];
    snprintf(base, sizeof(base), "-r %s -o tls.keylog_file:%s -X lua_script:%s -o sctp.checksum:CRC-32C", pcap_path,
             keylog_path, lua_path);
    long frames = wire_tshark_lines(base);
    cr_assert_gt(frames, 60);
    snprintf(args, sizeof(args), "%s -Y _ws.malformed", base);
    cr_assert_eq(wire_tshark_lines(args), 0, "malformed packets");
    snprintf(args, sizeof(args), "%s -Y 'stun.type == 0x0001'", base);
    cr_assert_gt(wire_tshark_lines(args), 0, "STUN binding requests");
    snprintf(args, sizeof(args), "%s -Y 'stun.att.type == 0x0025'", base);
    cr_assert_gt(wire_tshark_lines(args), 0, "USE-CANDIDATE");
    snprintf(args, sizeof(args), "%s -Y 'dtls.handshake.type == 20'", base);
    cr_assert_geq(wire_tshark_lines(args), 2, "both Finished messages decrypted");
    snprintf(args, sizeof(args), "%s -Y 'sctp.chunk_type == 1'", base);
    cr_assert_gt(wire_tshark_lines(args), 0, "SCTP INIT inside DTLS");
    /* RFC 9653: INIT and INIT ACK carry a CRC32c and announce Zero
     * Checksum Acceptable; after them both ends leave the checksum 0 */
    snprintf(args, sizeof(args), "%s -Y 'sctp.checksum.status == 0 && sctp.checksum != 0x00000000'", base);
    cr_assert_eq(wire_tshark_lines(args), 0, "bad SCTP checksums");
    snprintf(args, sizeof(args), "%s -Y '(sctp.chunk_type == 1 || sctp.chunk_type == 2) && sctp.checksum.status == 1 && sctp.parameter_type == 0x8001'", base);
    cr_assert_eq(wire_tshark_lines(args), 2, "INIT and INIT ACK: CRC32c verified, zero checksum announced");
    snprintf(args, sizeof(args), "%s -Y 'sctp.checksum.status == 1'", base);
    long good = wire_tshark_lines(args);
    snprintf(args, sizeof(args), "%s -Y 'sctp.checksum == 0x00000000'", base);
    long zero = wire_tshark_lines(args);
    cr_assert_gt(zero, 0, "zero checksums after the INITs");
    snprintf(args, sizeof(args), "%s -Y sctp", base);
    cr_assert_eq(wire_tshark_lines(args), good + zero, "every SCTP packet with a verified CRC32c or the zero checksum");
    snprintf(args, sizeof(args), "%s -Y 'rtcdc.message_type == 0x03 && rtcdc.label == \"agents\"'", base);
    cr_assert_geq(wire_tshark_lines(args), 1, "DATA_CHANNEL_OPEN with its label");
    snprintf(args, sizeof(args), "%s -Y 'rtcdc.message_type == 0x02'", base);
    cr_assert_geq(wire_tshark_lines(args), 1, "DATA_CHANNEL_ACK");
    snprintf(args, sizeof(args), "%s -Y 'sctp.data_payload_proto_id == 53'", base);
    cr_assert_geq(wire_tshark_lines(args), 17, "binary DataChannel messages (three to a packet)");
    cr_log_info("%ld frames, %ld SCTP packets with a good CRC32c", frames, good);
    teardown();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* DTLS 1.3 KeyUpdate in the peer connection (dtls_keep): both ends keep
 * their handshake endpoint, update their write keys every 50 records on
 * their own (and once on request), and 2,000 DataChannel messages each
 * way arrive whole and in order across the epochs, with and without loss.
 * Cross-checked: each end's acknowledged updates are the updates the other
 * end took, no record fails to authenticate. */
Test(pc, datachannel_messages_across_dtls_1_3_key_updates)
{
    versions[0] = versions[1] = DTLS_OFFER_V13;
    ku_after = 50;
    for (int k = 0; k < 3; k++) {
        uint32_t loss = k ? 20000 : 0;
        setup(loss, 2);
        for (int i = 0; i < 2; i++)
            P[i].rng += (uint64_t)k * 7919;
        for (int j = 0; j < 200000 && !(S[0].up && S[1].up) && !S[0].failed && !S[1].failed; j++)
            if (!step())
                break;
        cr_assert(S[0].up && S[1].up);
        cr_assert_eq(pc_dtls_version(&S[0].pc), DTLS_V13);
        cr_assert_eq(hs.n_free, 0, "both ends keep their endpoint");
        uint32_t sent[2] = {0, 0}, count = 2000;
        for (int j = 0; j < 4000000 && (S[0].got < count || S[1].got < count); j++) {
            send_some(0, &sent[0], count, 300);
            send_some(1, &sent[1], count, 300);
            if (!step())
                break;
        }
        cr_assert_eq(S[1].got, count, "client → server %u of %u", S[1].got, count);
        cr_assert_eq(S[0].got, count, "server → client %u of %u", S[0].got, count);
        cr_assert_eq(S[0].bad + S[1].bad, 0);
        /* one asked for: the peer answers with its own */
        const struct dtls_counters *d0 = pc_dtls_counters(&S[0].pc), *d1 = pc_dtls_counters(&S[1].pc);
        cr_assert_not_null(d0);
        cr_assert_not_null(d1);
        int rc;
        uint64_t until = now + 30000000000ull;
        /* the automatic update may be under way: ask once it is done */
        while ((rc = pc_key_update(&S[0].pc, true, now)) == -EBUSY && now < until)
            step();
        cr_assert_eq(rc, 0);
        uint32_t in1 = d1->key_updates_in, out1 = d1->key_updates_out;
        for (until = now + 30000000000ull; now < until;)
            step();
        cr_assert_gt(d1->key_updates_in, in1, "the request arrived");
        cr_assert_gt(d1->key_updates_out, out1, "and was answered");
        for (int i = 0; i < 2; i++) {
            const struct dtls_counters *a = pc_dtls_counters(&S[i].pc), *b = pc_dtls_counters(&S[1 - i].pc);
            cr_assert_geq(a->key_updates_out, 10, "side %d: %u updates", i, a->key_updates_out);
            cr_assert_eq(a->key_updates_out, b->key_updates_in, "side %d: %u acknowledged, %u taken", i,
                         a->key_updates_out, b->key_updates_in);
            cr_assert_eq(pc_record_counters(&S[i].pc)->bad_auth, 0);
        }
        cr_log_info("loss %u ppm: %u / %u key updates, %u messages each way", loss, d0->key_updates_out,
                    d1->key_updates_out, count);
        teardown();
    }
    versions[0] = versions[1] = 0;
    ku_after = 0;
}

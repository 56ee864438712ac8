/* SPDX-License-Identifier: MIT */
/*
 * System tests of the peer connections: the real swarmgen + swarmgen-dp on
 * the embedded loopback ports with --traffic dc, every mesh edge a WebRTC
 * peer connection (ICE, DTLS 1.2, SCTP in DTLS, a DataChannel by DCEP, SRTP
 * media when asked). Each run is a few seconds and bounded by a timeout;
 * every test checks that no dataplane process and no run image is left.
 * The capture test hands the dataplane's pcap and NSS key log to tshark:
 * Wireshark's dissectors, not ours, judge the wire.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "swarm_assert.h"
#include "wire_capture.h"

static struct proc_result r;
static char json[1 << 20];

static void run_swarm(const char *report, int timeout_s, char *const extra[])
{
    proc_swarmgen_run(NULL, proc_bin("SWARMGEN_DP"), report, timeout_s, extra, &r, json, sizeof(json));
    swarm_check_report(json, &r, false);
}

static double json_in(const char *section, const char *key)
{
    return proc_json_in(json, section, key);
}

static void assert_all_up(void)
{
    swarm_assert_all_up(json, &r);
}

static void assert_all_delivered(double min_sent)
{
    swarm_assert_all_delivered(json, &r, min_sent);
}

Test(webrtc, every_connection_up_and_every_reliable_message_routed_and_delivered, .timeout = 120)
{
    char *extra[] = {"--agents", "60", "--topology", "kmesh:k=4", "--traffic", "dc:rate=3000,pattern=routed",
                     "--duration", "3s", "--seed", "5", NULL};
    run_swarm("/tmp/sg-webrtc-routed.json", 110, extra);
    swarm_assert_exit(&r, 0);
    assert_all_up();
    assert_all_delivered(5000);
    cr_assert_gt(json_in("messages", "forwarded"), 0, "routed messages relayed by agents");
    cr_assert_gt(json_in("sctp", "sacks"), 0, "SCTP acknowledged the data");
    cr_assert_gt(proc_json_num(json, "bytes_per_connection_state"), 1000);
    swarm_assert_nothing_left(r.pid);
}

Test(webrtc, signed_messages_verified_at_their_destination, .timeout = 120)
{
    char *extra[] = {"--agents", "40", "--topology", "kmesh:k=4", "--traffic", "dc:rate=1500,size=200",
                     "--sign", "--duration", "2s", "--seed", "9", NULL};
    run_swarm("/tmp/sg-webrtc-sign.json", 110, extra);
    swarm_assert_exit(&r, 0);
    assert_all_up();
    assert_all_delivered(2000);
    cr_assert_eq(proc_json_num(json, "signature_failures"), 0);
    swarm_assert_nothing_left(r.pid);
}

Test(webrtc, echo_measures_round_trips_over_unordered_channels, .timeout = 120)
{
    char *extra[] = {"--agents", "30", "--topology", "ring", "--traffic",
                     "dc:rate=2000,size=1000,mode=unordered,pattern=echo", "--duration", "2s", NULL};
    run_swarm("/tmp/sg-webrtc-echo.json", 110, extra);
    swarm_assert_exit(&r, 0);
    assert_all_up();
    assert_all_delivered(2000);
    cr_assert_eq(json_in("messages", "forwarded"), 0, "echo goes to a neighbour and back");
    swarm_assert_nothing_left(r.pid);
}

Test(webrtc, reliable_channels_deliver_everything_through_five_percent_loss, .timeout = 150)
{
    char *extra[] = {"--agents", "30", "--topology", "kmesh:k=4", "--traffic", "dc:rate=1000",
                     "--netem", "loss=5%", "--duration", "3s", "--drain", "10s", NULL};
    run_swarm("/tmp/sg-webrtc-loss.json", 140, extra);
    swarm_assert_exit(&r, 0);
    assert_all_up();
    assert_all_delivered(2000);
    cr_assert_gt(proc_json_num(json, "netem_loss"), 0, "frames were lost on the way");
    cr_assert_gt(json_in("sctp", "retransmissions"), 0, "SCTP retransmitted what was lost");
    swarm_assert_nothing_left(r.pid);
}

Test(webrtc, media_streams_flow_under_srtp_with_reports, .timeout = 120)
{
    char *extra[] = {"--agents", "20", "--topology", "kmesh:k=4", "--traffic", "dc:rate=500", "--media", "video",
                     "--duration", "3s", NULL};
    run_swarm("/tmp/sg-webrtc-media.json", 110, extra);
    swarm_assert_exit(&r, 0);
    assert_all_up();
    assert_all_delivered(500);
    double sent = json_in("media", "rtp_sent"), got = json_in("media", "packets");
    /* 30 frames/s of 1 Mbit/s video each way on every connection for 3 s */
    cr_assert_gt(sent, 41 * 2 * 30 * 2, "RTP packets sent: %g\n%s", sent, json);
    cr_assert_geq(got, sent * 0.99, "RTP packets received %g of %g", got, sent);
    cr_assert_gt(json_in("media", "rtcp_received"), 41 * 2, "RTCP reports both ways");
    cr_assert_eq(json_in("media", "loss"), 0);
    cr_assert_eq(json_in("srtp", "auth_failures"), 0);
    cr_assert_eq(json_in("srtp", "replays"), 0);
    cr_assert_geq(json_in("srtp", "unprotected"), got);
    swarm_assert_nothing_left(r.pid);
}

/* Issue 21: a small mesh with --dtls V (NULL: the default, auto), its
 * report's connections per negotiated DTLS version checked against the
 * connections up, and, where tshark is installed, against the capture:
 * Wireshark's DTLS dissector counts the handshakes (distinct ServerHello
 * randoms, a HelloRetryRequest's fixed one left out) that chose each
 * version (1.3: supported_versions 0xfefc in the ServerHello; 1.2: none)
 * and the ClientHellos that offered 1.3. */
#define HRR_RANDOM "cf:21:ad:74:e5:9a:61:11:be:1d:8c:02:1e:65:b8:91:c2:a2:11:16:7a:bb:8c:5e:07:9e:09:e2:c8:a8:33:9c"
static void run_dtls(const char *version, const char *report)
{
    bool wire = system("command -v tshark >/dev/null 2>&1") == 0;
    if (!wire && getenv("SWARMGEN_REQUIRE_TSHARK"))
        cr_assert_fail("tshark is not installed");
    struct wire_dissect w;
    /* DTLS by port, not by heuristic: Wireshark 4.0's heuristic refuses a
     * datagram whose later records have DTLS 1.3's unified header (the
     * server's first flight), where Decode As still reads its ServerHello */
    cr_assert_eq(wire_dissect_init(&w, "dtlsv", "dtls.pcap", "49152-65535", "-d 'udp.port==49152-65535,dtls'"), 0);
    char *extra[20] = {"--agents", "20", "--topology", "kmesh:k=4", "--traffic", "dc:rate=400",
                       "--duration", "1s", "--pcap", w.pcap, "--pcap-count", "3000", "--keylog", w.keylog};
    int n = 14;
    if (version) {
        extra[n++] = "--dtls";
        extra[n++] = (char *)version;
    }
    extra[n] = NULL;
    run_swarm(report, 110, extra);
    swarm_assert_exit(&r, 0);
    assert_all_up();
    assert_all_delivered(200);
    double up = json_in("connections", "established");
    double v12 = json_in("v1_2", "up"), v13 = json_in("v1_3", "up");
    cr_assert(!isnan(v12) && !isnan(v13), "no connections.dtls in the report\n%s", json);
    cr_assert_eq(v12 + v13, up, "per-version %g + %g is not the %g connections up\n%s", v12, v13, up, json);
    double s12 = json_in("v1_2", "samples"), s13 = json_in("v1_3", "samples");
    cr_assert_eq(s12 + s13, json_in("setup_ms", "samples"), "per-version set-up samples sum to the total's");
    cr_assert_eq(s12, v12, "one set-up time per 1.2 connection");
    cr_assert_eq(s13, v13, "one set-up time per 1.3 connection");
    if (v12 > 0)
        cr_assert_gt(json_in("v1_2", "p50"), 0, "a 1.2 set-up time");
    char want[64];
    snprintf(want, sizeof(want), "\"offered\": \"%s\"", version ? version : "auto");
    cr_assert_not_null(strstr(json, want), "%s not in the report\n%s", want, json);
    cr_assert_not_null(strstr(r.out, "  dtls         offered "), "the summary's dtls line\n%s", r.out);
    /* the key log: a CLIENT_RANDOM line per 1.2 connection, the five lines
     * of the TLS 1.3 key log per 1.3 one */
    static char klog[1 << 17];
    cr_assert_gt(proc_read_file(w.keylog, klog, sizeof(klog)), 0, "the key log was written");
    static const char *const labels13[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET ", "SERVER_HANDSHAKE_TRAFFIC_SECRET ",
                                           "CLIENT_TRAFFIC_SECRET_0 ", "SERVER_TRAFFIC_SECRET_0 ", "EXPORTER_SECRET "};
    long per_label[6] = {0};
    for (const char *line = klog; *line;) {
        for (int i = 0; i < 5; i++)
            per_label[i] += strncmp(line, labels13[i], strlen(labels13[i])) == 0;
        per_label[5] += strncmp(line, "CLIENT_RANDOM ", 14) == 0;
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : line + strlen(line);
    }
    cr_assert_eq(per_label[5], (long)v12, "CLIENT_RANDOM lines %ld, 1.2 connections %g", per_label[5], v12);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(per_label[i], (long)v13, "%s lines %ld, 1.3 connections %g", labels13[i], per_label[i], v13);
    cr_assert_eq(proc_lines(klog), (long)v12 + 5 * (long)v13, "no other line");
    if (wire) {
        char args[1600];
        snprintf(args, sizeof(args),
                 "%s -Y 'dtls.handshake.type == 2 && dtls.handshake.extensions.supported_version == 0xfefc && "
                 "dtls.handshake.random != " HRR_RANDOM "' -T fields -e dtls.handshake.random | sort -u",
                 w.base);
        long w13 = wire_tshark_lines(args);
        snprintf(args, sizeof(args),
                 "%s -Y 'dtls.handshake.type == 2 && !dtls.handshake.extensions.supported_version' "
                 "-T fields -e dtls.handshake.random | sort -u",
                 w.base);
        long w12 = wire_tshark_lines(args);
        cr_assert_eq(w12, (long)v12, "tshark: %ld handshakes chose 1.2, the report %g", w12, v12);
        cr_assert_eq(w13, (long)v13, "tshark: %ld handshakes chose 1.3, the report %g", w13, v13);
        if (version && strcmp(version, "1.2") == 0)
            cr_assert_eq(wire_tshark_count(w.base, "dtls.handshake.type == 1 && "
                                                   "dtls.handshake.extensions.supported_version == 0xfefc"),
                         0, "--dtls 1.2: no ClientHello offers 1.3");
    }
    swarm_assert_nothing_left(r.pid);
    cr_assert_eq(wire_dissect_remove(&w), 0);
}

Test(webrtc, dtls_1_2_forced_every_connection_negotiates_1_2, .timeout = 120)
{
    run_dtls("1.2", "/tmp/sg-webrtc-dtls12.json");
    cr_assert_eq(json_in("v1_2", "up"), json_in("connections", "established"));
    cr_assert_eq(json_in("v1_3", "up"), 0);
}

Test(webrtc, dtls_auto_counts_per_version_sum_to_the_connections_up, .timeout = 120)
{
    run_dtls(NULL, "/tmp/sg-webrtc-dtls-auto.json");
}

/* --dtls-key-update: 1.3 endpoints kept for the connection's life update
 * their keys every 200 records; both ends are ours, so every KeyUpdate
 * acknowledged at one end was taken by the other, and every message is
 * delivered across the epoch changes (the census identities). */
Test(webrtc, dtls_1_3_key_updates_every_200_records_lose_no_message, .timeout = 120)
{
    char *extra[] = {"--agents", "20", "--topology", "kmesh:k=4", "--traffic", "dc:rate=12000",
                     "--dtls", "1.3", "--dtls-key-update", "200", "--duration", "3s", "--seed", "21", NULL};
    run_swarm("/tmp/sg-webrtc-dtls-ku.json", 110, extra);
    swarm_assert_exit(&r, 0);
    assert_all_up();
    assert_all_delivered(20000); /* 34,820 at gcc speed; room for the sanitizer stage */
    swarm_assert_accounting(json, &r);
    double up = json_in("connections", "established");
    cr_assert_eq(json_in("v1_3", "up"), up, "every connection negotiated 1.3");
    double sent = json_in("key_updates", "sent"), got = json_in("key_updates", "received");
    cr_assert(!isnan(sent) && !isnan(got), "no connections.dtls.key_updates in the report\n%s", json);
    cr_assert_eq(sent, got, "KeyUpdates acknowledged %g, taken %g\n%s", sent, got, json);
    /* 270 at seed 21 (about 3.4 per end); one per end leaves room for a
     * slower (sanitizer) run that sends fewer messages */
    cr_assert_geq(sent, up * 2, "at least one KeyUpdate per end of each of the %g connections: %g", up, sent);
    cr_assert_not_null(strstr(r.out, "KeyUpdates "), "the summary's dtls line counts them\n%s", r.out);
    fprintf(stderr, "dtls-key-update: %g connections, %g KeyUpdates sent, %g received, %g messages delivered\n", up,
            sent, got, json_in("messages", "delivered"));
    swarm_assert_nothing_left(r.pid);
}

Test(webrtc, wireshark_dissects_every_layer_of_the_swarm_capture, .timeout = 180)
{
    swarm_need_tool(system("command -v tshark >/dev/null 2>&1") == 0, "tshark", "SWARMGEN_REQUIRE_TSHARK");
    /* the connections' ports (49152..65535) carry SCTP inside DTLS */
    struct wire_dissect w;
    cr_assert_eq(wire_dissect_init(&w, "cap", "swarm.pcap", "49152-65535",
                                   "--enable-heuristic stun_udp --enable-heuristic dtls_udp --enable-heuristic rtp_udp"),
                 0);
    const char *base = w.base;
    /* DTLS 1.2: Debian 12's Wireshark 4.0 reads DTLS 1.3's hellos but not
     * its unified-header records, and our key log has 1.2 lines only */
    char *extra[] = {"--agents", "8", "--topology", "ring", "--traffic", "dc:rate=300", "--media", "audio",
                     "--duration", "2s", "--pcap", w.pcap, "--pcap-count", "5000", "--keylog", w.keylog,
                     "--dtls", "1.2", NULL};
    run_swarm("/tmp/sg-webrtc-capture.json", 110, extra);
    swarm_assert_exit(&r, 0);
    assert_all_up();
    char text[65536];
    long kl = proc_read_file(w.keylog, text, sizeof(text));
    cr_assert_gt(kl, 0, "the key log was written");
    cr_assert_eq(proc_lines(text), 8, "one CLIENT_RANDOM line per connection:\n%s", text);
    cr_assert_eq(strncmp(text, "CLIENT_RANDOM ", 14), 0);
    long frames = wire_tshark_count(base, "frame");
    cr_assert_gt(frames, 1000, "frames in the capture: %ld", frames);
    /* SRTCP under an AEAD profile: Wireshark 4.0 does not know its 16-byte
     * tag, so it parses the ciphertext after the first header as RTCP and
     * flags it malformed; everything else must dissect cleanly */
    cr_assert_eq(wire_tshark_count(base, "_ws.malformed && !srtcp"), 0, "malformed packets");
    cr_assert_eq(wire_tshark_count(base, "dtls.handshake.type == 2 && dtls.use_srtp.protection_profile == 0x0008"), 8,
                 "every ServerHello chose SRTP_AEAD_AES_256_GCM (libwebrtc's first)");
    cr_assert_geq(wire_tshark_count(base, "stun.type == 0x0001 && stun.att.type == 0x0025"), 8,
                  "ICE checks with USE-CANDIDATE");
    cr_assert_geq(wire_tshark_count(base, "stun.type == 0x0101"), 8, "Binding success responses");
    cr_assert_geq(wire_tshark_count(base, "dtls.handshake.type == 1"), 8, "ClientHellos");
    cr_assert_geq(wire_tshark_count(base, "dtls.handshake.type == 20"), 16, "both Finished of every handshake decrypted");
    long sctp = wire_tshark_count(base, "sctp");
    cr_assert_gt(sctp, 100, "SCTP inside DTLS: %ld", sctp);
    /* RFC 9653: both ends announce Zero Checksum Acceptable (EDMID DTLS)
     * in INIT and INIT ACK, which carry a CRC32c; from then on packets
     * carry 0; nothing else */
    long inits = wire_tshark_count(base, "sctp.chunk_type == 1 || sctp.chunk_type == 2");
    cr_assert_eq(wire_tshark_count(base, "(sctp.chunk_type == 1 || sctp.chunk_type == 2) && sctp.checksum.status == 1"), inits,
                 "every INIT and INIT ACK with its CRC32c verified");
    cr_assert_eq(wire_tshark_count(base, "(sctp.chunk_type == 1 || sctp.chunk_type == 2) && sctp.parameter_type == 0x8001"),
                 inits, "Zero Checksum Acceptable announced in each");
    cr_assert_eq(wire_tshark_count(base, "sctp.checksum.status == 1") + wire_tshark_count(base, "sctp.checksum == 0x00000000"),
                 sctp, "every packet either with a verified CRC32c or the zero checksum");
    cr_assert_gt(wire_tshark_count(base, "sctp.checksum == 0x00000000"), sctp / 2, "zero checksums after the INITs");
    cr_assert_geq(wire_tshark_count(base, "sctp.chunk_type == 1"), 8, "SCTP INITs");
    cr_assert_geq(wire_tshark_count(base, "rtcdc.message_type == 0x03 && rtcdc.label == \"swarm\""), 8,
                  "DATA_CHANNEL_OPEN of every connection");
    cr_assert_geq(wire_tshark_count(base, "rtcdc.message_type == 0x02"), 8, "DATA_CHANNEL_ACK of every connection");
    cr_assert_gt(wire_tshark_count(base, "sctp.data_payload_proto_id == 53"), 50, "binary DataChannel messages");
    cr_assert_gt(wire_tshark_count(base, "rtp.version == 2 && rtp.p_type == 111"), 200, "RTP (Opus payload type)");
    swarm_assert_nothing_left(r.pid);
    cr_assert_eq(wire_dissect_remove(&w), 0);
}

/* SPDX-License-Identifier: MIT */
/*
 * System tests of --srtp-rekey (docs/srtp.md): the real swarmgen +
 * swarmgen-dp on the embedded loopback ports, 8 agents in a ring (8 peer
 * connections), media both ways on each, every sender switching SRTP
 * master key every 2 s by the MKI, 8 s of load. Audio on a clean link,
 * captured: tshark (Wireshark's RTP dissector, not ours) finds every RTP
 * packet we sent and reads the MKI at its offset; the switches it sees,
 * stream by stream, are the ones the report counts. Video (1 Mbit/s, 30
 * fps) the same way without the capture. Both: no SRTP authentication
 * failure, no replay, switches sent and seen, packets under both key
 * parities, SRTP counts equal to the media counts. (The grace window,
 * old-key packets after new-key ones, is proven in test_srtp_mki.c against
 * libsrtp2; through netem reordering it is a manual run, docs/srtp.md.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "swarm_assert.h"
#include "wire_capture.h"

#define CONNS 8 /* ring of 8 */

static struct proc_result r;
static char json[1 << 20];

static double srtp(const char *key)
{
    return proc_json_in(json, "srtp", key);
}

/* Each sender switches first at a random point of its first interval's
 * second half, then every 2 s: 4 switches in 8 s of load, each way of
 * each connection (media starts when a connection is up, before the load:
 * 5 when set-up took over a second on a busy machine, 3 when a stream
 * started late); a receiver sees each one with its next packet, all but
 * one per stream at the stop at most. */
static void assert_rekeyed(void)
{
    double sent = srtp("rekeys"), seen = srtp("rekeys_seen");
    cr_assert_geq(sent, 3 * 2 * CONNS, "switches sent: %g", sent);
    cr_assert_leq(sent, 5 * 2 * CONNS, "switches sent: %g", sent);
    cr_assert_leq(seen, sent);
    cr_assert_geq(seen, sent - 2 * CONNS, "switches seen %g of %g", seen, sent);
    cr_assert_eq(srtp("auth_failures"), 0);
    cr_assert_eq(srtp("replays"), 0);
    cr_assert_gt(srtp("protected_even"), 0);
    cr_assert_gt(srtp("protected_odd"), 0);
    cr_assert_gt(srtp("unprotected_even"), 0);
    cr_assert_gt(srtp("unprotected_odd"), 0);
    cr_assert_eq(srtp("protected_even") + srtp("protected_odd"), srtp("protected"));
    cr_assert_eq(srtp("unprotected_even") + srtp("unprotected_odd"), srtp("unprotected"));
    /* everything received was sent and opened; RTCP too */
    cr_assert_eq(srtp("unprotected"), proc_json_in(json, "media", "packets") +
                                          proc_json_in(json, "media", "rtcp_received"));
    cr_assert_eq(srtp("protected"), proc_json_in(json, "media", "rtp_sent") +
                                        proc_json_in(json, "media", "rtcp_sent"));
}

Test(rekey, audio_switches_keys_every_2s_and_wireshark_reads_each_mki, .timeout = 60)
{
    bool wire = system("command -v tshark >/dev/null 2>&1") == 0;
    if (!wire && getenv("SWARMGEN_REQUIRE_TSHARK"))
        cr_assert_fail("tshark is not installed");
    struct wire_dissect w;
    cr_assert_eq(
        wire_dissect_init(&w, "rekey", "rekey.pcap", "49152-65535", "--enable-heuristic rtp_udp"),
        0);
    char *extra[] = {"--agents", "8",     "--topology",   "ring",  "--traffic",  "dc:rate=50",
                     "--media",  "audio", "--srtp-rekey", "2s",    "--duration", "8s",
                     "--pcap",   w.pcap,  "--pcap-count", "40000", NULL};
    proc_swarmgen_run(NULL, proc_bin("SWARMGEN_DP"), "/tmp/sg-rekey-audio.json", 50, extra, &r,
                      json, sizeof(json));
    swarm_check_report(json, &r, false);
    swarm_assert_exit(&r, 0);
    swarm_assert_all_up(json, &r);
    assert_rekeyed();
    double rtp_sent = proc_json_in(json, "media", "rtp_sent");
    double got = proc_json_in(json, "media", "packets");
    /* no loss on the loopback; one packet a stream may be on its way at the stop */
    cr_assert_leq(got, rtp_sent);
    cr_assert_geq(got, rtp_sent - 2 * CONNS, "RTP received %g of %g", got, rtp_sent);
    cr_assert_eq(srtp("unprotected_previous_key"), 0, "nothing reordered");
    if (wire) {
        /* Wireshark 4.0 fills srtp.mki only for an RTP conversation that an
         * SDP a=crypto (SDES) set up; DTLS-SRTP puts no SDP on the wire and
         * its RTP dissector has no preference for SRTP parameters. So the
         * MKI is read where it is: the profile is AEAD_AES_256_GCM, the MKI
         * the last 4 bytes (after the tag), here at the end of rtp.payload.
         * Per SSRC in capture order it starts at 0 and steps by 1. */
        cr_assert_eq(wire_tshark_count(w.base, "rtp.version == 2 && rtp.p_type == 111"),
                     (long)rtp_sent, "tshark finds every RTP packet sent");
        char cmd[2048];
        snprintf(
            cmd, sizeof(cmd),
            "tshark %s -Y 'rtp.version == 2 && rtp.p_type == 111' -T fields -e rtp.ssrc -e "
            "rtp.payload 2>/dev/null"
            " | awk '{m = substr($2, length($2) - 7); v = 0;"
            " for (i = 1; i <= 8; i++) v = v * 16 + index(\"0123456789abcdef\", substr(m, i, 1)) - "
            "1;"
            " if ($1 in last) { if (v != last[$1]) { if (v != last[$1] + 1) bad++; sw++ } } else "
            "if (v != 0) bad++;"
            " last[$1] = v; n[$1]++ } END { k = 0; for (s in n) k++; print sw + 0, bad + 0, k }'",
            w.base);
        FILE *p = popen(cmd, "r");
        cr_assert_not_null(p);
        long sw = -1, bad = -1, streams = -1;
        cr_assert_eq(fscanf(p, "%ld %ld %ld", &sw, &bad, &streams), 3);
        pclose(p);
        cr_assert_eq(streams, 2 * CONNS, "one RTP stream each way of each connection");
        cr_assert_eq(bad, 0, "MKIs start at 0 and step by one");
        cr_assert_eq(sw, (long)srtp("rekeys"),
                     "the switches Wireshark sees (%ld) are the ones counted (%g)", sw,
                     srtp("rekeys"));
    }
    swarm_assert_nothing_left(r.pid);
    cr_assert_eq(wire_dissect_remove(&w), 0);
}

Test(rekey, video_switches_keys_every_2s_both_ways, .timeout = 60)
{
    char *extra[] = {"--agents", "8", "--topology", "ring", "--traffic", "dc:rate=50", "--media", "video",
                     "--srtp-rekey", "2s", "--duration", "8s", NULL};
    proc_swarmgen_run(NULL, proc_bin("SWARMGEN_DP"), "/tmp/sg-rekey-video.json", 50, extra, &r,
                      json, sizeof(json));
    swarm_check_report(json, &r, false);
    swarm_assert_exit(&r, 0);
    swarm_assert_all_up(json, &r);
    assert_rekeyed();
    double sent = proc_json_in(json, "media", "rtp_sent"), got = proc_json_in(json, "media", "packets");
    /* no loss on the loopback; what is missing was on its way at the stop */
    cr_assert_leq(got, sent);
    cr_assert_geq(got, 0.99 * sent, "RTP received %g of %g", got, sent);
    cr_assert_eq(proc_json_in(json, "drops", "bad_srtp"), 0);
    swarm_assert_nothing_left(r.pid);
}

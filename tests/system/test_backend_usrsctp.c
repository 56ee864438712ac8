/* SPDX-License-Identifier: MIT */
/*
 * System tests of the usrsctp backend (swarmgen-usrsctp) beyond the shared
 * delivery test of tests/system/test_backends.c: the real swarmgen with
 * --backend usrsctp on kernel UDP sockets over loopback, every edge a peer
 * connection of our ICE check, mbedTLS DTLS and usrsctp. Routed messages
 * over one core and over two, echo round trips over unordered channels,
 * partially reliable channels, signed messages, the connection memory and
 * the set-up stages in the report; what the backend refuses (media, plain
 * UDP, bad arguments, a foreign image) with one line. Every run is short
 * and bounded; every test checks that nothing is left behind.
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

static const char *usrsctp_bin(void)
{
    const char *p = getenv("SWARMGEN_USRSCTP");
    if (!p || !*p)
        cr_skip_test("swarmgen-usrsctp is not built (SWARMGEN_USRSCTP unset)");
    return p;
}

static void run_swarm(const char *report, int timeout_s, char *const extra[])
{
    /* ends as soon as nothing is in flight; on a loaded machine usrsctp's
     * RTO backs off past the default 2 s */
    char *args[64] = {"--drain", "10s"};
    int n = 2;
    for (int i = 0; extra[i] && n < 63; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    proc_swarmgen_run("usrsctp", usrsctp_bin(), report, timeout_s, args, &r, json, sizeof(json));
    swarm_check_report(json, &r, true); /* usrsctp's queues are its own: no census */
}

static double json_in(const char *section, const char *key)
{
    return proc_json_in(json, section, key);
}

/* A run that ends well: exit 0, every connection up, at least min_sent
 * messages sent and every one delivered, latency measured. */
static void run_all_delivered(const char *report, int timeout_s, char *const extra[], double min_sent)
{
    run_swarm(report, timeout_s, extra);
    swarm_assert_exit(&r, 0);
    swarm_assert_all_up(json, &r);
    swarm_assert_all_delivered(json, &r, min_sent);
    cr_assert_gt(json_in("latency_us", "p50"), 0, "latency measured");
}

Test(usrsctp, routed_messages_all_delivered_on_two_cores_with_every_stage_timed, .timeout = 150)
{
    char *extra[] = {
        "--agents",   "60", "--topology", "kmesh:k=4", "--traffic", "dc:rate=2000,pattern=routed",
        "--duration", "3s", "--cores",    "0,1",       "--seed",    "5",
        NULL};
    run_all_delivered("/tmp/sg-usrsctp-routed.json", 140, extra, 3000);
    cr_assert_gt(json_in("messages", "forwarded"), 0, "routed messages relayed by agents");
    cr_assert_gt(json_in("sctp", "sacks"), 0, "usrsctp acknowledged the data");
    const char *stages[] = {"\"ice\":", "\"dtls\":", "\"sctp\":", "\"datachannel\":"};
    const char *by = strstr(json, "\"by_stage\":");
    cr_assert(by, "set-up times by stage\n%s", json);
    for (int i = 0; i < 4; i++) {
        const char *s = strstr(by, stages[i]);
        cr_assert(s, "stage %s in the report", stages[i]);
        cr_assert_gt(proc_json_num(s, "p50"), 0, "stage %s timed", stages[i]);
    }
    /* the connection state: at least the endpoints' table (two ICE agents
     * and two mbedTLS contexts per connection) */
    cr_assert_gt(proc_json_num(json, "bytes_per_connection_state"), 1000);
    cr_assert(strstr(json, "kernel UDP sockets on loopback"),
              "the port description names the sockets");
    swarm_assert_nothing_left(r.pid);
}

Test(usrsctp, one_core_owns_every_connection_and_delivers_everything, .timeout = 120)
{
    char *extra[] = {
        "--agents",   "30", "--topology", "kmesh:k=4", "--traffic", "dc:rate=1000,pattern=routed",
        "--duration", "2s", "--cores",    "0",         NULL};
    run_all_delivered("/tmp/sg-usrsctp-one.json", 110, extra, 1000);
    swarm_assert_nothing_left(r.pid);
}

Test(usrsctp, echo_round_trips_over_unordered_channels, .timeout = 120)
{
    char *extra[] = {
        "--agents",   "30",        "--topology",
        "ring",       "--traffic", "dc:rate=1000,size=1000,mode=unordered,pattern=echo",
        "--duration", "2s",        "--cores",
        "0,1",        NULL};
    run_all_delivered("/tmp/sg-usrsctp-echo.json", 110, extra, 1000);
    cr_assert_eq(json_in("messages", "forwarded"), 0, "echo goes to a neighbour and back");
    swarm_assert_nothing_left(r.pid);
}

Test(usrsctp, partially_reliable_channels_deliver_on_a_clean_link, .timeout = 120)
{
    char *extra[] = {"--agents",   "20",        "--topology",
                     "kmesh:k=4",  "--traffic", "dc:rate=500,mode=rexmit:2,pattern=neighbors",
                     "--duration", "2s",        "--cores",
                     "0,1",        NULL};
    run_all_delivered("/tmp/sg-usrsctp-rexmit.json", 110, extra, 500);
    swarm_assert_nothing_left(r.pid);
}

Test(usrsctp, signed_messages_verified_at_their_destination, .timeout = 120)
{
    char *extra[] = {
        "--agents", "20",         "--topology", "kmesh:k=4", "--traffic", "dc:rate=500,size=200",
        "--sign",   "--duration", "2s",         "--cores",   "0,1",       NULL};
    run_all_delivered("/tmp/sg-usrsctp-sign.json", 110, extra, 500);
    cr_assert_eq(proc_json_num(json, "signature_failures"), 0);
    swarm_assert_nothing_left(r.pid);
}

Test(usrsctp, media_is_refused_with_one_line, .timeout = 60)
{
    char *extra[] = {"--agents", "8",     "--topology", "ring", "--traffic", "dc:rate=100",
                     "--media",  "audio", "--duration", "1s",   NULL};
    run_swarm("/tmp/sg-usrsctp-media.json", 50, extra);
    cr_assert_neq(r.exit_code, 0, "a run with media on the usrsctp backend is refused");
    cr_assert(strstr(r.err, "media"), "the reason names media:\n%s", r.err);
    swarm_assert_nothing_left(r.pid);
}

Test(usrsctp, bad_arguments_exit_2_with_one_line, .timeout = 30)
{
    const char *bin = usrsctp_bin();
    char *a1[] = {(char *)bin, "--bogus", NULL};
    proc_run(a1, 10, 0, &r);
    cr_assert_eq(r.exit_code, 2);
    cr_assert_eq(proc_lines(r.err), 1, "one line:\n%s", r.err);
    char *a2[] = {(char *)bin, "--image", "/nonexistent", "--cores", "x-y", NULL};
    proc_run(a2, 10, 0, &r);
    cr_assert_eq(r.exit_code, 2);
    cr_assert(strstr(r.err, "--cores"), "%s", r.err);
    char *a3[] = {(char *)bin, "--help", NULL};
    proc_run(a3, 10, 0, &r);
    cr_assert_eq(r.exit_code, 0);
    cr_assert(strstr(r.out, "--image"), "%s", r.out);
}

Test(usrsctp, a_file_that_is_not_a_run_image_is_refused, .timeout = 30)
{
    const char *bin = usrsctp_bin();
    const char *path = "/tmp/sg-usrsctp-not-an-image";
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 4096; i++)
        fputc('x', f);
    fclose(f);
    /* swarmgen-dp's argv form, as control's launcher writes it */
    char *argv[] = {(char *)bin, "-l", "0",       "--no-shconf", "--no-huge", "-m",
                    "64",        "--", "--image", (char *)path,  NULL};
    proc_run(argv, 10, 0, &r);
    cr_assert_eq(r.exit_code, 1, "%s", r.err);
    cr_assert(strstr(r.err, "not a run image"), "%s", r.err);
    cr_assert_eq(proc_lines(r.err), 1, "one line:\n%s", r.err);
    unlink(path);
}

/* What the backend puts on lo is real WebRTC: dumpcap captures the
 * agents' datagrams; with the backend's key log Wireshark's dissectors (not
 * ours) decrypt both Finished of every handshake, the SCTP inside with
 * CRC32c verified, DCEP OPEN and ACK of every channel and the binary
 * messages. Only what this run's keys decrypt is counted, so other runs on
 * lo do not matter. */
Test(usrsctp, wireshark_decrypts_every_layer_on_the_loopback_interface, .timeout = 150)
{
    swarm_need_tool(access("/usr/bin/tshark", X_OK) == 0 && access("/usr/bin/dumpcap", X_OK) == 0, "tshark",
                    "SWARMGEN_REQUIRE_TSHARK");
    /* the connections' ports (49152..65535) carry SCTP inside DTLS */
    struct wire_dissect w;
    cr_assert_eq(wire_dissect_init(&w, "uscap", "lo.pcap", "49152-65535",
                                   "--enable-heuristic stun_udp --enable-heuristic dtls_udp"),
                 0);
    int cap_pid = wire_dumpcap_start("lo", "udp and net 127.18.0.0/15", 10, 30, w.pcap);
    cr_assert_gt(cap_pid, 0, "dumpcap started");
    char *extra[] = {"--agents",   "8",  "--topology", "ring", "--traffic", "dc:rate=200",
                     "--duration", "2s", "--keylog",   w.keylog, NULL};
    run_swarm("/tmp/sg-usrsctp-cap.json", 100, extra);
    swarm_assert_exit(&r, 0);
    swarm_assert_all_up(json, &r);
    wire_dumpcap_wait(cap_pid);
    char text[16384];
    cr_assert_gt(proc_read_file(w.keylog, text, sizeof(text)), 0, "the key log was written");
    cr_assert_eq(proc_lines(text), 8, "one CLIENT_RANDOM line per connection:\n%s", text);
#define COUNT(filter) wire_tshark_count(w.base, filter)
    cr_assert_eq(COUNT("dtls.handshake.type == 20"), 16,
                 "both Finished of every handshake decrypted");
    long sctp = COUNT("sctp");
    cr_assert_gt(sctp, 100, "SCTP inside DTLS: %ld", sctp);
    cr_assert_eq(COUNT("sctp.checksum.status == 1"), sctp, "every CRC32c verified");
    cr_assert_geq(COUNT("sctp.chunk_type == 1"), 8, "SCTP INITs");
    cr_assert_eq(COUNT("rtcdc.message_type == 0x03 && rtcdc.label == \"swarm\""), 8,
                 "DATA_CHANNEL_OPEN of every connection");
    cr_assert_eq(COUNT("rtcdc.message_type == 0x02"), 8, "DATA_CHANNEL_ACK of every connection");
    cr_assert_gt(COUNT("sctp.data_payload_proto_id == 53"), 100, "binary DataChannel messages");
    cr_assert_eq(COUNT("sctp && _ws.malformed"), 0, "malformed SCTP");
#undef COUNT
    swarm_assert_nothing_left(r.pid);
    cr_assert_eq(wire_dissect_remove(&w), 0);
}

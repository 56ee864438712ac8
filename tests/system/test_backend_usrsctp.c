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

static struct proc_result r;
static char json[1 << 20];

static void assert_nothing_left(void)
{
    char why[256];
    cr_assert_eq(proc_left_by_run(r.pid, why, sizeof(why)), 0, "left: %s", why);
}

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
}

static double json_in(const char *section, const char *key)
{
    return proc_json_in(json, section, key);
}

static void assert_ok(void)
{
    cr_assert_eq(r.exit_code, 0, "exit %d\nstdout:\n%s\nstderr:\n%s", r.exit_code, r.out, r.err);
}

static void assert_all_up(void)
{
    swarm_assert_all_up(json, &r);
}

static void assert_all_delivered(double min_sent)
{
    swarm_assert_all_delivered(json, &r, min_sent);
    cr_assert_gt(json_in("latency_us", "p50"), 0, "latency measured");
}

Test(usrsctp, routed_messages_all_delivered_on_two_cores_with_every_stage_timed, .timeout = 150)
{
    char *extra[] = {
        "--agents",   "60", "--topology", "kmesh:k=4", "--traffic", "dc:rate=2000,pattern=routed",
        "--duration", "3s", "--cores",    "0,1",       "--seed",    "5",
        NULL};
    run_swarm("/tmp/sg-usrsctp-routed.json", 140, extra);
    assert_ok();
    assert_all_up();
    assert_all_delivered(3000);
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
    assert_nothing_left();
}

Test(usrsctp, one_core_owns_every_connection_and_delivers_everything, .timeout = 120)
{
    char *extra[] = {
        "--agents",   "30", "--topology", "kmesh:k=4", "--traffic", "dc:rate=1000,pattern=routed",
        "--duration", "2s", "--cores",    "0",         NULL};
    run_swarm("/tmp/sg-usrsctp-one.json", 110, extra);
    assert_ok();
    assert_all_up();
    assert_all_delivered(1000);
    assert_nothing_left();
}

Test(usrsctp, echo_round_trips_over_unordered_channels, .timeout = 120)
{
    char *extra[] = {
        "--agents",   "30",        "--topology",
        "ring",       "--traffic", "dc:rate=1000,size=1000,mode=unordered,pattern=echo",
        "--duration", "2s",        "--cores",
        "0,1",        NULL};
    run_swarm("/tmp/sg-usrsctp-echo.json", 110, extra);
    assert_ok();
    assert_all_up();
    assert_all_delivered(1000);
    cr_assert_eq(json_in("messages", "forwarded"), 0, "echo goes to a neighbour and back");
    assert_nothing_left();
}

Test(usrsctp, partially_reliable_channels_deliver_on_a_clean_link, .timeout = 120)
{
    char *extra[] = {"--agents",   "20",        "--topology",
                     "kmesh:k=4",  "--traffic", "dc:rate=500,mode=rexmit:2,pattern=neighbors",
                     "--duration", "2s",        "--cores",
                     "0,1",        NULL};
    run_swarm("/tmp/sg-usrsctp-rexmit.json", 110, extra);
    assert_ok();
    assert_all_up();
    assert_all_delivered(500);
    assert_nothing_left();
}

Test(usrsctp, signed_messages_verified_at_their_destination, .timeout = 120)
{
    char *extra[] = {
        "--agents", "20",         "--topology", "kmesh:k=4", "--traffic", "dc:rate=500,size=200",
        "--sign",   "--duration", "2s",         "--cores",   "0,1",       NULL};
    run_swarm("/tmp/sg-usrsctp-sign.json", 110, extra);
    assert_ok();
    assert_all_up();
    assert_all_delivered(500);
    cr_assert_eq(proc_json_num(json, "signature_failures"), 0);
    assert_nothing_left();
}

Test(usrsctp, media_is_refused_with_one_line, .timeout = 60)
{
    char *extra[] = {"--agents", "8",     "--topology", "ring", "--traffic", "dc:rate=100",
                     "--media",  "audio", "--duration", "1s",   NULL};
    run_swarm("/tmp/sg-usrsctp-media.json", 50, extra);
    cr_assert_neq(r.exit_code, 0, "a run with media on the usrsctp backend is refused");
    cr_assert(strstr(r.err, "media"), "the reason names media:\n%s", r.err);
    assert_nothing_left();
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

/* Lines of `tshark ARGS` output (-1 when it cannot run). */
static long tshark_lines(const char *args)
{
    char cmd[2400];
    snprintf(cmd, sizeof(cmd), "tshark %s 2>/dev/null | wc -l", args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    long n = -1;
    if (fscanf(p, "%ld", &n) != 1)
        n = -1;
    pclose(p);
    return n;
}

/* What the backend puts on lo is real WebRTC: dumpcap captures the
 * agents' datagrams; with the backend's key log Wireshark's dissectors (not
 * ours) decrypt both Finished of every handshake, the SCTP inside with
 * CRC32c verified, DCEP OPEN and ACK of every channel and the binary
 * messages. Only what this run's keys decrypt is counted, so other runs on
 * lo do not matter. */
Test(usrsctp, wireshark_decrypts_every_layer_on_the_loopback_interface, .timeout = 150)
{
    if (access("/usr/bin/tshark", X_OK) != 0 || access("/usr/bin/dumpcap", X_OK) != 0) {
        if (getenv("SWARMGEN_REQUIRE_TSHARK"))
            cr_assert_fail("tshark is not installed");
        cr_skip_test("tshark is not installed");
    }
    char dir[] = "/tmp/swarmgen-uscap-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char cap[256], keylog[256], lua[256], cmd[1024];
    snprintf(cap, sizeof(cap), "%s/lo.pcap", dir);
    snprintf(keylog, sizeof(keylog), "%s/keylog", dir);
    snprintf(lua, sizeof(lua), "%s/sctp_in_dtls.lua", dir);
    snprintf(cmd, sizeof(cmd),
             "timeout 30 dumpcap -q -i lo -f 'udp and net 127.18.0.0/15' -a duration:10 -w %s "
             ">/dev/null 2>&1 & "
             "echo $!",
             cap);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    int cap_pid = 0;
    cr_assert_eq(fscanf(p, "%d", &cap_pid), 1);
    pclose(p);
    sleep(2);
    char *extra[] = {"--agents",   "8",  "--topology", "ring", "--traffic", "dc:rate=200",
                     "--duration", "2s", "--keylog",   keylog, NULL};
    run_swarm("/tmp/sg-usrsctp-cap.json", 100, extra);
    assert_ok();
    assert_all_up();
    char wait_cmd[64];
    snprintf(wait_cmd, sizeof(wait_cmd), "while kill -0 %d 2>/dev/null; do sleep 0.2; done",
             cap_pid);
    cr_assert_eq(system(wait_cmd), 0);
    char text[16384];
    cr_assert_gt(proc_read_file(keylog, text, sizeof(text)), 0, "the key log was written");
    cr_assert_eq(proc_lines(text), 8, "one CLIENT_RANDOM line per connection:\n%s", text);
    FILE *l = fopen(lua, "w");
    cr_assert_not_null(l);
    fputs("local t = DissectorTable.get(\"dtls.port\")\n"
          "t:add(\"49152-65535\", Dissector.get(\"sctp\"))\n",
          l);
    fclose(l);
    char base[1200], args[1800];
    snprintf(base, sizeof(base),
             "-r %s -o tls.keylog_file:%s -X lua_script:%s -o sctp.checksum:CRC-32C "
             "--enable-heuristic stun_udp --enable-heuristic dtls_udp",
             cap, keylog, lua);
#define COUNT(filter) (snprintf(args, sizeof(args), "%s -Y '%s'", base, filter), tshark_lines(args))
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
    assert_nothing_left();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* SPDX-License-Identifier: MIT */
/* `swarmgen run` flag validation: every bad value gives exactly one line
 * naming the flag and exit code 2, before anything starts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "proc.h"

static struct proc_result r;

static void expect_usage_error(const char *flag, const char *value)
{
    const char *bin = proc_bin("SWARMGEN_BIN");
    char *argv[6] = {(char *)bin, "run", (char *)flag, (char *)value, NULL, NULL};
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 2, "%s %s: exit %d, stderr: %s", flag, value ? value : "",
                 r.exit_code, r.err);
    cr_assert_eq(proc_lines(r.err), 1, "%s: one line expected, got: %s", flag, r.err);
    cr_assert_not_null(strstr(r.err, flag), "%s not named in: %s", flag, r.err);
}

Test(run_cli, bad_agents)
{
    expect_usage_error("--agents", "abc");
    expect_usage_error("--agents", "1");
    expect_usage_error("--agents", "200000");
    expect_usage_error("--agents", "-5");
}

Test(run_cli, bad_topology)
{
    expect_usage_error("--topology", "mesh");
    expect_usage_error("--topology", "kmesh:k=");
    expect_usage_error("--topology", "kmesh:k=0");
}

Test(run_cli, bad_rate_duration_size)
{
    expect_usage_error("--rate", "0");
    expect_usage_error("--rate", "fast");
    expect_usage_error("--duration", "10parsecs");
    expect_usage_error("--duration", "1ms");
    expect_usage_error("--size", "8");
    expect_usage_error("--size", "70000");
}

Test(run_cli, bad_cores_pattern_and_misc)
{
    expect_usage_error("--cores", "0,0");
    expect_usage_error("--cores", "999");
    expect_usage_error("--cores", "a-b");
    expect_usage_error("--pattern", "broadcast");
    expect_usage_error("--burst", "0");
    expect_usage_error("--hugepages", "maybe");
    expect_usage_error("--mbufs", "10");
    expect_usage_error("--seed", "x");
    expect_usage_error("--dp", "/nonexistent/swarmgen-dp");
}

Test(run_cli, bad_traffic_and_its_keys)
{
    expect_usage_error("--traffic", "tcp");
    expect_usage_error("--traffic", "udp:rate=5");
    expect_usage_error("--traffic", "dc:");
    expect_usage_error("--traffic", "dc:speed=5");
    expect_usage_error("--traffic", "dc:rate=0");
    expect_usage_error("--traffic", "dc:rate=5,rate=6");
    expect_usage_error("--traffic", "dc:size=31");
    expect_usage_error("--traffic", "dc:size=65537");
    expect_usage_error("--traffic", "dc:mode=sometimes");
    expect_usage_error("--traffic", "dc:mode=rexmit:65536");
    expect_usage_error("--traffic", "dc:mode=rexmit:");
    expect_usage_error("--traffic", "dc:mode=lifetime:0");
    expect_usage_error("--traffic", "dc:mode=lifetime:600001");
    expect_usage_error("--traffic", "dc:pattern=routed:0");
    expect_usage_error("--traffic", "dc:pattern=flood");
    expect_usage_error("--pattern", "routed:x");
    expect_usage_error("--size", "65537");
}

Test(run_cli, bad_connection_flags)
{
    expect_usage_error("--media", "loud");
    expect_usage_error("--setup-cap", "0");
    expect_usage_error("--setup-cap", "4097");
    expect_usage_error("--setup-attempts", "0");
    expect_usage_error("--setup-attempts", "101");
    expect_usage_error("--setup-timeout", "0s");
    expect_usage_error("--setup-timeout", "soon");
    expect_usage_error("--sctp-bufs", "1023");
    expect_usage_error("--sctp-bufs", "16777217");
    expect_usage_error("--sctp-heartbeat", "999ms");
    expect_usage_error("--sctp-heartbeat", "61m");
    expect_usage_error("--sctp-heartbeat", "never");
    expect_usage_error("--sctp-heartbeat", "");
    expect_usage_error("--keylog", "");
}

/* Runs `swarmgen run ARGS...` and expects one line naming `flag`, exit 2. */
static void expect_combo_error(const char *flag, char *const args[])
{
    char *argv[16] = {(char *)proc_bin("SWARMGEN_BIN"), "run"};
    int n = 2;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 2, "%s: exit %d, stderr: %s", flag, r.exit_code, r.err);
    cr_assert_eq(proc_lines(r.err), 1, "%s: one line expected, got: %s", flag, r.err);
    char want[64];
    snprintf(want, sizeof(want), "swarmgen: %s: ", flag);
    cr_assert_not_null(strstr(r.err, want), "%s not named in: %s", flag, r.err);
}

Test(run_cli, dc_only_flags_and_sizes_that_do_not_fit_the_traffic)
{
    expect_combo_error("--media", (char *[]){"--traffic", "udp", "--media", "audio", NULL});
    expect_combo_error("--sign", (char *[]){"--sign", "--traffic", "udp", NULL});
    expect_combo_error("--keylog", (char *[]){"--traffic", "udp", "--keylog", "/tmp/k.log", NULL});
    expect_combo_error("--setup-cap", (char *[]){"--traffic", "udp", "--setup-cap", "4", NULL});
    expect_combo_error("--sctp-bufs", (char *[]){"--sctp-bufs", "4096", "--traffic", "udp", NULL});
    expect_combo_error("--sctp-heartbeat", (char *[]){"--traffic", "udp", "--sctp-heartbeat", "off", NULL});
    expect_combo_error("--size", (char *[]){"--traffic", "udp", "--size", "1401", NULL});
    expect_combo_error("--pattern", (char *[]){"--traffic", "udp", "--pattern", "echo", NULL});
    /* a signature needs 96 bytes: 32-byte header + 64-byte signature */
    expect_combo_error("--sign", (char *[]){"--sign", "--size", "95", NULL});
    expect_combo_error("--sign", (char *[]){"--traffic", "dc:size=64", "--sign", NULL});
}

/* --srtp-rekey: an interval of 100ms..1h, with --media, on mesh connections only */
Test(run_cli, srtp_rekey_needs_media_and_mesh_connections)
{
    expect_usage_error("--srtp-rekey", "2x");
    expect_usage_error("--srtp-rekey", "50ms");
    expect_usage_error("--srtp-rekey", "2h");
    expect_combo_error("--srtp-rekey", (char *[]){"--srtp-rekey", "2s", NULL});
    expect_combo_error("--srtp-rekey", (char *[]){"--traffic", "udp", "--media", "none", "--srtp-rekey", "2s", NULL});
    expect_combo_error("--srtp-rekey", (char *[]){"--media", "audio", "--srtp-rekey", "2s", "--target",
                                                  "whip:http://1.2.3.4/x", NULL});
    expect_combo_error("--srtp-rekey", (char *[]){"--media", "audio", "--srtp-rekey", "2s", "--external", "echo", NULL});
}

Test(run_cli, bad_backend_and_what_the_kernel_backends_refuse)
{
    expect_usage_error("--backend", "xdp");
    expect_usage_error("--backend", "");
    expect_combo_error("--port", (char *[]){"--backend", "uring", "--port", "net_null0", NULL});
    expect_combo_error("--port", (char *[]){"--port", "net_null0", "--backend", "usrsctp", NULL});
    expect_combo_error("--backend", (char *[]){"--backend", "usrsctp", "--traffic", "udp", NULL});
    expect_combo_error("--media", (char *[]){"--backend", "usrsctp", "--media", "audio", NULL});
    expect_combo_error("--netem", (char *[]){"--netem", "delay=1ms", "--backend", "usrsctp", NULL});
    expect_combo_error("--external", (char *[]){"--backend", "uring", "--external", "echo", NULL});
}

Test(run_cli, help_lists_the_connection_flags_and_the_new_defaults)
{
    char *argv[] = {(char *)proc_bin("SWARMGEN_BIN"), "run", "--help", NULL};
    proc_run(argv, 10, 0, &r);
    cr_assert_eq(r.exit_code, 0);
    const char *want[] = {"--traffic T", "--media M", "--sign", "--keylog FILE", "--setup-cap N",
                          "--setup-attempts N", "--setup-timeout D", "--sctp-bufs N", "--sctp-heartbeat D",
                          "off (default 30s", "--backend B",
                          "(2..131070, default 1000)", "(default kmesh:k=8)", "(default 20000)", "(default dc)"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_assert_not_null(strstr(r.out, want[i]), "help lacks '%s':\n%s", want[i], r.out);
}

Test(run_cli, missing_value_and_unknown_flag)
{
    expect_usage_error("--agents", NULL);
    expect_usage_error("--frobnicate", "1");
}

Test(run_cli, topology_impossible_for_agent_count)
{
    const char *bin = proc_bin("SWARMGEN_BIN");
    char *argv[] = {(char *)bin, "run", "--agents", "10", "--topology", "kmesh:k=20", NULL};
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 2, "exit %d: %s", r.exit_code, r.err);
    cr_assert_eq(proc_lines(r.err), 1, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "--topology"), "%s", r.err);
}

Test(run_cli, unknown_command)
{
    const char *bin = proc_bin("SWARMGEN_BIN");
    char *argv[] = {(char *)bin, "fly", NULL};
    proc_run(argv, 10, 0, &r);
    cr_assert_eq(r.exit_code, 2);
    cr_assert_eq(proc_lines(r.err), 1, "%s", r.err);
}

Test(run_cli, two_sides_flags_and_what_they_refuse)
{
    expect_usage_error("--side-a", "");
    expect_usage_error("--side-b", "net null");
    expect_usage_error("--gateway", "198.18.255.254");
    expect_usage_error("--gateway", "C=198.18.255.254");
    expect_usage_error("--gateway", "A=300.1.1.1");
    expect_combo_error("--side-b", (char *[]){"--side-a", "net_null0", NULL});
    expect_combo_error("--side-a", (char *[]){"--side-b", "net_null1", NULL});
    expect_combo_error("--side-a", (char *[]){"--side-a", "net_null0", "--side-a", "net_null1", NULL});
    expect_combo_error("--gateway", (char *[]){"--gateway", "A=198.18.255.254", NULL});
    expect_combo_error("--port",
                       (char *[]){"--side-a", "net_null0", "--side-b", "net_null1", "--port", "net_null2", NULL});
    expect_combo_error("--side-a", (char *[]){"--side-a", "net_null0", "--side-b", "net_null1", "--backend", "uring",
                                              NULL});
    expect_combo_error("--agents", (char *[]){"--side-a", "net_null0", "--side-b", "net_null1", "--agents", "131070",
                                              NULL});
    /* a gateway outside its side's /16, or on an agent's address */
    expect_combo_error("--gateway", (char *[]){"--side-a", "net_null0", "--side-b", "net_null1", "--gateway",
                                               "A=198.19.255.254", NULL});
    expect_combo_error("--gateway", (char *[]){"--side-a", "net_null0", "--side-b", "net_null1", "--agents", "1000",
                                               "--gateway", "B=198.19.0.10", NULL});
    expect_combo_error("--external", (char *[]){"--side-a", "net_null0", "--side-b", "net_null1", "--external",
                                                "echo", NULL});
    expect_usage_error("--cross", "some");
    expect_combo_error("--cross", (char *[]){"--cross", "all", NULL});
    expect_combo_error("--agents", (char *[]){"--side-a", "net_null0", "--side-b", "net_null1", "--cross", "all",
                                              "--agents", "70000", NULL});
    /* with --cross all the upper half of a side's /16 holds the other side's aliases */
    expect_combo_error("--gateway", (char *[]){"--side-a", "net_null0", "--side-b", "net_null1", "--cross", "all",
                                               "--agents", "1000", "--gateway", "A=198.18.128.10", NULL});
}

Test(run_cli, shard_flags_and_what_they_refuse)
{
    expect_usage_error("--shard", "2/2");
    expect_usage_error("--shard", "0/1");
    expect_usage_error("--shard", "a/b");
    expect_usage_error("--barrier", "nohost");
    expect_usage_error("--barrier", "h:70000");
    expect_usage_error("--barrier-timeout", "0s");
    expect_usage_error("--clock", "gps");
    expect_combo_error("--shard", (char *[]){"--shard", "0/2", "--port", "net_null0", NULL});
    expect_combo_error("--barrier", (char *[]){"--barrier", "h:7800", NULL});
    expect_combo_error("--clock", (char *[]){"--clock", "ptp", NULL});
    expect_combo_error("--port", (char *[]){"--shard", "0/2", "--barrier", "h:7800", NULL});
    expect_combo_error("--shard", (char *[]){"--shard", "0/2", "--barrier", "h:7800", "--side-a", "net_null1",
                                             "--side-b", "net_null2", NULL});
    expect_combo_error("--media", (char *[]){"--shard", "0/2", "--barrier", "h:7800", "--port", "net_null0",
                                             "--media", "audio", NULL});
}

Test(run_cli, peer_mac_must_be_a_unicast_mac_of_another_shard)
{
    char *base[] = {"--shard", "0/2", "--barrier", "h:7800", "--port", "net_null0", "--peer-mac", NULL, NULL};
    const char *bad[] = {"01:00:5e:00:00:01", "00:00:00:00:00:00", "zz:00:00:00:00:01", "0=02:00:00:00:00:01",
                         "2=02:00:00:00:00:01", "1=02:00:00:00:00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        base[7] = (char *)bad[i];
        expect_combo_error("--peer-mac", base);
    }
    expect_combo_error("--peer-mac", (char *[]){"--peer-mac", "02:00:00:00:00:01", NULL});
}

Test(run_cli, bad_signal_token_origin_and_per_client_limit)
{
    static char long_token[300];
    memset(long_token, 'a', 257);
    const char *bad_token[] = {"", "has space", "a=b", "=abc", "t\"q", "tok,en", long_token};
    for (size_t i = 0; i < sizeof(bad_token) / sizeof(bad_token[0]); i++) {
        expect_usage_error("--signal-token", bad_token[i]);
        cr_assert(bad_token[i][0] == '\0' || strstr(r.err, bad_token[i]) == NULL,
                  "the token is a secret: not echoed: %s", r.err);
    }
    const char *bad_origin[] = {"",
                                "example.com",
                                "https://app.example/",
                                "https://app.example/path",
                                "ftp://app.example",
                                "https://",
                                "https://app.example:",
                                "https://app.example:99999",
                                "https://a.example,,https://b.example",
                                "https://user@app.example"};
    for (size_t i = 0; i < sizeof(bad_origin) / sizeof(bad_origin[0]); i++)
        expect_usage_error("--signal-origin", bad_origin[i]);
    expect_usage_error("--signal-max-per-client", "0");
    expect_usage_error("--signal-max-per-client", "65");
    expect_usage_error("--signal-max-per-client", "x");
    /* only with the WHIP server */
    expect_combo_error("--signal-token", (char *[]){"--signal-token", "abc", NULL});
    expect_combo_error("--signal-origin", (char *[]){"--signal-origin", "null", NULL});
    expect_combo_error("--signal-max-per-client", (char *[]){"--signal-max-per-client", "4", NULL});
}

Test(run_cli, help_lists_the_signal_access_flags)
{
    char *argv[] = {(char *)proc_bin("SWARMGEN_BIN"), "run", "--help", NULL};
    proc_run(argv, 10, 0, &r);
    cr_assert_eq(r.exit_code, 0);
    const char *want[] = {"--signal-token TOKEN", "--signal-origin ORIGIN",
                          "--signal-max-per-client N"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_assert_not_null(strstr(r.out, want[i]), "%s missing from --help", want[i]);
}

Test(run_cli, signal_access_flags_are_taken_with_the_whip_server)
{
    char *argv[] = {(char *)proc_bin("SWARMGEN_BIN"),
                    "run",
                    "--agents",
                    "10",
                    "--topology",
                    "kmesh:k=2",
                    "--external",
                    "echo",
                    "--signal-token",
                    "s3cret-Token_1.x~+/==",
                    "--signal-origin",
                    "https://app.example, http://127.0.0.1:8000",
                    "--signal-origin",
                    "null",
                    "--signal-origin",
                    "http://[::1]:8080",
                    "--signal-max-per-client",
                    "4",
                    "--dry-run",
                    NULL};
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 0, "exit %d: %s", r.exit_code, r.err);
}

Test(run_cli, bad_dtls_versions)
{
    expect_usage_error("--dtls", "1.1");
    expect_usage_error("--dtls", "tls1.3");
    expect_usage_error("--dtls", "");
    expect_usage_error("--dtls", "AUTO");
    expect_usage_error("--external-dtls", "1.0");
    expect_usage_error("--external-dtls", "13");
}

/* The flags' combinations: --dtls needs peer connections, 1.3 is not for
 * the usrsctp baseline (mbedTLS 2.28), --external-dtls needs a session. */
static void expect_combination_error(char *const extra[], const char *flag)
{
    const char *bin = proc_bin("SWARMGEN_BIN");
    char *argv[16] = {(char *)bin, "run", "--dry-run"};
    int n = 3;
    for (int i = 0; extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 2, "%s: exit %d, stderr: %s", flag, r.exit_code, r.err);
    cr_assert_eq(proc_lines(r.err), 1, "%s: one line expected, got: %s", flag, r.err);
    cr_assert_not_null(strstr(r.err, flag), "%s not named in: %s", flag, r.err);
}

Test(run_cli, dtls_flags_and_what_they_refuse)
{
    expect_combination_error((char *[]){"--traffic", "udp", "--dtls", "1.2", NULL}, "--dtls");
    expect_combination_error((char *[]){"--backend", "usrsctp", "--dtls", "1.3", NULL}, "--dtls");
    expect_combination_error((char *[]){"--external-dtls", "1.2", NULL}, "--external-dtls");
    /* taken: each value, and --external-dtls with a session */
    const char *bin = proc_bin("SWARMGEN_BIN");
    const char *vals[] = {"1.2", "1.3", "auto"};
    for (int i = 0; i < 3; i++) {
        char *argv[] = {(char *)bin, "run", "--dry-run", "--agents", "10", "--dtls", (char *)vals[i],
                        "--external", "echo", "--external-dtls", (char *)vals[i], NULL};
        proc_run(argv, 20, 0, &r);
        cr_assert_eq(r.exit_code, 0, "--dtls %s: exit %d, stderr: %s", vals[i], r.exit_code, r.err);
    }
    char *argv[] = {(char *)bin, "run", "--dry-run", "--agents", "10", "--backend", "usrsctp", "--dtls", "1.2", NULL};
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 0, "usrsctp takes --dtls 1.2: exit %d, stderr: %s", r.exit_code, r.err);
}

/* --dtls-key-update N: a record count 1..2^32 - 2, for the mesh's 1.3 */
Test(run_cli, dtls_key_update_values_and_what_it_refuses)
{
    expect_usage_error("--dtls-key-update", "0");
    expect_usage_error("--dtls-key-update", "-1");
    expect_usage_error("--dtls-key-update", "many");
    expect_usage_error("--dtls-key-update", "4294967295");
    expect_usage_error("--dtls-key-update", "");
    expect_combination_error((char *[]){"--traffic", "udp", "--dtls-key-update", "100", NULL}, "--dtls-key-update");
    expect_combination_error((char *[]){"--dtls", "1.2", "--dtls-key-update", "100", NULL}, "--dtls-key-update");
    expect_combination_error((char *[]){"--backend", "usrsctp", "--dtls-key-update", "100", NULL},
                             "--dtls-key-update");
    const char *bin = proc_bin("SWARMGEN_BIN");
    const char *vals[] = {"1.3", "auto"};
    for (int i = 0; i < 2; i++) {
        char *argv[] = {(char *)bin, "run", "--dry-run", "--agents", "10", "--dtls", (char *)vals[i],
                        "--dtls-key-update", "4294967294", NULL};
        proc_run(argv, 20, 0, &r);
        cr_assert_eq(r.exit_code, 0, "--dtls %s --dtls-key-update: exit %d, stderr: %s", vals[i], r.exit_code, r.err);
    }
}

Test(run_cli, bad_external_idle)
{
    expect_usage_error("--external-idle", "soon");
    expect_usage_error("--external-idle", "500ms"); /* under a second, and not 0 */
    expect_usage_error("--external-idle", "8d");
    expect_usage_error("--external-idle", "-1s");
    expect_combo_error("--external-idle", (char *[]){"--external-idle", "30s", NULL});
    char *argv[] = {(char *)proc_bin("SWARMGEN_BIN"), "run", "--help", NULL};
    proc_run(argv, 10, 0, &r);
    cr_assert_eq(r.exit_code, 0);
    cr_assert_not_null(strstr(r.out, "--external-idle D"), "--external-idle missing from --help");
}

Test(run_cli, ramped_joins_and_the_target_gateway)
{
    expect_combo_error("--join-ramp", (char *[]){"--join-ramp", NULL});
    expect_combo_error("--target-gateway", (char *[]){"--target-gateway", "198.19.255.254", NULL});
    expect_usage_error("--target-gateway", "router");
    expect_usage_error("--target-gateway", "198.19.255.254/31");
    expect_combo_error("--target-gateway",
                       (char *[]){"--target", "whip:http://h/x", "--target-gateway", "10.0.0.1", NULL});
    expect_combo_error("--target-gateway",
                       (char *[]){"--target", "whip:http://h/x", "--target-gateway", "198.18.0.5", NULL});
    /* ramped joins with no rate anywhere: nobody would ever join */
    expect_combo_error("--join-ramp", (char *[]){"--target", "whip:http://h/x", "--join-ramp", "--dry-run", NULL});
}

Test(run_cli, target_through_relay_is_taken_and_keeps_what_relay_needs)
{
    /* --target with --relay: target sessions through the TURN server */
    char *argv[] = {(char *)proc_bin("SWARMGEN_BIN"), "run", "--agents", "10", "--topology", "ring", "--cores",
                    "0", "--target", "janus:http://127.0.0.1:8088/janus", "--media", "audio", "--relay",
                    "turn:198.19.255.254:3478,user=u,pass=p", "--dry-run", NULL};
    proc_run(argv, 20, 0, &r);
    cr_assert_eq(r.exit_code, 0, "exit %d: %s", r.exit_code, r.err);
    /* what --relay refuses it still refuses with --target: more than one core */
    expect_combo_error("--relay", (char *[]){"--cores", "0-1", "--target", "janus:http://127.0.0.1:8088/janus",
                                             "--relay", "turn:198.19.255.254:3478,user=u,pass=p", NULL});
}

Test(run_cli, bad_churn)
{
    expect_usage_error("--churn", "0");
    expect_usage_error("--churn", "0%");
    expect_usage_error("--churn", "101%");
    expect_usage_error("--churn", "-1");
    expect_usage_error("--churn", "fast");
    expect_usage_error("--churn", "1.2345");
    expect_usage_error("--churn", "1..2");
    expect_usage_error("--churn", "%");
    expect_usage_error("--churn", "");
    expect_usage_error("--churn", "100001");
    expect_combo_error("--churn", (char *[]){"--traffic", "udp", "--churn", "5", NULL});
    expect_combo_error("--churn", (char *[]){"--backend", "usrsctp", "--traffic", "dc", "--churn", "5%", NULL});
    expect_combo_error("--churn", (char *[]){"--backend", "uring", "--traffic", "dc", "--churn", "5%", NULL});
}

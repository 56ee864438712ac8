/* SPDX-License-Identifier: MIT */
/* --traffic and --pattern parsing, and what `swarmgen run` makes of them
 * with the plain flags (in-process: only valid command lines here; the bad
 * ones exit and are checked in test_run_cli.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "run_opts.h"
#include "traffic_opts.h"

static struct ctl_traffic t;
static char err[256];

Test(traffic_opts, udp_and_dc_defaults)
{
    cr_assert_eq(ctl_traffic_parse("udp", &t, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(t.kind, RI_TRAFFIC_UDP);
    cr_assert_eq(ctl_traffic_parse("dc", &t, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(t.kind, RI_TRAFFIC_DC);
    cr_assert_eq(t.dc_type, CTL_DC_RELIABLE);
    cr_assert_eq(t.rate, 0, "rate not given: --rate applies");
    cr_assert_eq(t.size, 0);
    cr_assert(!t.have_pattern);
}

Test(traffic_opts, dc_keys)
{
    cr_assert_eq(ctl_traffic_parse("dc:rate=20k,size=65536,mode=rexmit:3,pattern=routed:100", &t,
                                   err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(t.rate, 20000);
    cr_assert_eq(t.size, 65536);
    cr_assert_eq(t.dc_type, CTL_DC_REXMIT);
    cr_assert_eq(t.dc_reliability, 3);
    cr_assert(t.have_pattern);
    cr_assert_eq(t.pattern.pattern, RI_PATTERN_ROUTED);
    cr_assert_eq(t.pattern.sample, 100);
    cr_assert_eq(ctl_traffic_parse("dc:mode=lifetime:600000,pattern=echo", &t, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_eq(t.dc_type, CTL_DC_TIMED);
    cr_assert_eq(t.dc_reliability, 600000);
    cr_assert_eq(t.pattern.pattern, RI_PATTERN_ECHO);
    cr_assert_eq(ctl_traffic_parse("dc:mode=unordered", &t, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(t.dc_type, CTL_DC_UNORDERED);
    cr_assert_eq(ctl_traffic_parse("dc:mode=rexmit:0", &t, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(t.dc_type, CTL_DC_REXMIT);
    cr_assert_eq(t.dc_reliability, 0);
    char mode[32];
    ctl_dc_mode_format(CTL_DC_TIMED, 250, mode, sizeof(mode));
    cr_assert_str_eq(mode, "lifetime:250");
}

Test(traffic_opts, refusals_say_why)
{
    const char *bad[] = {"",
                         "dc:",
                         "dc:rate",
                         "dc:rate=",
                         "dc:=5",
                         "dc:size=31",
                         "dc:mode=rexmit:-1",
                         "dc:mode=lifetime:1.5",
                         "dc:pattern=routed:131071",
                         "dc:mode=reliable,mode=unordered",
                         "udp:size=100",
                         "DC",
                         "dc,rate=5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        cr_assert_eq(ctl_traffic_parse(bad[i], &t, err, sizeof(err)), -EINVAL, "accepted '%s'",
                     bad[i]);
        cr_assert_neq(err[0], '\0', "no reason for '%s'", bad[i]);
    }
}

static struct ctl_run_opts o;

static void parse(char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    ctl_run_opts_parse(&o, argc, argv);
}

Test(traffic_opts, run_defaults_set_up_a_small_real_swarm)
{
    parse((char *[]){"run", NULL});
    cr_assert_eq(o.agents, 1000);
    cr_assert_str_eq(o.topology, "kmesh:k=8");
    cr_assert_eq(o.traffic, RI_TRAFFIC_DC);
    cr_assert_eq(o.dc_type, CTL_DC_RELIABLE);
    cr_assert_eq(o.rate, 20000);
    cr_assert_eq(o.duration_ns, 20000000000ull);
    cr_assert_eq(o.msg_size, 64);
    cr_assert_eq(o.pattern, RI_PATTERN_ROUTED);
    cr_assert_eq(o.setup_cap, 16);
    cr_assert_eq(o.setup_attempts, 3);
    cr_assert_eq(o.setup_timeout_ns, 600000000000ull);
    cr_assert(o.setup_timeout_auto);
    cr_assert_eq(o.sctp_bufs, 0, "computed from the edges later");
    cr_assert_eq(o.sctp_heartbeat_ms, 0, "the dataplane's default");
    cr_assert_eq(ctl_run_sctp_heartbeat_ms(&o), 30000);
    cr_assert_eq(o.media, RI_MEDIA_NONE);
    cr_assert(!o.sign);
}

Test(traffic_opts, dc_keys_override_the_plain_flags_in_any_order)
{
    parse((char *[]){"run", "--traffic", "dc:rate=5k,size=300,pattern=routed:50", "--rate", "9000",
                     "--size", "100", "--pattern", "neighbors", NULL});
    cr_assert_eq(o.rate, 5000);
    cr_assert_eq(o.msg_size, 300);
    cr_assert_eq(o.pattern, RI_PATTERN_ROUTED);
    cr_assert_eq(o.route_sample, 50);
    parse((char *[]){"run", "--rate", "9000", "--pattern", "routed:7", "--traffic", "udp", NULL});
    cr_assert_eq(o.traffic, RI_TRAFFIC_UDP);
    cr_assert_eq(o.rate, 9000);
    cr_assert_eq(o.route_sample, 7);
}

Test(traffic_opts, sign_raises_the_default_size_only)
{
    parse((char *[]){"run", "--sign", NULL});
    cr_assert(o.sign);
    cr_assert_eq(o.msg_size, CTL_SIGNED_SIZE_MIN, "32-byte header + 64-byte signature");
    parse((char *[]){"run", "--sign", "--size", "500", NULL});
    cr_assert_eq(o.msg_size, 500);
    parse((char *[]){"run", "--traffic", "dc:mode=lifetime:20", "--media", "video", "--keylog",
                     "k.log", "--setup-cap", "4096", "--setup-attempts", "100", "--setup-timeout",
                     "30s", "--sctp-bufs", "2048", NULL});
    cr_assert_eq(o.dc_type, CTL_DC_TIMED);
    cr_assert_eq(o.dc_reliability, 20);
    cr_assert_eq(o.media, RI_MEDIA_VIDEO);
    cr_assert_str_eq(o.keylog_path, "k.log");
    cr_assert_eq(o.setup_cap, 4096);
    cr_assert_eq(o.setup_attempts, 100);
    cr_assert_eq(o.setup_timeout_ns, 30000000000ull);
    cr_assert(!o.setup_timeout_auto, "given: no longer sized from the rate");
    cr_assert_eq(o.sctp_bufs, 2048);
}

Test(traffic_opts, sctp_heartbeat_is_a_duration_or_off)
{
    parse((char *[]){"run", "--sctp-heartbeat", "off", NULL});
    cr_assert_lt(o.sctp_heartbeat_ms, 0, "negative: none");
    cr_assert_eq(ctl_run_sctp_heartbeat_ms(&o), 0);
    parse((char *[]){"run", "--sctp-heartbeat", "1s", NULL});
    cr_assert_eq(o.sctp_heartbeat_ms, 1000);
    parse((char *[]){"run", "--sctp-heartbeat=2m", NULL});
    cr_assert_eq(o.sctp_heartbeat_ms, 120000);
    parse((char *[]){"run", "--sctp-heartbeat", "1.5s", NULL});
    cr_assert_eq(o.sctp_heartbeat_ms, 1500);
    parse((char *[]){"run", "--sctp-heartbeat", "1h", NULL});
    cr_assert_eq(o.sctp_heartbeat_ms, 3600000);
    cr_assert_eq(ctl_run_sctp_heartbeat_ms(&o), 3600000);
    parse((char *[]){"run", "--sctp-heartbeat", "30s", NULL});
    cr_assert_eq(o.sctp_heartbeat_ms, 30000, "given: passed as given, not as the default");
}

Test(traffic_opts, computed_sizes)
{
    /* 16384 + min(2 x edges, 2 x rate x ceil(size / 1200)) / cores */
    cr_assert_eq(ctl_run_sctp_bufs(4001, 2, 20000, 64), 16384 + 4001,
                 "the quickstart: one buffer per endpoint is less than two seconds of the rate");
    cr_assert_eq(ctl_run_sctp_bufs(1000000, 2, 20000, 64), 16384 + 20000,
                 "a million connections at 20,000 msg/s: two seconds of a core's share");
    cr_assert_eq(ctl_run_sctp_bufs(100000, 4, 20000, 64), 16384 + 10000);
    cr_assert_eq(ctl_run_sctp_bufs(1000000, 2, 100000, 64), 16384 + 100000, "a spike's peak");
    cr_assert_eq(ctl_run_sctp_bufs(1000000, 2, 20000, 1200), 16384 + 20000, "one buffer");
    cr_assert_eq(ctl_run_sctp_bufs(1000000, 2, 20000, 1201), 16384 + 40000, "two buffers");
    cr_assert_eq(ctl_run_sctp_bufs(1000000, 2, 20000, 65536), 16384 + 1000000,
                 "55 buffers a message: never more than one per endpoint");
    cr_assert_eq(ctl_run_sctp_bufs(1000000, 3, 1, 64), 16384 + 0, "2 / 3 rounds down");
    cr_assert_eq(ctl_run_sctp_bufs(1ull << 32, 1, 1000000000ull, 65536), CTL_SCTP_BUFS_MAX,
                 "capped at the flag's maximum");
    cr_assert_eq(ctl_run_sctp_bufs(1ull << 32, 1, UINT64_MAX, UINT32_MAX), CTL_SCTP_BUFS_MAX,
                 "no overflow");
    parse((char *[]){"run", "--keylog", "/tmp/k", "--setup-attempts", "5", NULL});
    cr_assert_eq(ctl_run_keylog_max(&o, 4001), 4001 * 5);
    cr_assert_eq(ctl_run_keylog_max(&o, 300000), CTL_KEYLOG_MAX);
    parse((char *[]){"run", NULL});
    cr_assert_eq(ctl_run_keylog_max(&o, 4001), 0, "no --keylog, no lines");
}

Test(traffic_opts, media_specs)
{
    struct ctl_media m;
    char why[160];
    cr_assert_eq(ctl_media_parse("none", &m, why, sizeof(why)), 0);
    cr_assert_eq(m.kind, RI_MEDIA_NONE);
    cr_assert_eq(ctl_media_parse("audio", &m, why, sizeof(why)), 0);
    cr_assert_eq(m.kind, RI_MEDIA_AUDIO);
    cr_assert_eq(ctl_media_parse("video", &m, why, sizeof(why)), 0);
    cr_assert(m.kind == RI_MEDIA_VIDEO && m.bitrate == 0 && m.fps == 0 && m.payload == 0, "defaults left to the stream");
    cr_assert_eq(ctl_media_parse("video:bitrate=25M,fps=60,payload=1172", &m, why, sizeof(why)), 0);
    cr_assert_eq(m.bitrate, 25000000);
    cr_assert_eq(m.fps, 60);
    cr_assert_eq(m.payload, 1172);
    const char *bad[] = {"loud", "video:", "video:bitrate=7k", "video:bitrate=5G", "video:fps=0", "video:fps=1001",
                         "video:payload=99", "video:payload=1401", "video:bitrate=1M,bitrate=2M", "video:size=3",
                         "audio:bitrate=1M"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = 0;
        cr_assert_eq(ctl_media_parse(bad[i], &m, why, sizeof(why)), -EINVAL, "%s", bad[i]);
        cr_assert_neq(why[0], 0, "%s: a reason", bad[i]);
    }
    parse((char *[]){"run", "--media", "video:bitrate=10M,payload=1172", NULL});
    cr_assert_eq(o.media, RI_MEDIA_VIDEO);
    cr_assert_eq(o.media_bitrate, 10000000);
    cr_assert_eq(o.media_payload, 1172);
    cr_assert_eq(o.media_fps, 0);
}

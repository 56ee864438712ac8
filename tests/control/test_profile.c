/* SPDX-License-Identifier: MIT */
/* Load profiles: presets, ramps, scenario files and their error lines. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"

static struct ctl_profile p;

static const char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/sg-profile-%d.yaml", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

Test(profile, presets_cover_the_duration)
{
    const char *names[] = {"constant", "ramp", "load", "spike", "soak"};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(ctl_profile_preset(names[i], 1000, 60000000000ull, &p), 0, "%s", names[i]);
        cr_assert_eq(ctl_profile_duration(&p), 60000000000ull, "%s", names[i]);
    }
    cr_assert_eq(ctl_profile_preset("nope", 1000, 1, &p), -ENOENT);
}

Test(profile, load_steps_through_ten_to_a_thousand_percent)
{
    ctl_profile_preset("load", 1000, 60000000000ull, &p);
    const double want[] = {100, 500, 1000, 5000, 10000, 100};
    cr_assert_eq(p.n, 6);
    for (uint32_t i = 0; i < 6; i++) {
        uint32_t ph;
        double rate, agents;
        ctl_profile_at(&p, ctl_profile_phase_start(&p, i) + 1000000000ull, &ph, &rate, &agents);
        cr_assert_eq(ph, i);
        cr_assert_float_eq(rate, want[i], 1e-9, "phase %u rate %g", i, rate);
    }
}

Test(profile, ramp_is_linear_in_rate_and_agents)
{
    ctl_profile_preset("ramp", 1000, 100000000000ull, &p);
    /* ramp phase: 10 s .. 50 s, rate 100 -> 1000, agents 10 % -> 100 % */
    uint32_t ph;
    double rate, agents;
    ctl_profile_at(&p, 30000000000ull, &ph, &rate, &agents);
    cr_assert_str_eq(p.phase[ph].name, "ramp");
    cr_assert_float_eq(rate, 550, 1e-6);
    cr_assert_float_eq(agents, 0.55, 1e-9);
    ctl_profile_at(&p, 200000000000ull, &ph, &rate, &agents); /* past the end */
    cr_assert_eq(ph, p.n - 1);
    cr_assert_float_eq(rate, 100, 1e-6);
}

Test(profile, spike_is_five_times_the_base)
{
    ctl_profile_preset("spike", 2000, 20000000000ull, &p);
    uint32_t ph;
    double rate, agents;
    ctl_profile_at(&p, 8500000000ull, &ph, &rate, &agents);
    cr_assert_eq(p.phase[ph].kind, CTL_PHASE_SPIKE);
    cr_assert_float_eq(rate, 10000, 1e-9);
    cr_assert_float_eq(ctl_profile_peak_rate(&p), 10000, 1e-9, "what --sctp-bufs is sized for");
    ctl_profile_preset("load", 2000, 20000000000ull, &p);
    cr_assert_float_eq(ctl_profile_peak_rate(&p), 20000, 1e-9, "the 1000 %% step");
    ctl_profile_preset("constant", 2000, 20000000000ull, &p);
    cr_assert_float_eq(ctl_profile_peak_rate(&p), 2000, 1e-9);
}

Test(profile, scenario_file_with_ramps_percentages_and_sla)
{
    const char *path = write_tmp("name: checkout\n"
                                 "sla: p99<5ms\n"
                                 "phases:\n"
                                 "  - name: warm\n"
                                 "    duration: 2s\n"
                                 "    rate: 10%\n"
                                 "    agents: 50%\n"
                                 "  - name: climb\n"
                                 "    duration: 4s\n"
                                 "    rate: {from: 10%, to: 3000}\n"
                                 "  - name: burst\n"
                                 "    duration: 500ms\n"
                                 "    rate: 200%\n"
                                 "    spike: true\n");
    char err[256] = "";
    cr_assert_eq(ctl_profile_load(path, 1000, &p, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(p.name, "checkout");
    cr_assert_str_eq(p.sla, "p99<5ms");
    cr_assert_eq(p.n, 3);
    cr_assert_float_eq(p.phase[0].rate_from, 100, 1e-9);
    cr_assert_float_eq(p.phase[0].agents_to, 0.5, 1e-9);
    cr_assert_float_eq(p.phase[1].rate_from, 100, 1e-9);
    cr_assert_float_eq(p.phase[1].rate_to, 3000, 1e-9);
    cr_assert_eq(p.phase[2].kind, CTL_PHASE_SPIKE);
    cr_assert_eq(ctl_profile_duration(&p), 6500000000ull);
    cr_assert_float_eq(ctl_profile_peak_rate(&p), 3000, 1e-9, "a ramp's end beats 200 %%");
    unlink(path);
}

static void expect_error(const char *text, const char *line_and_field)
{
    const char *path = write_tmp(text);
    char err[256] = "";
    cr_assert_eq(ctl_profile_load(path, 1000, &p, err, sizeof(err)), -EINVAL, "accepted: %s", text);
    char want[128];
    snprintf(want, sizeof(want), "%s:%s", path, line_and_field);
    cr_assert_not_null(strstr(err, want), "error '%s' does not name '%s'", err, want);
    unlink(path);
}

Test(profile, scenario_errors_name_file_line_and_field)
{
    expect_error("phases:\n  - name: a\n    duration: forever\n", "3: duration");
    expect_error("phases:\n  - name: a\n    duration: 1s\n    rate: lots\n", "4: rate");
    expect_error("phases:\n  - name: a\n    duration: 1s\n    agents: 150%\n", "4: agents");
    expect_error("phases:\n  - name: a\n    duration: 1s\n    colour: red\n", "4: colour");
    expect_error("phases:\n  - name: a\n    rate: 5%\n", "2: duration");
    expect_error("phases:\n  - name: a\n    duration: 1s\n    rate: {from: 1%}\n", "4: rate");
    expect_error("phases: [\n", "");
    expect_error("name: x\n", "1: phases");
}

Test(profile, missing_file_is_an_io_error)
{
    char err[256];
    cr_assert_eq(ctl_profile_load("/nonexistent/x.yaml", 1, &p, err, sizeof(err)), -ENOENT);
    cr_assert_not_null(strstr(err, "/nonexistent/x.yaml"));
}

Test(profile, joins_follow_the_rate_ramp_of_a_preset)
{
    cr_assert_eq(ctl_profile_preset("ramp", 1000, 10000000000ull, &p), 0);
    cr_assert(!ctl_profile_has_joins(&p));
    ctl_profile_set_joins(&p, 1000, 20);
    /* warm-up 1 s at 10 %, ramp 4 s 10 -> 100 %, sustained 4 s, cool-down 1 s */
    cr_assert_float_eq(ctl_profile_join_at(&p, 500000000ull), 2, 1e-9);
    cr_assert_float_eq(ctl_profile_join_at(&p, 3000000000ull), 11, 1e-9);
    cr_assert_float_eq(ctl_profile_join_at(&p, 7000000000ull), 20, 1e-9);
    cr_assert_float_eq(ctl_profile_join_at(&p, 11000000000ull), 0, 1e-9, "none past the end");
}

Test(profile, scenario_join_rate_absolute_or_share_of_join_rate)
{
    const char *path = write_tmp("phases:\n"
                                 "  - name: climb\n    duration: 6s\n    join_rate: {from: 2, to: 20}\n"
                                 "  - name: half\n    duration: 2s\n    join_rate: 50%\n"
                                 "  - name: follow\n    duration: 2s\n    rate: 200%\n");
    char err[256] = "";
    cr_assert_eq(ctl_profile_load(path, 1000, &p, err, sizeof(err)), 0, "%s", err);
    unlink(path);
    cr_assert(ctl_profile_has_joins(&p));
    ctl_profile_set_joins(&p, 1000, 30);
    cr_assert_float_eq(ctl_profile_join_at(&p, 0), 2, 1e-9);
    cr_assert_float_eq(ctl_profile_join_at(&p, 3000000000ull), 11, 1e-9);
    cr_assert_float_eq(ctl_profile_join_at(&p, 7000000000ull), 15, 1e-9, "50 %% of --join-rate 30");
    cr_assert_float_eq(ctl_profile_join_at(&p, 9000000000ull), 60, 1e-9, "no join_rate: --join-rate x 200 %%");
    expect_error("phases:\n  - name: a\n    duration: 1s\n    join_rate: {from: 1}\n", "4: join_rate");
    expect_error("phases:\n  - name: a\n    duration: 1s\n    join_rate: many\n", "4: join_rate");
}

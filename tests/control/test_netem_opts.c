/* SPDX-License-Identifier: MIT */
/* --netem parsing and link-class assignment. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "netem_opts.h"

static struct ri_netem n;
static char err[256];

Test(netem_opts, full_spec)
{
    cr_assert_eq(ctl_netem_parse("delay=10ms,jitter=2ms,loss=5%,dup=0.5%,reorder=10%,rate=100Mbit", &n, err, sizeof(err)), 0, "%s", err);
    cr_assert(n.enabled);
    cr_assert_eq(n.delay_ns, 10000000);
    cr_assert_eq(n.jitter_ns, 2000000);
    cr_assert_eq(n.loss_ppm, 50000);
    cr_assert_eq(n.dup_ppm, 5000);
    cr_assert_eq(n.reorder_ppm, 100000);
    cr_assert_eq(n.rate_bps, 100000000);
    cr_assert_str_eq(n.name, "all");
}

Test(netem_opts, gilbert_elliott_and_classes)
{
    cr_assert_eq(ctl_netem_parse("class=wan,share=25%,ge=1%/20%/80%", &n, err, sizeof(err)), 0, "%s", err);
    cr_assert(n.gilbert);
    cr_assert_eq(n.ge_p_ppm, 10000);
    cr_assert_eq(n.ge_r_ppm, 200000);
    cr_assert_eq(n.ge_bad_loss_ppm, 800000);
    cr_assert_eq(n.share_ppm, 250000);
    cr_assert_str_eq(n.name, "wan");
}

Test(netem_opts, outage_and_flap)
{
    cr_assert_eq(ctl_netem_parse("outage=3s@10s", &n, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(n.outage_ns, 3000000000ull);
    cr_assert_eq(n.outage_at_ns, 10000000000ull);
    cr_assert_eq(n.flap_down_ns, 0);
    cr_assert_eq(ctl_netem_parse("outage=500ms@0s,class=wan,share=10%,flap=5s/1s", &n, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(n.outage_ns, 500000000ull);
    cr_assert_eq(n.outage_at_ns, 0);
    cr_assert_eq(n.flap_up_ns, 5000000000ull);
    cr_assert_eq(n.flap_down_ns, 1000000000ull);
    const char *bad[] = {"outage=3s", "outage=@1s", "outage=0s@1s", "outage=3s@", "outage=2h@1s", "flap=5s",
                         "flap=5s/0s", "flap=0s/1s", "flap=5s/1s/2s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        cr_assert_lt(ctl_netem_parse(bad[i], &n, err, sizeof(err)), 0, "accepted '%s'", bad[i]);
        cr_assert(strstr(err, "outage") || strstr(err, "flap"), "'%s': %s", bad[i], err);
    }
}

Test(netem_opts, rejects_bad_specs)
{
    const char *bad[] = {"", "delay", "delay=soon", "loss=5", "loss=101%", "rate=fast",
                         "ge=1%", "class=x", "share=10%", "loss=1%,ge=1%/2%", "jitter=5ms,delay=1ms",
                         "colour=red"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(ctl_netem_parse(bad[i], &n, err, sizeof(err)), -EINVAL, "accepted '%s'", bad[i]);
}

Test(netem_opts, classes_get_their_share_of_edges)
{
    struct ri_netem c[3];
    memset(c, 0, sizeof(c));
    c[1].share_ppm = 200000;
    c[2].share_ppm = 100000;
    uint32_t count[3] = {0};
    for (uint64_t e = 0; e < 100000; e++)
        count[ctl_netem_class_of(c, 3, 42, e)]++;
    cr_assert(count[1] > 19000 && count[1] < 21000, "class 1: %u", count[1]);
    cr_assert(count[2] > 9000 && count[2] < 11000, "class 2: %u", count[2]);
    /* deterministic */
    cr_assert_eq(ctl_netem_class_of(c, 3, 42, 77), ctl_netem_class_of(c, 3, 42, 77));
}

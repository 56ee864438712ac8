/* SPDX-License-Identifier: MIT */
/* --relay turn:HOST:PORT,user=U,pass=P[,realm=R][,transport=udp|tcp] parsing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "relay_opts.h"

static struct ctl_relay r;
static char err[256];

Test(relay_opts, full_spec)
{
    cr_assert_eq(ctl_relay_parse("turn:198.19.255.254:3478,user=swarm,pass=s3cret,realm=example.org,transport=udp", &r,
                                 err, sizeof(err)), 0, "%s", err);
    cr_assert(r.on);
    cr_assert_eq(r.ip, 0xc613fffeu);
    cr_assert_eq(r.port, 3478);
    cr_assert_str_eq(r.user, "swarm");
    cr_assert_str_eq(r.pass, "s3cret");
    cr_assert_str_eq(r.realm, "example.org");
}

Test(relay_opts, minimal_and_order_free)
{
    cr_assert_eq(ctl_relay_parse("turn:10.0.0.1:1,pass=p=q,user=u", &r, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(r.ip, 0x0a000001u);
    cr_assert_eq(r.port, 1);
    cr_assert_str_eq(r.pass, "p=q"); /* the first '=' splits */
    cr_assert_str_eq(r.user, "u");
    cr_assert_str_eq(r.realm, "");
}

Test(relay_opts, tcp_parses_and_tls_is_not_supported)
{
    cr_assert_eq(ctl_relay_parse("turn:10.0.0.1:3478,user=u,pass=p,transport=tcp", &r, err, sizeof(err)), 0, "%s", err);
    cr_assert(r.on);
    cr_assert(r.tcp);
    cr_assert_eq(ctl_relay_parse("turn:10.0.0.1:3478,user=u,pass=p", &r, err, sizeof(err)), 0, "%s", err);
    cr_assert_not(r.tcp, "udp by default");
    cr_assert_eq(ctl_relay_parse("turns:10.0.0.1:5349,user=u,pass=p", &r, err, sizeof(err)), -ENOTSUP);
    cr_assert(strstr(err, "not supported yet"), "%s", err);
    cr_assert_not(r.on);
}

Test(relay_opts, bad_syntax)
{
    const char *bad[] = {
        "",
        "stun:10.0.0.1:3478,user=u,pass=p",
        "turn:10.0.0.1,user=u,pass=p",          /* no port */
        "turn:10.0.0.1:0,user=u,pass=p",        /* port 0 */
        "turn:10.0.0.1:65536,user=u,pass=p",
        "turn:10.0.0.1:34x,user=u,pass=p",
        "turn:example.org:3478,user=u,pass=p",  /* not IPv4 */
        "turn:[::1]:3478,user=u,pass=p",
        "turn:0.0.0.0:3478,user=u,pass=p",
        "turn:10.0.0.1:3478",                   /* no credentials */
        "turn:10.0.0.1:3478,user=u",
        "turn:10.0.0.1:3478,pass=p",
        "turn:10.0.0.1:3478,user=,pass=p",
        "turn:10.0.0.1:3478,user=u,pass=p,realm",
        "turn:10.0.0.1:3478,user=u,pass=p,transport=sctp",
        "turn:10.0.0.1:3478,user=u,pass=p,lifetime=600",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        cr_assert_eq(ctl_relay_parse(bad[i], &r, err, sizeof(err)), -EINVAL, "'%s' accepted", bad[i]);
        cr_assert(err[0] && !strchr(err, '\n'), "'%s': no one-line reason", bad[i]);
        cr_assert_not(r.on);
    }
}

Test(relay_opts, password_never_repeated)
{
    char longpass[200];
    memset(longpass, 'x', sizeof(longpass) - 1);
    longpass[sizeof(longpass) - 1] = 0;
    char spec[300];
    snprintf(spec, sizeof(spec), "turn:10.0.0.1:3478,user=u,pass=%s", longpass);
    cr_assert_eq(ctl_relay_parse(spec, &r, err, sizeof(err)), -EINVAL);
    cr_assert_null(strstr(err, "xxxx"), "%s", err);
    cr_assert_eq(ctl_relay_parse("turn:10.0.0.1:3478,user=u,pass=hunter2,foo=1", &r, err, sizeof(err)), -EINVAL);
    cr_assert_null(strstr(err, "hunter2"), "%s", err);
}

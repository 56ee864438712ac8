/* SPDX-License-Identifier: MIT */
/*
 * run_flags: the flags of `swarmgen run` as one table (run_flags[]): a row
 * per flag with its usage text and a small handler that checks the value
 * and stores it; `swarmgen run --help` prints the same rows. What the
 * flags mean together is settled after the last one (run_opts.c).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "barrier.h"
#include "compare.h"
#include "netem_opts.h"
#include "profile.h"
#include "run_opts_internal.h"
#include "sla.h"
#include "target.h"
#include "topo.h"

#define MAX_DURATION_NS (7ull * 24 * 3600 * 1000000000ull)

static struct ctl_run_parse *state(void *ctx)
{
    return ctx;
}

static struct ctl_run_opts *opts(void *ctx)
{
    return state(ctx)->o;
}

/* Notes a flag that only --traffic dc takes (the first one is named). */
static void dc_only(void *ctx, const char *flag)
{
    if (!state(ctx)->dc_only_flag)
        state(ctx)->dc_only_flag = flag;
}

/* ---- the handlers, in the order of the usage ---- */

static void set_agents(void *ctx, const char *s)
{
    opts(ctx)->agents = (uint32_t)cli_count("--agents", s, 2, CTL_MAX_AGENTS_RUN, "a whole number");
}

static void set_topology(void *ctx, const char *s)
{
    struct ctl_topo_spec spec;
    ctl_topo_flag("--topology", s, &spec);
    snprintf(opts(ctx)->topology, sizeof(opts(ctx)->topology), "%s", s);
}

static void set_traffic(void *ctx, const char *s)
{
    char err[256];
    if (ctl_traffic_parse(s, &state(ctx)->traffic, err, sizeof(err)) < 0)
        cli_fail("--traffic", "%s", err);
}

static void set_rate(void *ctx, const char *s)
{
    if (cli_parse_u64(s, 1, 1000000000ull, &opts(ctx)->rate) < 0)
        cli_fail("--rate", "'%s' is not a message rate in 1..1G per second", s);
}

static void set_duration(void *ctx, const char *s)
{
    if (cli_parse_duration(s, 100000000ull, MAX_DURATION_NS, &opts(ctx)->duration_ns) < 0)
        cli_fail("--duration",
                 "'%s' is not a duration between 100ms and 7 days (e.g. 20s, 500ms, 2m)", s);
}

static void set_size(void *ctx, const char *s)
{
    uint64_t v;
    if (cli_parse_u64(s, CTL_DC_SIZE_MIN, CTL_DC_SIZE_MAX, &v) < 0)
        cli_fail("--size", "'%s' is not a message size in 32..65536 bytes (dc) or 32..1400 (udp)",
                 s);
    opts(ctx)->msg_size = (uint32_t)v;
    state(ctx)->size_given = true;
}

static void set_pattern(void *ctx, const char *s)
{
    struct ctl_pattern p;
    char err[256];
    if (ctl_pattern_parse(s, &p, err, sizeof(err)) < 0)
        cli_fail("--pattern", "%s", err);
    opts(ctx)->pattern = p.pattern;
    opts(ctx)->route_sample = p.sample;
}

static void set_media(void *ctx, const char *s)
{
    struct ctl_run_opts *o = opts(ctx);
    struct ctl_media md;
    char err[256];
    if (ctl_media_parse(s, &md, err, sizeof(err)) < 0)
        cli_fail("--media", "%s", err);
    o->media = md.kind;
    o->media_bitrate = md.bitrate;
    o->media_fps = md.fps;
    o->media_payload = md.payload;
    if (o->media != RI_MEDIA_NONE)
        dc_only(ctx, "--media");
}

static void set_srtp_rekey(void *ctx, const char *s)
{
    if (cli_parse_duration(s, 100000000ull, 3600000000000ull, &opts(ctx)->srtp_rekey_ns) < 0)
        cli_fail("--srtp-rekey", "'%s' is not an interval between 100ms and 1h (e.g. 2s, 500ms)", s);
    dc_only(ctx, "--srtp-rekey");
}

static void set_sign(void *ctx, const char *s)
{
    opts(ctx)->sign = true;
    dc_only(ctx, "--sign");
}

/* --dtls, --external-dtls: 1.2 | 1.3 | auto, as RI_DTLS_* bits. */
static uint8_t dtls_flag(const char *flag, const char *s)
{
    if (strcmp(s, "1.2") == 0)
        return RI_DTLS_V12;
    if (strcmp(s, "1.3") == 0)
        return RI_DTLS_V13;
    if (strcmp(s, "auto") == 0)
        return RI_DTLS_AUTO;
    cli_fail(flag, "'%s' is not one of 1.2, 1.3, auto", s);
    return 0;
}

static void set_dtls(void *ctx, const char *s)
{
    opts(ctx)->dtls_versions = dtls_flag("--dtls", s);
    dc_only(ctx, "--dtls");
}

/* --dtls-key-update N: records per epoch before a DTLS 1.3 KeyUpdate (the
 * engine takes 2^32 - 1 and up as never: the top is one below) */
static void set_dtls_key_update(void *ctx, const char *s)
{
    opts(ctx)->dtls_key_update = (uint32_t)cli_count("--dtls-key-update", s, 1, UINT32_MAX - 1, "a record count");
    dc_only(ctx, "--dtls-key-update");
}

static void set_external_dtls(void *ctx, const char *s)
{
    opts(ctx)->ext_dtls_versions = dtls_flag("--external-dtls", s);
}

static void set_consent(void *ctx, const char *s)
{
    (void)s;
    opts(ctx)->consent = true;
    dc_only(ctx, "--consent");
}

/* --churn R | R%: connections (or per cent of them) closed and set up
 * again per second, a decimal with up to 3 places, 0 < R <= 100000 (% <= 100). */
static void set_churn(void *ctx, const char *s)
{
    size_t len = strlen(s);
    bool pct = len > 0 && s[len - 1] == '%';
    uint64_t milli = 0;
    int frac = -1;
    size_t i = 0;
    for (; i < len - (pct ? 1 : 0); i++) {
        if (s[i] == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (s[i] < '0' || s[i] > '9' || frac >= 3 || milli > 100000000ull)
            break;
        milli = milli * 10 + (uint64_t)(s[i] - '0');
        if (frac >= 0)
            frac++;
    }
    for (int k = frac < 0 ? 0 : frac; k < 3; k++)
        milli *= 10;
    if (i == 0 || i != len - (pct ? 1 : 0) || milli == 0 || milli > (pct ? 100000ull : 100000000ull))
        cli_fail("--churn", "'%s' is not a rate of connections per second (0 < R <= 100000, up to 3 decimals) "
                 "or a per cent of the connections per second (0 < R%% <= 100%%)", s);
    opts(ctx)->churn_milli = (uint32_t)milli;
    opts(ctx)->churn_pct = pct;
    dc_only(ctx, "--churn");
}

static void set_keylog(void *ctx, const char *s)
{
    if (!*s || strlen(s) >= 256)
        cli_fail("--keylog", "expected a file name of 1..255 characters");
    opts(ctx)->keylog_path = s;
    dc_only(ctx, "--keylog");
}

static void set_setup_cap(void *ctx, const char *s)
{
    opts(ctx)->setup_cap = (uint32_t)cli_count("--setup-cap", s, 1, 4096, "a connection count");
    dc_only(ctx, "--setup-cap");
}

static void set_setup_attempts(void *ctx, const char *s)
{
    opts(ctx)->setup_attempts =
        (uint32_t)cli_count("--setup-attempts", s, 1, 100, "an attempt count");
    dc_only(ctx, "--setup-attempts");
}

static void set_setup_timeout(void *ctx, const char *s)
{
    opts(ctx)->setup_timeout_auto = false;
    if (cli_parse_duration(s, 1000000000ull, MAX_DURATION_NS, &opts(ctx)->setup_timeout_ns) < 0)
        cli_fail("--setup-timeout", "'%s' is not a duration between 1s and 7 days (e.g. 30s, 10m)",
                 s);
    dc_only(ctx, "--setup-timeout");
}

static void set_sctp_bufs(void *ctx, const char *s)
{
    opts(ctx)->sctp_bufs = (uint32_t)cli_count("--sctp-bufs", s, CTL_SCTP_BUFS_MIN,
                                               CTL_SCTP_BUFS_MAX, "a buffer count");
    dc_only(ctx, "--sctp-bufs");
}

/* --sctp-heartbeat: off, or 1 s..1 h (RFC 9260 8.3's HB.interval). */
static void set_sctp_heartbeat(void *ctx, const char *s)
{
    uint64_t ns;
    if (strcmp(s, "off") == 0)
        opts(ctx)->sctp_heartbeat_ms = -1;
    else if (cli_parse_duration(s, 1000000000ull, 3600000000000ull, &ns) == 0)
        opts(ctx)->sctp_heartbeat_ms = (int32_t)(ns / 1000000);
    else
        cli_fail("--sctp-heartbeat", "'%s' is not off or a duration between 1s and 1h (e.g. 30s, 2m)",
                 s);
    dc_only(ctx, "--sctp-heartbeat");
}

static void set_cores(void *ctx, const char *s)
{
    if (ctl_parse_cores(s, opts(ctx)) < 0)
        cli_fail("--cores",
                 "'%s' is not a list of distinct usable CPUs (e.g. 0,1 or 0-3; %ld online)", s,
                 sysconf(_SC_NPROCESSORS_ONLN));
    state(ctx)->cores_set = true;
}

static void set_port(void *ctx, const char *s)
{
    struct ctl_run_opts *o = opts(ctx);
    if (o->n_ports == CTL_MAX_PORTS)
        cli_fail("--port", "at most %d ports", CTL_MAX_PORTS);
    if (!*s || strchr(s, ' '))
        cli_fail("--port", "'%s' is not a PCI address or a DPDK vdev string", s);
    o->ports[o->n_ports++] = s;
}

static void set_side(void *ctx, const char *flag, int side, const char *s)
{
    if (!*s || strchr(s, ' '))
        cli_fail(flag, "'%s' is not a PCI address or a DPDK vdev string", s);
    if (opts(ctx)->side[side])
        cli_fail(flag, "given twice");
    opts(ctx)->side[side] = s;
}

static void set_side_a(void *ctx, const char *s)
{
    set_side(ctx, "--side-a", 0, s);
}

static void set_side_b(void *ctx, const char *s)
{
    set_side(ctx, "--side-b", 1, s);
}

static void set_cross(void *ctx, const char *s)
{
    if (strcmp(s, "all") == 0)
        opts(ctx)->cross_all = true;
    else if (strcmp(s, "sides") == 0)
        opts(ctx)->cross_all = false;
    else
        cli_fail("--cross", "'%s' is not one of sides, all", s);
    opts(ctx)->cross_given = true;
}

/* --gateway A=IP,B=IP (either or both) */
static void set_gateway(void *ctx, const char *s)
{
    char buf[64];
    if (strlen(s) >= sizeof(buf))
        cli_fail("--gateway", "'%s' is not A=IP,B=IP", s);
    snprintf(buf, sizeof(buf), "%s", s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int side = (tok[0] == 'A' || tok[0] == 'a') ? 0 : (tok[0] == 'B' || tok[0] == 'b') ? 1 : -1;
        struct in_addr a;
        if (side < 0 || tok[1] != '=' || inet_pton(AF_INET, tok + 2, &a) != 1)
            cli_fail("--gateway", "'%s' is not A=IP,B=IP (e.g. A=198.18.255.254,B=198.19.255.254)", s);
        if (opts(ctx)->side_gateway[side])
            cli_fail("--gateway", "side %c given twice", 'A' + side);
        opts(ctx)->side_gateway[side] = ntohl(a.s_addr);
    }
    if (!opts(ctx)->side_gateway[0] && !opts(ctx)->side_gateway[1])
        cli_fail("--gateway", "'%s' is not A=IP,B=IP", s);
}

/* --shard I/N */
static void set_shard(void *ctx, const char *s)
{
    unsigned i, n;
    char tail;
    if (sscanf(s, "%u/%u%c", &i, &n, &tail) != 2 || n < 2 || n > 1024 || i >= n)
        cli_fail("--shard", "'%s' is not I/N with 2 <= N <= 1024 and 0 <= I < N (e.g. 0/2)", s);
    opts(ctx)->shard = i;
    opts(ctx)->n_shards = n;
}

static void set_barrier(void *ctx, const char *s)
{
    struct ctl_barrier b;
    if (ctl_barrier_parse(&b, s) < 0)
        cli_fail("--barrier", "'%s' is not HOST:PORT (shard 0's address, e.g. swarmgen-0.swarmgen:7800)", s);
    opts(ctx)->barrier = s;
}

static void set_barrier_timeout(void *ctx, const char *s)
{
    if (cli_parse_duration(s, 1000000000ull, MAX_DURATION_NS, &opts(ctx)->barrier_timeout_ns) < 0)
        cli_fail("--barrier-timeout", "'%s' is not a duration between 1s and 7 days (e.g. 30s, 5m)", s);
}

static void set_clock(void *ctx, const char *s)
{
    if (strcmp(s, "local") == 0)
        opts(ctx)->clock_wall = false;
    else if (strcmp(s, "ptp") == 0)
        opts(ctx)->clock_wall = true;
    else
        cli_fail("--clock", "'%s' is not one of local, ptp", s);
}

static void set_peer_mac(void *ctx, const char *s)
{
    if (!*s || strlen(s) > 4096)
        cli_fail("--peer-mac", "expected MAC or I=MAC,J=MAC");
    opts(ctx)->peer_mac = s;
}

static void set_seed(void *ctx, const char *s)
{
    opts(ctx)->seed = cli_whole("--seed", s);
}

static void set_report(void *ctx, const char *s)
{
    opts(ctx)->report_path = cli_file("--report", s);
}

static void set_drain(void *ctx, const char *s)
{
    if (cli_parse_duration(s, 0, 60000000000ull, &opts(ctx)->drain_ns) < 0)
        cli_fail("--drain", "'%s' is not a duration up to 60s", s);
}

static void set_route_mem(void *ctx, const char *s)
{
    if (cli_parse_u64(s, 1000000ull, 1ull << 40, &opts(ctx)->route_mem) < 0)
        cli_fail("--route-mem", "'%s' is not a byte count in 1M..1T", s);
}

static void set_mbufs(void *ctx, const char *s)
{
    opts(ctx)->mbufs_per_worker =
        (uint32_t)cli_count("--mbufs", s, 1024, 1u << 22, "a buffer count");
    state(ctx)->mbufs_given = true;
}

static void set_burst(void *ctx, const char *s)
{
    opts(ctx)->burst = (uint32_t)cli_count("--burst", s, 1, 64, "a burst size");
}

static void set_hugepages(void *ctx, const char *s)
{
    if (strcmp(s, "auto") == 0)
        opts(ctx)->huge = -1;
    else if (strcmp(s, "on") == 0)
        opts(ctx)->huge = 1;
    else if (strcmp(s, "off") == 0)
        opts(ctx)->huge = 0;
    else
        cli_fail("--hugepages", "'%s' is not one of auto, on, off", s);
}

static void set_eal(void *ctx, const char *s)
{
    opts(ctx)->eal_extra = s;
}

static void set_dp(void *ctx, const char *s)
{
    if (access(s, X_OK) != 0)
        cli_fail("--dp", "'%s' is not an executable file", s);
    opts(ctx)->dp_path = s;
}

static void set_backend(void *ctx, const char *s)
{
    uint8_t b[CTL_CMP_BACKENDS];
    if (ctl_compare_backends_parse(s, b) != 1)
        cli_fail("--backend", "'%s' is not one of dpdk, uring, usrsctp", s);
    opts(ctx)->backend = b[0];
}

static void set_threads(void *ctx, const char *s)
{
    opts(ctx)->threads = (uint32_t)cli_count("--threads", s, 1, 256, "a thread count");
}

static void set_profile(void *ctx, const char *s)
{
    struct ctl_profile prof;
    if (ctl_profile_preset(s, 1, 1000000000ull, &prof) < 0 && access(s, R_OK) != 0)
        cli_fail("--profile",
                 "'%s' is neither a preset (constant, ramp, load, spike, soak) nor a readable file",
                 s);
    opts(ctx)->profile = s;
}

static void set_sla(void *ctx, const char *s)
{
    struct ctl_sla sla;
    char err[256];
    if (ctl_sla_parse(s, &sla, err, sizeof(err)) < 0)
        cli_fail("--sla", "%s", err);
    opts(ctx)->sla_text = s;
}

static void set_abort_on_fail(void *ctx, const char *s)
{
    opts(ctx)->abort_on_fail = true;
}

static void set_csv(void *ctx, const char *s)
{
    opts(ctx)->csv_path = cli_file("--csv", s);
}

static void set_html(void *ctx, const char *s)
{
    opts(ctx)->html_path = cli_file("--html", s);
}

static void set_prom(void *ctx, const char *s)
{
    if (!strchr(s, ':'))
        cli_fail("--prom", "'%s' is not ADDR:PORT (e.g. 127.0.0.1:9100, [::1]:9100, :9100)", s);
    opts(ctx)->prom_addr = s;
}

static void set_pcap(void *ctx, const char *s)
{
    if (!*s || strlen(s) >= 256)
        cli_fail("--pcap", "expected a file name of 1..255 characters");
    opts(ctx)->pcap_path = s;
}

static void set_pcap_count(void *ctx, const char *s)
{
    opts(ctx)->pcap_count = (uint32_t)cli_count("--pcap-count", s, 1, 100000, "a frame count");
}

/* --netem: a spec without class= is the global class (index 0, once);
 * named classes follow it, their shares adding up to at most 100 %. */
static void set_netem(void *ctx, const char *s)
{
    struct ctl_run_opts *o = opts(ctx);
    struct ri_netem nc;
    char err[256];
    if (ctl_netem_parse(s, &nc, err, sizeof(err)) < 0)
        cli_fail("--netem", "%s", err);
    if (o->n_netem == 0)
        o->n_netem = 1; /* class 0 stays the (possibly empty) global class */
    if (nc.share_ppm == 0 && strcmp(nc.name, "all") == 0) {
        if (o->netem[0].enabled)
            cli_fail("--netem", "the global class (no class=) is given twice");
        o->netem[0] = nc;
        return;
    }
    if (o->n_netem == RI_NETEM_CLASSES)
        cli_fail("--netem", "at most %d named classes", RI_NETEM_CLASSES - 1);
    uint32_t total = nc.share_ppm;
    for (uint32_t c = 1; c < o->n_netem; c++)
        total += o->netem[c].share_ppm;
    if (total > 1000000)
        cli_fail("--netem", "the shares of the named classes add up to more than 100%%");
    o->netem[o->n_netem++] = nc;
}

static void set_external(void *ctx, const char *s)
{
    if (strcmp(s, "echo") == 0)
        opts(ctx)->external = RI_EXT_ECHO;
    else if (strcmp(s, "route") == 0)
        opts(ctx)->external = RI_EXT_ROUTE;
    else
        cli_fail("--external", "'%s' is not one of echo, route", s);
}

static void set_relay(void *ctx, const char *s)
{
    char err[200];
    if (ctl_relay_parse(s, &opts(ctx)->relay, err, sizeof(err)) < 0)
        cli_fail("--relay", "%s", err);
    dc_only(ctx, "--relay");
}

static void set_signal(void *ctx, const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || !colon[1])
        cli_fail("--signal", "'%s' is not ADDR:PORT (e.g. 127.0.0.1:8088, 0.0.0.0:8088, :8088)", s);
    opts(ctx)->signal_addr = s;
}

static void set_external_port(void *ctx, const char *s)
{
    if (!*s || strchr(s, ' ') || strlen(s) >= 256)
        cli_fail("--external-port",
                 "'%s' is not a DPDK vdev string (e.g. net_af_packet0,iface=sgext0)", s);
    opts(ctx)->external_port = s;
}

static void set_external_setup(void *ctx, const char *s)
{
    if (strcmp(s, "active") == 0)
        opts(ctx)->external_active = true;
    else if (strcmp(s, "passive") == 0)
        opts(ctx)->external_active = false;
    else
        cli_fail("--external-setup", "'%s' is not one of active, passive", s);
    state(ctx)->external_setup_given = true;
}

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
 * The value is a secret: the error does not repeat it. */
static void set_signal_token(void *ctx, const char *s)
{
    static const char chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";
    size_t n = strlen(s), i = strspn(s, chars);
    size_t body = i;
    while (s[i] == '=')
        i++;
    if (body == 0 || i != n || n > CTL_SIGNAL_TOKEN_MAX)
        cli_fail("--signal-token",
                 "the token must be 1..%d characters: letters, digits, -._~+/ and a trailing = "
                 "(RFC 6750 b64token)",
                 CTL_SIGNAL_TOKEN_MAX);
    opts(ctx)->signal_token = s;
}

/* One origin as browsers send it: null, or http(s)://HOST[:PORT], HOST a
 * name, an IPv4 address or [IPv6]; no path, no user. Lower-cased into out
 * (scheme and host are case-insensitive, browsers send them lower-case). */
static bool origin_ok(const char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
    out[n] = '\0';
    if (strcmp(out, "null") == 0 || strcmp(out, "*") == 0)
        return true;
    const char *h = strncmp(out, "http://", 7) == 0    ? out + 7
                    : strncmp(out, "https://", 8) == 0 ? out + 8
                                                       : NULL;
    if (h == NULL || *h == '\0')
        return false;
    const char *e = h;
    if (*h == '[') {
        e = strchr(h, ']');
        if (e == NULL || e == h + 1 || strspn(h + 1, "0123456789abcdef:.") != (size_t)(e - h - 1))
            return false;
        e++;
    } else {
        e = h + strspn(h, "abcdefghijklmnopqrstuvwxyz0123456789.-");
        if (e == h)
            return false;
    }
    if (*e == '\0')
        return true;
    uint64_t port;
    return *e == ':' && cli_parse_u64(e + 1, 1, 65535, &port) == 0;
}

static void set_signal_origin(void *ctx, const char *s)
{
    char *list = opts(ctx)->signal_origins;
    size_t cap = sizeof(opts(ctx)->signal_origins), len = strlen(list);
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        const char *e = comma ? comma : p + strlen(p);
        while (p < e && *p == ' ')
            p++;
        size_t n = (size_t)(e - p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        char one[CTL_SIGNAL_ORIGIN_MAX + 1];
        if (n == 0 || n > CTL_SIGNAL_ORIGIN_MAX || !origin_ok(p, n, one))
            cli_fail("--signal-origin",
                     "'%.*s' is not an origin: http(s)://HOST[:PORT] without a path, null "
                     "(file:// pages) or *",
                     (int)n, p);
        if (len + (len ? 1 : 0) + n >= cap)
            cli_fail("--signal-origin", "the origins add up to more than %d characters",
                     CTL_SIGNAL_ORIGINS_MAX);
        len += (size_t)snprintf(list + len, cap - len, "%s%s", len ? "," : "", one);
        if (!comma)
            break;
        p = comma + 1;
    }
}

static void set_signal_max_per_client(void *ctx, const char *s)
{
    opts(ctx)->signal_max_per_client =
        (uint32_t)cli_count("--signal-max-per-client", s, 1, CTL_SIGNAL_MAX_CLIENTS, "a count");
}

static void set_external_max(void *ctx, const char *s)
{
    opts(ctx)->external_max =
        (uint32_t)cli_count("--external-max", s, 1, RI_EXTERNAL_MAX, "a session count");
}

static void set_external_idle(void *ctx, const char *s)
{
    if (cli_parse_duration(s, 0, MAX_DURATION_NS, &opts(ctx)->external_idle_ns) < 0 ||
        (opts(ctx)->external_idle_ns && opts(ctx)->external_idle_ns < 1000000000ull))
        cli_fail("--external-idle",
                 "'%s' is not 0 or a duration between 1s and 7 days (e.g. 60s, 5m)", s);
}

static void set_target(void *ctx, const char *s)
{
    if (strncmp(s, "janus-videoroom:", 16) == 0) { /* URL,rooms=R,publishers=P */
        struct ctl_target_config c = {0};
        char err[256];
        if (ctl_target_parse(s, &c, err, sizeof(err)) != 0)
            cli_fail("--target", "%s", strncmp(err, "--target ", 9) == 0 ? err + 9 : err);
        opts(ctx)->target = s;
        return;
    }
    if (strncmp(s, "whip:", 5) != 0 && strncmp(s, "janus:", 6) != 0)
        cli_fail("--target", "'%s' is not whip:URL, janus:URL or janus-videoroom:URL,rooms=R,publishers=P", s);
    const char *url = strchr(s, ':') + 1;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        cli_fail("--target", "'%s' is not an http:// or https:// URL", url);
    if (strlen(url) >= 512)
        cli_fail("--target", "the URL is longer than 511 characters");
    opts(ctx)->target = s;
}

static void set_target_agents(void *ctx, const char *s)
{
    opts(ctx)->target_agents = (uint32_t)cli_count("--target-agents", s, 1, RI_TARGET_MAX, "a session count");
}

static void set_target_token(void *ctx, const char *s)
{
    static const char chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=";
    if (!*s || strspn(s, chars) != strlen(s) || strlen(s) > 255)
        cli_fail("--target-token", "not a bearer token (1..255 characters of A-Z a-z 0-9 - . _ ~ + / =)");
    opts(ctx)->target_token = s;
}

static void set_target_rate(void *ctx, const char *s)
{
    if (cli_parse_double(s, 0, 10000, &opts(ctx)->target_rate) < 0)
        cli_fail("--target-rate", "'%s' is not a message rate in 0..10000 per second", s);
}

static void set_join_rate(void *ctx, const char *s)
{
    if (cli_parse_double(s, 0, 1000000, &opts(ctx)->join_rate) < 0)
        cli_fail("--join-rate", "'%s' is not a rate in 0..1000000 sessions per second", s);
}

static void set_join_ramp(void *ctx, const char *s)
{
    opts(ctx)->join_ramp = true;
}

/* --target-gateway IP[/LEN] */
static void set_target_gateway(void *ctx, const char *s)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%s", s);
    char *slash = strchr(buf, '/');
    uint64_t len = 15;
    if (slash) {
        *slash = '\0';
        if (cli_parse_u64(slash + 1, 8, 30, &len) < 0)
            cli_fail("--target-gateway", "'%s': the link's prefix length must be 8..30", s);
    }
    struct in_addr a;
    if (strlen(s) >= sizeof(buf) || inet_pton(AF_INET, buf, &a) != 1 || a.s_addr == 0)
        cli_fail("--target-gateway", "'%s' is not an IPv4 address (IP or IP/LEN, e.g. 198.19.255.254/15)", s);
    opts(ctx)->target_gateway = ntohl(a.s_addr);
    opts(ctx)->target_link_len = (uint32_t)len;
}

static void set_target_timeout(void *ctx, const char *s)
{
    if (cli_parse_duration(s, 100000000ull, 600000000000ull, &opts(ctx)->target_timeout_ns) < 0)
        cli_fail("--target-timeout", "'%s' is not a duration between 100ms and 10m", s);
}

static void set_clients_csv(void *ctx, const char *s)
{
    opts(ctx)->clients_csv = cli_file("--clients-csv", s);
}

static void set_agents_csv(void *ctx, const char *s)
{
    opts(ctx)->agents_csv = cli_file("--agents-csv", s);
}

static void set_agents_top(void *ctx, const char *s)
{
    uint64_t v;
    if (cli_parse_u64(s, 1, 1000, &v) < 0)
        cli_fail("--agents-top", "'%s' is not a count in 1..1000", s);
    opts(ctx)->agents_top = (uint32_t)v;
}

static void set_dry_run(void *ctx, const char *s)
{
    opts(ctx)->dry_run = true;
}

static void set_quiet(void *ctx, const char *s)
{
    opts(ctx)->quiet = true;
}

/* One row per flag: name, the value's name (NULL: a switch), the usage
 * text, the handler. The usage of `swarmgen run --help` is these rows. */
static const struct cli_flag run_flags[] = {
    {"--agents", "N", "simulated agents (2..131070, default 1000)", set_agents},
    {"--topology", "SPEC",
     "full | kmesh:k=K | kmesh:k=auto (K = ceil(2 ln N)) | hub:hubs=H |\n"
     "ring | smallworld:k=K,p=P | scalefree:m=M (default kmesh:k=8)",
     set_topology},
    {"--traffic", "T",
     "what the edges carry: dc (a WebRTC peer connection per edge:\n"
     "ICE, DTLS, SCTP, DataChannel; agent messages in DataChannel\n"
     "messages) | udp (plain UDP agent messages, no set-up)\n"
     "(default dc); dc takes keys: dc:rate=R,size=BYTES,\n"
     "mode=reliable|unordered|rexmit:N|lifetime:MS,\n"
     "pattern=neighbors|routed|routed:M|echo",
     set_traffic},
    {"--rate", "R", "agent messages per second, all cores (default 20000)", set_rate},
    {"--duration", "D", "generation time: 20s, 500ms, 2m (default 20s)", set_duration},
    {"--size", "BYTES",
     "agent message: DataChannel message 32..65536 (dc), UDP payload\n"
     "32..1400 (udp) (default 64; 96 with --sign)",
     set_size},
    {"--pattern", "P",
     "routed (random destination, forwarded hop by hop) | routed:M\n"
     "(destinations a seeded sample of M agents) | neighbors (random\n"
     "direct neighbour) | echo (a neighbour sends it back; dc only)\n"
     "(default routed)",
     set_pattern},
    {"--media", "M",
     "none | audio | video | video:bitrate=B,fps=F,payload=P: SRTP media\n"
     "on every connection, both ways (dc only, default none; video 1M\n"
     "bits/s at 30 fps in packets of up to 1100 payload bytes)",
     set_media},
    {"--srtp-rekey", "T",
     "every media sender switches to a new SRTP master key every T (e.g.\n"
     "2s), announced by the MKI (RFC 3711); the receiver keeps the old key\n"
     "for T/2 (needs --media; mesh connections only)",
     set_srtp_rekey},
    {"--sign", NULL,
     "Ed25519-sign every agent message, verified on delivery (dc only;\n"
     "messages of at least 96 bytes)",
     set_sign},
    {"--consent", NULL,
     "connections as a browser's: RFC 7675 consent checks every ~5 s, a\n"
     "connection without an answer for 30 s fails; a connection that fails\n"
     "once up (consent, SCTP) is set up again (dc only)",
     set_consent},
    {"--churn", "R|R%",
     "during the load, close R connections per second (or R per cent of\n"
     "them per second) gracefully (SCTP SHUTDOWN, DTLS close_notify) and set\n"
     "them up again with a new handshake; their messages wait (dc only)",
     set_churn},
    {"--dtls", "V",
     "DTLS versions of the mesh's connections: 1.2, 1.3 or auto (default:\n"
     "offer both as Chrome does, the server picks; dc only)",
     set_dtls},
    {"--dtls-key-update", "N",
     "DTLS 1.3 KeyUpdate in the mesh: each endpoint updates its keys every N\n"
     "records (1..4294967294) and keeps its handshake state (4 KiB) for the\n"
     "connection's life; without it mesh connections never update (dc only,\n"
     "not with --dtls 1.2 or --backend usrsctp)",
     set_dtls_key_update},
    {"--keylog", "FILE",
     "write the NSS key log of the DTLS handshakes (dc only), for\n"
     "Wireshark to decrypt a --pcap capture",
     set_keylog},
    {"--setup-cap", "N", "connections in set-up at once per core, 1..4096 (default 16)",
     set_setup_cap},
    {"--setup-attempts", "N", "attempts per connection before it is given up, 1..100 (default 3)",
     set_setup_attempts},
    {"--setup-timeout", "D", "longest connect phase; then the load starts anyway (default:\n"
     "twice what the measured set-up rate needs for them all, 10m at\n"
     "least)",
     set_setup_timeout},
    {"--sctp-bufs", "N",
     "SCTP buffers per core, 1024..16777216 (default 16384 +\n"
     "min(2 x connections, 2 s of the peak rate in 1200-byte\n"
     "buffers) / cores)",
     set_sctp_bufs},
    {"--sctp-heartbeat", "D",
     "SCTP idle heartbeat interval of every association, 1s..1h, or\n"
     "off (default 30s, as browsers)",
     set_sctp_heartbeat},
    {"--cores", "LIST",
     "lcores to pin the dataplane workers to, e.g. 0,1 or 0-3\n"
     "(default: every CPU this process may use)",
     set_cores},
    {"--port", "SPEC",
     "PCI address or DPDK vdev string (tap, af_packet, memif,\n"
     "pcap, null...); repeat for several ports (default: one\n"
     "net_ring loopback port per core, no NIC needed)",
     set_port},
    {"--side-a", "SPEC",
     "two sides through a device under test: the port of side A (PCI\n"
     "address or vdev); agents 0, 2, 4... are on it, in 198.18.0.0/16\n"
     "(docs/sides.md)",
     set_side_a},
    {"--side-b", "SPEC", "the port of side B: agents 1, 3, 5... in 198.19.0.0/16", set_side_b},
    {"--cross", "WHICH",
     "two sides: which connections cross the DUT: sides (default: those\n"
     "between the sides; those within a side stay inside) | all (those\n"
     "within a side too, one end under its alias on the other side)",
     set_cross},
    {"--gateway", "A=IP,B=IP",
     "a router between the sides: each side sends the other's frames\n"
     "to its gateway (resolved by ARP); without it the sides share a\n"
     "link (a switch, a cable)",
     set_gateway},
    {"--shard", "I/N",
     "one of N processes (hosts) that simulate one swarm together:\n"
     "this one simulates the agents i with i % N == I; --port is the\n"
     "link to the others (docs/scale-out.md)",
     set_shard},
    {"--barrier", "HOST:PORT",
     "with --shard: shard 0's address, where the shards meet before\n"
     "the connect phase, the load and the stop (TCP; shard 0 listens\n"
     "on PORT)",
     set_barrier},
    {"--barrier-timeout", "D",
     "how long the shards wait for each other at the start (default\n"
     "2m; the load barrier adds the set-up timeout)",
     set_barrier_timeout},
    {"--peer-mac", "MAC|I=MAC,..",
     "with --shard: the MAC frames to the other shards (or to shard I)\n"
     "are sent to, e.g. a router's or the peer VF's (default: the\n"
     "receiving agent's own MAC, for one L2 segment)",
     set_peer_mac},
    {"--clock", "C",
     "local (default): a message's one-way latency only where it was\n"
     "sent | ptp: the shards' system clocks are in step (PTP), messages\n"
     "are stamped with them and timed across shards too",
     set_clock},
    {"--seed", "S", "topology and traffic seed (default 1)", set_seed},
    {"--report", "FILE.json", "write the JSON report", set_report},
    {"--drain", "D", "longest wait for in-flight messages after generation (default 2s)",
     set_drain},
    {"--route-mem", "BYTES", "memory allowed for next-hop tables (default 1G)", set_route_mem},
    {"--mbufs", "N", "packet buffers per core (default 16384; 32768 with --traffic dc)", set_mbufs},
    {"--burst", "N", "rx/tx burst size, 1..64 (default 32)", set_burst},
    {"--hugepages", "MODE", "auto | on | off (default auto: used when enough are free)",
     set_hugepages},
    {"--eal", "\"ARGS\"", "extra EAL arguments for the dataplane", set_eal},
    {"--dp", "PATH",
     "dataplane binary (default: swarmgen-dp, or swarmgen-usrsctp\n"
     "for --backend usrsctp, next to swarmgen)",
     set_dp},
    {"--backend", "B",
     "dpdk (default: DPDK ports), uring (the same engines over\n"
     "kernel UDP sockets on 127.18.0.0/15, io_uring) or usrsctp\n"
     "(usrsctp + mbedTLS records over kernel UDP sockets)",
     set_backend},
    {"--threads", "N", "control threads for topology analysis and routing", set_threads},
    {"--profile", "P",
     "load profile: constant | ramp | load | spike | soak, or a\n"
     "YAML scenario file (default constant; see docs/profiles.md)",
     set_profile},
    {"--sla", "RULES",
     "thresholds, e.g. 'p95<150ms,p99<200ms,delivery>99.9%,errors<0.1%'\n"
     "or 'setup_p99<2s' (dc); judged per phase and overall; exit 1\n"
     "when one is breached",
     set_sla},
    {"--abort-on-fail", NULL, "stop the run as soon as a threshold is breached", set_abort_on_fail},
    {"--csv", "FILE", "time series, one row per second with a phase column", set_csv},
    {"--html", "FILE", "self-contained HTML report with inline SVG charts", set_html},
    {"--prom", "ADDR:PORT",
     "serve Prometheus metrics at http://ADDR:PORT/metrics during the\n"
     "run (':9100' means 127.0.0.1:9100)",
     set_prom},
    {"--pcap", "FILE", "write the first --pcap-count frames the dataplane sends (pcap)", set_pcap},
    {"--pcap-count", "N", "frames to capture, 1..100000 (default 1000)", set_pcap_count},
    {"--netem", "SPEC",
     "network emulation: delay=10ms,jitter=2ms,loss=5%,ge=1%/20%,\n"
     "dup=1%,reorder=10%,rate=100Mbit; add class=NAME,share=20%\n"
     "for a class of links (repeat, up to 3 classes)",
     set_netem},
    {"--external", "MODE",
     "let WebRTC peers outside the swarm (a browser, werift) reach agents\n"
     "over WHIP (dc only): echo (their DataChannel messages come back)\n"
     "| route (they enter the mesh as the agent's messages); see\n"
     "docs/external_peers.md",
     set_external},
    {"--relay", "turn:H:P,..",
     "turn:HOST:PORT,user=U,pass=P[,realm=R][,transport=udp]: every\n"
     "connection of the mesh through a TURN server (an allocation per\n"
     "agent on the --external-port vdev; dc, one core; docs/turn.md)",
     set_relay},
    {"--signal", "ADDR:PORT",
     "WHIP server: POST /whip/agents/ID (default 127.0.0.1:8088 with\n"
     "--external; alone it means --external echo)",
     set_signal},
    {"--external-port", "V",
     "DPDK vdev the kernel reaches the agents through (default\n"
     "net_af_packet0,iface=sgext0: tools/external-port up)",
     set_external_port},
    {"--external-setup", "R",
     "our DTLS role when the offer leaves it open (actpass): active\n"
     "(default, RFC 8842) | passive",
     set_external_setup},
    {"--external-dtls", "V",
     "DTLS versions of external and --target sessions: 1.2, 1.3 or auto\n"
     "(default: whatever the peer offers, up to 1.3)",
     set_external_dtls},
    {"--external-max", "N", "external sessions at once, 1..16 (default 16)", set_external_max},
    {"--external-idle", "D",
     "close an up external session after D without a datagram from its\n"
     "peer (default 60s; 0 never)",
     set_external_idle},
    {"--signal-token", "TOKEN",
     "WHIP requests (but OPTIONS) need Authorization: Bearer TOKEN,\n"
     "else 401 (RFC 9725 4.5; default: no token)",
     set_signal_token},
    {"--signal-origin", "ORIGIN",
     "a browser origin whose pages may use WHIP (CORS), e.g.\n"
     "https://app.example:8443; repeat or comma-separate; null for\n"
     "file:// pages, * for any (default: none, other Origins get 403)",
     set_signal_origin},
    {"--signal-max-per-client", "N",
     "WHIP connections at once, and open sessions, of one client\n"
     "address, 1..64 (default 16; beyond: 429)",
     set_signal_max_per_client},
    {"--target", "whip:URL|janus:URL|janus-videoroom:URL,rooms=R,publishers=P",
     "agents join a real WebRTC server as clients (dc only): a WHIP\n"
     "endpoint (RFC 9725) or Janus's HTTP API with the EchoTest plugin;\n"
     "their DataChannel messages (and --media audio) come back and are\n"
     "timed; or Janus's VideoRoom: R rooms, the first P agents of each\n"
     "publish, the others subscribe to all P (docs/target.md)",
     set_target},
    {"--target-agents", "N", "target sessions, agents 0..N-1 (default: every agent)", set_target_agents},
    {"--target-token", "TOKEN", "WHIP: Authorization: Bearer TOKEN; Janus: \"apisecret\": TOKEN;\non every request", set_target_token},
    {"--target-rate", "R",
     "DataChannel messages per second of each target session while\n"
     "the load runs (--size bytes; default 5, 0 none)",
     set_target_rate},
    {"--join-rate", "R",
     "target sessions started per second (default 0: as fast as the\n"
     "server answers, 64 HTTP exchanges at once)",
     set_join_rate},
    {"--join-ramp", NULL,
     "target sessions join during the load, not before it: --join-rate\n"
     "scaled by the profile's rate ramp (or a scenario's join_rate:);\n"
     "those not started when the load ends count as not started",
     set_join_ramp},
    {"--target-gateway", "IP[/LEN]",
     "target servers off the external port's link (outside IP/LEN, LEN\n"
     "default 15: the agents' 198.18.0.0/15) are reached through this\n"
     "router (its MAC by ARP)",
     set_target_gateway},
    {"--target-timeout", "D",
     "longest HTTP request, and longest set-up of one target session\n"
     "(default 10s)",
     set_target_timeout},
    {"--clients-csv", "FILE", "one row per target session: stages, causes, messages, audio",
     set_clients_csv},
    {"--agents-csv", "FILE",
     "one row per agent: sent, delivered, forwarded, drops, DataChannel\n"
     "bytes, latency p50/p99, connections",
     set_agents_csv},
    {"--agents-top", "N", "agents in each top/bottom list of the report (default 5)", set_agents_top},
    {"--dry-run", NULL,
     "build the mesh and print the memory the run will need, by\n"
     "category; start nothing (exit 2 when it will not fit)",
     set_dry_run},
    {"--quiet", NULL, "no progress lines", set_quiet},
};

const struct cli_cmd ctl_run_cmd = {
    .name = "run",
    .head = "usage: swarmgen run [flags]\n",
    .column = 22,
    .flag = run_flags,
    .n_flags = sizeof(run_flags) / sizeof(run_flags[0]),
};

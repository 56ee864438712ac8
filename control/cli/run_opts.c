/* SPDX-License-Identifier: MIT */
#include "run_opts.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "compare.h"
#include "netem_opts.h"
#include "profile.h"
#include "sla.h"
#include "topo.h"
#include "traffic_opts.h"

static const char usage[] =
    "usage: swarmgen run [flags]\n"
    "  --agents N          simulated agents (2..131070, default 1000)\n"
    "  --topology SPEC     full | kmesh:k=K | hub:hubs=H | ring | smallworld:k=K,p=P |\n"
    "                      scalefree:m=M (default kmesh:k=8)\n"
    "  --traffic T         what the edges carry: dc (a WebRTC peer connection per edge:\n"
    "                      ICE, DTLS, SCTP, DataChannel; agent messages in DataChannel\n"
    "                      messages) | udp (plain UDP agent messages, no set-up)\n"
    "                      (default dc); dc takes keys: dc:rate=R,size=BYTES,\n"
    "                      mode=reliable|unordered|rexmit:N|lifetime:MS,\n"
    "                      pattern=neighbors|routed|routed:M|echo\n"
    "  --rate R            agent messages per second, all cores (default 20000)\n"
    "  --duration D        generation time: 20s, 500ms, 2m (default 20s)\n"
    "  --size BYTES        agent message: DataChannel message 32..65536 (dc), UDP payload\n"
    "                      32..1400 (udp) (default 64; 96 with --sign)\n"
    "  --pattern P         routed (random destination, forwarded hop by hop) | routed:M\n"
    "                      (destinations a seeded sample of M agents) | neighbors (random\n"
    "                      direct neighbour) | echo (a neighbour sends it back; dc only)\n"
    "                      (default routed)\n"
    "  --media M           none | audio | video | video:bitrate=B,fps=F,payload=P: SRTP media\n"
    "                      on every connection, both ways (dc only, default none; video 1M\n"
    "                      bits/s at 30 fps in packets of up to 1100 payload bytes)\n"
    "  --sign              Ed25519-sign every agent message, verified on delivery (dc only;\n"
    "                      messages of at least 96 bytes)\n"
    "  --keylog FILE       write the NSS key log of the DTLS handshakes (dc only), for\n"
    "                      Wireshark to decrypt a --pcap capture\n"
    "  --setup-cap N       connections in set-up at once per core, 1..4096 (default 16)\n"
    "  --setup-attempts N  attempts per connection before it is given up, 1..100 (default 3)\n"
    "  --setup-timeout D   longest connect phase; then the load starts anyway (default 10m)\n"
    "  --sctp-bufs N       SCTP buffers per core, 1024..16777216 (default\n"
    "                      16384 + 2 x connections / cores)\n"
    "  --cores LIST        lcores to pin the dataplane workers to, e.g. 0,1 or 0-3\n"
    "                      (default: every CPU this process may use)\n"
    "  --port SPEC         PCI address or DPDK vdev string (tap, af_packet, memif,\n"
    "                      pcap, null...); repeat for several ports (default: one\n"
    "                      net_ring loopback port per core, no NIC needed)\n"
    "  --seed S            topology and traffic seed (default 1)\n"
    "  --report FILE.json  write the JSON report\n"
    "  --drain D           longest wait for in-flight messages after generation (default 2s)\n"
    "  --route-mem BYTES   memory allowed for next-hop tables (default 1G)\n"
    "  --mbufs N           packet buffers per core (default 16384; 32768 with --traffic dc)\n"
    "  --burst N           rx/tx burst size, 1..64 (default 32)\n"
    "  --hugepages MODE    auto | on | off (default auto: used when enough are free)\n"
    "  --eal \"ARGS\"        extra EAL arguments for the dataplane\n"
    "  --dp PATH           dataplane binary (default: swarmgen-dp, or swarmgen-usrsctp\n"
    "                      for --backend usrsctp, next to swarmgen)\n"
    "  --backend B         dpdk (default: DPDK ports), uring (the same engines over\n"
    "                      kernel UDP sockets on 127.18.0.0/15, io_uring) or usrsctp\n"
    "                      (usrsctp + mbedTLS records over kernel UDP sockets)\n"
    "  --threads N         control threads for topology analysis and routing\n"
    "  --profile P         load profile: constant | ramp | load | spike | soak, or a\n"
    "                      YAML scenario file (default constant; see docs/profiles.md)\n"
    "  --sla RULES         thresholds, e.g. 'p95<150ms,p99<200ms,delivery>99.9%,errors<0.1%'\n"
    "                      or 'setup_p99<2s' (dc); judged per phase and overall; exit 1\n"
    "                      when one is breached\n"
    "  --abort-on-fail     stop the run as soon as a threshold is breached\n"
    "  --csv FILE          time series, one row per second with a phase column\n"
    "  --html FILE         self-contained HTML report with inline SVG charts\n"
    "  --prom ADDR:PORT    serve Prometheus metrics at http://ADDR:PORT/metrics during the\n"
    "                      run (':9100' means 127.0.0.1:9100)\n"
    "  --pcap FILE         write the first --pcap-count frames the dataplane sends (pcap)\n"
    "  --pcap-count N      frames to capture, 1..100000 (default 1000)\n"
    "  --netem SPEC        network emulation: delay=10ms,jitter=2ms,loss=5%,ge=1%/20%,\n"
    "                      dup=1%,reorder=10%,rate=100Mbit; add class=NAME,share=20%\n"
    "                      for a class of links (repeat, up to 3 classes)\n"
    "  --external MODE     let WebRTC peers outside the swarm (a browser, werift) reach agents\n"
    "                      over WHIP (dc only): echo (their DataChannel messages come back)\n"
    "                      | route (they enter the mesh as the agent's messages); see\n"
    "                      docs/external_peers.md\n"
    "  --signal ADDR:PORT  WHIP server: POST /whip/agents/ID (default 127.0.0.1:8088 with\n"
    "                      --external; alone it means --external echo)\n"
    "  --external-port V   DPDK vdev the kernel reaches the agents through (default\n"
    "                      net_af_packet0,iface=sgext0: tools/external-port up)\n"
    "  --external-setup R  our DTLS role when the offer leaves it open (actpass): active\n"
    "                      (default, RFC 8842) | passive\n"
    "  --external-max N    external sessions at once, 1..16 (default 16)\n"
    "  --quiet             no progress lines\n";

int ctl_parse_cores(const char *s, struct ctl_run_opts *o)
{
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
        return -EINVAL;
    bool seen[CPU_SETSIZE] = {false};
    o->n_cores = 0;
    const char *p = s;
    if (!*p)
        return -EINVAL;
    while (*p) {
        char *end;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        long a = strtol(p, &end, 10), b = a;
        if (*end == '-') {
            p = end + 1;
            if (*p < '0' || *p > '9')
                return -EINVAL;
            b = strtol(p, &end, 10);
        }
        if (a < 0 || b < a || b >= CPU_SETSIZE)
            return -EINVAL;
        for (long c = a; c <= b; c++) {
            if (!CPU_ISSET((int)c, &allowed) || seen[c] || o->n_cores == RI_MAX_WORKERS)
                return -EINVAL;
            seen[c] = true;
            o->cores[o->n_cores++] = (uint32_t)c;
        }
        if (*end == ',')
            end++;
        else if (*end != '\0')
            return -EINVAL;
        p = end;
    }
    snprintf(o->cores_text, sizeof(o->cores_text), "%s", s);
    return o->n_cores ? 0 : -EINVAL;
}

static void default_cores(struct ctl_run_opts *o)
{
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    sched_getaffinity(0, sizeof(allowed), &allowed);
    o->n_cores = 0;
    size_t len = 0;
    o->cores_text[0] = '\0';
    for (int c = 0; c < CPU_SETSIZE && o->n_cores < RI_MAX_WORKERS; c++) {
        if (!CPU_ISSET(c, &allowed))
            continue;
        o->cores[o->n_cores++] = (uint32_t)c;
        len += (size_t)snprintf(o->cores_text + len, sizeof(o->cores_text) - len, "%s%d",
                                len ? "," : "", c);
        if (len >= sizeof(o->cores_text) - 8)
            break;
    }
}

uint32_t ctl_run_sctp_bufs(uint64_t n_edges, uint32_t n_cores)
{
    uint64_t per_core = n_cores ? 2 * n_edges / n_cores : 2 * n_edges;
    uint64_t n = 16384 + per_core;
    return n > CTL_SCTP_BUFS_MAX ? CTL_SCTP_BUFS_MAX : (uint32_t)n;
}

uint32_t ctl_run_keylog_max(const struct ctl_run_opts *o, uint64_t n_edges)
{
    if (!o->keylog_path || o->traffic != RI_TRAFFIC_DC)
        return 0;
    uint64_t lines = n_edges * o->setup_attempts;
    return (uint32_t)(lines < CTL_KEYLOG_MAX ? lines : CTL_KEYLOG_MAX);
}

/* Settles what --traffic, --size, --pattern and the dc-only flags mean
 * together; exits 2 naming the flag when they do not fit. */
static void resolve_traffic(struct ctl_run_opts *o, const struct ctl_traffic *t, bool size_given,
                            const char *dc_only_flag)
{
    o->traffic = t->kind;
    if (t->rate)
        o->rate = t->rate;
    if (t->size)
        o->msg_size = t->size, size_given = true;
    if (t->have_pattern) {
        o->pattern = t->pattern.pattern;
        o->route_sample = t->pattern.sample;
    }
    if (o->traffic == RI_TRAFFIC_UDP) {
        if (dc_only_flag)
            cli_fail(dc_only_flag, "only with --traffic dc (udp sets up no connections)");
        if (o->msg_size > CTL_UDP_SIZE_MAX)
            cli_fail("--size", "%u bytes is more than %u, the largest plain UDP agent message (--traffic udp)",
                     o->msg_size, CTL_UDP_SIZE_MAX);
        if (o->pattern == RI_PATTERN_ECHO)
            cli_fail("--pattern", "echo needs --traffic dc (a DataChannel carries the message back)");
        return;
    }
    o->dc_type = t->dc_type;
    o->dc_reliability = t->dc_reliability;
    if (o->sign && o->msg_size < CTL_SIGNED_SIZE_MIN) {
        if (size_given)
            cli_fail("--sign", "needs messages of at least %u bytes (32-byte header + 64-byte signature); the size is %u",
                     CTL_SIGNED_SIZE_MIN, o->msg_size);
        o->msg_size = CTL_SIGNED_SIZE_MIN;
    }
}

void ctl_run_opts_parse(struct ctl_run_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->agents = 1000;
    snprintf(o->topology, sizeof(o->topology), "kmesh:k=8");
    o->seed = 1;
    o->rate = 20000;
    o->setup_cap = 16;
    o->setup_attempts = 3;
    o->setup_timeout_ns = 600000000000ull;
    o->media = RI_MEDIA_NONE;
    o->duration_ns = 20000000000ull;
    o->drain_ns = 2000000000ull;
    o->msg_size = 64;
    o->pattern = RI_PATTERN_ROUTED;
    o->route_mem = 1000000000ull;
    o->mbufs_per_worker = 16384;
    o->burst = 32;
    o->huge = -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = ncpu > 0 ? (uint32_t)ncpu : 1;
    bool cores_set = false, size_given = false, mbufs_given = false, external_setup_given = false;
    o->external_active = true;
    o->external_max = RI_EXTERNAL_MAX;
    const char *dc_only_flag = NULL; /* the first dc-only flag given, for the udp check */
    struct ctl_traffic traffic;
    char terr[256];
    ctl_traffic_parse("dc", &traffic, terr, sizeof(terr));
    uint64_t v;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            exit(0);
        } else if (cli_is(a, "--agents")) {
            const char *s = cli_value(argc, argv, &i, "--agents");
            if (cli_parse_u64(s, 2, CTL_MAX_AGENTS_RUN, &v) < 0)
                cli_fail("--agents", "'%s' is not a whole number in 2..%u", s, CTL_MAX_AGENTS_RUN);
            o->agents = (uint32_t)v;
        } else if (cli_is(a, "--topology")) {
            const char *s = cli_value(argc, argv, &i, "--topology");
            struct ctl_topo_spec spec;
            char err[160];
            if (ctl_topo_spec_parse(s, &spec, err, sizeof(err)) < 0)
                cli_fail("--topology", "'%s': %s", s, err);
            snprintf(o->topology, sizeof(o->topology), "%s", s);
        } else if (cli_is(a, "--seed")) {
            const char *s = cli_value(argc, argv, &i, "--seed");
            if (cli_parse_u64(s, 0, UINT64_MAX, &o->seed) < 0)
                cli_fail("--seed", "'%s' is not a whole number", s);
        } else if (cli_is(a, "--rate")) {
            const char *s = cli_value(argc, argv, &i, "--rate");
            if (cli_parse_u64(s, 1, 1000000000ull, &o->rate) < 0)
                cli_fail("--rate", "'%s' is not a message rate in 1..1G per second", s);
        } else if (cli_is(a, "--duration")) {
            const char *s = cli_value(argc, argv, &i, "--duration");
            if (cli_parse_duration(s, 100000000ull, 7ull * 24 * 3600 * 1000000000ull,
                                   &o->duration_ns) < 0)
                cli_fail("--duration", "'%s' is not a duration between 100ms and 7 days (e.g. 20s, 500ms, 2m)", s);
        } else if (cli_is(a, "--drain")) {
            const char *s = cli_value(argc, argv, &i, "--drain");
            if (cli_parse_duration(s, 0, 60000000000ull, &o->drain_ns) < 0)
                cli_fail("--drain", "'%s' is not a duration up to 60s", s);
        } else if (cli_is(a, "--size")) {
            const char *s = cli_value(argc, argv, &i, "--size");
            if (cli_parse_u64(s, CTL_DC_SIZE_MIN, CTL_DC_SIZE_MAX, &v) < 0)
                cli_fail("--size", "'%s' is not a message size in 32..65536 bytes (dc) or 32..1400 (udp)", s);
            o->msg_size = (uint32_t)v;
            size_given = true;
        } else if (cli_is(a, "--pattern")) {
            const char *s = cli_value(argc, argv, &i, "--pattern");
            struct ctl_pattern p;
            if (ctl_pattern_parse(s, &p, terr, sizeof(terr)) < 0)
                cli_fail("--pattern", "%s", terr);
            o->pattern = p.pattern;
            o->route_sample = p.sample;
        } else if (cli_is(a, "--traffic")) {
            const char *s = cli_value(argc, argv, &i, "--traffic");
            if (ctl_traffic_parse(s, &traffic, terr, sizeof(terr)) < 0)
                cli_fail("--traffic", "%s", terr);
        } else if (cli_is(a, "--media")) {
            const char *s = cli_value(argc, argv, &i, "--media");
            struct ctl_media md;
            if (ctl_media_parse(s, &md, terr, sizeof(terr)) < 0)
                cli_fail("--media", "%s", terr);
            o->media = md.kind;
            o->media_bitrate = md.bitrate;
            o->media_fps = md.fps;
            o->media_payload = md.payload;
            if (!dc_only_flag && o->media != RI_MEDIA_NONE)
                dc_only_flag = "--media";
        } else if (strcmp(a, "--sign") == 0) {
            o->sign = true;
            if (!dc_only_flag)
                dc_only_flag = "--sign";
        } else if (cli_is(a, "--keylog")) {
            o->keylog_path = cli_value(argc, argv, &i, "--keylog");
            if (!*o->keylog_path || strlen(o->keylog_path) >= 256)
                cli_fail("--keylog", "expected a file name of 1..255 characters");
            if (!dc_only_flag)
                dc_only_flag = "--keylog";
        } else if (cli_is(a, "--setup-cap")) {
            const char *s = cli_value(argc, argv, &i, "--setup-cap");
            if (cli_parse_u64(s, 1, 4096, &v) < 0)
                cli_fail("--setup-cap", "'%s' is not a connection count in 1..4096", s);
            o->setup_cap = (uint32_t)v;
            if (!dc_only_flag)
                dc_only_flag = "--setup-cap";
        } else if (cli_is(a, "--setup-attempts")) {
            const char *s = cli_value(argc, argv, &i, "--setup-attempts");
            if (cli_parse_u64(s, 1, 100, &v) < 0)
                cli_fail("--setup-attempts", "'%s' is not an attempt count in 1..100", s);
            o->setup_attempts = (uint32_t)v;
            if (!dc_only_flag)
                dc_only_flag = "--setup-attempts";
        } else if (cli_is(a, "--setup-timeout")) {
            const char *s = cli_value(argc, argv, &i, "--setup-timeout");
            if (cli_parse_duration(s, 1000000000ull, 7ull * 24 * 3600 * 1000000000ull,
                                   &o->setup_timeout_ns) < 0)
                cli_fail("--setup-timeout", "'%s' is not a duration between 1s and 7 days (e.g. 30s, 10m)", s);
            if (!dc_only_flag)
                dc_only_flag = "--setup-timeout";
        } else if (cli_is(a, "--sctp-bufs")) {
            const char *s = cli_value(argc, argv, &i, "--sctp-bufs");
            if (cli_parse_u64(s, CTL_SCTP_BUFS_MIN, CTL_SCTP_BUFS_MAX, &v) < 0)
                cli_fail("--sctp-bufs", "'%s' is not a buffer count in %u..%u", s, CTL_SCTP_BUFS_MIN,
                         CTL_SCTP_BUFS_MAX);
            o->sctp_bufs = (uint32_t)v;
            if (!dc_only_flag)
                dc_only_flag = "--sctp-bufs";
        } else if (cli_is(a, "--cores")) {
            const char *s = cli_value(argc, argv, &i, "--cores");
            if (ctl_parse_cores(s, o) < 0)
                cli_fail("--cores", "'%s' is not a list of distinct usable CPUs (e.g. 0,1 or 0-3; %ld online)", s, ncpu);
            cores_set = true;
        } else if (cli_is(a, "--port")) {
            const char *s = cli_value(argc, argv, &i, "--port");
            if (o->n_ports == CTL_MAX_PORTS)
                cli_fail("--port", "at most %d ports", CTL_MAX_PORTS);
            if (!*s || strchr(s, ' '))
                cli_fail("--port", "'%s' is not a PCI address or a DPDK vdev string", s);
            o->ports[o->n_ports++] = s;
        } else if (cli_is(a, "--report")) {
            o->report_path = cli_value(argc, argv, &i, "--report");
            if (!*o->report_path)
                cli_fail("--report", "empty file name");
        } else if (cli_is(a, "--route-mem")) {
            const char *s = cli_value(argc, argv, &i, "--route-mem");
            if (cli_parse_u64(s, 1000000ull, 1ull << 40, &o->route_mem) < 0)
                cli_fail("--route-mem", "'%s' is not a byte count in 1M..1T", s);
        } else if (cli_is(a, "--mbufs")) {
            const char *s = cli_value(argc, argv, &i, "--mbufs");
            if (cli_parse_u64(s, 1024, 1u << 22, &v) < 0)
                cli_fail("--mbufs", "'%s' is not a buffer count in 1024..4194304", s);
            o->mbufs_per_worker = (uint32_t)v;
            mbufs_given = true;
        } else if (cli_is(a, "--burst")) {
            const char *s = cli_value(argc, argv, &i, "--burst");
            if (cli_parse_u64(s, 1, 64, &v) < 0)
                cli_fail("--burst", "'%s' is not a burst size in 1..64", s);
            o->burst = (uint32_t)v;
        } else if (cli_is(a, "--hugepages")) {
            const char *s = cli_value(argc, argv, &i, "--hugepages");
            if (strcmp(s, "auto") == 0)
                o->huge = -1;
            else if (strcmp(s, "on") == 0)
                o->huge = 1;
            else if (strcmp(s, "off") == 0)
                o->huge = 0;
            else
                cli_fail("--hugepages", "'%s' is not one of auto, on, off", s);
        } else if (cli_is(a, "--eal")) {
            o->eal_extra = cli_value(argc, argv, &i, "--eal");
        } else if (cli_is(a, "--dp")) {
            o->dp_path = cli_value(argc, argv, &i, "--dp");
            if (access(o->dp_path, X_OK) != 0)
                cli_fail("--dp", "'%s' is not an executable file", o->dp_path);
        } else if (cli_is(a, "--backend")) {
            const char *s = cli_value(argc, argv, &i, "--backend");
            uint8_t b[CTL_CMP_BACKENDS];
            if (ctl_compare_backends_parse(s, b) != 1)
                cli_fail("--backend", "'%s' is not one of dpdk, uring, usrsctp", s);
            o->backend = b[0];
        } else if (cli_is(a, "--threads")) {
            const char *s = cli_value(argc, argv, &i, "--threads");
            if (cli_parse_u64(s, 1, 256, &v) < 0)
                cli_fail("--threads", "'%s' is not a thread count in 1..256", s);
            o->threads = (uint32_t)v;
        } else if (cli_is(a, "--profile")) {
            o->profile = cli_value(argc, argv, &i, "--profile");
            struct ctl_profile prof;
            if (ctl_profile_preset(o->profile, 1, 1000000000ull, &prof) < 0 &&
                access(o->profile, R_OK) != 0)
                cli_fail("--profile", "'%s' is neither a preset (constant, ramp, load, spike, soak) nor a readable file",
                         o->profile);
        } else if (cli_is(a, "--sla")) {
            o->sla_text = cli_value(argc, argv, &i, "--sla");
            struct ctl_sla sla;
            char err[256];
            if (ctl_sla_parse(o->sla_text, &sla, err, sizeof(err)) < 0)
                cli_fail("--sla", "%s", err);
        } else if (strcmp(a, "--abort-on-fail") == 0) {
            o->abort_on_fail = true;
        } else if (cli_is(a, "--csv")) {
            o->csv_path = cli_value(argc, argv, &i, "--csv");
            if (!*o->csv_path)
                cli_fail("--csv", "empty file name");
        } else if (cli_is(a, "--netem")) {
            const char *s = cli_value(argc, argv, &i, "--netem");
            struct ri_netem nc;
            char err[256];
            if (ctl_netem_parse(s, &nc, err, sizeof(err)) < 0)
                cli_fail("--netem", "%s", err);
            if (nc.share_ppm == 0 && strcmp(nc.name, "all") == 0) {
                if (o->netem[0].enabled)
                    cli_fail("--netem", "the global class (no class=) is given twice");
                o->netem[0] = nc;
                if (o->n_netem == 0)
                    o->n_netem = 1;
            } else {
                if (o->n_netem == 0)
                    o->n_netem = 1; /* class 0 stays the (possibly empty) global class */
                if (o->n_netem == RI_NETEM_CLASSES)
                    cli_fail("--netem", "at most %d named classes", RI_NETEM_CLASSES - 1);
                uint32_t total = nc.share_ppm;
                for (uint32_t c = 1; c < o->n_netem; c++)
                    total += o->netem[c].share_ppm;
                if (total > 1000000)
                    cli_fail("--netem", "the shares of the named classes add up to more than 100%%");
                o->netem[o->n_netem++] = nc;
            }
        } else if (cli_is(a, "--html")) {
            o->html_path = cli_value(argc, argv, &i, "--html");
            if (!*o->html_path)
                cli_fail("--html", "empty file name");
        } else if (cli_is(a, "--prom")) {
            o->prom_addr = cli_value(argc, argv, &i, "--prom");
            if (!strchr(o->prom_addr, ':'))
                cli_fail("--prom", "'%s' is not ADDR:PORT (e.g. 127.0.0.1:9100, [::1]:9100, :9100)", o->prom_addr);
        } else if (cli_is(a, "--pcap-count")) {
            const char *s = cli_value(argc, argv, &i, "--pcap-count");
            if (cli_parse_u64(s, 1, 100000, &v) < 0)
                cli_fail("--pcap-count", "'%s' is not a frame count in 1..100000", s);
            o->pcap_count = (uint32_t)v;
        } else if (cli_is(a, "--pcap")) {
            o->pcap_path = cli_value(argc, argv, &i, "--pcap");
            if (!*o->pcap_path || strlen(o->pcap_path) >= 256)
                cli_fail("--pcap", "expected a file name of 1..255 characters");
        } else if (cli_is(a, "--external")) {
            const char *s = cli_value(argc, argv, &i, "--external");
            if (strcmp(s, "echo") == 0)
                o->external = RI_EXT_ECHO;
            else if (strcmp(s, "route") == 0)
                o->external = RI_EXT_ROUTE;
            else
                cli_fail("--external", "'%s' is not one of echo, route", s);
        } else if (cli_is(a, "--signal")) {
            o->signal_addr = cli_value(argc, argv, &i, "--signal");
            const char *colon = strrchr(o->signal_addr, ':');
            if (!colon || !colon[1])
                cli_fail("--signal", "'%s' is not ADDR:PORT (e.g. 127.0.0.1:8088, 0.0.0.0:8088, :8088)", o->signal_addr);
        } else if (cli_is(a, "--external-port")) {
            o->external_port = cli_value(argc, argv, &i, "--external-port");
            if (!*o->external_port || strchr(o->external_port, ' ') || strlen(o->external_port) >= 256)
                cli_fail("--external-port", "'%s' is not a DPDK vdev string (e.g. net_af_packet0,iface=sgext0)",
                         o->external_port);
        } else if (cli_is(a, "--external-setup")) {
            const char *s = cli_value(argc, argv, &i, "--external-setup");
            if (strcmp(s, "active") == 0)
                o->external_active = true;
            else if (strcmp(s, "passive") == 0)
                o->external_active = false;
            else
                cli_fail("--external-setup", "'%s' is not one of active, passive", s);
            external_setup_given = true;
        } else if (cli_is(a, "--external-max")) {
            const char *s = cli_value(argc, argv, &i, "--external-max");
            if (cli_parse_u64(s, 1, RI_EXTERNAL_MAX, &v) < 0)
                cli_fail("--external-max", "'%s' is not a session count in 1..%d", s, RI_EXTERNAL_MAX);
            o->external_max = (uint32_t)v;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else {
            cli_fail(a, "unknown flag for 'swarmgen run' (see swarmgen run --help)");
        }
    }
    if (!cores_set)
        default_cores(o);
    resolve_traffic(o, &traffic, size_given, dc_only_flag);
    if (o->traffic == RI_TRAFFIC_DC && !mbufs_given)
        o->mbufs_per_worker = 32768; /* datagrams of many connections in flight on the loopback ring and hand-offs */
    if (o->pcap_count && !o->pcap_path)
        cli_fail("--pcap-count", "needs --pcap FILE");
    if (o->backend != RI_BACKEND_DPDK && o->n_ports)
        cli_fail("--port", "only with --backend dpdk (the %s backend uses kernel UDP sockets on loopback)",
                 ctl_compare_backend_name(o->backend));
    if (o->backend == RI_BACKEND_USRSCTP && o->traffic != RI_TRAFFIC_DC)
        cli_fail("--backend", "usrsctp carries DataChannels: it needs --traffic dc");
    if (o->backend == RI_BACKEND_USRSCTP) {
        const char *no = o->media ? "--media" : o->n_netem ? "--netem" : o->pcap_path ? "--pcap" : NULL;
        if (no)
            cli_fail(no, "not with --backend usrsctp (its stack carries DataChannels only, on kernel sockets)");
    }
    if (o->pcap_path && !o->pcap_count)
        o->pcap_count = 1000;
    if (o->signal_addr && o->external == RI_EXT_OFF)
        o->external = RI_EXT_ECHO;
    if (o->external == RI_EXT_OFF) {
        if (o->external_port || external_setup_given || o->external_max != RI_EXTERNAL_MAX)
            cli_fail(o->external_port ? "--external-port" : external_setup_given ? "--external-setup" : "--external-max",
                     "only with --external echo|route or --signal");
    } else {
        if (o->traffic != RI_TRAFFIC_DC)
            cli_fail("--external", "needs --traffic dc (external peers speak WebRTC DataChannels)");
        if (o->backend != RI_BACKEND_DPDK)
            cli_fail("--external", "only with --backend dpdk (the external port is a DPDK port)");
        if (!o->signal_addr)
            o->signal_addr = CTL_SIGNAL_ADDR_DEFAULT;
        if (!o->external_port)
            o->external_port = CTL_EXTERNAL_PORT_DEFAULT;
    }
}

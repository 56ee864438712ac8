/* SPDX-License-Identifier: MIT */
#include "run_opts.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "netem_opts.h"
#include "profile.h"
#include "sla.h"
#include "topo.h"

static const char usage[] =
    "usage: swarmgen run [flags]\n"
    "  --agents N          simulated agents (2..131070, default 10000)\n"
    "  --topology SPEC     full | kmesh:k=K | hub:hubs=H | ring | smallworld:k=K,p=P |\n"
    "                      scalefree:m=M (default kmesh:k=20)\n"
    "  --rate R            agent messages per second, all cores (default 200000)\n"
    "  --duration D        generation time: 20s, 500ms, 2m (default 20s)\n"
    "  --size BYTES        UDP payload of an agent message, 32..1400 (default 64)\n"
    "  --pattern P         routed (random destination, forwarded hop by hop) |\n"
    "                      neighbors (random direct neighbour) (default routed)\n"
    "  --cores LIST        lcores to pin the dataplane workers to, e.g. 0,1 or 0-3\n"
    "                      (default: every CPU this process may use)\n"
    "  --port SPEC         PCI address or DPDK vdev string (tap, af_packet, memif,\n"
    "                      pcap, null...); repeat for several ports (default: one\n"
    "                      net_ring loopback port per core, no NIC needed)\n"
    "  --seed S            topology and traffic seed (default 1)\n"
    "  --report FILE.json  write the JSON report\n"
    "  --drain D           longest wait for in-flight messages after generation (default 2s)\n"
    "  --route-mem BYTES   memory allowed for next-hop tables (default 1G)\n"
    "  --mbufs N           packet buffers per core (default 16384)\n"
    "  --burst N           rx/tx burst size, 1..64 (default 32)\n"
    "  --hugepages MODE    auto | on | off (default auto: used when enough are free)\n"
    "  --eal \"ARGS\"        extra EAL arguments for the dataplane\n"
    "  --dp PATH           swarmgen-dp binary (default: next to swarmgen)\n"
    "  --threads N         control threads for topology analysis and routing\n"
    "  --profile P         load profile: constant | ramp | load | spike | soak, or a\n"
    "                      YAML scenario file (default constant; see docs/profiles.md)\n"
    "  --sla RULES         thresholds, e.g. 'p95<150ms,p99<200ms,delivery>99.9%,errors<0.1%'\n"
    "                      judged per phase and overall; exit 1 when one is breached\n"
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

void ctl_run_opts_parse(struct ctl_run_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->agents = 10000;
    snprintf(o->topology, sizeof(o->topology), "kmesh:k=20");
    o->seed = 1;
    o->rate = 200000;
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
    bool cores_set = false;
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
            if (cli_parse_u64(s, 32, 1400, &v) < 0)
                cli_fail("--size", "'%s' is not a message size in 32..1400 bytes", s);
            o->msg_size = (uint32_t)v;
        } else if (cli_is(a, "--pattern")) {
            const char *s = cli_value(argc, argv, &i, "--pattern");
            if (strcmp(s, "routed") == 0)
                o->pattern = RI_PATTERN_ROUTED;
            else if (strcmp(s, "neighbors") == 0)
                o->pattern = RI_PATTERN_NEIGHBORS;
            else
                cli_fail("--pattern", "'%s' is not one of routed, neighbors", s);
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
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else {
            cli_fail(a, "unknown flag for 'swarmgen run' (see swarmgen run --help)");
        }
    }
    if (!cores_set)
        default_cores(o);
    if (o->pcap_count && !o->pcap_path)
        cli_fail("--pcap-count", "needs --pcap FILE");
    if (o->pcap_path && !o->pcap_count)
        o->pcap_count = 1000;
}

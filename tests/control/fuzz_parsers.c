/* SPDX-License-Identifier: MIT */
/* libFuzzer target: every text parser of the control process — topology
 * specs, SLA rules, netem specs, durations and numbers, JSON reports,
 * --traffic and --pattern values, scenario files. The
 * first byte picks the parser; the rest is its input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json_read.h"
#include "netem_opts.h"
#include "profile.h"
#include "sla.h"
#include "topo.h"
#include "traffic_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    char err[512];
    switch (data[0] % 7) {
    case 0: {
        struct ctl_topo_spec spec;
        if (ctl_topo_spec_parse(s, &spec, err, sizeof(err)) == 0) {
            char buf[64];
            ctl_topo_spec_format(&spec, buf, sizeof(buf));
            struct ctl_topo_spec again;
            if (ctl_topo_spec_parse(buf, &again, err, sizeof(err)) != 0)
                __builtin_trap(); /* the canonical form must parse */
            struct ctl_graph g;
            if (ctl_topo_build(&spec, 64, 1, &g, err, sizeof(err)) == 0)
                ctl_graph_free(&g);
        }
        break;
    }
    case 1: {
        struct ctl_sla sla;
        if (ctl_sla_parse(s, &sla, err, sizeof(err)) == 0) {
            char buf[64];
            for (uint32_t i = 0; i < sla.n; i++)
                ctl_sla_format(&sla.rule[i], sla.rule[i].value, buf, sizeof(buf));
        }
        break;
    }
    case 2: {
        struct ri_netem n;
        ctl_netem_parse(s, &n, err, sizeof(err));
        break;
    }
    case 3: {
        uint64_t v;
        double d;
        cli_parse_u64(s, 0, UINT64_MAX, &v);
        cli_parse_double(s, 0, 1e18, &d);
        cli_parse_duration(s, 0, UINT64_MAX, &v);
        break;
    }
    case 4: {
        struct jr_doc d;
        if (jr_parse(&d, (const char *)data + 1, size - 1, NULL) == 0) {
            double v;
            jr_number(&d, "latency_us.p99", &v);
            jr_free(&d);
        }
        break;
    }
    case 5: {
        struct ctl_traffic t;
        if (ctl_traffic_parse(s, &t, err, sizeof(err)) == 0 && t.kind == RI_TRAFFIC_DC) {
            char mode[32];
            ctl_dc_mode_format(t.dc_type, t.dc_reliability, mode, sizeof(mode));
            if (t.size && (t.size < CTL_DC_SIZE_MIN || t.size > CTL_DC_SIZE_MAX))
                __builtin_trap(); /* an accepted size is in range */
        }
        struct ctl_pattern p;
        ctl_pattern_parse(s, &p, err, sizeof(err));
        break;
    }
    default: {
        /* scenario files go through libyaml from a file */
        char path[64];
        snprintf(path, sizeof(path), "/tmp/sg-fuzz-%d.yaml", (int)getpid());
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(data + 1, 1, size - 1, f);
            fclose(f);
            struct ctl_profile p;
            if (ctl_profile_load(path, 1000, &p, err, sizeof(err)) == 0 && p.n == 0)
                __builtin_trap(); /* a loaded profile has phases */
            unlink(path);
        }
        break;
    }
    }
    free(s);
    return 0;
}

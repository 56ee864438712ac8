/* SPDX-License-Identifier: MIT */
#include "mem_plan.h"

#include <errno.h>
#include <string.h>

#include "dp_launch.h"
#include "image.h"
#include "target.h"

int ctl_meminfo_parse(FILE *f, struct ctl_meminfo *mi)
{
    memset(mi, 0, sizeof(*mi));
    char line[128];
    bool have = false;
    unsigned long long pages = 0, page_kb = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long v;
        if (sscanf(line, "MemAvailable: %llu kB", &v) == 1) {
            mi->available = v * 1024;
            have = true;
        } else if (sscanf(line, "HugePages_Free: %llu", &v) == 1) {
            pages = v;
        } else if (sscanf(line, "Hugepagesize: %llu kB", &v) == 1) {
            page_kb = v;
        }
    }
    mi->huge_free = pages * page_kb * 1024;
    return have ? 0 : -ENODATA;
}

int ctl_mem_plan_make(struct ctl_mem_plan *p, const struct ctl_run_opts *o, const struct ri_config *cfg)
{
    memset(p, 0, sizeof(*p));
    struct ri_header h;
    int rc = ctl_image_layout(cfg, &h);
    if (rc < 0)
        return rc;
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return -errno;
    rc = ctl_meminfo_parse(f, &p->mi);
    fclose(f);
    if (rc < 0)
        return rc;
    /* the launcher's choice (ctl_dp_build_argv), from the same figures */
    uint64_t dp_mb = ctl_dp_mem_mb(o, cfg->n_edges);
    uint64_t tables_first;
    p->hugepages = o->huge == 1 || (o->huge == -1 && p->mi.huge_free / 1048576 >= dp_mb + 64);
    p->planned = o->backend != RI_BACKEND_USRSCTP;
    p->in = (struct dp_mem_in){
        .n_agents = cfg->n_agents, .n_workers = cfg->n_workers, .n_edges = cfg->n_edges,
        .n_dests = cfg->n_dests, .dc = cfg->traffic == RI_TRAFFIC_DC, .media = cfg->media != RI_MEDIA_NONE,
        .setup_cap = cfg->setup_cap, .sctp_bufs = cfg->sctp_bufs, .keylog_max = cfg->keylog_max,
        .consent = cfg->consent != 0, .dtls_keep = cfg->dtls_key_update != 0,
        .target_dtls_keep = (ri_dtls_offer(cfg->ext_dtls_versions) & RI_DTLS_V13) != 0,
        .mbufs_per_worker = cfg->mbufs_per_worker, .image_bytes = h.image_size,
        .tables_bytes = ri_tables_span(&h, &tables_first), .target_slots = cfg->target_slots,
        .relay = o->relay.on, .relay_tcp = o->relay.on && o->relay.tcp, .target_feeds = ctl_target_feeds(o->target)};
    dp_mem_plan(&p->in, &p->out);
    /* without hugepages DPDK runs on ordinary memory (--no-huge -m MB) */
    p->need_huge = p->hugepages ? p->out.dpdk_heap : 0;
    p->need_ram = p->out.total - p->need_huge;
    return 0;
}

static double gib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0 * 1024.0);
}

int ctl_mem_plan_check(const struct ctl_mem_plan *p, char *err, size_t errlen)
{
    if (!p->planned)
        return 0;
    if (p->need_ram > p->mi.available) {
        snprintf(err, errlen,
                 "the run needs %.2f GiB of memory (%.0f bytes per agent; --dry-run shows the plan), "
                 "the machine has %.2f GiB available",
                 gib(p->need_ram), p->out.per_agent, gib(p->mi.available));
        return -ENOMEM;
    }
    if (p->need_huge > p->mi.huge_free) {
        snprintf(err, errlen,
                 "--hugepages on: the dataplane needs %.2f GiB of hugepages (mbufs %.2f GiB), %.2f GiB are free",
                 gib(p->need_huge), gib(p->out.bytes[DP_MEM_MBUF]), gib(p->mi.huge_free));
        return -ENOMEM;
    }
    return 0;
}

void ctl_mem_plan_print(FILE *f, const struct ctl_mem_plan *p, uint32_t n_cores)
{
    const struct dp_mem_out *m = &p->out;
    if (!p->planned) {
        fprintf(f, "swarmgen: memory plan: --backend usrsctp allocates on its own; not planned\n");
        return;
    }
    fprintf(f, "swarmgen: memory plan: %u agents, %llu connections, %u core%s, %s\n", p->in.n_agents,
            (unsigned long long)p->in.n_edges, n_cores, n_cores == 1 ? "" : "s",
            p->hugepages ? "DPDK on hugepages" : "no hugepages");
    for (int c = 0; c < DP_MEM_COUNT; c++) {
        fprintf(f, "  %-18s %12.1f MiB", dp_mem_label((enum dp_mem_cat)c), m->bytes[c] / 1048576.0);
        if (c == DP_MEM_CONN && p->in.dc)
            fprintf(f, "  %.0f bytes per connection (both ends)", m->conn_per_connection);
        if (c == DP_MEM_TARGET && p->in.target_slots)
            fprintf(f, "  %.0f bytes per session (%u)", (double)m->bytes[c] / p->in.target_slots,
                    p->in.target_slots);
        if (c == DP_MEM_RELAY && p->in.relay && p->in.n_agents)
            fprintf(f, "  %.0f bytes per relayed agent", (double)m->bytes[c] / p->in.n_agents);
        if (c == DP_MEM_ROUTES && p->in.n_dests)
            fprintf(f, "  %u of %u agents as destinations%s", p->in.n_dests, p->in.n_agents,
                    p->in.n_dests < p->in.n_agents ? " (a seeded sample: routed:M or --route-mem)" : "");
        fputc('\n', f);
    }
    fprintf(f, "  %-18s %12.1f MiB  %.0f bytes per agent, %.0f per connection (everything)\n", "total",
            m->total / 1048576.0, m->per_agent, p->in.n_edges ? (double)m->total / (double)p->in.n_edges : 0);
    fprintf(f, "  %-18s %12.1f MiB of %.1f MiB available%s", "memory", p->need_ram / 1048576.0,
            p->mi.available / 1048576.0, p->hugepages ? "" : "\n");
    if (p->hugepages)
        fprintf(f, "; hugepages %.1f MiB of %.1f MiB free\n", p->need_huge / 1048576.0,
                p->mi.huge_free / 1048576.0);
}

/* SPDX-License-Identifier: MIT */
/* Memory by category, measured (the command block) and planned
 * (control/run/mem_plan.h), in the summary and the JSON report; the JSON
 * of a dry run; busy cycles per delivered message. */
#include "report_mem.h"

#include <errno.h>

#include "json.h"
#include "report_conn.h"

static bool is_dc(const struct ctl_run_result *r)
{
    return r->opts->traffic == RI_TRAFFIC_DC;
}

void ctl_report_mem_measured(const struct ctl_run_result *r, uint64_t bytes[DP_MEM_COUNT])
{
    bytes[DP_MEM_CONN] = r->mem_conn_bytes;
    bytes[DP_MEM_SCTP_POOL] = r->mem_sctp_pool_bytes;
    bytes[DP_MEM_HS] = r->mem_hs_bytes;
    bytes[DP_MEM_CERT] = r->mem_cert_bytes;
    bytes[DP_MEM_TABLES] = r->mem_tables_bytes;
    bytes[DP_MEM_TARGET] = r->mem_target_bytes;
    bytes[DP_MEM_RELAY] = r->mem_relay_bytes;
    bytes[DP_MEM_WORKER] = r->mem_dp_buf_bytes;
    bytes[DP_MEM_ROUTES] = r->routes_bytes;
    bytes[DP_MEM_IMAGE] = r->image_bytes > r->routes_bytes ? r->image_bytes - r->routes_bytes : 0;
    bytes[DP_MEM_MBUF] = r->mem_mbuf_bytes;
    bytes[DP_MEM_DPDK] = r->dpdk_bytes > r->mem_mbuf_bytes ? r->dpdk_bytes - r->mem_mbuf_bytes : 0;
}

uint64_t ctl_report_conn_up(const struct ctl_run_result *r)
{
    return is_dc(r) && r->final ? r->final->total.conn_established : 0;
}

/* "22.4 MiB" into buf. */
static const char *mib(char *buf, size_t len, uint64_t b)
{
    snprintf(buf, len, "%.1f MiB", b / 1048576.0);
    return buf;
}

void ctl_report_mem_summary(FILE *f, const struct ctl_run_result *r, const struct ctl_run_figures *g)
{
    uint64_t b[DP_MEM_COUNT];
    ctl_report_mem_measured(r, b);
    fprintf(f, "  memory       %.1f MiB: %.0f bytes per agent", g->bytes_total / 1048576.0, g->bytes_per_agent);
    if (is_dc(r))
        fprintf(f, ", %.0f bytes of connection state per connection up (both ends)", g->bytes_per_connection);
    const struct ctl_mem_plan *p = r->plan;
    if (p && p->planned && p->out.total)
        fprintf(f, "; planned %.1f MiB (%+.1f%%)", p->out.total / 1048576.0,
                100.0 * ((double)g->bytes_total - (double)p->out.total) / (double)p->out.total);
    fputc('\n', f);
    fprintf(f, "  memory by    ");
    char buf[32];
    bool first = true;
    for (int c = 0; c < DP_MEM_COUNT; c++) {
        if (c <= DP_MEM_WORKER && !is_dc(r))
            continue; /* no connections: nothing of theirs */
        if (c == DP_MEM_SCTP_POOL && b[c] == 0)
            fprintf(f, "%sSCTP pools (counted in connection state)", first ? "" : ", ");
        else
            fprintf(f, "%s%s %s", first ? "" : ", ", dp_mem_label((enum dp_mem_cat)c), mib(buf, sizeof(buf), b[c]));
        first = false;
    }
    fputc('\n', f);
}

/* {"connection_state": bytes, ..., "bytes_total": ...} of one set of categories. */
static void categories_json(struct json_writer *w, const uint64_t b[DP_MEM_COUNT])
{
    for (int c = 0; c < DP_MEM_COUNT; c++)
        json_kv_u64(w, dp_mem_key((enum dp_mem_cat)c), b[c]);
}

static void plan_json(struct json_writer *w, const struct ctl_mem_plan *p)
{
    json_key(w, "planned");
    if (!p || !p->planned) {
        json_null(w);
        return;
    }
    json_obj_begin(w);
    json_kv_u64(w, "bytes_total", p->out.total);
    json_kv_dbl(w, "bytes_per_agent", p->out.per_agent, 9);
    json_kv_dbl(w, "bytes_per_connection", p->out.conn_per_connection, 9);
    json_key(w, "categories");
    json_obj_begin(w);
    categories_json(w, p->out.bytes);
    json_obj_end(w);
    json_kv_bool(w, "hugepages", p->hugepages);
    json_kv_u64(w, "need_ram_bytes", p->need_ram);
    json_kv_u64(w, "need_hugepage_bytes", p->need_huge);
    json_kv_u64(w, "mem_available_bytes", p->mi.available);
    json_kv_u64(w, "hugepages_free_bytes", p->mi.huge_free);
    char err[256];
    json_kv_bool(w, "fits", ctl_mem_plan_check(p, err, sizeof(err)) == 0);
    json_obj_end(w);
}

void ctl_report_mem_json(struct json_writer *w, const struct ctl_run_result *r, const struct ctl_run_figures *g)
{
    uint64_t b[DP_MEM_COUNT];
    ctl_report_mem_measured(r, b);
    json_key(w, "memory");
    json_obj_begin(w);
    json_kv_u64(w, "bytes_total", g->bytes_total);
    json_kv_dbl(w, "bytes_per_agent", g->bytes_per_agent, 9);
    json_kv_dbl(w, "bytes_per_connection", g->bytes_per_connection, 9);
    json_kv_u64(w, "run_image_bytes", r->image_bytes);
    json_kv_u64(w, "dpdk_bytes", r->dpdk_bytes);
    json_kv_u64(w, "route_bytes", r->routes_bytes);
    json_kv_bool(w, "hugepages", r->hugepages);
    json_kv_bool(w, "sctp_pool_apart", r->mem_sctp_pool_bytes > 0);
    json_key(w, "categories");
    json_obj_begin(w);
    categories_json(w, b);
    json_obj_end(w);
    ctl_report_conn_memory_json(w, r);
    plan_json(w, r->plan);
    json_obj_end(w);
}

int ctl_report_plan_json(const char *path, const struct ctl_run_result *r)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    const struct ctl_mem_plan *p = r->plan;
    struct json_writer w;
    json_init(&w, f, true);
    json_obj_begin(&w);
    json_kv_str(&w, "tool", "swarmgen");
    json_kv_bool(&w, "dry_run", true);
    json_kv_u64(&w, "agents", r->opts->agents);
    json_kv_u64(&w, "workers", r->opts->n_cores);
    json_key(&w, "topology");
    json_obj_begin(&w);
    json_kv_str(&w, "spec", r->topology);
    json_kv_u64(&w, "edges", p ? p->in.n_edges : 0);
    json_obj_end(&w);
    json_kv_u64(&w, "route_destinations", r->n_dests);
    json_kv_bool(&w, "route_sampled", r->n_dests && r->n_dests < r->opts->agents);
    json_key(&w, "memory");
    json_obj_begin(&w);
    plan_json(&w, p);
    json_obj_end(&w);
    json_obj_end(&w);
    int rc = json_finish(&w);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

/* Busy cycles of worker w (all workers for w == UINT32_MAX) and messages
 * delivered on it, since generation began. */
static void busy_and_msgs(const struct ctl_run_result *r, uint32_t w, double *cycles, double *msgs)
{
    const struct ctl_snap *s = r->final, *b = r->gen_start;
    *cycles = *msgs = 0;
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n_workers; i++) {
        if (w != UINT32_MAX && i != w)
            continue;
        *cycles += (double)(s->worker[i].cycles_busy - (b ? b->worker[i].cycles_busy : 0));
        *msgs += (double)(s->worker[i].msgs_delivered - (b ? b->worker[i].msgs_delivered : 0));
    }
}

double ctl_report_cycles_per_msg(const struct ctl_run_result *r, uint32_t w)
{
    double cycles, msgs;
    busy_and_msgs(r, w, &cycles, &msgs);
    return msgs > 0 ? cycles / msgs : 0;
}

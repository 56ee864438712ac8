/* SPDX-License-Identifier: MIT */
/* sweep: a point's row from its run's JSON report; the table, JSON and CSV. */
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "json_read.h"

int ctl_sweep_list_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char buf[512];
    if (!*s || strlen(s) >= sizeof(buf))
        return -EINVAL;
    snprintf(buf, sizeof(buf), "%s", s);
    int n = 0;
    char *save = NULL;
    size_t commas = 0;
    for (const char *c = s; *c; c++)
        commas += *c == ',';
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == CTL_SWEEP_MAX_VALUES || cli_parse_u64(t, min, max, &out[n]) < 0)
            return -EINVAL;
        n++;
    }
    /* "10,,20", ",10", "10,": an empty item */
    return n == 0 || (size_t)n != commas + 1 ? -EINVAL : n;
}

static double num(const struct jr_doc *d, const char *path)
{
    double v;
    return jr_number(d, path, &v) ? v : NAN;
}

static uint64_t whole(const struct jr_doc *d, const char *path)
{
    uint64_t v;
    return jr_u64(d, jr_find(d, 0, path), &v) ? v : 0;
}

int ctl_sweep_point_read(const char *report, struct ctl_sweep_point *p, char *err, size_t errlen)
{
    struct jr_doc d;
    size_t off = 0;
    if (jr_parse(&d, report, strlen(report), &off) < 0) {
        snprintf(err, errlen, "the report is not JSON (byte %zu)", off);
        return -EINVAL;
    }
    int spec = jr_find(&d, 0, "topology.spec");
    uint64_t agents;
    if (!jr_u64(&d, jr_find(&d, 0, "agents"), &agents) || spec < 0 || d.node[spec].type != JR_STR) {
        snprintf(err, errlen, "the report has no agents or topology.spec");
        jr_free(&d);
        return -EINVAL;
    }
    size_t len =
        d.node[spec].raw_len < sizeof(p->topology) ? d.node[spec].raw_len : sizeof(p->topology) - 1;
    memcpy(p->topology, d.node[spec].raw, len);
    p->topology[len] = '\0';
    p->k =
        strncmp(p->topology, "kmesh:k=", 8) == 0 ? (uint32_t)strtoul(p->topology + 8, NULL, 10) : 0;
    p->edges = whole(&d, "topology.edges");
    p->target_rate = whole(&d, "throughput.target_msgs_per_s");
    p->conn_total = whole(&d, "connections.total");
    p->conn_up = whole(&d, "connections.established");
    p->setup_s = num(&d, "connections.setup_s");
    p->setup_per_s = num(&d, "connections.setup_per_s");
    p->bytes_per_agent = num(&d, "memory.bytes_per_agent");
    p->bytes_per_conn = num(&d, "memory.bytes_per_connection");
    p->p50_us = num(&d, "latency_us.p50");
    p->p95_us = num(&d, "latency_us.p95");
    p->p99_us = num(&d, "latency_us.p99");
    p->sent = whole(&d, "messages.sent");
    p->delivered = whole(&d, "messages.delivered");
    p->delivery = p->sent ? (double)p->delivered / (double)p->sent : NAN;
    p->cycles_per_msg = num(&d, "cpu.busy_cycles_per_msg");
    p->msgs_per_s = num(&d, "throughput.msgs_per_s");
    if (agents != p->agents) {
        snprintf(err, errlen, "the report is of %llu agents, not %u", (unsigned long long)agents,
                 p->agents);
        jr_free(&d);
        return -EINVAL;
    }
    jr_free(&d);
    return 0;
}

/* A figure for the table: "-" when it is not measured. */
static const char *fig(char *b, size_t n, double v, int dec)
{
    if (!isfinite(v))
        snprintf(b, n, "-");
    else
        snprintf(b, n, "%.*f", dec, v);
    return b;
}

void ctl_sweep_print(FILE *f, const struct ctl_sweep_point *p, size_t n)
{
    fprintf(f, "%8s %9s %-20s %8s %9s %8s %9s %11s %9s %9s %9s %9s %10s %10s\n", "agents", "rate",
            "topology", "edges", "conns up", "setup s", "setup/s", "B/agent", "B/conn", "p50 us",
            "p95 us", "p99 us", "delivered", "cycles/msg");
    for (size_t i = 0; i < n; i++) {
        const struct ctl_sweep_point *x = &p[i];
        char rate[24];
        if (x->ok || !x->rate)
            snprintf(rate, sizeof(rate), "%llu",
                     (unsigned long long)(x->ok ? x->target_rate : x->rate));
        else
            snprintf(rate, sizeof(rate), "%llu", (unsigned long long)x->rate);
        if (!x->ok) {
            fprintf(f, "%8u %9s FAILED: %s\n", x->agents, x->rate ? rate : "-", x->error);
            continue;
        }
        char a[9][32], up[32];
        snprintf(up, sizeof(up), "%llu/%llu", (unsigned long long)x->conn_up,
                 (unsigned long long)x->conn_total);
        fprintf(f, "%8u %9s %-20s %8llu %9s %8s %9s %11s %9s %9s %9s %9s %9s%% %10s\n", x->agents,
                rate, x->topology, (unsigned long long)x->edges, up, fig(a[0], 32, x->setup_s, 3),
                fig(a[1], 32, x->setup_per_s, 0), fig(a[2], 32, x->bytes_per_agent, 0),
                fig(a[3], 32, x->bytes_per_conn, 0), fig(a[4], 32, x->p50_us, 1),
                fig(a[5], 32, x->p95_us, 1), fig(a[6], 32, x->p99_us, 1),
                fig(a[7], 32, 100 * x->delivery, 4), fig(a[8], 32, x->cycles_per_msg, 0));
    }
}

int ctl_sweep_json(const char *path, const char *run_flags, const struct ctl_sweep_point *p,
                   size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    struct json_writer w;
    json_init(&w, f, true);
    json_obj_begin(&w);
    json_kv_str(&w, "tool", "swarmgen sweep");
    json_kv_str(&w, "run_flags", run_flags);
    json_key(&w, "points");
    json_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const struct ctl_sweep_point *x = &p[i];
        json_obj_begin(&w);
        json_kv_u64(&w, "agents", x->agents);
        json_kv_u64(&w, "rate", x->rate);
        json_kv_bool(&w, "ok", x->ok);
        json_key(&w, "exit_code");
        json_i64(&w, x->exit_code);
        json_kv_str(&w, "error", x->error);
        json_kv_str(&w, "report", x->report);
        if (x->ok) {
            json_kv_str(&w, "topology", x->topology);
            json_kv_u64(&w, "k", x->k);
            json_kv_u64(&w, "edges", x->edges);
            json_kv_u64(&w, "target_rate", x->target_rate);
            json_kv_u64(&w, "connections", x->conn_total);
            json_kv_u64(&w, "connections_up", x->conn_up);
            json_kv_dbl(&w, "setup_s", x->setup_s, 15);
            json_kv_dbl(&w, "setup_per_s", x->setup_per_s, 15);
            json_kv_dbl(&w, "bytes_per_agent", x->bytes_per_agent, 15);
            json_kv_dbl(&w, "bytes_per_connection", x->bytes_per_conn, 15);
            json_kv_dbl(&w, "p50_us", x->p50_us, 15);
            json_kv_dbl(&w, "p95_us", x->p95_us, 15);
            json_kv_dbl(&w, "p99_us", x->p99_us, 15);
            json_kv_u64(&w, "sent", x->sent);
            json_kv_u64(&w, "delivered", x->delivered);
            json_kv_dbl(&w, "delivery_ratio", x->delivery, 15);
            json_kv_dbl(&w, "cycles_per_msg", x->cycles_per_msg, 15);
            json_kv_dbl(&w, "msgs_per_s", x->msgs_per_s, 15);
        }
        json_obj_end(&w);
    }
    json_arr_end(&w);
    json_obj_end(&w);
    int rc = json_finish(&w);
    if (ferror(f))
        rc = -EIO;
    if (fclose(f) != 0)
        rc = -EIO;
    return rc < 0 ? -EIO : 0;
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.15g", v);
    else
        fputs(",", f);
}

int ctl_sweep_csv(const char *path, const struct ctl_sweep_point *p, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fputs("agents,rate,ok,topology,k,edges,target_rate,connections,connections_up,setup_s,"
          "setup_per_s,bytes_per_agent,bytes_per_connection,p50_us,p95_us,p99_us,sent,delivered,"
          "delivery_ratio,cycles_per_msg,msgs_per_s,report,error\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const struct ctl_sweep_point *x = &p[i];
        fprintf(f, "%u,%llu,%d", x->agents, (unsigned long long)x->rate, x->ok ? 1 : 0);
        if (x->ok) {
            fprintf(f, ",\"%s\",%u,%llu,%llu,%llu,%llu", x->topology, x->k,
                    (unsigned long long)x->edges, (unsigned long long)x->target_rate,
                    (unsigned long long)x->conn_total, (unsigned long long)x->conn_up);
            double v[] = {x->setup_s, x->setup_per_s, x->bytes_per_agent, x->bytes_per_conn,
                          x->p50_us,  x->p95_us,      x->p99_us};
            for (size_t j = 0; j < sizeof(v) / sizeof(v[0]); j++)
                csv_num(f, v[j]);
            fprintf(f, ",%llu,%llu", (unsigned long long)x->sent, (unsigned long long)x->delivered);
            csv_num(f, x->delivery);
            csv_num(f, x->cycles_per_msg);
            csv_num(f, x->msgs_per_s);
        } else {
            for (int j = 0; j < 18; j++) /* topology .. msgs_per_s */
                fputc(',', f);
        }
        /* the error: quoted, its quotes doubled */
        fprintf(f, ",%s,\"", x->report);
        for (const char *c = x->error; *c; c++)
            fputs(*c == '"' ? "\"\"" : (char[]){*c, 0}, f);
        fputs("\"\n", f);
    }
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0)
        rc = -EIO;
    return rc;
}

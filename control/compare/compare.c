/* SPDX-License-Identifier: MIT */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_read.h"
#include "traffic_opts.h"

const char *const ctl_cmp_metric_key[CTL_CMP_N] = {
#define KEY(id, key, head, dec) key,
    CTL_CMP_METRICS(KEY)
#undef KEY
};

static const char *const metric_head[CTL_CMP_N] = {
#define HEAD(id, key, head, dec) head,
    CTL_CMP_METRICS(HEAD)
#undef HEAD
};

static const int metric_decimals[CTL_CMP_N] = {
#define DEC(id, key, head, dec) dec,
    CTL_CMP_METRICS(DEC)
#undef DEC
};

static const char *const backend_names[CTL_CMP_BACKENDS] = {"dpdk", "uring", "usrsctp"};

const char *ctl_compare_backend_name(uint8_t backend)
{
    return backend < CTL_CMP_BACKENDS ? backend_names[backend] : "?";
}

int ctl_compare_backends_parse(const char *list, uint8_t out[CTL_CMP_BACKENDS])
{
    int n = 0;
    const char *p = list;
    bool seen[CTL_CMP_BACKENDS] = {false};
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int found = -1;
        for (int b = 0; b < CTL_CMP_BACKENDS; b++)
            if (strlen(backend_names[b]) == len && strncmp(p, backend_names[b], len) == 0)
                found = b;
        if (found < 0 || seen[found])
            return -EINVAL;
        seen[found] = true;
        out[n++] = (uint8_t)found;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double ctl_compare_median(double *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            v[k++] = v[i];
    if (k == 0)
        return NAN;
    qsort(v, k, sizeof(*v), cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static double num_at(const struct jr_doc *d, int node)
{
    return node >= 0 && d->node[node].type == JR_NUM ? d->node[node].num : NAN;
}

static double num_or_nan(const struct jr_doc *d, const char *path)
{
    double v;
    return jr_number(d, path, &v) ? v : NAN;
}

/* Splits line (modified) at commas into f[0..max); returns the count. */
static int csv_fields(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

#define CSV_MAX_COLS (16 + RI_MAX_WORKERS)

struct csv_totals {
    double seconds, delivered, frames, bits, busy_core_s;
    bool have_busy;
};

/* Sums the rows of phase `name` of a time series over their lengths. */
static int csv_measure(const char *csv, const char *name, struct csv_totals *t, char *err,
                       size_t errlen)
{
    memset(t, 0, sizeof(*t));
    char *text = strdup(csv);
    if (!text)
        return fail(err, errlen, "out of memory");
    int rc = 0;
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    char *f[CSV_MAX_COLS];
    int ncol = line ? csv_fields(line, f, CSV_MAX_COLS) : 0;
    int c_t = -1, c_phase = -1, c_del = -1, c_pps = -1, c_mbps = -1, c_busy0 = -1, n_busy = 0;
    for (int i = 0; i < ncol; i++) {
        if (strcmp(f[i], "t_s") == 0)
            c_t = i;
        else if (strcmp(f[i], "phase") == 0)
            c_phase = i;
        else if (strcmp(f[i], "delivered_per_s") == 0)
            c_del = i;
        else if (strcmp(f[i], "pps") == 0)
            c_pps = i;
        else if (strcmp(f[i], "mbps") == 0)
            c_mbps = i;
        else if (strncmp(f[i], "busy_pct_core", 13) == 0) {
            if (c_busy0 < 0)
                c_busy0 = i;
            n_busy++;
        }
    }
    if (c_t < 0 || c_phase < 0 || c_del < 0 || c_pps < 0 || c_mbps < 0) {
        rc = fail(err, errlen,
                  "the time series has no t_s, phase, delivered_per_s, pps or mbps column");
        goto out;
    }
    t->have_busy = n_busy > 0;
    double prev_t = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        int n = csv_fields(line, f, CSV_MAX_COLS);
        if (n < ncol)
            continue;
        double ts = strtod(f[c_t], NULL), dt = ts - prev_t;
        prev_t = ts;
        if (strcmp(f[c_phase], name) != 0 || !(dt > 0))
            continue;
        t->seconds += dt;
        t->delivered += strtod(f[c_del], NULL) * dt;
        t->frames += strtod(f[c_pps], NULL) * dt;
        t->bits += strtod(f[c_mbps], NULL) * 1e6 * dt;
        for (int b = 0; b < n_busy; b++)
            t->busy_core_s += strtod(f[c_busy0 + b], NULL) / 100.0 * dt;
    }
    if (t->seconds <= 0)
        rc = fail(err, errlen, "the time series has no second of phase '%s'", name);
out:
    free(text);
    return rc;
}

int ctl_compare_sample_read(const char *report, const char *csv, uint32_t measure,
                            const char *measure_name, double tsc_hz, struct ctl_compare_sample *s,
                            char *err, size_t errlen)
{
    for (int m = 0; m < CTL_CMP_N; m++)
        s->v[m] = NAN;
    struct jr_doc d;
    size_t off = 0;
    if (jr_parse(&d, report, strlen(report), &off) < 0)
        return fail(err, errlen, "the report is not JSON (error at byte %zu)", off);
    int rc = 0;
    int phases = jr_member(&d, jr_member(&d, 0, "profile"), "phases");
    int ph = jr_element(&d, phases, measure);
    int reached = jr_member(&d, ph, "reached");
    if (ph < 0) {
        rc = fail(err, errlen, "the report has no phase %u ('%s')", measure + 1, measure_name);
        goto out;
    }
    if (reached < 0 || d.node[reached].type != JR_BOOL || d.node[reached].num == 0) {
        rc = fail(err, errlen, "the run ended before phase '%s'", measure_name);
        goto out;
    }
    int lat = jr_member(&d, ph, "latency_us");
    s->v[CTL_CMP_P50_US] = num_at(&d, jr_member(&d, lat, "p50"));
    s->v[CTL_CMP_P99_US] = num_at(&d, jr_member(&d, lat, "p99"));
    s->v[CTL_CMP_SETUP_PER_S] = num_or_nan(&d, "connections.setup_per_s");
    s->v[CTL_CMP_BYTES_PER_CONN] = num_or_nan(&d, "memory.bytes_per_connection_state");

    struct csv_totals t;
    rc = csv_measure(csv, measure_name, &t, err, errlen);
    if (rc < 0)
        goto out;
    s->v[CTL_CMP_MSGS_PER_S] = t.delivered / t.seconds;
    s->v[CTL_CMP_PPS] = t.frames / t.seconds;
    s->v[CTL_CMP_MBPS] = t.bits / t.seconds / 1e6;
    if (t.have_busy && tsc_hz > 0 && t.delivered >= 1)
        s->v[CTL_CMP_CYCLES_PER_MSG] = t.busy_core_s * tsc_hz / t.delivered;
out:
    jr_free(&d);
    return rc;
}

void ctl_compare_rows(const struct ctl_compare_sample *s, size_t n, const uint8_t *backends,
                      uint32_t n_backends, struct ctl_compare_row *rows)
{
    double *vals = malloc((n ? n : 1) * sizeof(*vals));
    int dpdk = -1;
    for (uint32_t b = 0; b < n_backends; b++) {
        struct ctl_compare_row *r = &rows[b];
        memset(r, 0, sizeof(*r));
        r->backend = backends[b];
        if (r->backend == RI_BACKEND_DPDK)
            dpdk = (int)b;
        for (size_t i = 0; i < n; i++) {
            if (s[i].backend != r->backend)
                continue;
            r->reps++;
            if (!s[i].ok && r->runs_failed++ == 0)
                snprintf(r->error, sizeof(r->error), "rep %u: %.170s", s[i].rep, s[i].error);
        }
        for (int m = 0; m < CTL_CMP_N; m++) {
            size_t k = 0;
            for (size_t i = 0; vals && i < n; i++)
                if (s[i].backend == r->backend && s[i].ok && isfinite(s[i].v[m]))
                    vals[k++] = s[i].v[m];
            r->v[m] = vals ? ctl_compare_median(vals, k) : NAN; /* sorts vals[0..k) */
            if (m == CTL_CMP_MSGS_PER_S)
                r->spread_pct = k == 0        ? NAN
                                : r->v[m] > 0 ? (vals[k - 1] - vals[0]) / r->v[m] * 100
                                              : 0;
        }
    }
    for (uint32_t b = 0; b < n_backends; b++)
        for (int m = 0; m < CTL_CMP_N; m++) {
            double base = dpdk >= 0 ? rows[dpdk].v[m] : NAN;
            rows[b].ratio[m] =
                isfinite(base) && base != 0 && isfinite(rows[b].v[m]) ? rows[b].v[m] / base : NAN;
        }
    free(vals);
}

/* v with thousands separators: no decimals from 1,000 up, `dec` under. */
static void fmt_num(char *buf, size_t len, double v, int dec)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "-");
        return;
    }
    if (fabs(v) < 1000) {
        snprintf(buf, len, "%.*f", dec, v);
        return;
    }
    char digits[32];
    snprintf(digits, sizeof(digits), "%.0f", fabs(v));
    size_t nd = strlen(digits), o = 0;
    if (v < 0 && o + 1 < len)
        buf[o++] = '-';
    for (size_t i = 0; i < nd && o + 2 < len; i++) {
        if (i && (nd - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static void fmt_duration(char *buf, size_t len, uint64_t ns)
{
    snprintf(buf, len, "%.*f s", ns % 1000000000ull ? 1 : 0, ns / 1e9);
}

#define CELL 40

void ctl_compare_print(FILE *f, const struct ctl_compare_machine *m,
                       const struct ctl_compare_workload *w, const struct ctl_compare_row *rows,
                       uint32_t n_rows)
{
    const struct ctl_run_opts *o = w->o;
    char warm[32], meas[32];
    fmt_duration(warm, sizeof(warm), w->warmup_ns);
    fmt_duration(meas, sizeof(meas), w->measure_ns);
    fprintf(f,
            "swarmgen compare: %u agents, %s, %s %s, %u-byte messages, %llu msg/s offered, "
            "seed %llu; %s warm-up excluded, %s measured; median of %u rep%s, interleaved\n",
            o->agents, o->topology, o->traffic == RI_TRAFFIC_DC ? "dc" : "udp",
            ctl_pattern_name(o->pattern), o->msg_size, (unsigned long long)o->rate,
            (unsigned long long)o->seed, warm, meas, w->reps, w->reps == 1 ? "" : "s");
    fprintf(f, "machine: %s, %u CPUs online, runs pinned to cores %s, %s\n", m->cpu, m->cpus_online,
            m->cores, m->kernel);
    fprintf(f, "run flags: %s\n\n", w->run_flags && *w->run_flags ? w->run_flags : "(none)");

    /* cells: backend, metrics, spread, runs */
    enum { NCOL = CTL_CMP_N + 3 };
    char cell[CTL_CMP_BACKENDS + 1][NCOL][CELL];
    size_t width[NCOL] = {0};
    snprintf(cell[0][0], CELL, "backend");
    for (int k = 0; k < CTL_CMP_N; k++)
        snprintf(cell[0][k + 1], CELL, "%s", metric_head[k]);
    snprintf(cell[0][CTL_CMP_N + 1], CELL, "spread");
    snprintf(cell[0][CTL_CMP_N + 2], CELL, "runs ok");
    uint32_t shown = n_rows < CTL_CMP_BACKENDS ? n_rows : CTL_CMP_BACKENDS;
    for (uint32_t b = 0; b < shown; b++) {
        const struct ctl_compare_row *r = &rows[b];
        char(*c)[CELL] = cell[b + 1];
        snprintf(c[0], CELL, "%s", ctl_compare_backend_name(r->backend));
        for (int k = 0; k < CTL_CMP_N; k++) {
            char num[24], ratio[16];
            fmt_num(num, sizeof(num), r->v[k], metric_decimals[k]);
            if (isfinite(r->ratio[k]) && (r->ratio[k] >= 0.01 || r->ratio[k] == 0))
                snprintf(ratio, sizeof(ratio), " (%.2fx)", r->ratio[k]);
            else if (isfinite(r->ratio[k]))
                snprintf(ratio, sizeof(ratio), " (%.2gx)", r->ratio[k]);
            else
                snprintf(ratio, sizeof(ratio), isfinite(r->v[k]) ? " (-)" : "");
            snprintf(c[k + 1], CELL, "%s%s", num, ratio);
        }
        if (isfinite(r->spread_pct))
            snprintf(c[CTL_CMP_N + 1], CELL, "%.1f%%", r->spread_pct);
        else
            snprintf(c[CTL_CMP_N + 1], CELL, "-");
        snprintf(c[CTL_CMP_N + 2], CELL, "%u/%u", r->reps - r->runs_failed, r->reps);
    }
    for (uint32_t y = 0; y <= shown; y++)
        for (int k = 0; k < NCOL; k++) {
            size_t l = strlen(cell[y][k]);
            if (l > width[k])
                width[k] = l;
        }
    for (uint32_t y = 0; y <= shown; y++) {
        for (int k = 0; k < NCOL; k++) {
            if (k == 0)
                fprintf(f, "%-*s", (int)width[k], cell[y][k]);
            else
                fprintf(f, "  %*s", (int)width[k], cell[y][k]);
        }
        fputc('\n', f);
    }
    for (uint32_t b = 0; b < shown; b++)
        if (rows[b].runs_failed)
            fprintf(f, "%s: %u of %u runs failed; first: %s\n",
                    ctl_compare_backend_name(rows[b].backend), rows[b].runs_failed, rows[b].reps,
                    rows[b].error);
}

static void metrics_json(struct json_writer *w, const double *v)
{
    for (int k = 0; k < CTL_CMP_N; k++)
        json_kv_dbl(w, ctl_cmp_metric_key[k], v[k], 9);
}

static void machine_json(struct json_writer *w, const struct ctl_compare_machine *m)
{
    json_key(w, "machine");
    json_obj_begin(w);
    json_kv_str(w, "cpu", m->cpu);
    json_kv_u64(w, "cpus_online", m->cpus_online);
    json_kv_str(w, "cores", m->cores);
    json_kv_str(w, "kernel", m->kernel);
    json_kv_dbl(w, "tsc_hz", m->tsc_hz > 0 ? m->tsc_hz : NAN, 12);
    json_obj_end(w);
}

static void workload_json(struct json_writer *w, const struct ctl_compare_workload *wl)
{
    const struct ctl_run_opts *o = wl->o;
    json_key(w, "workload");
    json_obj_begin(w);
    json_kv_u64(w, "agents", o->agents);
    json_kv_str(w, "topology", o->topology);
    json_kv_str(w, "traffic", o->traffic == RI_TRAFFIC_DC ? "dc" : "udp");
    json_kv_str(w, "pattern", ctl_pattern_name(o->pattern));
    json_kv_u64(w, "size", o->msg_size);
    json_kv_u64(w, "target_msgs_per_s", o->rate);
    json_kv_u64(w, "seed", o->seed);
    json_kv_dbl(w, "warmup_s", wl->warmup_ns / 1e9, 9);
    json_kv_dbl(w, "measure_s", wl->measure_ns / 1e9, 9);
    json_kv_u64(w, "reps", wl->reps);
    json_key(w, "backends");
    json_arr_begin(w);
    for (uint32_t b = 0; b < wl->n_backends; b++)
        json_str(w, ctl_compare_backend_name(wl->backends[b]));
    json_arr_end(w);
    json_kv_str(w, "run_flags", wl->run_flags ? wl->run_flags : "");
    json_obj_end(w);
}

/* "error": the text, or null when there is none. */
static void error_json(struct json_writer *w, bool failed, const char *error)
{
    json_key(w, "error");
    if (failed)
        json_str(w, error);
    else
        json_null(w);
}

static void run_json(struct json_writer *w, const struct ctl_compare_sample *s)
{
    json_obj_begin(w);
    json_kv_u64(w, "rep", s->rep);
    json_kv_bool(w, "ok", s->ok);
    json_key(w, "exit_code");
    json_i64(w, s->exit_code);
    metrics_json(w, s->v);
    error_json(w, !s->ok, s->error);
    json_obj_end(w);
}

static void row_json(struct json_writer *w, const struct ctl_compare_row *r,
                     const struct ctl_compare_sample *s, size_t n_samples)
{
    json_obj_begin(w);
    json_kv_str(w, "backend", ctl_compare_backend_name(r->backend));
    metrics_json(w, r->v);
    json_kv_dbl(w, "spread_pct", r->spread_pct, 6);
    json_key(w, "ratio_vs_dpdk");
    json_obj_begin(w);
    for (int k = 0; k < CTL_CMP_N; k++)
        json_kv_dbl(w, ctl_cmp_metric_key[k], r->ratio[k], 6);
    json_obj_end(w);
    json_kv_u64(w, "reps", r->reps);
    json_kv_u64(w, "runs_failed", r->runs_failed);
    error_json(w, r->runs_failed, r->error);
    json_key(w, "runs");
    json_arr_begin(w);
    for (size_t i = 0; i < n_samples; i++)
        if (s[i].backend == r->backend)
            run_json(w, &s[i]);
    json_arr_end(w);
    json_obj_end(w);
}

int ctl_compare_json(const char *path, const struct ctl_compare_machine *m,
                     const struct ctl_compare_workload *wl, const struct ctl_compare_row *rows,
                     uint32_t n_rows, const struct ctl_compare_sample *s, size_t n_samples)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    struct json_writer w;
    json_init(&w, f, true);
    json_obj_begin(&w);
    json_kv_str(&w, "tool", "swarmgen compare");
    machine_json(&w, m);
    workload_json(&w, wl);
    json_key(&w, "rows");
    json_arr_begin(&w);
    for (uint32_t b = 0; b < n_rows; b++)
        row_json(&w, &rows[b], s, n_samples);
    json_arr_end(&w);
    json_obj_end(&w);
    int rc = json_finish(&w);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * report_merge: `swarmgen report --merge` in order — the inputs read and
 * checked (merge_load.c), added up (merge_sum.c), the SLA judged on the
 * sums, the summary printed, the HTML and JSON (merge_json.c) reports
 * written; and its command line.
 */
#include "report_merge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report_html.h"
#include "report_merge_internal.h"

FILE *ctl_merge_err(const struct ctl_merge_opts *o)
{
    return o->err ? o->err : stderr;
}

int ctl_merge_bad_input(const struct ctl_merge_opts *o, const char *path, const char *fmt, ...)
{
    char why[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    fprintf(ctl_merge_err(o), "swarmgen: --merge: %s: %s\n", path, why);
    return CLI_EXIT_USAGE;
}

/* ---- the verdict ---- */

/* The rules of input i ("sla.rules[].rule" joined by commas) into buf;
 * empty without rules. */
static void input_rules(const struct jr_doc *d, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t used = 0;
    int arr = jr_find(d, 0, "sla.rules");
    for (int c = jr_next_child(d, arr, arr); c >= 0; c = jr_next_child(d, arr, c)) {
        int t = jr_member(d, c, "rule");
        if (t < 0 || d->node[t].type != JR_STR)
            continue;
        int n = snprintf(buf + used, len - used, "%s%.*s", used ? "," : "", (int)d->node[t].raw_len,
                         d->node[t].raw);
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
}

/* --sla, or else the rules the inputs were judged by (the same in each).
 * Returns 0 or 2. */
static int choose_rules(struct ctl_merge *m)
{
    char err[256];
    if (m->o->sla_text) {
        if (ctl_sla_parse(m->o->sla_text, &m->sla, err, sizeof(err)) < 0) {
            fprintf(ctl_merge_err(m->o), "swarmgen: --sla: %s\n", err);
            return CLI_EXIT_USAGE;
        }
        return 0;
    }
    char first[512], other[512];
    input_rules(&m->doc[0], first, sizeof(first));
    for (uint32_t i = 1; i < m->o->n; i++) {
        input_rules(&m->doc[i], other, sizeof(other));
        if (strcmp(first, other) != 0)
            return ctl_merge_bad_input(
                m->o, m->o->input[i],
                "SLA rules '%s' differ from %s's '%s': give the merge its own --sla", other,
                m->o->input[0], first);
    }
    if (first[0] && ctl_sla_parse(first, &m->sla, err, sizeof(err)) < 0)
        return ctl_merge_bad_input(m->o, m->o->input[0], "sla: %s", err);
    return 0;
}

/* The SLA on the merged figures, as `swarmgen run` judges its own (no
 * phases: their verdicts stay in the shard reports). */
static void judge(struct ctl_merge *m)
{
    const struct met_hist *setup = m->dc ? &m->final.setup[RI_SETUP_TOTAL] : NULL;
    ctl_judge_sla(&m->sla, &m->final.total, &m->final.latency, setup, m->r.duration_s, NULL, 0,
                  &m->judge);
}

/* ---- the outputs ---- */

static void summary(FILE *f, const struct ctl_merge *m)
{
    const struct ctl_run_result *r = &m->r;
    fprintf(f, "\nswarmgen report --merge: %u shards%s\n", m->o->n,
            r->interrupted ? " (one or more interrupted)" : "");
    fprintf(f, "  inputs      ");
    for (uint32_t i = 0; i < m->o->n; i++)
        fprintf(f, " %s", m->o->input[i]);
    fprintf(f, "\n  swarm        %u agents, topology %s, seed %llu, %s traffic\n", m->opts.agents,
            r->topology, (unsigned long long)m->opts.seed, m->dc ? "dc" : "udp");
    fprintf(f, "  duration     %.2f s generating, %.2f s draining (the longest shard)\n",
            r->duration_s, r->drain_s);
    ctl_report_load_summary(f, &m->g);
    fprintf(f, "  histogram    %llu latency samples from %u shards, bucket by bucket\n",
            (unsigned long long)met_hist_total(&m->final.latency), m->o->n);
    if (m->dc) {
        const struct ri_counters *t = &m->final.total;
        const struct met_hist *h = &m->final.setup[RI_SETUP_TOTAL];
        fprintf(f, "  connections  %llu/%llu up, set-up p50 %.1f p99 %.1f ms; given up %llu\n",
                (unsigned long long)t->conn_established, (unsigned long long)t->conn_total,
                met_hist_percentile(h, 50) / 1e6, met_hist_percentile(h, 99) / 1e6,
                (unsigned long long)t->conn_given_up);
        fprintf(f, "  dtls         offered %s: 1.2 %llu up, 1.3 %llu up; KeyUpdates %llu sent, %llu received\n",
                ctl_dtls_offer_name(m->opts.dtls_versions), (unsigned long long)t->conn_dtls_up[0],
                (unsigned long long)t->conn_dtls_up[1], (unsigned long long)t->dtls_key_updates_out,
                (unsigned long long)t->dtls_key_updates_in);
    }
    ctl_report_sla_summary(f, r);
    ctl_report_drops_summary(f, r);
}

/* A writer's result: a line on o->err when it failed (exit 1 unless set),
 * on o->out when it did. */
static int written(const struct ctl_merge_opts *o, int rc, const char *flag, const char *path,
                   int exit_code)
{
    if (rc < 0) {
        fprintf(ctl_merge_err(o), "swarmgen: %s %s: %s\n", flag, path, strerror(-rc));
        return exit_code ? exit_code : 1;
    }
    fprintf(o->out ? o->out : stdout, "swarmgen: merged %s written to %s\n",
            strcmp(flag, "--html") == 0 ? "HTML report" : "report", path);
    return exit_code;
}

/* --shard reports: one line naming the shards no report was given for;
 * whether there are any (the merge is then of part of the swarm). */
static bool missing_shards(const struct ctl_merge *m)
{
    char list[512];
    int k = 0, n = 0;
    for (uint32_t s = 0; s < m->shard_count && k >= 0 && k < (int)sizeof(list) - 16; s++) {
        if (m->shard_missing[s / 64] >> (s % 64) & 1) {
            k += snprintf(list + k, sizeof(list) - (size_t)k, "%s%u", n ? ", " : "", s);
            n++;
        }
    }
    if (n)
        fprintf(ctl_merge_err(m->o), "swarmgen: --merge: shard%s %s of %u missing (no report given): the figures "
                                     "cover %u of the %u shards\n",
                n > 1 ? "s" : "", list, m->shard_count, m->shard_count - (uint32_t)n, m->shard_count);
    return n > 0;
}

static void merge_free(struct ctl_merge *m)
{
    for (uint32_t i = 0; i < m->n_loaded; i++)
        jr_free(&m->doc[i]);
    ctl_snap_free(&m->final);
    ctl_snap_free(&m->gen_start);
    free(m->phase_lat);
    free(m->phase_have);
    free(m);
}

int ctl_report_merge(const struct ctl_merge_opts *o)
{
    struct ctl_merge *m = calloc(1, sizeof(*m));
    if (!m) {
        fprintf(ctl_merge_err(o), "swarmgen: --merge: out of memory\n");
        return 1;
    }
    m->o = o;
    int rc;
    if ((rc = ctl_merge_load(m)) || (rc = ctl_merge_add_up(m)) || (rc = choose_rules(m))) {
        merge_free(m);
        return rc;
    }
    judge(m);
    int exit_code = m->judge.breached ? 1 : m->r.interrupted ? 130 : 0;
    summary(o->out ? o->out : stdout, m);
    if (missing_shards(m))
        exit_code = exit_code ? exit_code : 1;
    if (o->html_path)
        exit_code = written(
            o, ctl_report_html(o->html_path, &m->r, m->dc ? &m->final.setup[RI_SETUP_TOTAL] : NULL),
            "--html", o->html_path, exit_code);
    if (o->report_path)
        exit_code =
            written(o, ctl_merge_json(m, o->report_path), "--report", o->report_path, exit_code);
    merge_free(m);
    return exit_code;
}

/* ---- the command line ---- */

static const char usage[] =
    "usage: swarmgen report --merge A.json B.json [C.json ...] [--report OUT.json] [--html "
    "OUT.html]\n"
    "                       [--sla RULES]\n"
    "  one report for a swarm that ran as several shards (each `swarmgen run --report`):\n"
    "  counters summed, histograms merged bucket by bucket, rates and percentiles derived\n"
    "  again, the SLA judged on the merged figures\n"
    "  --report OUT.json   write the merged JSON report (a run report's keys, plus \"merged\")\n"
    "  --html OUT.html     write the merged HTML report\n"
    "  --sla RULES         judge these thresholds (as swarmgen run --sla) instead of the inputs' "
    "own\n"
    "  reports of `swarmgen run --shard I/N` name their shard: one alone is taken, and the\n"
    "  shards no report was given for are named (exit 1)\n"
    "  exit 0, 1 an SLA rule breached or a shard missing, 130 a shard was interrupted, 2 bad input\n";

int ctl_report_merge_main(int argc, char **argv)
{
    struct ctl_merge_opts o = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--merge") == 0) {
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
                if (o.n == CTL_MERGE_MAX)
                    cli_fail("--merge", "at most %d shard reports", CTL_MERGE_MAX);
                o.input[o.n++] = cli_file("--merge", argv[++i]);
            }
        } else if (cli_is(argv[i], "--report")) {
            o.report_path = cli_file("--report", cli_value(argc, argv, &i, "--report"));
        } else if (cli_is(argv[i], "--html")) {
            o.html_path = cli_file("--html", cli_value(argc, argv, &i, "--html"));
        } else if (cli_is(argv[i], "--sla")) {
            o.sla_text = cli_value(argc, argv, &i, "--sla");
            struct ctl_sla sla;
            char err[256];
            if (ctl_sla_parse(o.sla_text, &sla, err, sizeof(err)) < 0)
                cli_fail("--sla", "%s", err); /* before any input is read */
        } else {
            cli_fail(argv[i],
                     "unknown flag for 'swarmgen report --merge' (see swarmgen report --help)");
        }
    }
    if (o.n < 1)
        cli_fail("--merge", "needs the shard reports: A.json B.json [C.json ...]");
    return ctl_report_merge(&o);
}

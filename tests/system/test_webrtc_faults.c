/* SPDX-License-Identifier: MIT */
/*
 * System tests of the peer connections under faults: the real swarmgen +
 * swarmgen-dp on the embedded loopback ports with --traffic dc, and links
 * that lose everything, links that lose a tenth of the frames under
 * partially reliable DataChannels, and a Ctrl-C in the middle of the
 * connect phase. Every test checks the report's accounting exactly:
 *
 *   sent = delivered + lost + in_flight exactly (swarm_assert_accounting:
 *   in_flight is the dataplane's census of what it still held when it
 *   stopped, independent of the counters), and lost = dropped_in_flight is
 *   the sum of the message drop reasons (conn_down, send_blocked,
 *   hop_limit, no_route, handoff_full, no_mbuf, bad_message,
 *   bad_signature, abandoned: a message partial reliability gave up that
 *   its receiver skipped, never delivered; one that arrived anyway before
 *   its SACK was lost is delivered, not abandoned; closed_in_flight: what a
 *   connection held when it closed after losing consent, --consent).

 *   Hop by hop: every send over an edge either enters a DataChannel
 *   (dc_msgs.sent), is dropped before it (conn_down, send_blocked, ...) or
 *   is in flight on its way to the connection's worker: 0 <= sent +
 *   forwarded - dc_msgs.sent - those drops <= in_flight; every DataChannel message
 *   received is delivered or relayed: dc_msgs.received = delivered +
 *   forwarded; and a DataChannel message that was not received was
 *   abandoned, lost with its connection or is still in flight:
 *   dc_msgs.sent - abandoned - closed_in_flight - in_flight <= dc_msgs.received <= dc_msgs.sent.
 *
 * A run is at most ~35 s and bounded by a timeout. The machine may be shared
 * with other runs: "nothing left" means nothing of this run (its run image
 * is /dev/shm/swarmgen-<control pid>-N.img, which its dataplane is given).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_expect.h"
#include "ice.h"
#include "json_read.h"
#include "netem_opts.h"
#include "proc.h"
#include "swarm_assert.h"

static struct proc_result r;
static char json[1 << 20];
static struct jr_doc doc;

/* ---- running swarmgen -------------------------------------------------- */

static void load_report(const char *report)
{
    json[0] = '\0';
    jr_free(&doc);
    memset(&doc, 0, sizeof(doc));
    long n = proc_read_file(report, json, sizeof(json));
    cr_assert_gt(n, 0, "no report at %s (exit %d)\nstdout:\n%s\nstderr:\n%s", report, r.exit_code, r.out,
                 r.err);
    size_t off = 0;
    cr_assert_eq(jr_parse(&doc, json, (size_t)n, &off), 0, "report is not JSON at byte %zu", off);
    swarm_check_report(json, &r, false);
}

static void run_swarm(const char *report, int timeout_s, char *const extra[])
{
    char *argv[64];
    proc_swarmgen_argv(argv, 64, NULL, proc_bin("SWARMGEN_DP"), report, true, extra);
    unlink(report);
    proc_run(argv, timeout_s, 0, &r);
    cr_assert_eq(r.timed_out, 0, "the run did not end within %d s\nstdout:\n%s\nstderr:\n%s", timeout_s, r.out,
                 r.err);
    load_report(report);
}

/* ---- reading the report ------------------------------------------------ */

/* The node at a dotted path of object members, -1 when absent. */
static int node_at(const char *path)
{
    if (doc.n == 0)
        return -1;
    int cur = 0;
    const char *seg = path;
    while (*seg) {
        const char *dot = strchr(seg, '.');
        size_t sl = dot ? (size_t)(dot - seg) : strlen(seg);
        int found = -1;
        for (int i = cur + 1; i < doc.n && found < 0; i++)
            if (doc.node[i].parent == cur && doc.node[i].key && doc.node[i].key_len == sl &&
                memcmp(doc.node[i].key, seg, sl) == 0)
                found = i;
        if (found < 0)
            return -1;
        cur = found;
        seg = dot ? dot + 1 : seg + sl;
    }
    return cur;
}

/* The number at `path`, NAN when absent (NAN equals nothing: a missing key fails). */
static double num(const char *path)
{
    double v;
    return jr_number(&doc, path, &v) ? v : NAN;
}

/* The boolean at `path`: 0, 1, or -1 when absent or not a boolean. */
static int flag(const char *path)
{
    int i = node_at(path);
    return i >= 0 && doc.node[i].type == JR_BOOL ? (int)doc.node[i].num : -1;
}

static int array_len(const char *path)
{
    int i = node_at(path);
    if (i < 0 || doc.node[i].type != JR_ARR)
        return -1;
    int n = 0;
    for (int j = i + 1; j < doc.n; j++)
        n += doc.node[j].parent == i;
    return n;
}

/* The number `key` of element `idx` of the array at `path`, NAN when absent. */
static double elem_num(const char *path, int idx, const char *key)
{
    int a = node_at(path), k = 0;
    if (a < 0 || doc.node[a].type != JR_ARR)
        return NAN;
    size_t kl = strlen(key);
    for (int e = a + 1; e < doc.n; e++) {
        if (doc.node[e].parent != a || k++ != idx)
            continue;
        for (int m = e + 1; m < doc.n; m++)
            if (doc.node[m].parent == e && doc.node[m].key_len == kl && memcmp(doc.node[m].key, key, kl) == 0)
                return doc.node[m].type == JR_NUM || doc.node[m].type == JR_BOOL ? doc.node[m].num : NAN;
        return NAN;
    }
    return NAN;
}

/* Message drop reasons (each also counts in messages.dropped_in_flight). */
static const char *const msg_drops[] = {"conn_down",    "send_blocked", "hop_limit",   "no_route",
                                        "handoff_full", "no_mbuf",      "bad_message", "bad_signature",
                                        "abandoned",    "closed_in_flight"};
#define N_MSG_DROPS (sizeof(msg_drops) / sizeof(msg_drops[0]))

static double drop(const char *reason)
{
    char p[64];
    snprintf(p, sizeof(p), "drops.%s", reason);
    return num(p);
}

static double msg_drop_sum(void)
{
    double s = 0;
    for (size_t i = 0; i < N_MSG_DROPS; i++)
        s += drop(msg_drops[i]);
    return s;
}

/* Drops before a DataChannel send (the message never entered SCTP). */
static double send_drop_sum(void)
{
    return drop("conn_down") + drop("send_blocked") + drop("handoff_full") + drop("no_mbuf") + drop("bad_message");
}

/* Attempts started that neither came up nor failed. */
static double in_setup(void)
{
    return num("connections.attempted") - num("connections.established") - num("connections.failed.ice") -
           num("connections.failed.dtls") - num("connections.failed.sctp") - num("connections.failed.datachannel");
}

/* Edges the --netem class `spec` (index 1, after an empty global class)
 * covers among `n_edges` with `seed`: what control assigns them. */
static unsigned edges_of_class(const char *spec, uint64_t seed, uint64_t n_edges)
{
    struct ri_netem cls[2];
    char err[256];
    memset(cls, 0, sizeof(cls));
    cr_assert_eq(ctl_netem_parse(spec, &cls[1], err, sizeof(err)), 0, "%s: %s", spec, err);
    unsigned n = 0;
    for (uint64_t e = 0; e < n_edges; e++)
        n += ctl_netem_class_of(cls, 2, seed, e) == 1;
    return n;
}

/* ICE on a link that loses everything: the controlling agent's checks at
 * ICE_RTO_NS, doubling, ICE_MAX_TRIES of them, then one more RTO. */
static double ice_fail_s(void)
{
    double s = 0, rto = ICE_RTO_NS / 1e9;
    for (int i = 0; i < ICE_MAX_TRIES; i++, rto *= 2)
        s += rto;
    return s;
}

/* The accounting every DataChannel run keeps once drained (see the top). */
static void expect_message_accounting(void)
{
    double sent = num("messages.sent"), delivered = num("messages.delivered");
    double dropped = num("messages.dropped_in_flight"), fwd = num("messages.forwarded");
    double dc_tx = num("dc_msgs.sent"), dc_rx = num("dc_msgs.received");
    double in_flight = num("messages.in_flight");
    swarm_assert_accounting(json, &r);
    /* the meshes here are connected and shallow: every destination has a
     * route within the hop limit (so the hop equations below are exact) */
    cr_expect_eq(drop("no_route"), 0);
    cr_expect_eq(drop("hop_limit"), 0);
    cr_expect_eq(dropped, msg_drop_sum(), "dropped_in_flight %g is the sum of the message drop reasons %g", dropped,
                 msg_drop_sum());
    /* exact once nothing is in flight; a message handed to another worker
     * at the stop is sent and not yet in a DataChannel */
    double before_channel = sent + fwd - dc_tx - send_drop_sum();
    cr_expect(before_channel >= 0 && before_channel <= in_flight,
              "every send over an edge entered a DataChannel, was dropped before or is in flight: sent %g + "
              "forwarded %g - dc sent %g - drops before the channel %g = %g, in flight %g",
              sent, fwd, dc_tx, send_drop_sum(), before_channel, in_flight);
    cr_expect_eq(dc_rx, delivered + fwd + drop("hop_limit") + drop("no_route") + drop("bad_signature"),
                 "every DataChannel message received was delivered or relayed: received %g, delivered %g, "
                 "forwarded %g",
                 dc_rx, delivered, fwd);
    double abandoned = drop("abandoned");
    cr_expect_leq(dc_rx, dc_tx, "DataChannel messages received %g > sent %g", dc_rx, dc_tx);
    cr_expect_leq(dc_tx - dc_rx, abandoned + in_flight + drop("closed_in_flight"),
                  "every DataChannel message not received was abandoned, lost with its connection or is in "
                  "flight: sent %g - received %g > abandoned %g + in flight %g + closed_in_flight %g",
                  dc_tx, dc_rx, abandoned, in_flight, drop("closed_in_flight"));
}

/* ---- 1. a class of dead links ------------------------------------------ */

#define DEAD "class=dead,share=20%,loss=100%"

/* 40 agents, a fifth of their connections on links that lose everything. */
static void dead_links(const char *report, const char *timeout, int timeout_s)
{
    char *extra[] = {"--agents", "40", "--topology", "kmesh:k=4", "--netem", DEAD, "--setup-attempts", "2",
                     "--traffic", "dc:rate=300", "--duration", "3s", "--seed", "3", "--setup-timeout",
                     (char *)timeout, NULL};
    run_swarm(report, timeout_s, extra);
    swarm_assert_exit(&r, 0);
}

Test(webrtc_faults, dead_links_are_given_up_after_their_attempts_and_routed_around_by_drops, .timeout = 75)
{
    dead_links("/tmp/sg-webrtc-faults-dead.json", "60s", 70);
    double total = num("connections.total");
    double dead = edges_of_class(DEAD, 3, (uint64_t)total);
    cr_assert(dead > 0 && dead < total, "dead edges %g of %g", dead, total);
    cr_expect_eq(num("connections.given_up"), dead, "every dead connection given up\n%s", json);
    cr_expect_eq(num("connections.failed.ice"), 2 * dead, "two attempts each, failed in ICE");
    cr_expect_eq(num("connections.failed.dtls") + num("connections.failed.sctp") +
                     num("connections.failed.datachannel"),
                 0);
    cr_expect_eq(num("connections.established"), total - dead);
    cr_expect_eq(in_setup(), 0, "nothing left in set-up");
    cr_expect_eq(num("connections.retries"), dead);
    cr_expect_eq(num("connections.attempted"), total + dead);
    cr_expect_geq(num("connections.setup_s"), 2 * ice_fail_s() - 0.5, "two full ICE failures took their time");
    /* nothing but the dead links' ICE checks was lost */
    cr_expect_eq(drop("netem_loss"), ICE_MAX_TRIES * num("connections.failed.ice"));
    cr_expect_gt(drop("conn_down"), 0, "messages routed over a dead connection are dropped and counted");
    cr_expect_eq(msg_drop_sum(), drop("conn_down"), "conn_down is the only message drop");
    expect_message_accounting();
    swarm_assert_nothing_left(r.pid);
}

Test(webrtc_faults, setup_timeout_starts_the_load_with_dead_links_still_in_set_up, .timeout = 60)
{
    dead_links("/tmp/sg-webrtc-faults-timeout.json", "4s", 50);
    double total = num("connections.total");
    double dead = edges_of_class(DEAD, 3, (uint64_t)total);
    cr_expect_eq(flag("connections.timed_out"), 1, "%s", json);
    cr_expect(num("connections.setup_s") >= 4 && num("connections.setup_s") < 5.5, "set-up phase %g s",
              num("connections.setup_s"));
    cr_expect_not_null(strstr(r.err, "--setup-timeout"), "one line says so: %s", r.err);
    cr_expect_eq(proc_lines(r.err), 1, "exactly one line on stderr: %s", r.err);
    /* the first ICE attempt of a dead link lasts longer than this run */
    cr_expect_eq(num("connections.established"), total - dead);
    cr_expect_eq(in_setup(), dead, "the dead connections are still in their first attempt");
    cr_expect_eq(num("connections.given_up") + num("connections.retries"), 0);
    cr_expect_gt(drop("conn_down"), 0);
    expect_message_accounting();
    swarm_assert_nothing_left(r.pid);
}

/* Lossy links under a partially reliable mode: SCTP gives messages up and
 * tells the peer with FORWARD-TSN; the accounting still holds exactly. */
static void partial_reliability(const char *traffic, const char *report)
{
    /* ~3 messages/s each way on a connection, fewer than one per SCTP
     * RTO (400 ms at least): a loss is found by the T3 timer rather than
     * by three SACKs' gap reports, and a lost SACK leaves a delivered
     * message outstanding until T3 */
    char *extra[] = {"--agents", "30", "--topology", "kmesh:k=4", "--traffic", (char *)traffic, "--netem",
                     "loss=10%", "--setup-timeout", "20s", "--duration", "4s", "--drain", "5s", "--seed", "3", NULL};
    run_swarm(report, 55, extra);
    swarm_assert_exit(&r, 0);
    double total = num("connections.total");
    cr_assert_gt(total, 0);
    /* a connection still in set-up after 20 s of 10% loss is possible on a
     * slow machine: it is then counted, not assumed away */
    cr_expect_eq(num("connections.established") + num("connections.given_up") + in_setup(), total);
    cr_expect_gt(num("connections.established"), total / 2, "%s", json);
    cr_expect_gt(num("messages.sent"), 400, "%s", r.out);
    cr_expect_gt(drop("netem_loss"), 0, "frames were lost on the way");
    cr_expect_gt(drop("abandoned"), 0, "SCTP gave messages up\n%s", json);
    cr_expect_gt(num("sctp.forward_tsns"), 0, "and moved the peer's cumulative TSN on");
    cr_expect_lt(num("messages.delivered"), num("messages.sent"));
    cr_expect_gt(num("messages.delivered"), num("messages.sent") / 2, "most messages got through");
    cr_expect_eq(drop("send_blocked"), 0);
    expect_message_accounting();
    swarm_assert_nothing_left(r.pid);
}

Test(webrtc_faults, rexmit_0_abandons_lost_messages_and_accounts_for_every_one, .timeout = 75)
{
    partial_reliability("dc:rate=150,mode=rexmit:0", "/tmp/sg-webrtc-faults-rexmit.json");
}

Test(webrtc_faults, lifetime_abandons_lost_messages_and_accounts_for_every_one, .timeout = 75)
{
    partial_reliability("dc:rate=150,mode=lifetime:250", "/tmp/sg-webrtc-faults-lifetime.json");
}

/* One row of the --csv time series: its end, cumulative sent and delivered. */
struct csv_row {
    double t_s;
    double sent, delivered;
};

/* Reads t_s, sent_total and delivered_total of every row of `path`. */
static int read_csv(const char *path, struct csv_row *rows, int cap)
{
    static char buf[1 << 16];
    long n = proc_read_file(path, buf, sizeof(buf));
    cr_assert_gt(n, 0, "no CSV at %s", path);
    int k = 0;
    for (char *line = strchr(buf, '\n'); line && k < cap; line = strchr(line, '\n')) {
        line++;
        char phase[32];
        double v[10];
        if (sscanf(line, "%lf,%31[^,],%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], phase, &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7], &v[8]) == 10)
            rows[k++] = (struct csv_row){v[0], v[7], v[8]};
    }
    return k;
}

/* The row whose end is nearest `t`. */
static const struct csv_row *row_near(const struct csv_row *rows, int n, double t)
{
    const struct csv_row *best = &rows[0];
    for (int i = 1; i < n; i++)
        if (fabs(rows[i].t_s - t) < fabs(best->t_s - t))
            best = &rows[i];
    return best;
}

/* A link silent for 3 s in the middle of the load (--netem outage=): every
 * frame sent meanwhile is lost and counted as silenced, SCTP retransmits
 * after the silence (T3 backing off), and every reliable message still
 * arrives: nothing lost, every connection still up. The report's
 * netem.outages says so: retransmissions, a recovery within the load,
 * the messages delayed (at least those sent during the silence, at most
 * those delivered from its start to the recovery, by the CSV's own
 * cumulative counts), no connection closed. */
Test(webrtc_faults, reliable_messages_cross_a_3s_outage, .timeout = 75)
{
    const char *csv = "/tmp/sg-webrtc-faults-outage.csv";
    char *extra[] = {"--agents", "20", "--topology", "kmesh:k=4", "--traffic", "dc:rate=100", "--netem",
                     "outage=3s@2s", "--duration", "10s", "--drain", "10s", "--seed", "5", "--csv", (char *)csv, NULL};
    unlink(csv);
    run_swarm("/tmp/sg-webrtc-faults-outage.json", 60, extra);
    swarm_assert_exit(&r, 0);
    double total = num("connections.total");
    cr_assert_gt(total, 0);
    cr_expect_eq(num("connections.established"), total, "%s", json);
    cr_expect_gt(drop("netem_outage"), 0, "frames were silenced");
    cr_expect_eq(num("netem.silenced"), drop("netem_outage"));
    cr_expect_eq(drop("netem_loss"), 0);
    cr_expect_eq(drop("conn_down"), 0, "the silence ended no connection");
    cr_expect_gt(num("sctp.retransmissions"), 0, "SCTP retransmitted what the silence took");
    cr_expect_gt(num("messages.sent"), 800, "%s", r.out); /* 100/s for 10 s, 300 of them during the silence */
    cr_expect_gt(num("latency_us.max"), 2e6, "messages waited out the silence");
    cr_expect_eq(num("messages.delivered"), num("messages.sent"), "every reliable message arrived\n%s", json);
    cr_expect_eq(num("messages.lost"), 0);
    cr_expect_not_null(strstr(r.out, "silent 3.0s from 2.0s into the load"), "the summary names it: %s", r.out);
    expect_message_accounting();

    /* the outage in the report */
    cr_assert_eq(array_len("netem.outages"), 1, "%s", json);
    const char *o = "netem.outages";
    cr_expect_eq(elem_num(o, 0, "silences"), 1);
    cr_expect_eq(elem_num(o, 0, "start_s"), 2);
    cr_expect_eq(elem_num(o, 0, "end_s"), 5);
    double retx = elem_num(o, 0, "retransmissions");
    cr_expect(retx > 0 && retx <= num("sctp.retransmissions"), "retransmissions %g of %g", retx,
              num("sctp.retransmissions"));
    double rec = elem_num(o, 0, "recovery_s");
    cr_expect_eq(elem_num(o, 0, "recovered"), 1, "recovered before the end of the load\n%s\n%s", r.out, json);
    cr_expect(rec >= 0 && rec < 10 - 5, "recovery %g s, within the 5 s of load after the silence", rec);
    double base = elem_num(o, 0, "baseline_p99_us"), limit = elem_num(o, 0, "limit_us");
    cr_expect(base > 0 && limit >= 1.5 * base - 1e-3, "baseline %g, limit %g", base, limit);
    cr_expect_lt(limit, 2e6, "the silence's wait is far above the limit");
    cr_expect_eq(elem_num(o, 0, "connections_closed"), 0);
    cr_expect_eq(num("connections.closed"), 0);
    cr_expect_eq(elem_num(o, 0, "connections_reestablished"), 0);
    double delayed = elem_num(o, 0, "messages_delayed");
    struct csv_row rows[64];
    int n = read_csv(csv, rows, 64);
    cr_assert_geq(n, 9, "%d rows", n);
    const struct csv_row *a = row_near(rows, n, 2), *b = row_near(rows, n, 5), *c = row_near(rows, n, 5 + rec);
    double sent_in_silence = b->sent - a->sent, delivered_in_window = c->delivered - a->delivered;
    /* the silence as the rows see it is within ~20 ms of the cores' (1 s rows): 5 % slack */
    cr_expect_geq(delayed, 0.95 * sent_in_silence, "delayed %g < sent during the silence %g", delayed,
                  sent_in_silence);
    cr_expect_leq(delayed, delivered_in_window, "delayed %g > delivered from the silence to the recovery %g", delayed,
                  delivered_in_window);
    cr_expect_not_null(strstr(r.out, "outage      [all] 1 silence from 2.0s to 5.0s: recovered"), "%s", r.out);
    unlink(csv);
    swarm_assert_nothing_left(r.pid);
}

/* A link that flaps (up 5 s, down 1 s) over 16.5 s of load: two silences,
 * [5, 6) and [11, 12), each recovered before the next silence or the end
 * (4.5 s after the last one: the T3 timer backed off across a silence, then
 * each hop of a routed message, take up to ~2 s, and on a loaded machine a
 * second's p99 of 100 messages is one stalled pass away from the limit,
 * so the rule needs a few seconds to find a clean one); the report's entry
 * sums their windows. */
Test(webrtc_faults, a_flapping_link_reports_every_silence_and_its_recovery, .timeout = 75)
{
    const char *csv = "/tmp/sg-webrtc-faults-flap.csv";
    char *extra[] = {"--agents", "20", "--topology", "kmesh:k=4", "--traffic", "dc:rate=100", "--netem", "flap=5s/1s",
                     "--duration", "16500ms", "--drain", "10s", "--seed", "5", "--csv", (char *)csv, NULL};
    unlink(csv);
    run_swarm("/tmp/sg-webrtc-faults-flap.json", 60, extra);
    swarm_assert_exit(&r, 0);
    cr_expect_eq(num("connections.established"), num("connections.total"));
    cr_expect_eq(num("messages.delivered"), num("messages.sent"), "every reliable message arrived\n%s", json);
    expect_message_accounting();
    cr_assert_eq(array_len("netem.outages"), 1, "%s", json);
    const char *o = "netem.outages";
    cr_expect_eq(elem_num(o, 0, "silences"), 2, "%s", json);
    cr_expect_eq(elem_num(o, 0, "start_s"), 5);
    cr_expect_eq(elem_num(o, 0, "end_s"), 12);
    cr_expect_eq(elem_num(o, 0, "recovered_silences"), 2, "%s\n%s", r.out, json);
    double rec = elem_num(o, 0, "recovery_s");
    cr_expect(rec >= 0 && rec < 4.5, "the longest recovery %g s, within the 4.5 s after the last silence", rec);
    double retx = elem_num(o, 0, "retransmissions");
    cr_expect(retx > 0 && retx <= num("sctp.retransmissions"), "retransmissions %g of %g", retx,
              num("sctp.retransmissions"));
    cr_expect_eq(elem_num(o, 0, "connections_closed"), 0);
    struct csv_row rows[64];
    int n = read_csv(csv, rows, 64);
    cr_assert_geq(n, 10, "%d rows", n);
    double sent_in_silences = row_near(rows, n, 6)->sent - row_near(rows, n, 5)->sent + row_near(rows, n, 12)->sent -
                              row_near(rows, n, 11)->sent;
    double delayed = elem_num(o, 0, "messages_delayed");
    cr_expect_geq(delayed, 0.95 * sent_in_silences, "delayed %g < sent during the silences %g", delayed,
                  sent_in_silences);
    cr_expect_leq(delayed, num("messages.delivered"));
    cr_expect_not_null(strstr(r.out, "flap        [all] 2 silences from 5.0s to 12.0s: recovered"), "%s", r.out);
    unlink(csv);
    swarm_assert_nothing_left(r.pid);
}

/* --consent across a silence longer than the consent timeout (RFC 7675:
 * checks every ~5 s, failed after 30 s unanswered): every connection loses
 * consent ~30 s into the 35 s silence and closes, losing what its
 * DataChannels held (counted: closed_in_flight); it is set up again at
 * once (its attempts fail in ICE while the silence lasts, and are
 * retried) and comes up after the silence; messages flow again. Every
 * message is delivered or counted under a drop reason. */
Test(webrtc_faults, consent_fails_connections_in_a_35s_silence_and_they_are_set_up_again, .timeout = 110)
{
    const char *csv = "/tmp/sg-webrtc-faults-consent.csv";
    char *extra[] = {"--agents", "20", "--topology", "kmesh:k=4", "--traffic", "dc:rate=100", "--consent", "--netem",
                     "outage=35s@2s", "--duration", "50s", "--drain", "10s", "--seed", "5", "--csv", (char *)csv,
                     NULL};
    unlink(csv);
    run_swarm("/tmp/sg-webrtc-faults-consent.json", 100, extra);
    swarm_assert_exit(&r, 0);
    double total = num("connections.total");
    cr_assert_gt(total, 0);
    cr_expect_eq(num("connections.established"), total, "%s", json);
    cr_expect_eq(num("connections.consent_lost"), total, "every connection lost consent\n%s", json);
    cr_expect_eq(num("connections.closed"), total);
    cr_expect_eq(num("connections.reestablished"), total, "every one came up again\n%s\n%s", r.out, json);
    cr_expect_eq(num("connections.given_up"), 0);
    /* the first set-up of each, then one set-up of each closed one and its retries */
    cr_expect_eq(num("connections.attempted"), total + num("connections.closed") + num("connections.retries"));
    cr_expect_eq(num("connections.setup_ms.samples"), total, "set-up times are the first set-ups'");
    /* nothing silent: what was not delivered is counted */
    cr_expect_gt(drop("closed_in_flight"), 0, "messages were lost with their connections");
    cr_expect_gt(drop("conn_down"), 0, "messages for a connection being set up again are dropped");
    cr_expect_eq(num("messages.sent") - num("messages.delivered"), drop("conn_down") + drop("closed_in_flight"),
                 "every reliable message delivered or counted: sent %g delivered %g", num("messages.sent"),
                 num("messages.delivered"));
    cr_expect_eq(num("dc_msgs.sent") - num("dc_msgs.received"), drop("closed_in_flight"),
                 "what the DataChannels took and did not deliver is what closed with them");
    expect_message_accounting();
    /* the report's outage */
    cr_assert_eq(array_len("netem.outages"), 1, "%s", json);
    cr_expect_eq(elem_num("netem.outages", 0, "connections_closed"), total);
    cr_expect_eq(elem_num("netem.outages", 0, "connections_reestablished"), total);
    cr_expect_eq(elem_num("netem.outages", 0, "recovered"), 1, "%s", json);
    cr_expect_not_null(strstr(r.out, "consent (RFC 7675): "), "%s", r.out);
    /* messages flow again after the silence (37 s): delivered in the last 8 s */
    struct csv_row rows[128];
    int n = read_csv(csv, rows, 128);
    cr_assert_geq(n, 45, "%d rows", n);
    double after = row_near(rows, n, 50)->delivered - row_near(rows, n, 42)->delivered;
    cr_expect_gt(after, 8 * 100 * 0.5, "delivered from 42 s to 50 s: %g", after);
    /* none during the silence after the close */
    cr_expect_eq(row_near(rows, n, 36)->delivered, row_near(rows, n, 3)->delivered);
    unlink(csv);
    swarm_assert_nothing_left(r.pid);
}

/* ---- 3. Ctrl-C during the connect phase -------------------------------- */

/* A connect progress line says some connections are up, and the phase has
 * not ended. */
static bool connecting_with_some_up(const char *out)
{
    if (strstr(out, "connections up in"))
        return true; /* too late: the test says so */
    for (const char *p = out; (p = strstr(p, "\nconnect    [")); p++) {
        const char *b = strchr(p + 1, ']');
        unsigned long long up;
        if (b && strchr(b, '\n') && sscanf(b, "] %llu/", &up) == 1 && up > 0)
            return true;
    }
    return false;
}

/* Issue 19 with connections: the load stops with 300 ms of delay on every
 * link and no drain; what the SCTP associations still hold (unsent,
 * unacknowledged and not received, waiting for an earlier message of
 * their stream) is counted once by the census, and the identity holds
 * exactly, reliable and partially reliable. */
static void held_at_the_stop(const char *traffic, const char *report)
{
    char *extra[] = {"--agents", "30", "--topology", "kmesh:k=4", "--traffic", (char *)traffic, "--netem",
                     "delay=150ms,loss=3%", "--setup-timeout", "30s", "--duration", "2s", "--drain", "0", "--seed",
                     "5", NULL};
    run_swarm(report, 55, extra);
    swarm_assert_exit(&r, 0);
    cr_expect_gt(num("messages.in_flight"), 0, "nothing in flight at the stop\n%s", r.out);
    expect_message_accounting();
    swarm_assert_nothing_left(r.pid);
}

Test(webrtc_faults, reliable_messages_held_in_sctp_at_the_stop_are_counted_in_flight, .timeout = 75)
{
    held_at_the_stop("dc:rate=300", "/tmp/sg-webrtc-faults-held.json");
}

Test(webrtc_faults, partially_reliable_messages_held_at_the_stop_are_counted_in_flight, .timeout = 75)
{
    held_at_the_stop("dc:rate=300,mode=rexmit:1", "/tmp/sg-webrtc-faults-held-pr.json");
}

Test(webrtc_faults, ctrl_c_while_connecting_writes_the_report_and_leaves_nothing, .timeout = 90)
{
    const char *report = "/tmp/sg-webrtc-faults-sigint.json";
    char *extra[] = {"--agents", "2000", "--topology", "kmesh:k=8", "--duration", "5s", "--seed", "11", NULL};
    char *argv[64];
    proc_swarmgen_argv(argv, 64, NULL, proc_bin("SWARMGEN_DP"), report, false, extra);
    unlink(report);
    long long sent_at;
    /* progress lines come once a second in the connect phase */
    proc_run_until(argv, 80, connecting_with_some_up, 300, &sent_at, &r);
    cr_assert_eq(r.timed_out, 0, "stdout:\n%s\nstderr:\n%s", r.out, r.err);
    cr_assert_geq(sent_at, 0, "the connect phase never printed progress\nstdout:\n%s\nstderr:\n%s", r.out, r.err);
    cr_assert_null(strstr(r.out, "connections up in"), "the connect phase ended before the Ctrl-C:\n%s", r.out);
    cr_expect_eq(r.exit_code, 130, "exit %d\nstdout:\n%s\nstderr:\n%s", r.exit_code, r.out, r.err);
    cr_expect_eq(r.err[0], '\0', "nothing on stderr: %s", r.err);
    load_report(report);
    cr_expect_eq(flag("interrupted"), 1);
    double total = num("connections.total"), up = num("connections.established");
    cr_expect_eq(total, num("topology.edges"));
    cr_expect_gt(total, 7999, "kmesh:k=8 on 2000 agents: %g edges", total);
    cr_expect(up > 0 && up < total, "interrupted while connecting: %g of %g up", up, total);
    cr_expect_eq(flag("connections.timed_out"), 0);
    cr_expect_eq(num("connections.setup_ms.samples"), up);
    /* at most --setup-cap (32) per core in set-up when it stopped */
    int cores = array_len("cores");
    cr_expect_gt(cores, 0);
    double pending = in_setup();
    cr_expect(pending >= 0 && pending <= 32.0 * cores, "in set-up at the stop: %g (%d cores)", pending, cores);
    cr_expect_leq(up + num("connections.given_up") + pending, total);
    /* no load was generated */
    cr_expect_eq(num("messages.sent"), 0);
    cr_expect_eq(num("messages.delivered"), 0);
    cr_expect_eq(num("dc_msgs.sent"), 0);
    cr_expect_eq(num("duration_s"), 0);
    /* the summary says how many were up, the same figure as the report */
    char want[96];
    snprintf(want, sizeof(want), "connections  %.0f/%.0f up", up, total);
    cr_expect_not_null(strstr(r.out, want), "summary lacks '%s':\n%s", want, r.out);
    cr_expect_not_null(strstr(r.out, "report written to"), "%s", r.out);
    swarm_assert_nothing_left(r.pid);
}

/* ---- 4. flags of the fault scenarios ------------------------------------ */

/* Flags test_run_cli does not cover: the other connect-phase flags on udp,
 * and --netem link classes that do not add up. One line naming the flag,
 * exit 2, nothing started. */
static void expect_combo_error(const char *flag_name, char *const args[])
{
    cli_expect_run_error(&r, flag_name, args);
    swarm_assert_nothing_left(r.pid);
}

Test(webrtc_faults, fault_flags_that_do_not_fit_exit_2_naming_the_flag)
{
    expect_combo_error("--setup-attempts", (char *[]){"--traffic", "udp", "--setup-attempts", "2", NULL});
    expect_combo_error("--setup-timeout", (char *[]){"--setup-timeout", "5s", "--traffic", "udp", NULL});
    expect_combo_error("--consent", (char *[]){"--traffic", "udp", "--consent", NULL});
    expect_combo_error("--consent", (char *[]){"--backend", "usrsctp", "--consent", NULL});
    expect_combo_error("--netem", (char *[]){"--netem", "class=a,share=60%,loss=1%", "--netem",
                                             "class=b,share=50%,loss=1%", NULL});
    expect_combo_error("--netem", (char *[]){"--netem", "loss=1%", "--netem", "delay=1ms", NULL});
    expect_combo_error("--netem", (char *[]){"--netem", "class=a,share=1%", "--netem", "class=b,share=1%", "--netem",
                                             "class=c,share=1%", "--netem", "class=d,share=1%", NULL});
    expect_combo_error("--netem", (char *[]){"--netem", "class=dead,loss=100%", NULL});
    expect_combo_error("--netem", (char *[]){"--netem", "share=20%,loss=100%", NULL});
    expect_combo_error("--netem", (char *[]){"--netem", "class=dead,share=120%,loss=100%", NULL});
}

/* SPDX-License-Identifier: MIT */
/*
 * Shards (docs/scale-out.md): two `swarmgen run --shard I/2` processes on
 * this machine, each with its own dataplane on its own core, joined by a
 * memif pair (shard 0 the server, shard 1 the client), meeting at a TCP
 * barrier on loopback. Together they carry one swarm: every connection
 * between their agents is set up across the link, and `report --merge`
 * adds their reports up.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "swarm_assert.h"

#define N_SHARDS 2

static char json[N_SHARDS][1 << 20], merged[1 << 20];
static char sock[64], barrier[32], out[N_SHARDS][64], report[N_SHARDS][64];

static void names(const char *tag)
{
    snprintf(sock, sizeof(sock), "/tmp/sg-%s-%d.sock", tag, (int)getpid());
    /* a port of our own: 20000 + pid spread, far from the usual services */
    snprintf(barrier, sizeof(barrier), "127.0.0.1:%d", 20000 + (int)getpid() % 20000);
    for (int i = 0; i < N_SHARDS; i++) {
        snprintf(out[i], sizeof(out[i]), "/tmp/sg-%s-%d-%d.out", tag, (int)getpid(), i);
        snprintf(report[i], sizeof(report[i]), "/tmp/sg-%s-%d-%d.json", tag, (int)getpid(), i);
        unlink(report[i]);
    }
    unlink(sock);
}

/* Starts shard i of the swarm `extra` describes, its output in out[i];
 * returns the control process's pid. */
static pid_t start_shard(int i, char *const extra[])
{
    char shard[16], port[160], core[8];
    snprintf(shard, sizeof(shard), "%d/%d", i, N_SHARDS);
    snprintf(port, sizeof(port), "net_memif0,role=%s,socket=%s,id=0,rsize=12", i ? "client" : "server", sock);
    snprintf(core, sizeof(core), "%d", i % 2);
    char *args[48] = {"--shard", shard, "--barrier", barrier, "--port", port, "--cores", core};
    int n = 8;
    for (int k = 0; extra[k] && n < 47; k++)
        args[n++] = extra[k];
    args[n] = NULL;
    char *argv[64];
    proc_swarmgen_argv(argv, 64, NULL, proc_bin("SWARMGEN_DP"), report[i], false, args);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(out[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    /* shard 0 is the memif server: the others start once its socket is there */
    for (int t = 0; i == 0 && t < 100 && access(sock, F_OK) != 0; t++) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    return pid;
}

/* Waits for pid up to timeout_s (then kills it); its exit code. */
static int wait_shard(pid_t pid, int timeout_s)
{
    int status;
    for (int t = 0; t < timeout_s * 10; t++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static char text[N_SHARDS][1 << 16];

static void read_shard(int i)
{
    text[i][0] = '\0';
    proc_read_file(out[i], text[i], sizeof(text[i]));
    json[i][0] = '\0';
    proc_read_file(report[i], json[i], sizeof(json[i]));
}

static struct proc_result m;

/* `swarmgen report --merge` of the given reports into merged[]. */
static void merge(int n, const char *const in[])
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/sg-merged-%d.json", (int)getpid());
    unlink(path);
    char *argv[16] = {(char *)proc_bin("SWARMGEN_BIN"), "report", "--merge"};
    int k = 3;
    for (int i = 0; i < n; i++)
        argv[k++] = (char *)in[i];
    argv[k++] = "--report";
    argv[k++] = path;
    argv[k] = NULL;
    proc_run(argv, 60, 0, &m);
    merged[0] = '\0';
    proc_read_file(path, merged, sizeof(merged));
    unlink(path);
}

static void cleanup(void)
{
    for (int i = 0; i < N_SHARDS; i++) {
        unlink(out[i]);
        unlink(report[i]);
    }
    unlink(sock);
}

Test(shards, two_shards_joined_by_memif_carry_one_swarm, .timeout = 240)
{
    names("shard");
    char *extra[] = {"--traffic", "dc", "--agents", "100", "--topology", "kmesh:k=4", "--rate", "1000",
                     "--duration", "3s", "--seed", "7", NULL};
    pid_t pid[N_SHARDS];
    for (int i = 0; i < N_SHARDS; i++)
        pid[i] = start_shard(i, extra);
    int rc[N_SHARDS];
    for (int i = 0; i < N_SHARDS; i++)
        rc[i] = wait_shard(pid[i], 200);
    for (int i = 0; i < N_SHARDS; i++) {
        read_shard(i);
        cr_assert_eq(rc[i], 0, "shard %d exit %d:\n%s", i, rc[i], text[i]);
        swarm_assert_nothing_left(pid[i]);
        cr_assert_eq(proc_json_in(json[i], "shard", "index"), i);
        cr_assert_eq(proc_json_in(json[i], "shard", "count"), N_SHARDS);
    }
    /* the same mesh as one process builds from the seed */
    struct proc_result one;
    static char single[1 << 20];
    char *flags[] = {"--traffic", "dc", "--agents", "100", "--topology", "kmesh:k=4", "--seed", "7", "--dry-run",
                     NULL};
    proc_swarmgen_run(NULL, proc_bin("SWARMGEN_DP"), "/tmp/sg-shard-single.json", 60, flags, &one, single,
                      sizeof(single));
    unlink("/tmp/sg-shard-single.json");
    double edges = proc_json_in(single, "topology", "edges");
    cr_assert(edges >= 200, "the plan of one process has %g edges", edges);
    for (int i = 0; i < N_SHARDS; i++)
        cr_assert_eq(proc_json_in(json[i], "topology", "edges"), edges);
    /* every connection counted once, by the shard of its endpoint a, and up */
    double total = 0, up = 0;
    for (int i = 0; i < N_SHARDS; i++) {
        total += proc_json_in(json[i], "connections", "total");
        up += proc_json_in(json[i], "connections", "established");
        cr_assert_eq(proc_json_in(json[i], "shard", "halves_up"), proc_json_in(json[i], "shard", "halves_total"));
    }
    cr_assert_eq(total, edges, "the shards count %g connections of %g", total, edges);
    cr_assert_eq(up, edges, "%g of %g connections up", up, edges);
    /* a lossless link: what one sent the other received */
    cr_assert_eq(proc_json_in(json[0], "shard", "link_frames_out"), proc_json_in(json[1], "shard", "link_frames_in"));
    cr_assert_eq(proc_json_in(json[1], "shard", "link_frames_out"), proc_json_in(json[0], "shard", "link_frames_in"));
    cr_assert(proc_json_in(json[0], "shard", "link_frames_out") > 1000);
    /* one swarm: the merge sums the shards, and every message arrived */
    const char *in[] = {report[0], report[1]};
    merge(2, in);
    cr_assert_eq(m.exit_code, 0, "merge exit %d: %s%s", m.exit_code, m.out, m.err);
    double sent = proc_json_num(json[0], "sent") + proc_json_num(json[1], "sent");
    double delivered = proc_json_num(json[0], "delivered") + proc_json_num(json[1], "delivered");
    cr_assert(sent > 2000, "sent %g", sent);
    cr_assert_eq(proc_json_num(merged, "sent"), sent);
    cr_assert_eq(proc_json_num(merged, "delivered"), delivered);
    cr_assert_eq(delivered, sent, "reliable channels: sent %g, delivered %g", sent, delivered);
    cr_assert_eq(proc_json_num(merged, "lost"), 0);
    /* each shard took its census (a message sent on one is delivered on
     * the other: the identity holds for the swarm, the merged report) */
    for (int i = 0; i < N_SHARDS; i++)
        cr_assert(!isnan(proc_json_in(json[i], "messages", "in_flight")), "shard %d: no census\n%s", i, json[i]);
    swarm_assert_accounting(merged, &m);
    swarm_assert_per_agent(merged, &m); /* the shards' per-agent sums and hop histograms, merged */
    cr_assert_eq(proc_json_in(merged, "per_agent", "count"), proc_json_num(json[0], "agents"));
    cr_assert_eq(proc_json_in(merged, "connections", "total"), edges);
    cr_assert_eq(proc_json_in(merged, "merged", "shard_count"), N_SHARDS);
    cleanup();
}

Test(shards, a_shard_killed_mid_run_is_named_and_its_connections_lost, .timeout = 240)
{
    names("kill");
    char *extra[] = {"--traffic", "dc", "--agents", "100", "--topology", "ring", "--rate", "1000", "--duration",
                     "10s", NULL};
    pid_t pid[N_SHARDS];
    for (int i = 0; i < N_SHARDS; i++)
        pid[i] = start_shard(i, extra);
    /* shard 1 dies two seconds into the load (its dataplane follows its
     * parent) */
    for (int t = 0; t < 1200; t++) {
        static char o[1 << 16];
        o[0] = '\0';
        proc_read_file(out[1], o, sizeof(o));
        if (strstr(o, "load barrier") && strstr(o, "ETA"))
            break;
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    sleep(2);
    kill(pid[1], SIGKILL);
    int status;
    waitpid(pid[1], &status, 0);
    int rc0 = wait_shard(pid[0], 200);
    read_shard(0);
    /* what the killed control could not remove: its run image */
    char img[64];
    snprintf(img, sizeof(img), "rm -f /dev/shm/swarmgen-%d-*.img", (int)pid[1]);
    cr_assert_eq(system(img), 0);
    cr_assert_eq(rc0, 1, "shard 0 exit %d:\n%s", rc0, text[0]);
    cr_assert_not_null(strstr(text[0], "swarmgen: shard 1 of 2 went away during the run"), "%s", text[0]);
    swarm_assert_nothing_left(pid[0]);
    /* every connection of the ring joins the two shards: all ended */
    cr_assert_eq(proc_json_in(json[0], "shard", "connections_lost"), 100, "%s", text[0]);
    const char *gone = strstr(json[0], "\"gone\": [");
    cr_assert_not_null(gone, "no gone list in the report");
    gone += strlen("\"gone\": [");
    gone += strspn(gone, " \n");
    cr_assert(gone[0] == '1' && strchr(" \n]", gone[1]), "the report names shard 1 gone: %.40s", gone);
    cr_assert(proc_json_in(json[0], "connections", "closed") > 0);
    /* the merge of what is left names the missing shard */
    const char *in[] = {report[0]};
    merge(1, in);
    cr_assert_eq(m.exit_code, 1, "merge exit %d: %s", m.exit_code, m.err);
    cr_assert_not_null(strstr(m.err, "shard 1 of 2 missing"), "%s", m.err);
    cr_assert_eq(proc_lines(m.err), 1, "%s", m.err);
    cleanup();
}

Test(shards, a_shard_that_does_not_come_fails_the_run_with_one_line, .timeout = 120)
{
    names("alone");
    char *extra[] = {"--traffic", "udp", "--agents", "50", "--topology", "ring", "--duration", "2s",
                     "--barrier-timeout", "3s", NULL};
    pid_t pid = start_shard(0, extra);
    int rc = wait_shard(pid, 100);
    read_shard(0);
    cr_assert_eq(rc, 1, "exit %d:\n%s", rc, text[0]);
    cr_assert_not_null(strstr(text[0], "swarmgen: --barrier: shard 1 of 2 did not arrive at the start barrier within 3 s"),
                       "%s", text[0]);
    swarm_assert_nothing_left(pid);
    cleanup();
}

/* Both shards on one host share its clock: with --clock ptp every message
 * from the other shard is timed too. */
Test(shards, with_clock_ptp_messages_across_shards_are_timed, .timeout = 240)
{
    names("ptp");
    char *extra[] = {"--traffic", "dc", "--agents", "60", "--topology", "ring", "--rate", "500", "--duration", "2s",
                     "--clock", "ptp", NULL};
    pid_t pid[N_SHARDS];
    for (int i = 0; i < N_SHARDS; i++)
        pid[i] = start_shard(i, extra);
    for (int i = 0; i < N_SHARDS; i++) {
        int rc = wait_shard(pid[i], 200);
        read_shard(i);
        cr_assert_eq(rc, 0, "shard %d exit %d:\n%s", i, rc, text[i]);
        swarm_assert_nothing_left(pid[i]);
        cr_assert_eq(proc_json_in(json[i], "shard", "remote_delivered"), 0);
        /* a ring's routes cross between the shards at every hop */
        double delivered = proc_json_num(json[i], "delivered");
        cr_assert(delivered > 200, "%g delivered", delivered);
        cr_assert_eq(proc_json_in(json[i], "latency_us", "samples"), delivered, "every delivered message timed");
    }
    cleanup();
}

/* --peer-mac: frames to the other shard go to the given MAC (a router's,
 * the peer VF's); the memif link carries them all the same. */
Test(shards, peer_mac_is_the_destination_of_the_frames_to_the_other_shard, .timeout = 200)
{
    names("pmac");
    char pcap[64];
    snprintf(pcap, sizeof(pcap), "/tmp/sg-pmac-%d.pcap", (int)getpid());
    unlink(pcap);
    char *extra0[] = {"--traffic", "udp", "--agents", "40", "--topology", "ring", "--rate", "2000", "--duration", "2s",
                      "--peer-mac", "02:00:5e:00:53:01", "--pcap", pcap, "--pcap-count", "300", NULL};
    char *extra1[] = {"--traffic", "udp", "--agents", "40", "--topology", "ring", "--rate", "2000", "--duration", "2s",
                      "--peer-mac", "0=02:00:5e:00:53:02", NULL};
    pid_t pid[N_SHARDS] = {start_shard(0, extra0), start_shard(1, extra1)};
    for (int i = 0; i < N_SHARDS; i++) {
        int rc = wait_shard(pid[i], 150);
        read_shard(i);
        cr_assert_eq(rc, 0, "shard %d exit %d:\n%s", i, rc, text[i]);
        swarm_assert_nothing_left(pid[i]);
    }
    const char *in[] = {report[0], report[1]};
    merge(2, in);
    cr_assert_eq(m.exit_code, 0, "%s", m.err);
    cr_assert(proc_json_num(merged, "delivered") > 1000, "merged: %.2000s\nshard 0: %s\nshard 1: %s", merged, text[0],
              text[1]);
    /* plain UDP: a frame the link refused under load is lost, counted
     * (tx_full); every message is delivered or counted */
    swarm_assert_accounting(merged, &m);
    cr_assert_leq(proc_json_in(merged, "messages", "lost"), proc_json_num(merged, "sent") / 100,
                  "more than 1 %% lost\n%.3000s", merged);
    /* every frame shard 0 sent to an agent of shard 1 (odd index, so an odd
     * last address byte here) went to the peer MAC */
    static uint8_t cap[1 << 20];
    FILE *f = fopen(pcap, "rb");
    cr_assert_not_null(f);
    size_t n = fread(cap, 1, sizeof(cap), f);
    fclose(f);
    unlink(pcap);
    const uint8_t want[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x01};
    int checked = 0;
    for (size_t off = 24; off + 16 + 34 <= n;) {
        uint32_t incl;
        memcpy(&incl, cap + off + 8, 4);
        const uint8_t *fr = cap + off + 16;
        uint32_t dst_agent = (uint32_t)fr[32] << 8 | fr[33]; /* 198.18.x.y: agent x.y - 1 */
        if ((dst_agent - 1) % 2 == 1) {
            cr_assert(memcmp(fr, want, 6) == 0, "a frame to agent %u went to %02x:%02x:%02x:%02x:%02x:%02x",
                      dst_agent - 1, fr[0], fr[1], fr[2], fr[3], fr[4], fr[5]);
            checked++;
        }
        off += 16 + incl;
    }
    cr_assert(checked > 100, "%d frames to the other shard in the capture", checked);
    cleanup();
}

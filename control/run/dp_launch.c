/* SPDX-License-Identifier: MIT */
#include "dp_launch.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Appends one argument (a copy of `text`) to the dataplane's argv. */
static bool push(struct ctl_dp *dp, size_t *used, const char *text)
{
    if (dp->argc >= DP_ARGV_MAX - 1)
        return false;
    size_t len = strlen(text);
    if (len + 1 > sizeof(dp->store) - *used)
        return false;
    char *p = dp->store + *used;
    memcpy(p, text, len + 1);
    *used += len + 1;
    dp->argv[dp->argc++] = p;
    dp->argv[dp->argc] = NULL;
    return true;
}

/* Appends prefix + value, e.g. "--vdev=" + spec. */
static bool push2(struct ctl_dp *dp, size_t *used, const char *prefix, const char *value)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "%s%s", prefix, value);
    return n > 0 && (size_t)n < sizeof(buf) && push(dp, used, buf);
}

static uint64_t free_hugepage_mb(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[128];
    uint64_t free_pages = 0, size_kb = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long v;
        if (sscanf(line, "HugePages_Free: %llu", &v) == 1)
            free_pages = v;
        else if (sscanf(line, "Hugepagesize: %llu kB", &v) == 1)
            size_kb = v;
    }
    fclose(f);
    return free_pages * size_kb / 1024;
}

static bool is_pci(const char *s)
{
    unsigned a, b, c, d;
    char tail;
    return sscanf(s, "%x:%x:%x.%x%c", &a, &b, &c, &d, &tail) == 4 ||
           sscanf(s, "%x:%x.%x%c", &b, &c, &d, &tail) == 3;
}

uint64_t ctl_dp_mem_mb(const struct ctl_run_opts *o, uint64_t n_edges)
{
    uint64_t mbufs = (uint64_t)o->mbufs_per_worker * o->n_cores;
    uint64_t bytes = mbufs * 2560                   /* mbuf + 2 KiB data room */
                     + 2 * n_edges * 128            /* flow table with its buckets */
                     + (uint64_t)o->n_cores * (o->n_cores + 1) * 16384 * 8 /* hand-off and loopback rings */
                     + (uint64_t)o->agents * 16     /* per-worker agent tables */
                     + (64ull << 20);               /* EAL, rings of ports, slack */
    /* traffic dc: the peer connections, their SCTP pools, handshake slots
     * and key log live in the dataplane's own heap (dataplane/dp_conn.c),
     * not DPDK's; their message hand-off rings are as small as the rings
     * above */
    if (o->traffic == RI_TRAFFIC_DC)
        bytes += (uint64_t)o->n_cores * o->n_cores * 16384 * 8;
    return (bytes >> 20) + 1;
}

int ctl_dp_build_argv(struct ctl_dp *dp, const struct ctl_run_opts *o, const char *dp_path,
                      const char *image_path, uint64_t n_edges)
{
    size_t used = 0;
    memset(dp, 0, sizeof(*dp));
    dp->mem_mb = ctl_dp_mem_mb(o, n_edges);
    uint64_t huge_free = free_hugepage_mb();
    dp->hugepages = o->huge == 1 || (o->huge == -1 && huge_free >= dp->mem_mb + 64);
    bool ok = push(dp, &used, dp_path);
    ok = ok && push(dp, &used, "-l") && push(dp, &used, o->cores_text) &&
         /* no runtime files: --in-memory with hugepages (memfd), --no-shconf without */
         push(dp, &used, dp->hugepages ? "--in-memory" : "--no-shconf") &&
         push(dp, &used, "--no-telemetry") &&
         push(dp, &used, "--log-level=4");
    if (ok && !dp->hugepages) {
        char mb[32];
        snprintf(mb, sizeof(mb), "%llu", (unsigned long long)dp->mem_mb);
        ok = push(dp, &used, "--no-huge") && push(dp, &used, "-m") && push(dp, &used, mb);
    }
    if (o->n_ports == 0) {
        /* the dataplane creates its net_ring loopback ports itself */
        ok = ok && push(dp, &used, "--no-pci");
    } else {
        bool any_pci = false;
        for (uint32_t i = 0; i < o->n_ports; i++)
            any_pci |= is_pci(o->ports[i]);
        if (!any_pci)
            ok = ok && push(dp, &used, "--no-pci");
        for (uint32_t i = 0; ok && i < o->n_ports; i++) {
            if (is_pci(o->ports[i]))
                ok = push(dp, &used, "-a") && push(dp, &used, o->ports[i]);
            else
                ok = push2(dp, &used, "--vdev=", o->ports[i]);
        }
    }
    if (ok && o->eal_extra) {
        /* split on spaces; no quoting */
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s", o->eal_extra);
        for (char *save = NULL, *t = strtok_r(buf, " ", &save); ok && t; t = strtok_r(NULL, " ", &save))
            ok = push(dp, &used, t);
    }
    ok = ok && push(dp, &used, "--") && push(dp, &used, "--image") && push(dp, &used, image_path);
    return ok ? 0 : -E2BIG;
}

int ctl_dp_find(const struct ctl_run_opts *o, char *out, size_t len)
{
    if (o->dp_path) {
        snprintf(out, len, "%s", o->dp_path);
        return 0;
    }
    const char *env = getenv(o->backend == RI_BACKEND_USRSCTP ? "SWARMGEN_USRSCTP" : "SWARMGEN_DP");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return access(out, X_OK) == 0 ? 0 : -ENOENT;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return -ENOENT;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return -ENOENT;
    *slash = '\0';
    const char *cands_dp[] = {"%s/swarmgen-dp", "%s/../dataplane/swarmgen-dp"};
    const char *cands_us[] = {"%s/swarmgen-usrsctp", "%s/../baseline/swarmgen-usrsctp"};
    const char **cands = o->backend == RI_BACKEND_USRSCTP ? cands_us : cands_dp;
    for (size_t i = 0; i < 2; i++) {
        snprintf(out, len, cands[i], self);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -ENOENT;
}

int ctl_dp_spawn(struct ctl_dp *dp)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        /* the dataplane handles SIGINT itself; restore defaults */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        execv(dp->argv[0], dp->argv);
        fprintf(stderr, "swarmgen: cannot start %s: %s\n", dp->argv[0], strerror(errno));
        _exit(127);
    }
    dp->pid = pid;
    dp->exited = false;
    return 0;
}

bool ctl_dp_poll(struct ctl_dp *dp)
{
    if (dp->exited || dp->pid <= 0)
        return true;
    int st;
    pid_t r = waitpid(dp->pid, &st, WNOHANG);
    if (r == dp->pid) {
        dp->status = st;
        dp->exited = true;
    }
    return dp->exited;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void ctl_dp_reap(struct ctl_dp *dp, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t += 10) {
        if (ctl_dp_poll(dp))
            return;
        sleep_ms(10);
    }
    kill(dp->pid, SIGTERM);
    for (int t = 0; t < 2000; t += 10) {
        if (ctl_dp_poll(dp))
            return;
        sleep_ms(10);
    }
    kill(dp->pid, SIGKILL);
    int st;
    if (waitpid(dp->pid, &st, 0) == dp->pid) {
        dp->status = st;
        dp->exited = true;
    }
}

void ctl_dp_describe_exit(const struct ctl_dp *dp, char *buf, size_t len)
{
    if (!dp->exited)
        snprintf(buf, len, "still running");
    else if (WIFEXITED(dp->status))
        snprintf(buf, len, "exited with code %d", WEXITSTATUS(dp->status));
    else if (WIFSIGNALED(dp->status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(dp->status),
                 strsignal(WTERMSIG(dp->status)));
    else
        snprintf(buf, len, "ended (status 0x%x)", dp->status);
}

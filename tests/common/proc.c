/* SPDX-License-Identifier: MIT */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int proc_run_until(char *const argv[], int timeout_s, bool (*ready)(const char *out), int sigint_after_ms,
                   long long *sent_at_ms, struct proc_result *r)
{
    memset(r, 0, sizeof(*r));
    *sent_at_ms = -1;
    int po[2], pe[2];
    if (pipe(po) < 0 || pipe(pe) < 0)
        return r->exit_code = -1;
    pid_t pid = fork();
    if (pid < 0)
        return r->exit_code = -1;
    if (pid == 0) {
        setpgid(0, 0); /* its own process group, like a terminal job */
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        close(po[1]);
        close(pe[1]);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* no race with kill(-pid) below */
    r->pid = (int)pid;
    close(po[1]);
    close(pe[1]);
    size_t len[2] = {0, 0};
    long long start = now_ms(), seen_at = -1;
    int open_fds = 2;
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    while (open_fds > 0) {
        long long el = now_ms() - start;
        if (ready && seen_at < 0 && ready(r->out))
            seen_at = el;
        if (seen_at >= 0 && *sent_at_ms < 0 && el >= seen_at + sigint_after_ms) {
            kill(-pid, SIGINT); /* the whole group, as Ctrl-C in a terminal */
            *sent_at_ms = el;
        }
        if (el > timeout_s * 1000LL) {
            r->timed_out = 1;
            kill(-pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, 20) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            char tmp[4096];
            ssize_t n = read(fds[i].fd, tmp, sizeof(tmp));
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            char *dst = i == 0 ? r->out : r->err;
            size_t cap = i == 0 ? sizeof(r->out) : sizeof(r->err);
            size_t take = (size_t)n < cap - 1 - len[i] ? (size_t)n : cap - 1 - len[i];
            memcpy(dst + len[i], tmp, take);
            len[i] += take;
            dst[len[i]] = '\0';
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    int st;
    waitpid(pid, &st, 0);
    r->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r->exit_code;
}

/* proc_run's Ctrl-C: ready as soon as the process runs. */
static bool started(const char *out)
{
    (void)out;
    return true;
}

int proc_run(char *const argv[], int timeout_s, int sigint_after_ms, struct proc_result *r)
{
    long long sent_at;
    return proc_run_until(argv, timeout_s, sigint_after_ms > 0 ? started : NULL, sigint_after_ms, &sent_at, r);
}

int proc_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

const char *proc_bin(const char *var)
{
    const char *p = getenv(var);
    if (!p || access(p, X_OK) != 0) {
        fprintf(stderr, "test setup: %s not set to an executable\n", var);
        abort();
    }
    return p;
}

long proc_read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

double proc_json_num(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(json, pat);
    if (!p)
        return NAN;
    p += strlen(pat);
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

/* True when process `id` (a /proc entry) has comm `name` and, when `needle`
 * is not NULL, a command line containing it. */
static bool proc_matches(const char *id, const char *name, const char *needle)
{
    char path[300], comm[64];
    snprintf(path, sizeof(path), "/proc/%s/comm", id);
    if (proc_read_file(path, comm, sizeof(comm)) <= 0)
        return false;
    comm[strcspn(comm, "\n")] = '\0';
    if (strcmp(comm, name) != 0)
        return false;
    if (!needle)
        return true;
    static char cmd[8192];
    snprintf(path, sizeof(path), "/proc/%s/cmdline", id);
    long n = proc_read_file(path, cmd, sizeof(cmd));
    for (long i = 0; i < n; i++)
        if (cmd[i] == '\0')
            cmd[i] = ' ';
    return n > 0 && strstr(cmd, needle) != NULL;
}

/* proc_matches() for a /proc entry that is a process. */
static bool is_process(const char *entry, const char *name, const char *needle)
{
    return entry[0] >= '0' && entry[0] <= '9' && proc_matches(entry, name, needle);
}

static bool has_prefix(const char *entry, const char *prefix, const char *unused)
{
    (void)unused;
    return strncmp(entry, prefix, strlen(prefix)) == 0;
}

/* Entries of directory `dir` that match(entry, a, b) accepts; -1 when it
 * cannot be read. */
static int count_entries(const char *dir, bool (*match)(const char *entry, const char *a, const char *b),
                         const char *a, const char *b)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += match(e->d_name, a, b);
    closedir(d);
    return n;
}

int proc_count_with(const char *name, const char *needle)
{
    return count_entries("/proc", is_process, name, needle);
}

int proc_count(const char *name)
{
    return proc_count_with(name, NULL);
}

int proc_shm_files(const char *prefix)
{
    return count_entries("/dev/shm", has_prefix, prefix, NULL);
}

int proc_left_by_run(int pid, char *why, size_t cap)
{
    char prefix[48], image[64];
    snprintf(prefix, sizeof(prefix), "swarmgen-%d-", pid);
    snprintf(image, sizeof(image), "/dev/shm/%s", prefix);
    /* the dataplane exits before control does; give the kernel a moment to reap */
    int dp = 0, us = 0;
    for (int i = 0; i < 50; i++) {
        dp = proc_count_with("swarmgen-dp", image);
        us = proc_count_with("swarmgen-usrsct", image); /* comm is cut at 15 characters */
        if (dp <= 0 && us <= 0)
            break;
        usleep(100000);
    }
    int img = proc_shm_files(prefix);
    if (dp < 0 || us < 0 || img < 0) {
        snprintf(why, cap, "/proc or /dev/shm cannot be read");
        return 1;
    }
    snprintf(why, cap, "%d swarmgen-dp and %d swarmgen-usrsctp process(es) and %d run image(s) /dev/shm/%s*", dp, us,
             img, prefix);
    return dp + us + img;
}

double proc_json_in(const char *json, const char *section, const char *key)
{
    char pat[96];
    snprintf(pat, sizeof(pat), "\"%s\":", section);
    const char *s = strstr(json, pat);
    return s ? proc_json_num(s, key) : NAN;
}

int proc_swarmgen_argv(char **argv, int cap, const char *backend, const char *dp, const char *report, bool quiet,
                       char *const extra[])
{
    int n = 0;
    argv[n++] = (char *)proc_bin("SWARMGEN_BIN");
    argv[n++] = "run";
    if (backend) {
        argv[n++] = "--backend";
        argv[n++] = (char *)backend;
    }
    argv[n++] = "--dp";
    argv[n++] = (char *)dp;
    argv[n++] = "--report";
    argv[n++] = (char *)report;
    if (quiet)
        argv[n++] = "--quiet";
    for (int i = 0; extra[i] && n < cap - 1; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return n;
}

int proc_swarmgen_run(const char *backend, const char *dp, const char *report, int timeout_s, char *const extra[],
                      struct proc_result *r, char *json, size_t cap)
{
    char *argv[80];
    proc_swarmgen_argv(argv, 80, backend, dp, report, true, extra);
    unlink(report);
    int rc = proc_run(argv, timeout_s, 0, r);
    json[0] = '\0';
    proc_read_file(report, json, cap);
    return rc;
}

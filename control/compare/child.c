/* SPDX-License-Identifier: MIT */
/* child: one `swarmgen run` as a child process (see child.h). */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile pid_t ctl_child_pid;

int ctl_child_run(char **argv, char *last, size_t last_len)
{
    last[0] = '\0';
    int pfd[2];
    if (pipe(pfd) < 0)
        return -errno;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        return -e;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        dup2(pfd[1], STDERR_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "swarmgen: cannot start swarmgen run: %s\n", strerror(errno));
        _exit(127);
    }
    ctl_child_pid = pid;
    close(pfd[1]);
    char buf[4096], cur[192] = "";
    size_t cl = 0;
    for (;;) {
        ssize_t k = read(pfd[0], buf, sizeof(buf));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        fwrite(buf, 1, (size_t)k, stderr);
        for (ssize_t i = 0; i < k; i++) {
            if (buf[i] == '\n') {
                if (cl) {
                    cur[cl] = '\0';
                    snprintf(last, last_len, "%s", cur);
                }
                cl = 0;
            } else if (cl + 1 < sizeof(cur)) {
                cur[cl++] = buf[i];
            }
        }
    }
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            ctl_child_pid = 0;
            return -errno;
        }
    ctl_child_pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
}

bool ctl_child_run_ok(char **argv, int *exit_code, char *err, size_t err_len)
{
    char last[192], cause[48];
    int rc = ctl_child_run(argv, last, sizeof(last));
    *exit_code = rc < 0 ? -1 : rc;
    if (rc < 0) {
        snprintf(err, err_len, "could not start swarmgen run: %s", strerror(-rc));
        return false;
    }
    if (rc == 0)
        return true;
    if (rc > 128 && rc < 128 + 65)
        snprintf(cause, sizeof(cause), "killed by signal %d (%s)", rc - 128, strsignal(rc - 128));
    else
        snprintf(cause, sizeof(cause), "exit %d", rc);
    snprintf(err, err_len, "%s%s%.140s", cause, last[0] ? ": " : "", last);
    return false;
}

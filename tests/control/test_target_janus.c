/* SPDX-License-Identifier: MIT */
/* The target thread's Janus client against Janus itself (Debian's janus
 * 1.1.2, the HTTP transport and the EchoTest plugin, started here on
 * loopback with a configuration of its own): sessions created, attached,
 * offered (DataChannel, and audio), answered through the long poll into
 * the slots, kept alive, detached and destroyed. Skipped when janus is not
 * installed (SWARMGEN_REQUIRE_JANUS=1 makes that a failure). Signalling
 * only: the peer connections themselves are the dataplane's (the lead's
 * system tests). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

#define N 3

static char dir[64];
static pid_t server;
static uint16_t port;
static struct ri_target *tsec;
static struct ri_external *xsec;
static struct ri_agent agents[N];
static struct ctl_target *tg;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static bool accepting(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static void janus_start(void)
{
    if (access("/usr/bin/janus", X_OK) != 0) {
        if (getenv("SWARMGEN_REQUIRE_JANUS"))
            cr_assert_fail("janus (Debian package janus) is not installed");
        cr_skip_test("janus (Debian package janus) is not installed");
    }
    snprintf(dir, sizeof(dir), "/tmp/swarmgen-tjanus-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    port = free_port();
    char cfg[2048];
    snprintf(cfg, sizeof(cfg),
             "general: {\n configs_folder = \"%s\"\n"
             " plugins_folder = \"/usr/lib/x86_64-linux-gnu/janus/plugins\"\n"
             " transports_folder = \"/usr/lib/x86_64-linux-gnu/janus/transports\"\n"
             " events_folder = \"/usr/lib/x86_64-linux-gnu/janus/events\"\n"
             " loggers_folder = \"/usr/lib/x86_64-linux-gnu/janus/loggers\"\n"
             " log_to_stdout = false\n log_to_file = \"%s/janus.log\"\n debug_level = 4\n"
             " session_timeout = 60\n}\n"
             "media: {\n ipv6 = false\n}\n"
             "nat: {\n full_trickle = false\n ice_lite = false\n ice_tcp = false\n"
             " ice_enforce_list = \"lo\"\n ignore_mdns = true\n}\n"
             "plugins: {\n disable = \"libjanus_audiobridge.so,libjanus_duktape.so,libjanus_lua.so,"
             "libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,"
             "libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so,libjanus_videoroom."
             "so\"\n}\n"
             "transports: {\n disable = \"libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,"
             "libjanus_rabbitmq.so,libjanus_websockets.so\"\n}\n"
             "loggers: {\n disable = \"libjanus_jsonlog.so\"\n}\n",
             dir, dir);
    write_file("janus.jcfg", cfg);
    snprintf(
        cfg, sizeof(cfg),
        "general: {\n events = false\n json = \"plain\"\n base_path = \"/janus\"\n http = true\n"
        " port = %u\n ip = \"127.0.0.1\"\n https = false\n}\n"
        "admin: {\n admin_http = false\n}\ncors: {\n}\n",
        port);
    write_file("janus.transport.http.jcfg", cfg);
    write_file("janus.plugin.echotest.jcfg", "general: {\n}\n");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "exec janus -C %s/janus.jcfg -F %s >%s/out 2>&1", dir, dir, dir);
    server = fork();
    cr_assert_geq(server, 0);
    if (server == 0) {
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    uint64_t t0 = now_ms();
    while (!accepting() && now_ms() - t0 < 10000)
        usleep(50000);
    cr_assert(accepting(), "janus does not listen on 127.0.0.1:%u (see %s/janus.log)", port, dir);
}

static void janus_stop(void)
{
    if (server > 0) {
        kill(-server, SIGTERM);
        int st;
        for (int i = 0; i < 100 && waitpid(server, &st, WNOHANG) == 0; i++)
            usleep(20000);
        kill(-server, SIGKILL);
        waitpid(server, &st, 0);
        server = 0;
    }
}

static void setup(void)
{
    size_t sz = sizeof(struct ri_target) + N * sizeof(struct ri_target_slot);
    tsec = aligned_alloc(RI_ALIGN, sz);
    memset(tsec, 0, sz);
    tsec->n_slots = N;
    xsec = aligned_alloc(RI_ALIGN, sizeof(*xsec));
    memset(xsec, 0, sizeof(*xsec));
    for (int i = 0; i < 32; i++)
        xsec->fingerprint[i] = (uint8_t)(0x11 * i + 3);
    for (uint32_t i = 0; i < N; i++)
        agents[i] = (struct ri_agent){.ip = 0xc6120001 + i};
}

static void teardown(void)
{
    ctl_target_free(tg);
    tg = NULL;
    janus_stop();
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    free(tsec);
    free(xsec);
}

Test(target_janus_live, echotest_sessions_signalled_kept_alive_and_destroyed, .init = setup,
     .fini = teardown, .timeout = 60)
{
    janus_start();
    char spec[128], err[256];
    snprintf(spec, sizeof(spec), "janus:http://127.0.0.1:%u/janus", port);
    struct ctl_target_config c = {.n_sessions = N,
                                  .audio = true,
                                  .http_timeout_ns = 5000000000ull,
                                  .keepalive_ns = 300000000ull};
    cr_assert_eq(ctl_target_parse(spec, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(ctl_target_start(&tg, &c, tsec, xsec, agents, N, err, sizeof(err)), 0, "%s", err);
    const struct ctl_target_results *r = ctl_target_results(tg);
    uint64_t t0 = now_ms();
    while (__atomic_load_n(&r->signalled, __ATOMIC_RELAXED) +
                   __atomic_load_n(&r->signal_failed, __ATOMIC_RELAXED) <
               N &&
           now_ms() - t0 < 15000)
        usleep(10000);
    cr_assert_eq(r->signalled, N, "first cause %s: %s", ctl_target_cause_name(r->client[0].cause),
                 r->client[0].detail);
    for (uint32_t i = 0; i < N; i++) {
        struct ri_target_slot *sl = ri_target_slot(tsec, i);
        cr_assert_geq(strlen(sl->remote_ufrag), 4);
        cr_assert_geq(strlen(sl->remote_pwd), 22);
        cr_assert_geq(sl->n_cands, 1);
        for (unsigned k = 0; k < sl->n_cands; k++) {
            cr_assert_neq(sl->cand[k].ip, 0u);
            cr_assert_neq(sl->cand[k].port, 0);
            cr_assert(k == 0 || sl->cand[k - 1].priority >= sl->cand[k].priority);
        }
        cr_assert_eq(sl->remote_lite, 0, "Janus is full ICE here");
        cr_assert_eq(sl->dtls_client, 0, "Janus answers setup:active: we are the DTLS server");
        cr_assert_eq(sl->audio, 1, "EchoTest keeps our Opus line");
        cr_assert_eq(sl->audio_pt, 111);
        cr_assert_eq(sl->remote_sctp_port, 5000);
        cr_assert_eq(strncmp(r->client[i].resource, "janus:", 6), 0);
    }
    t0 = now_ms();
    while (__atomic_load_n(&r->keepalives, __ATOMIC_RELAXED) < N && now_ms() - t0 < 3000)
        usleep(10000);
    cr_assert_geq(r->keepalives, N);
    ctl_target_stop(tg, 5000000000ull);
    cr_assert_eq(r->deleted, N, "destroyed: %llu, failed %llu", (unsigned long long)r->deleted,
                 (unsigned long long)r->delete_failed);
    cr_assert_eq(r->http_status[4] + r->http_status[5] + r->http_status[0], 0);
}

/* SPDX-License-Identifier: MIT */
/*
 * The TURN client engine (crypto/turn.h) against coturn, the TURN server
 * Debian ships: turnserver is started on loopback with long-term
 * credentials for each test and stopped after it. 200 clients allocate,
 * get permissions (half of them channels too), send through their relay to
 * a UDP echo peer and get every message back (as ChannelData or Data
 * indications); refresh past a stale nonce; release. coturn's own log
 * must agree with the clients' counts. A wrong password, and a server
 * that never answers, end in one counted failure at the allocate stage.
 *
 * Skipped without turnserver unless SWARMGEN_REQUIRE_COTURN is set.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "turn.h"

#define USER "swarm"
#define PASS "s3cret-pass"
#define REALM "swarmgen.test"
#define NCLIENT 200
#define NMSG 10
#define MAXPEER 2

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- coturn ---------------------------------------------------------- */

static pid_t server;
static char dir[64];
static uint16_t server_port;

static bool have_turnserver(void)
{
    return access("/usr/bin/turnserver", X_OK) == 0;
}

static void skip_without_coturn(void)
{
    if (have_turnserver())
        return;
    if (getenv("SWARMGEN_REQUIRE_COTURN"))
        cr_assert_fail("turnserver (Debian package coturn) is not installed");
    cr_skip_test("turnserver (Debian package coturn) is not installed");
}

static int udp_socket(struct sockaddr_in *bound)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    if (bound)
        *bound = a;
    return fd;
}

/* A UDP port on loopback that is free now (coturn binds it right after). */
static uint16_t free_port(void)
{
    struct sockaddr_in a;
    int fd = udp_socket(&a);
    close(fd);
    return ntohs(a.sin_port);
}

/* Starts turnserver with the long-term user and `extra` flags; waits until
 * it answers a Binding request (5 s at most). */
static void coturn_start(const char *extra)
{
    snprintf(dir, sizeof(dir), "/tmp/swarmgen-coturn-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    server_port = free_port();
    uint16_t relay_min = (uint16_t)(40000 + (getpid() % 200) * 100);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "exec turnserver -n -v --listening-ip=127.0.0.1 --listening-port=%u --relay-ip=127.0.0.1 "
             "--min-port=%u --max-port=%u --lt-cred-mech --user=" USER ":" PASS " --realm=" REALM " "
             "--allow-loopback-peers --no-tls --no-dtls --no-cli --no-stdout-log --simple-log "
             "--log-file=%s/turn.log --pidfile=%s/turn.pid --userdb=%s/turndb %s >%s/out 2>&1",
             server_port, relay_min, relay_min + 99 + 400, dir, dir, dir, extra, dir);
    server = fork();
    cr_assert_geq(server, 0);
    if (server == 0) {
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(server_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = udp_socket(NULL);
    uint8_t req[64], tid[12] = {7}, buf[512];
    struct stun_writer w;
    stun_begin(&w, req, sizeof(req), STUN_BINDING_REQUEST, tid);
    int n = stun_end(&w);
    for (int i = 0; i < 100; i++) {
        sendto(fd, req, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to));
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) == 1 && recv(fd, buf, sizeof(buf), 0) > 0) {
            close(fd);
            return;
        }
    }
    close(fd);
    cr_assert_fail("turnserver did not answer on 127.0.0.1:%u in 5 s", server_port);
}

/* Stops turnserver (its log is complete after it exits). */
static void coturn_stop(void)
{
    if (server > 0) {
        kill(-server, SIGTERM);
        int st;
        for (int i = 0; i < 50 && waitpid(server, &st, WNOHANG) == 0; i++)
            usleep(20000);
        kill(-server, SIGKILL);
        waitpid(server, &st, 0);
        server = 0;
    }
}

static void cleanup(void)
{
    coturn_stop();
    if (dir[0] && getenv("SWARMGEN_KEEP_COTURN")) { /* to read its log */
        fprintf(stderr, "coturn's files kept in %s\n", dir);
        dir[0] = 0;
    }
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        dir[0] = 0;
    }
}

/* Lines of coturn's log that contain every one of the needles. */
static int log_count(const char *a, const char *b)
{
    char path[128], line[1024];
    snprintf(path, sizeof(path), "%s/turn.log", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no coturn log");
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, a) && (!b || strstr(line, b));
    fclose(f);
    return n;
}

/* ---- clients --------------------------------------------------------- */

struct client {
    int fd;
    struct turn_client *t;
    int peer;
    bool channel, ready, failed, closed;
    struct turn_ev fail_ev;
    int sent, echoed, bad;
};

static struct client cl[NCLIENT];
static struct sockaddr_in server_addr;

static void client_open(struct client *c, int i, const char *pass, uint64_t rto_ns, uint32_t tries)
{
    memset(c, 0, sizeof(*c));
    c->fd = udp_socket(NULL);
    cr_assert_eq(connect(c->fd, (struct sockaddr *)&server_addr, sizeof(server_addr)), 0);
    struct turn_config cfg = {.user = USER, .pass = pass, .lifetime_s = 600, .rto_ns = rto_ns,
                              .max_tries = tries, .seed = 0x5eed0000ull + (uint64_t)i, .max_peers = MAXPEER};
    void *mem = aligned_alloc(64, (turn_size(MAXPEER) + 63) & ~(size_t)63);
    c->t = turn_init(mem, &cfg);
    cr_assert_not_null(c->t);
    c->peer = -1;
}

static void client_free(struct client *c)
{
    close(c->fd);
    free(c->t);
}

/* Sends what the client owes and takes its events. */
static void client_pump(struct client *c, uint64_t now)
{
    uint8_t buf[TURN_REQ_MAX];
    size_t n;
    turn_handle_timeout(c->t, now);
    while ((n = turn_poll_transmit(c->t, buf, sizeof(buf), now)) > 0)
        if (send(c->fd, buf, n, 0) != (ssize_t)n)
            cr_log_warn("send: %s", strerror(errno));
    struct turn_ev ev;
    while (turn_poll_event(c->t, &ev) != TURN_EV_NONE) {
        if (ev.type == TURN_EV_FAILED) {
            c->failed = true;
            c->fail_ev = ev;
        } else if (ev.type == TURN_EV_CLOSED) {
            c->closed = true;
        } else if ((ev.type == TURN_EV_PERMISSION && !c->channel) || ev.type == TURN_EV_CHANNEL) {
            c->ready = true;
        }
    }
}

/* The echo peer: every datagram goes back to where it came from (the
 * client's relayed address). */
static void echo(int fd)
{
    uint8_t buf[2048];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    ssize_t n;
    while ((n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) > 0) {
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
        fl = sizeof(from);
    }
}

/* Runs the clients and the echo peer until done() or the deadline (real
 * time); sends each ready client's messages, one at a time. */
static void run(int n, int echo_fd, uint64_t budget_ns, bool (*done)(int))
{
    static struct pollfd pf[NCLIENT + 1];
    uint64_t end = now_ns() + budget_ns;
    while (!done(n)) {
        uint64_t now = now_ns();
        if (now > end)
            break;
        uint64_t next = end;
        for (int i = 0; i < n; i++) {
            struct client *c = &cl[i];
            client_pump(c, now);
            /* one message in flight per client: a burst of 2,000 at once
             * could overflow a loopback socket buffer on a loaded machine,
             * and a datagram lost there is not the relay's doing */
            if (c->ready && c->sent < NMSG && c->sent == c->echoed + c->bad) {
                uint8_t msg[100], out[256];
                memset(msg, 'a' + i % 26, sizeof(msg));
                memcpy(msg, &i, sizeof(i));
                msg[4] = (uint8_t)c->sent;
                int len = turn_wrap(c->t, c->peer, msg, sizeof(msg), out, sizeof(out));
                cr_assert_gt(len, 0, "turn_wrap: %d", len);
                cr_assert_eq(send(c->fd, out, (size_t)len, 0), len);
                c->sent++;
            }
            uint64_t d = turn_next_timeout(c->t);
            if (d < next)
                next = d;
            pf[i] = (struct pollfd){.fd = c->fd, .events = POLLIN};
        }
        pf[n] = (struct pollfd){.fd = echo_fd, .events = POLLIN};
        int wait_ms = next > now ? (int)((next - now) / 1000000 + 1) : 0;
        if (wait_ms > 100)
            wait_ms = 100;
        if (poll(pf, (nfds_t)(n + (echo_fd >= 0)), wait_ms) <= 0)
            continue;
        if (echo_fd >= 0 && (pf[n].revents & POLLIN))
            echo(echo_fd);
        now = now_ns();
        for (int i = 0; i < n; i++) {
            if (!(pf[i].revents & POLLIN))
                continue;
            uint8_t buf[2048];
            ssize_t r;
            while ((r = recv(cl[i].fd, buf, sizeof(buf), 0)) > 0) {
                struct turn_rx rx;
                enum engine_input res = turn_handle_input(cl[i].t, buf, (size_t)r, now, &rx);
                if (rx.peer < 0)
                    continue;
                int who;
                memcpy(&who, rx.data, sizeof(who));
                if (res == ENGINE_IN_ACCEPTED && rx.peer == cl[i].peer && rx.len == 100 && who == i)
                    cl[i].echoed++;
                else
                    cl[i].bad++;
            }
        }
    }
}

static bool all_echoed_or_failed(int n)
{
    for (int i = 0; i < n; i++)
        if (!cl[i].failed && cl[i].echoed < NMSG)
            return false;
    return true;
}

static bool all_settled(int n)
{
    for (int i = 0; i < n; i++)
        if (!cl[i].failed && !cl[i].closed && turn_state(cl[i].t) != TURN_ALLOCATED)
            return false;
    return true;
}

static bool all_closed(int n)
{
    for (int i = 0; i < n; i++)
        if (!cl[i].closed && !cl[i].failed)
            return false;
    return true;
}

TestSuite(turn_coturn, .fini = cleanup, .timeout = 150);

Test(turn_coturn, two_hundred_clients_allocate_relay_every_message_and_release)
{
    skip_without_coturn();
    coturn_start("");
    server_addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(server_port),
                                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in peer_addr;
    int echo_fd = udp_socket(&peer_addr);
    struct stun_addr peer = {.family = 4, .port = ntohs(peer_addr.sin_port), .ip = {127, 0, 0, 1}};
    uint64_t t0 = now_ns();
    for (int i = 0; i < NCLIENT; i++) {
        client_open(&cl[i], i, PASS, 0, 0);
        cl[i].channel = i % 2 == 0;
        cl[i].peer = turn_add_peer(cl[i].t, &peer, cl[i].channel, t0);
        cr_assert_eq(cl[i].peer, 0);
        turn_allocate(cl[i].t, t0);
    }
    run(NCLIENT, echo_fd, 60000000000ull, all_echoed_or_failed);
    int channels = 0, indications = 0;
    for (int i = 0; i < NCLIENT; i++) {
        struct client *c = &cl[i];
        cr_assert(!c->failed, "client %d failed at %s with %u", i, turn_stage_name(c->fail_ev.stage),
                  c->fail_ev.code);
        cr_assert_eq(c->echoed, NMSG, "client %d: %d of %d echoed", i, c->echoed, NMSG);
        cr_assert_eq(c->bad, 0);
        const struct turn_counters *k = turn_counters(c->t);
        cr_assert_eq(k->challenges, 1); /* the first Allocate is answered 401 */
        cr_assert_eq(turn_relayed(c->t)->family, 4);
        cr_assert_eq(turn_lifetime(c->t), 600);
        if (c->channel) {
            cr_assert_eq(turn_peer_channel(c->t, 0), TURN_CHANNEL_MIN);
            cr_assert_eq(k->channel_data_out, NMSG);
            cr_assert_eq(k->channel_data_in, NMSG);
            channels++;
        } else {
            cr_assert_eq(k->data_out, NMSG);
            cr_assert_eq(k->data_in, NMSG);
            indications++;
        }
    }
    cr_assert_eq(channels, NCLIENT / 2);
    cr_assert_eq(indications, NCLIENT / 2);
    uint64_t t1 = now_ns();
    for (int i = 0; i < NCLIENT; i++)
        turn_close(cl[i].t, t1);
    run(NCLIENT, echo_fd, 10000000000ull, all_closed);
    for (int i = 0; i < NCLIENT; i++)
        cr_assert(cl[i].closed && !cl[i].failed, "client %d not released", i);
    close(echo_fd);
    coturn_stop();
    /* coturn counted what the clients did */
    cr_assert_eq(log_count("incoming packet ALLOCATE processed, success", NULL), NCLIENT);
    cr_assert_eq(log_count("incoming packet CREATE_PERMISSION processed, success", NULL), NCLIENT);
    cr_assert_eq(log_count("incoming packet CHANNEL_BIND processed, success", NULL), NCLIENT / 2);
    cr_assert_eq(log_count("refreshed", "lifetime=0"), NCLIENT);
    for (int i = 0; i < NCLIENT; i++)
        client_free(&cl[i]);
}

Test(turn_coturn, refresh_takes_a_stale_nonce_and_keeps_the_allocation)
{
    skip_without_coturn();
    coturn_start("--stale-nonce=1");
    server_addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(server_port),
                                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    client_open(&cl[0], 0, PASS, 0, 0);
    turn_allocate(cl[0].t, now_ns());
    run(1, -1, 5000000000ull, all_settled);
    cr_assert_eq(turn_state(cl[0].t), TURN_ALLOCATED);
    usleep(3000000); /* coturn counts its 1 s nonce lifetime in whole seconds */
    /* the engine's clock is an input: 600 s on, the refresh is due */
    uint64_t later = now_ns() + 600ull * 1000000000ull;
    client_pump(&cl[0], later);
    uint8_t buf[2048];
    for (int i = 0; i < 100 && turn_counters(cl[0].t)->refreshes == 0; i++) {
        struct pollfd p = {.fd = cl[0].fd, .events = POLLIN};
        if (poll(&p, 1, 50) == 1) {
            ssize_t r = recv(cl[0].fd, buf, sizeof(buf), 0);
            struct turn_rx rx;
            if (r > 0)
                turn_handle_input(cl[0].t, buf, (size_t)r, later, &rx);
        }
        client_pump(&cl[0], later);
    }
    const struct turn_counters *k = turn_counters(cl[0].t);
    cr_assert_eq(k->refreshes, 1);
    cr_assert_geq(k->stale_nonces, 1, "coturn did not call the nonce stale");
    cr_assert_eq(turn_state(cl[0].t), TURN_ALLOCATED);
    cr_assert(!cl[0].failed);
    client_free(&cl[0]);
}

Test(turn_coturn, wrong_password_is_a_401_failure_at_allocate)
{
    skip_without_coturn();
    coturn_start("");
    server_addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(server_port),
                                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    client_open(&cl[0], 0, "not-the-password", 0, 0);
    turn_allocate(cl[0].t, now_ns());
    run(1, -1, 5000000000ull, all_settled);
    cr_assert(cl[0].failed);
    cr_assert_eq(cl[0].fail_ev.stage, TURN_STAGE_ALLOCATE);
    cr_assert_eq(cl[0].fail_ev.code, 401);
    cr_assert_eq(turn_state(cl[0].t), TURN_FAILED);
    cr_assert_eq(turn_counters(cl[0].t)->challenges, 1);
    client_free(&cl[0]);
}

Test(turn_coturn, silent_server_fails_allocate_after_the_last_retransmission)
{
    /* no coturn needed: a socket that takes every Allocate and answers none */
    struct sockaddr_in hole;
    int hole_fd = udp_socket(&hole);
    server_addr = hole;
    client_open(&cl[0], 0, PASS, 20000000ull, 4);
    uint64_t t0 = now_ns();
    turn_allocate(cl[0].t, t0);
    run(1, -1, 3000000000ull, all_settled);
    uint64_t took = now_ns() - t0;
    cr_assert(cl[0].failed);
    cr_assert_eq(cl[0].fail_ev.stage, TURN_STAGE_ALLOCATE);
    cr_assert_eq(cl[0].fail_ev.code, 0);
    const struct turn_counters *k = turn_counters(cl[0].t);
    cr_assert_eq(k->requests, 1);
    cr_assert_eq(k->retransmits, 3);
    /* 20 + 40 + 80 + 160 ms of waiting */
    cr_assert_geq(took, 300000000ull);
    cr_assert_lt(took, 2000000000ull);
    int got = 0;
    uint8_t buf[512];
    while (recv(hole_fd, buf, sizeof(buf), 0) > 0)
        got++;
    cr_assert_eq(got, 4);
    close(hole_fd);
    client_free(&cl[0]);
}

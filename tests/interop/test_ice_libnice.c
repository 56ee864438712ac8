/* SPDX-License-Identifier: MIT */
/*
 * Our full ICE agent (crypto/ice.h) against libnice (the ICE library
 * Janus, GStreamer's webrtcbin and Farstream use), RFC 5245
 * compatibility, on 127.0.0.1 only (no STUN or TURN servers): a NiceAgent
 * runs its GLib main loop in a thread, ours runs over a kernel UDP socket
 * in the test's thread with the real monotonic clock.
 *
 * (a) ours controlling, libnice controlled: our candidate list has an
 *     unreachable 127.0.0.1 port listed first with a higher priority, then
 *     libnice's candidates; libnice's component reaches READY with our
 *     address as its selected remote, we connect on libnice's.
 * (b) libnice controlling (regular nomination, then aggressive), ours
 *     controlled full.
 * (c) consent: both sides with consent freshness (RFC 7675; libnice's
 *     NICE_AGENT_OPTION_CONSENT_FRESHNESS) for 12 s: our consent checks
 *     answered, libnice's checks answered by us, both still up.
 * Each exchanges application datagrams over the selected pair after.
 * Every wait is bounded. Skipped without libnice (Debian libnice-dev)
 * unless SWARMGEN_REQUIRE_LIBNICE=1.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ice.h"

#if SWARMGEN_HAVE_LIBNICE
#include <agent.h>
#include <gio/gio.h>

#define MS 1000000ull
#define S_ 1000000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * S_ + (uint64_t)ts.tv_nsec;
}

/* ---- the libnice side: an agent and its main loop in a thread ---------- */

struct nice_side {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    NiceAgent *agent;
    guint stream;
    GMutex mu;             /* guards what the callbacks write below */
    bool gathered, ready, failed;
    unsigned state;        /* the component's latest NiceComponentState */
    uint16_t sel_remote_port; /* its selected pair's remote port */
    unsigned received;     /* application datagrams from us */
};

static void on_gathered(NiceAgent *agent, guint stream, gpointer data)
{
    struct nice_side *n = data;
    g_mutex_lock(&n->mu);
    n->gathered = true;
    g_mutex_unlock(&n->mu);
}

static void on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
    struct nice_side *n = data;
    g_mutex_lock(&n->mu);
    n->state = state;
    n->ready |= state == NICE_COMPONENT_STATE_READY;
    n->failed |= state == NICE_COMPONENT_STATE_FAILED;
    g_mutex_unlock(&n->mu);
}

static void on_selected(NiceAgent *agent, guint stream, guint component, NiceCandidate *l, NiceCandidate *r,
                        gpointer data)
{
    struct nice_side *n = data;
    g_mutex_lock(&n->mu);
    n->sel_remote_port = (uint16_t)nice_address_get_port(&r->addr);
    g_mutex_unlock(&n->mu);
}

/* an application datagram from us: counted and echoed */
static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf, gpointer data)
{
    struct nice_side *n = data;
    g_mutex_lock(&n->mu);
    n->received++;
    g_mutex_unlock(&n->mu);
    nice_agent_send(agent, stream, component, len, buf);
}

static gpointer loop_thread(gpointer data)
{
    struct nice_side *n = data;
    g_main_context_push_thread_default(n->ctx);
    g_main_loop_run(n->loop);
    g_main_context_pop_thread_default(n->ctx);
    return NULL;
}

static bool nice_flag(struct nice_side *n, const bool *f)
{
    g_mutex_lock(&n->mu);
    bool v = *f;
    g_mutex_unlock(&n->mu);
    return v;
}

static void nice_start(struct nice_side *n, bool controlling, NiceAgentOption opts)
{
    memset(n, 0, sizeof(*n));
    g_mutex_init(&n->mu);
    n->ctx = g_main_context_new();
    n->loop = g_main_loop_new(n->ctx, FALSE);
    n->agent = nice_agent_new_full(n->ctx, NICE_COMPATIBILITY_RFC5245, opts);
    cr_assert_not_null(n->agent);
    g_object_set(n->agent, "controlling-mode", controlling, "upnp", FALSE, "ice-tcp", FALSE, "ice-udp", TRUE, NULL);
    NiceAddress lo;
    nice_address_init(&lo);
    cr_assert(nice_address_set_from_string(&lo, "127.0.0.1"));
    cr_assert(nice_agent_add_local_address(n->agent, &lo));
    g_signal_connect(n->agent, "candidate-gathering-done", G_CALLBACK(on_gathered), n);
    g_signal_connect(n->agent, "component-state-changed", G_CALLBACK(on_state), n);
    g_signal_connect(n->agent, "new-selected-pair-full", G_CALLBACK(on_selected), n);
    n->stream = nice_agent_add_stream(n->agent, 1);
    cr_assert_gt(n->stream, 0);
    cr_assert(nice_agent_attach_recv(n->agent, n->stream, 1, n->ctx, on_recv, n));
    n->thread = g_thread_new("libnice", loop_thread, n);
    cr_assert(nice_agent_gather_candidates(n->agent, n->stream));
    uint64_t end = now_ns() + 5 * S_;
    while (!nice_flag(n, &n->gathered) && now_ns() < end)
        usleep(1000);
    cr_assert(nice_flag(n, &n->gathered), "libnice gathered its candidates");
}

static void nice_stop(struct nice_side *n)
{
    nice_agent_attach_recv(n->agent, n->stream, 1, n->ctx, NULL, NULL);
    nice_agent_remove_stream(n->agent, n->stream);
    g_main_loop_quit(n->loop);
    g_thread_join(n->thread);
    g_object_unref(n->agent);
    g_main_loop_unref(n->loop);
    g_main_context_unref(n->ctx);
    g_mutex_clear(&n->mu);
}

/* ---- our side: an ICE agent on a kernel UDP socket --------------------- */

struct ours {
    int fd;
    struct stun_addr addr;
    struct ice_agent ice;
    bool up, failed, lost;
    unsigned echoes;        /* application datagrams back from libnice */
    uint64_t up_at;
    uint32_t answers_after_up; /* answers we sent to libnice's checks from 1 s after we connected */
    struct stun_addr first_to; /* where our first check went */
    unsigned to_unreachable; /* requests sent to the unreachable candidate */
    uint16_t unreachable_port;
};

static struct stun_addr lo_addr(uint16_t port)
{
    return (struct stun_addr){4, port, {127, 0, 0, 1}};
}

static void to_sin(const struct stun_addr *a, struct sockaddr_in *s)
{
    memset(s, 0, sizeof(*s));
    s->sin_family = AF_INET;
    s->sin_port = htons(a->port);
    memcpy(&s->sin_addr, a->ip, 4);
}

static int udp_socket(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
    socklen_t sl = sizeof(s);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&s, &sl), 0);
    *port = ntohs(s.sin_port);
    return fd;
}

/* A port on 127.0.0.1 nobody listens on: bound, then closed. */
static uint16_t closed_port(void)
{
    uint16_t p;
    close(udp_socket(&p));
    return p;
}

static void ours_open(struct ours *o)
{
    memset(o, 0, sizeof(*o));
    o->fd = udp_socket(&o->addr.port);
    o->addr = lo_addr(o->addr.port);
}

/* Services the socket and the agent until cond(o, n) or the deadline;
 * returns cond's last value. */
static bool pump(struct ours *o, struct nice_side *n, uint64_t deadline, bool (*cond)(struct ours *, struct nice_side *))
{
    uint8_t buf[1500];
    for (;;) {
        uint64_t now = now_ns();
        if (cond && cond(o, n))
            return true;
        if (now >= deadline)
            return cond ? cond(o, n) : true;
        ice_handle_timeout(&o->ice, now);
        size_t len;
        struct stun_addr to;
        while ((len = ice_poll_transmit_to(&o->ice, buf, sizeof(buf), now, &to)) > 0) {
            struct stun_msg m;
            cr_assert_eq(stun_parse(buf, len, &m), 0);
            if (m.type == STUN_BINDING_REQUEST) {
                if (!o->first_to.family)
                    o->first_to = to;
                o->to_unreachable += to.port == o->unreachable_port;
            } else if (o->up && now > o->up_at + S_) {
                o->answers_after_up++;
            }
            struct sockaddr_in s;
            to_sin(&to, &s);
            /* ECONNREFUSED from the unreachable port's ICMP is expected */
            (void)sendto(o->fd, buf, len, 0, (struct sockaddr *)&s, sizeof(s));
        }
        struct ice_ev e;
        while (ice_poll_event(&o->ice, &e) != ICE_EV_NONE) {
            if (e.type == ICE_EV_CONNECTED && !o->up)
                o->up = true, o->up_at = now;
            o->failed |= e.type == ICE_EV_FAILED;
            o->lost |= e.type == ICE_EV_CONSENT_LOST;
        }
        uint64_t next = ice_next_timeout(&o->ice);
        int wait_ms = 5;
        if (next > now && next - now < 5 * MS)
            wait_ms = (int)((next - now) / MS);
        if (next <= now)
            wait_ms = 0;
        struct pollfd pfd = {.fd = o->fd, .events = POLLIN};
        if (poll(&pfd, 1, wait_ms) <= 0)
            continue;
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t r;
        while ((r = recvfrom(o->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) >= 0 ||
               errno == ECONNREFUSED) {
            if (r < 0)
                continue;
            struct stun_addr src = {4, ntohs(from.sin_port), {0}};
            memcpy(src.ip, &from.sin_addr, 4);
            if (r > 0 && buf[0] <= 3)
                ice_handle_input_from(&o->ice, buf, (size_t)r, &src, now_ns());
            else if (r >= 9 && memcmp(buf, "swarmgen-", 9) == 0)
                o->echoes++;
            fl = sizeof(from);
        }
    }
}

static bool both_up(struct ours *o, struct nice_side *n)
{
    return o->up && nice_flag(n, &n->ready);
}

static bool all_echoed(struct ours *o, struct nice_side *n)
{
    return o->echoes >= 5;
}

/* Gives libnice our candidate and credentials, builds our remote list
 * from its candidates (after an unreachable one when asked) and starts
 * both. */
static void connect_pair(struct ours *o, struct nice_side *n, enum ice_role role, bool unreachable_first,
                         bool consent)
{
    gchar *ufrag = NULL, *pwd = NULL;
    cr_assert(nice_agent_get_local_credentials(n->agent, n->stream, &ufrag, &pwd));
    static const char *our_ufrag = "swgn", *our_pwd = "swarmgen-ice-password-0123";
    cr_assert(nice_agent_set_remote_credentials(n->agent, n->stream, our_ufrag, our_pwd));

    struct ice_cand rc[ICE_MAX_REMOTE];
    uint32_t nrc = 0;
    GSList *lc = nice_agent_get_local_candidates(n->agent, n->stream, 1);
    uint32_t top = 0;
    for (GSList *i = lc; i; i = i->next) {
        NiceCandidate *c = i->data;
        if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP || nice_address_ip_version(&c->addr) != 4)
            continue;
        top = c->priority > top ? c->priority : top;
    }
    if (unreachable_first) {
        o->unreachable_port = closed_port();
        rc[nrc++] = (struct ice_cand){lo_addr(o->unreachable_port), top + 1, ICE_CAND_HOST};
    }
    for (GSList *i = lc; i && nrc < ICE_MAX_REMOTE; i = i->next) {
        NiceCandidate *c = i->data;
        if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP || nice_address_ip_version(&c->addr) != 4)
            continue;
        rc[nrc++] = (struct ice_cand){lo_addr((uint16_t)nice_address_get_port(&c->addr)), c->priority,
                                      ICE_CAND_HOST};
    }
    g_slist_free_full(lc, (GDestroyNotify)nice_candidate_free);
    cr_assert_geq(nrc, (uint32_t)(unreachable_first ? 2 : 1), "libnice has a UDP candidate on 127.0.0.1");

    struct ice_config cfg = {.role = role,
                             .tiebreaker = 0x1234567890abcdefull,
                             .priority = 2130706431u,
                             .local_ufrag = our_ufrag,
                             .local_pwd = our_pwd,
                             .remote_ufrag = ufrag,
                             .remote_pwd = pwd,
                             .peer = rc[nrc - 1].addr,
                             .remote = rc,
                             .n_remote = nrc,
                             .local_type = ICE_CAND_HOST,
                             .consent = consent};
    cr_assert_eq(ice_init(&o->ice, &cfg), 0);
    g_free(ufrag);
    g_free(pwd);

    NiceCandidate *ours = nice_candidate_new(NICE_CANDIDATE_TYPE_HOST);
    ours->stream_id = n->stream;
    ours->component_id = 1;
    ours->transport = NICE_CANDIDATE_TRANSPORT_UDP;
    ours->priority = 2130706431u;
    g_strlcpy(ours->foundation, "1", NICE_CANDIDATE_MAX_FOUNDATION);
    cr_assert(nice_address_set_from_string(&ours->addr, "127.0.0.1"));
    nice_address_set_port(&ours->addr, o->addr.port);
    GSList *rl = g_slist_append(NULL, ours);
    ice_start(&o->ice, now_ns());
    cr_assert_eq(nice_agent_set_remote_candidates(n->agent, n->stream, 1, rl), 1);
    g_slist_free_full(rl, (GDestroyNotify)nice_candidate_free);

    cr_assert(pump(o, n, now_ns() + 10 * S_, both_up), "connected: ours %d (%s), libnice state %u", o->up,
              o->failed ? "failed" : "not failed", n->state);
}

/* Both report the right pair; five datagrams go to libnice over it and
 * come back. */
static void check_pair_and_exchange(struct ours *o, struct nice_side *n, uint16_t nice_port)
{
    struct stun_addr sel;
    cr_assert(ice_selected(&o->ice, &sel));
    cr_assert_eq(sel.port, nice_port, "we selected libnice's candidate (%u, not %u)", sel.port, nice_port);
    g_mutex_lock(&n->mu);
    uint16_t their = n->sel_remote_port;
    g_mutex_unlock(&n->mu);
    cr_assert_eq(their, o->addr.port, "libnice selected our address");
    NiceCandidate *l = NULL, *r = NULL;
    cr_assert(nice_agent_get_selected_pair(n->agent, n->stream, 1, &l, &r));
    cr_assert_eq(nice_address_get_port(&r->addr), o->addr.port);
    cr_assert_eq(nice_address_get_port(&l->addr), nice_port);
    struct sockaddr_in s;
    to_sin(&sel, &s);
    for (int i = 0; i < 5; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof(msg), "swarmgen-%d", i);
        cr_assert_eq(sendto(o->fd, msg, (size_t)len, 0, (struct sockaddr *)&s, sizeof(s)), len);
    }
    cr_assert(pump(o, n, now_ns() + 5 * S_, all_echoed), "echoes %u", o->echoes);
    g_mutex_lock(&n->mu);
    unsigned got = n->received;
    g_mutex_unlock(&n->mu);
    cr_assert_eq(got, 5);
}

static uint16_t nice_port_of(struct nice_side *n)
{
    GSList *lc = nice_agent_get_local_candidates(n->agent, n->stream, 1);
    uint16_t p = 0;
    for (GSList *i = lc; i && !p; i = i->next) {
        NiceCandidate *c = i->data;
        if (c->transport == NICE_CANDIDATE_TRANSPORT_UDP && nice_address_ip_version(&c->addr) == 4)
            p = (uint16_t)nice_address_get_port(&c->addr);
    }
    g_slist_free_full(lc, (GDestroyNotify)nice_candidate_free);
    return p;
}
#endif

static void skip_without_libnice(void)
{
#if !SWARMGEN_HAVE_LIBNICE
    const char *req = getenv("SWARMGEN_REQUIRE_LIBNICE");
    if (req && strcmp(req, "1") == 0)
        cr_assert_fail("libnice (Debian libnice-dev) was not found when this build was configured");
    cr_skip_test("libnice (Debian libnice-dev) was not found when this build was configured");
#endif
}

Test(ice_libnice, ours_controlling_libnice_controlled, .timeout = 60)
{
    skip_without_libnice();
#if SWARMGEN_HAVE_LIBNICE
    struct nice_side n;
    struct ours o;
    nice_start(&n, false, NICE_AGENT_OPTION_NONE);
    ours_open(&o);
    connect_pair(&o, &n, ICE_CONTROLLING, true, false);
    cr_assert_eq(o.first_to.port, o.unreachable_port, "the unreachable, higher-priority pair is checked first");
    cr_assert_geq(o.to_unreachable, 1);
    cr_assert_eq(ice_role(&o.ice), ICE_CONTROLLING);
    check_pair_and_exchange(&o, &n, nice_port_of(&n));
    cr_assert(!o.failed);
    nice_stop(&n);
    close(o.fd);
#endif
}

Test(ice_libnice, libnice_controlling_ours_controlled_full, .timeout = 60)
{
    skip_without_libnice();
#if SWARMGEN_HAVE_LIBNICE
    struct nice_side n;
    struct ours o;
    nice_start(&n, true, NICE_AGENT_OPTION_REGULAR_NOMINATION);
    ours_open(&o);
    connect_pair(&o, &n, ICE_CONTROLLED, false, false);
    cr_assert_eq(ice_role(&o.ice), ICE_CONTROLLED);
    cr_assert_gt(ice_counters(&o.ice)->requests_sent, 0, "a full controlled agent checks too");
    check_pair_and_exchange(&o, &n, nice_port_of(&n));
    nice_stop(&n);
    close(o.fd);
#endif
}

Test(ice_libnice, libnice_controlling_aggressive_ours_controlled_full, .timeout = 60)
{
    skip_without_libnice();
#if SWARMGEN_HAVE_LIBNICE
    struct nice_side n;
    struct ours o;
    nice_start(&n, true, NICE_AGENT_OPTION_NONE); /* aggressive nomination: USE-CANDIDATE on every check */
    ours_open(&o);
    connect_pair(&o, &n, ICE_CONTROLLED, false, false);
    check_pair_and_exchange(&o, &n, nice_port_of(&n));
    nice_stop(&n);
    close(o.fd);
#endif
}

Test(ice_libnice, consent_freshness_both_ways, .timeout = 90)
{
    skip_without_libnice();
#if SWARMGEN_HAVE_LIBNICE
    struct nice_side n;
    struct ours o;
    nice_start(&n, false, NICE_AGENT_OPTION_CONSENT_FRESHNESS);
    ours_open(&o);
    connect_pair(&o, &n, ICE_CONTROLLING, false, true);
    pump(&o, &n, now_ns() + 12 * S_, NULL);
    const struct ice_counters *c = ice_counters(&o.ice);
    cr_log_info("12 s: our consent checks %u, answered %u; our answers to libnice's checks %u", c->consent_sent,
                c->consent_answered, o.answers_after_up);
    cr_assert_geq(c->consent_sent, 2, "a consent check every 4..6 s");
    cr_assert_geq(c->consent_answered + 1, c->consent_sent, "libnice answered them (one may be in flight)");
    cr_assert_geq(c->consent_answered, 2);
    cr_assert_geq(o.answers_after_up, 1, "libnice's consent checks (after checking ended) were answered by us");
    cr_assert(!o.lost && !nice_flag(&n, &n.failed));
    cr_assert_eq(n.state, NICE_COMPONENT_STATE_READY);
    check_pair_and_exchange(&o, &n, nice_port_of(&n));
    nice_stop(&n);
    close(o.fd);
#endif
}

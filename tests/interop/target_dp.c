/* SPDX-License-Identifier: MIT */
/*
 * Target mode's dataplane end to end, without control's signalling: the
 * real swarmgen-dp on a run image whose TARGET slots this program fills
 * itself, reaching a server on a kernel UDP socket through the external
 * port (the veth of tools/external-port, af_packet): the kernel's ARP,
 * routing and UDP carry every frame. The server is ours (webrtc/pc.h per
 * client, ICE controlled as a lite server answers, the DTLS role the
 * slot says is the other's), echoes every DataChannel message and every
 * SRTP packet under its own SSRC (as Janus EchoTest does) and sends RTCP
 * receiver reports. Three sessions: DTLS client, DTLS server, DTLS
 * client with audio. Checks each comes up, makes round trips (and audio
 * both ways), closes on close_seq with an ABORT the server sees, and that
 * the dataplane ends cleanly.
 *   target_dp SWARMGEN_DP     (inside the port's network namespace: target_dp.sh)
 * With `janus URL HELPER` the server is Janus EchoTest instead (running in
 * that namespace, target_dp_janus.sh): our offer for each session, the
 * answer through Janus's HTTP API (HELPER: janus_echotest_sig.py), parsed
 * into the slot as control would; the same checks but the server-side
 * ones (Janus answers setup:active: every session has us as DTLS server).
 * Exit 0 passed, 1 failed. (A test harness: it reads the clock.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <strings.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "external.h"
#include "image.h"
#include "../common/ring_image.h"
#include "pc.h"
#include "rtcp.h"
#include "srtp_session.h"
#include "wire.h"

#define N_AGENTS 4u
#define SLOTS 3u
#define SRV_IP 0xc613fffeu /* 198.19.255.254: the kernel end of the port (tools/external-port) */
#define SRV_PORT 9000
#define SRV_SSRC 0x5eeeeee5u
#define OUR_SSRC 0x0abc0002u
#define IP_BASE 0xc6120000u

static int fails;
#define CHECK(c, ...)                                      \
    do {                                                   \
        if (!(c)) {                                        \
            fprintf(stderr, "target_dp: FAIL: " __VA_ARGS__); \
            fprintf(stderr, "\n");                         \
            fails++;                                       \
        }                                                  \
    } while (0)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* one client as the server sees it */
struct peer {
    struct pc pc;
    struct pc_setup su;
    struct dtls_record_keys keys;
    struct srtps_session srtp;
    struct rtcp_session rtcp;
    struct pc_counters counters;
    void *sctp_mem;
    uint32_t ip; /* the agent's address (host order); its port is RI_TARGET_PORT */
    bool up, keyed, closed;
    uint64_t echoed, rtp_echoed, next_rr;
};

static struct {
    struct cp cp;
    struct dtls_cert cert;
    struct dtls_hs_pool hs;
    struct sctp_pool *pool;
    int fd;
    struct peer p[SLOTS];
    uint8_t msg[RI_MSG_MAX];
} srv;

static void srv_send(const struct peer *p, const uint8_t *d, size_t n)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(RI_TARGET_PORT), .sin_addr.s_addr = htonl(p->ip)};
    sendto(srv.fd, d, n, 0, (struct sockaddr *)&to, sizeof(to));
}

static void srv_media(struct peer *p, uint8_t *d, size_t n, uint64_t now)
{
    if (!p->keyed)
        return;
    if (d[1] >= 192 && d[1] <= 223) {
        srtps_unprotect_rtcp(&p->srtp, d, &n);
        return;
    }
    if (srtps_unprotect_rtp(&p->srtp, d, &n) != ENGINE_IN_ACCEPTED)
        return;
    rtcp_on_rtp_received(&p->rtcp, wire_get32(d + 8), wire_get16(d + 2), wire_get32(d + 4), now);
    wire_put32(d + 8, SRV_SSRC);
    uint8_t out[2048];
    memcpy(out, d, n);
    if (srtps_protect_rtp(&p->srtp, out, &n, sizeof(out)) == 0) {
        p->rtp_echoed++;
        srv_send(p, out, n);
    }
}

static void srv_service(struct peer *p, uint64_t now)
{
    if (pc_next_timeout(&p->pc) <= now)
        pc_handle_timeout(&p->pc, now);
    for (;;) {
        struct pc_ev ev = {.buf = srv.msg, .cap = sizeof(srv.msg)};
        enum pc_event_type t = pc_poll_event(&p->pc, &ev);
        if (t == PC_EV_NONE)
            break;
        if (t == PC_EV_UP) {
            p->up = true;
            struct rtcp_config q = {.ssrc = SRV_SSRC, .clock_rate = 48000, .remote_clock_rate = 48000,
                                    .cname = "server"};
            p->keyed = pc_srtp_init(&p->pc, &p->srtp) == 0 && rtcp_init(&p->rtcp, &q) == 0;
            p->next_rr = now + 1000000000ull;
        } else if (t == PC_EV_MESSAGE) {
            if (pc_send_as(&p->pc, srv.msg, ev.len, ev.binary, now) == 0)
                p->echoed++;
        } else if (t == PC_EV_CLOSED || t == PC_EV_CHANNEL_CLOSED || t == PC_EV_FAILED) {
            p->closed = true;
        }
    }
    uint8_t d[2048];
    size_t n;
    while ((n = pc_poll_transmit(&p->pc, d, sizeof(d), now)) > 0)
        srv_send(p, d, n);
    if (p->keyed && now >= p->next_rr) {
        p->next_rr = now + 1000000000ull;
        int k = rtcp_build_rr(&p->rtcp, now, d, sizeof(d) - SRTPS_RTCP_MAX_TRAILER);
        n = k > 0 ? (size_t)k : 0;
        if (n && srtps_protect_rtcp(&p->srtp, d, &n, sizeof(d)) == 0)
            srv_send(p, d, n);
    }
}

/* The server's datagrams for `ms` milliseconds. */
static bool janus_mode; /* the server is Janus: ours stays idle */

static void srv_run(uint32_t ms)
{
    if (janus_mode) {
        usleep(ms * 1000u);
        return;
    }
    uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;
    while (now_ns() < end) {
        struct pollfd pfd = {.fd = srv.fd, .events = POLLIN};
        poll(&pfd, 1, 1);
        uint64_t now = now_ns();
        uint8_t d[4096];
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n;
        while ((n = recvfrom(srv.fd, d, sizeof(d), MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) > 0) {
            uint32_t ip = ntohl(from.sin_addr.s_addr);
            for (uint32_t k = 0; k < SLOTS; k++) {
                struct peer *p = &srv.p[k];
                if (p->ip != ip || ntohs(from.sin_port) != RI_TARGET_PORT)
                    continue;
                if (d[0] >= 128 && d[0] <= 191)
                    srv_media(p, d, (size_t)n, now);
                else
                    pc_handle_input(&p->pc, d, (size_t)n, now);
            }
            fl = sizeof(from);
        }
        for (uint32_t k = 0; k < SLOTS; k++)
            srv_service(&srv.p[k], now);
    }
}

/* A ring of N_AGENTS agents with traffic udp and no load (rate 0): the
 * mesh idles, target mode is the only traffic. */
static int build_image(struct ctl_image *img)
{
    struct ri_config c;
    memset(&c, 0, sizeof(c));
    uint32_t n = N_AGENTS;
    c.n_agents = n;
    c.n_workers = 1;
    c.n_edges = n;
    c.n_dests = n;
    c.msg_size = 64;
    c.ip_base = IP_BASE;
    c.pattern = RI_PATTERN_NEIGHBORS;
    c.max_hops = 64;
    c.burst = 32;
    c.mbufs_per_worker = 4096;
    c.seed = 1;
    c.setup_attempts = 1;
    c.target_slots = SLOTS;
    char err[256];
    if (ctl_image_create(img, &c, err, sizeof(err)) != 0) {
        fprintf(stderr, "target_dp: image: %s\n", err);
        return -1;
    }
    struct ri_header *h = img->hdr;
    struct ri_edge *ed = ri_section(h, RI_SEC_EDGES);
    ring_image_fill(h, n, IP_BASE, 1);
    for (uint32_t e = 0; e < n; e++) {
        ed[e].port_a = ctl_edge_port(e, 0);
        ed[e].port_b = ctl_edge_port(e, 1);
    }
    ctl_external_prepare(ri_section(h, RI_SEC_EXTERNAL), RI_EXT_OFF, 0, "net_af_packet0,iface=sgext0", 0);
    struct ri_target *t = ri_section(h, RI_SEC_TARGET);
    t->n_slots = SLOTS;
    t->msg_size = 300;
    t->msg_interval_ns = 20000000ull;
    t->setup_timeout_ns = 10000000000ull;
    t->media = RI_MEDIA_AUDIO;
    return 0;
}

static int srv_init(void)
{
    if (cp_default_create(&srv.cp) != 0 || dtls_cert_generate(&srv.cert, &srv.cp) != 0 ||
        dtls_hs_pool_init(&srv.hs, SLOTS) != 0)
        return -1;
    void *pm = aligned_alloc(64, (sctp_pool_size(8192, 1200) + 63) & ~(size_t)63);
    srv.pool = pm ? sctp_pool_init(pm, 8192, 1200) : NULL;
    srv.fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(SRV_PORT), .sin_addr.s_addr = htonl(SRV_IP)};
    if (!srv.pool || srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("target_dp: server socket on 198.19.255.254:9000 (tools/external-port up?)");
        return -1;
    }
    return 0;
}

/* Slot k's request (what control would write from the answer) and the
 * server's side of the same session. */
static int start_session(struct ri_external *x, struct ri_target *t, uint32_t k, bool dtls_client, bool audio)
{
    struct ri_target_slot *sl = ri_target_slot(t, k);
    struct peer *p = &srv.p[k];
    char lu[16], lp[32];
    snprintf(lu, sizeof(lu), "our%u", k);
    snprintf(lp, sizeof(lp), "our-password-%u-0123456789", k);
    sl->agent = k;
    sl->dtls_client = dtls_client;
    sl->audio = audio;
    sl->audio_pt = 111;
    sl->audio_ssrc = OUR_SSRC + k;
    sl->n_cands = 1;
    sl->remote_sctp_port = 5000;
    sl->cand[0] = (struct ri_target_cand){.ip = SRV_IP, .port = SRV_PORT, .type = RI_CAND_HOST, .priority = 1};
    snprintf(sl->local_ufrag, sizeof(sl->local_ufrag), "%s", lu);
    snprintf(sl->local_pwd, sizeof(sl->local_pwd), "%s", lp);
    snprintf(sl->remote_ufrag, sizeof(sl->remote_ufrag), "srv%u", k);
    snprintf(sl->remote_pwd, sizeof(sl->remote_pwd), "server-password-%u-012345", k);
    memcpy(sl->remote_fp, srv.cert.fingerprint, 32);
    p->ip = IP_BASE + 1 + k;
    p->sctp_mem = aligned_alloc(64, (sctp_assoc_size(16) + 63) & ~(size_t)63);
    struct stun_addr peer = {4, RI_TARGET_PORT, {0}};
    wire_put32(peer.ip, p->ip);
    struct pc_config c = {.controlling = false,
                          .dtls_role = dtls_client ? PC_DTLS_SERVER : PC_DTLS_CLIENT,
                          .wait_for_channel = true,
                          .local_ufrag = sl->remote_ufrag,
                          .local_pwd = sl->remote_pwd,
                          .remote_ufrag = lu,
                          .remote_pwd = lp,
                          .peer = peer,
                          .cert = &srv.cert,
                          .peer_fingerprint = x->fingerprint,
                          .cp = &srv.cp,
                          .hs = &srv.hs,
                          .sctp_mem = p->sctp_mem,
                          .sctp_pool = srv.pool,
                          .n_streams = 16,
                          .setup = &p->su,
                          .rec_keys = &p->keys,
                          .counters = &p->counters,
                          .seed = 100 + k,
                          .sctp_seed = 200 + k};
    dtls_record_keys_clear(&p->keys);
    if (!p->sctp_mem || pc_init(&p->pc, &c, now_ns()) != 0)
        return -1;
    ri_store(&sl->seq, 1);
    return 0;
}

/* ---- Janus EchoTest as the server ------------------------------------ */

static void hex_fp(const uint8_t *fp, char *out)
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 3 * i, "%02X%s", fp[i], i < 31 ? ":" : "");
}

/* The value after "a=<key>" on the first line that has it, from `from`. */
static const char *sdp_find(const char *sdp, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "a=%s", key);
    const char *p = strstr(sdp, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    size_t n = strcspn(p, "\r\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return p + n;
}

/* Session k as control's target side would set it up with Janus: our
 * offer (the dataplane's fingerprint, the agent's address : 50000), the
 * EchoTest's answer through the HTTP API (HELPER: a Python script),
 * parsed into slot k. */
static int janus_session(const struct ri_external *x, struct ri_target *t, uint32_t k, bool audio, const char *url,
                         const char *helper)
{
    struct ri_target_slot *sl = ri_target_slot(t, k);
    uint32_t ip = IP_BASE + 1 + k;
    char a[16], fp[100], lu[16], lp[32];
    snprintf(a, sizeof(a), "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
    hex_fp(x->fingerprint, fp);
    snprintf(lu, sizeof(lu), "our%u", k);
    snprintf(lp, sizeof(lp), "our-password-%u-0123456789", k);
    char common[1024];
    snprintf(common, sizeof(common),
             "c=IN IP4 %s\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\na=setup:actpass\r\n"
             "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n",
             a, lu, lp, fp, a, RI_TARGET_PORT);
    char offer[4096];
    int n = snprintf(offer, sizeof(offer), "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE %s\r\n",
                     audio ? "0 1" : "0");
    if (audio)
        n += snprintf(offer + n, sizeof(offer) - (size_t)n,
                      "m=audio %u UDP/TLS/RTP/SAVPF 111\r\n%sa=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
                      "a=rtpmap:111 opus/48000/2\r\na=ssrc:%u cname:agent-%u\r\n",
                      RI_TARGET_PORT, common, OUR_SSRC + k, k);
    snprintf(offer + n, sizeof(offer) - (size_t)n,
             "m=application %u UDP/DTLS/SCTP webrtc-datachannel\r\n%sa=mid:%s\r\na=sctp-port:5000\r\n"
             "a=max-message-size:262144\r\n",
             RI_TARGET_PORT, common, audio ? "1" : "0");
    char op[64], ap[64], cmd[512];
    snprintf(op, sizeof(op), "/tmp/sg-tgt-%d-%u.offer", (int)getpid(), k);
    snprintf(ap, sizeof(ap), "/tmp/sg-tgt-%d-%u.answer", (int)getpid(), k);
    FILE *f = fopen(op, "w");
    if (!f)
        return -1;
    fputs(offer, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "python3 %s %s %s %s", helper, url, op, ap);
    int rc = system(cmd);
    unlink(op);
    static char ans[65536];
    f = fopen(ap, "r");
    size_t len = f ? fread(ans, 1, sizeof(ans) - 1, f) : 0;
    if (f)
        fclose(f);
    unlink(ap);
    ans[len] = 0;
    if (rc != 0 || len == 0) {
        fprintf(stderr, "target_dp: no answer from Janus for session %u\n", k);
        return -1;
    }
    char v[256];
    memset(sl, 0, offsetof(struct ri_target_slot, dp_seq));
    sl->agent = k;
    sl->audio_ssrc = OUR_SSRC + k;
    sl->remote_sctp_port = 5000;
    if (!sdp_find(ans, "ice-ufrag:", sl->remote_ufrag, sizeof(sl->remote_ufrag)) ||
        !sdp_find(ans, "ice-pwd:", sl->remote_pwd, sizeof(sl->remote_pwd)) ||
        !sdp_find(ans, "fingerprint:sha-256 ", v, sizeof(v)) || !sdp_find(ans, "setup:", v + 128, 64)) {
        fprintf(stderr, "target_dp: Janus's answer lacks ICE credentials, fingerprint or setup:\n%s\n", ans);
        return -1;
    }
    for (int i = 0; i < 32; i++)
        sl->remote_fp[i] = (uint8_t)strtoul(v + 3 * i, NULL, 16);
    sl->dtls_client = strncmp(v + 128, "passive", 7) == 0;
    const char *p = ans;
    while (sl->n_cands < RI_TARGET_CANDS && (p = sdp_find(p, "candidate:", v, sizeof(v))) != NULL) {
        char proto[8], cip[64], typ[16];
        unsigned comp, prio, port;
        if (sscanf(v, "%*s %u %7s %u %63s %u typ %15s", &comp, proto, &prio, cip, &port, typ) == 6 &&
            comp == 1 && strcasecmp(proto, "udp") == 0 && strchr(cip, ':') == NULL) {
            struct in_addr in;
            if (inet_pton(AF_INET, cip, &in) == 1)
                sl->cand[sl->n_cands++] = (struct ri_target_cand){.ip = ntohl(in.s_addr), .port = (uint16_t)port,
                                                                  .priority = prio};
        }
    }
    if (audio && sdp_find(ans, "rtpmap:", v, sizeof(v)) && strstr(v, "opus")) {
        sl->audio = 1;
        sl->audio_pt = (uint8_t)atoi(v);
    }
    if (sdp_find(ans, "max-message-size:", v, sizeof(v)))
        sl->remote_max_message = (uint32_t)strtoul(v, NULL, 10);
    snprintf(sl->local_ufrag, sizeof(sl->local_ufrag), "%s", lu);
    snprintf(sl->local_pwd, sizeof(sl->local_pwd), "%s", lp);
    printf("target_dp: Janus answered session %u: %u candidates (first %08x:%u), setup %s, audio pt %u\n", k,
           sl->n_cands, sl->cand[0].ip, sl->cand[0].port, v + 128, sl->audio_pt);
    ri_store(&sl->seq, 1);
    return 0;
}

static pid_t start_dp(const char *dp, const char *image)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {(char *)dp, "-l", "0", "--no-shconf", "--no-telemetry", "--log-level=4", "--no-huge",
                        "-m", "256", "--no-pci", "--", "--image", (char *)image, NULL};
        execv(dp, argv);
        _exit(127);
    }
    return pid;
}

int main(int argc, char **argv)
{
    bool janus = argc == 5 && strcmp(argv[2], "janus") == 0;
    janus_mode = janus;
    if (argc != 2 && !janus) {
        fprintf(stderr, "usage: target_dp SWARMGEN_DP [janus URL HELPER]\n");
        return 2;
    }
    struct ctl_image img;
    memset(&img, 0, sizeof(img));
    if (build_image(&img) != 0 || srv_init() != 0)
        return 1;
    struct ri_command *cmd = ctl_image_command(&img);
    struct ri_external *x = ri_section(img.hdr, RI_SEC_EXTERNAL);
    struct ri_target *t = ri_section(img.hdr, RI_SEC_TARGET);
    pid_t dp = start_dp(argv[1], img.path);
    uint64_t t0 = now_ns();
    while (ri_load(&cmd->dp_state) == RI_DP_STARTING && now_ns() - t0 < 20000000000ull)
        usleep(10000);
    if (ri_load(&cmd->dp_state) != RI_DP_READY) {
        fprintf(stderr, "target_dp: the dataplane is not ready (state %u): %s\n", ri_load(&cmd->dp_state),
                cmd->dp_message);
        kill(dp, SIGTERM);
        waitpid(dp, NULL, 0);
        ctl_image_destroy(&img);
        return 1;
    }
    ri_store(&cmd->phase, (uint32_t)RI_PHASE_RUN);
    for (uint32_t k = 0; k < SLOTS; k++)
        if (janus ? janus_session(x, t, k, k == 2, argv[3], argv[4]) != 0
                  : start_session(x, t, k, k != 1, k == 2) != 0) {
            fprintf(stderr, "target_dp: server session %u\n", k);
            fails++;
        }
    /* up within 5 s, then 2 s of load */
    for (int i = 0; i < 50; i++) {
        srv_run(100);
        bool all = true;
        for (uint32_t k = 0; k < SLOTS; k++)
            all &= ri_load(&ri_target_slot(t, k)->dp_state) == RI_TGT_UP;
        if (all)
            break;
    }
    /* load until every session has 50 round trips (and the audio one 50
     * RTP packets and an RTCP report back), 10 s at most: a busy machine slows the run, a
     * stalled session fails it */
    for (int i = 0; i < 100; i++) {
        srv_run(100);
        bool enough = ri_target_slot(t, 2)->s.rtp_back >= 50 && ri_target_slot(t, 2)->s.rtcp_in >= 1;
        for (uint32_t k = 0; k < SLOTS; k++)
            enough &= ri_target_slot(t, k)->s.msgs_back >= 50;
        if (enough && i >= 9)
            break;
    }
    for (uint32_t k = 0; k < SLOTS; k++) {
        const struct ri_target_slot *sl = ri_target_slot(t, k);
        uint32_t st = ri_load(&sl->dp_state);
        CHECK(st == RI_TGT_UP, "session %u: state %u (fail_stage %u, dtls '%s')", k, st, sl->fail_stage,
              sl->dtls_failure);
        CHECK(sl->setup_ns > 0, "session %u: no set-up time", k);
        CHECK(sl->s.msgs_back >= 50 && sl->s.msgs_back >= sl->s.msgs_sent - 10,
              "session %u: %lu messages sent, %lu back", k, (unsigned long)sl->s.msgs_sent,
              (unsigned long)sl->s.msgs_back);
        CHECK(sl->s.msgs_foreign == 0, "session %u: foreign messages", k);
        CHECK(sl->s.rtt_min_ns > 0 && sl->s.rtt_max_ns < 1000000000ull, "session %u: rtt %lu..%lu ns", k,
              (unsigned long)sl->s.rtt_min_ns, (unsigned long)sl->s.rtt_max_ns);
        printf("target_dp: session %u up in %.2f ms, %lu/%lu messages back, rtt min %.0f us max %.0f us, "
               "rtp %lu sent %lu back; frames %lu in %lu out, ice checks %lu/%lu, sctp rtx %lu\n",
               k, sl->setup_ns / 1e6, (unsigned long)sl->s.msgs_back, (unsigned long)sl->s.msgs_sent,
               sl->s.rtt_min_ns / 1e3, sl->s.rtt_max_ns / 1e3, (unsigned long)sl->s.rtp_sent,
               (unsigned long)sl->s.rtp_back, (unsigned long)sl->s.frames_in, (unsigned long)sl->s.frames_out,
               (unsigned long)sl->s.ice_checks_answered, (unsigned long)sl->s.ice_checks_sent,
               (unsigned long)sl->s.sctp_retransmissions);
    }
    printf("target_dp: frames for no session %lu, worker drops: unknown_flow %lu send_blocked %lu\n",
           (unsigned long)t->frames_unknown, (unsigned long)ctl_image_metrics(&img)->live.drops[RI_DROP_UNKNOWN_FLOW],
           (unsigned long)ctl_image_metrics(&img)->live.drops[RI_DROP_SEND_BLOCKED]);
    const struct ri_target_slot *au = ri_target_slot(t, 2);
    CHECK(au->s.rtp_back >= 50 && au->s.rtp_back >= au->s.rtp_sent - 10, "audio: %lu RTP sent, %lu back",
          (unsigned long)au->s.rtp_sent, (unsigned long)au->s.rtp_back);
    CHECK(au->s.rtcp_in >= 1 && au->s.srtp_auth_failures == 0, "audio: %lu RTCP in, %lu auth failures",
          (unsigned long)au->s.rtcp_in, (unsigned long)au->s.srtp_auth_failures);
    CHECK(ri_target_slot(t, 0)->s.rtp_sent == 0, "no audio without slot.audio");
    /* control ends the sessions: ABORTs the server sees */
    for (uint32_t k = 0; k < SLOTS; k++)
        ri_store(&ri_target_slot(t, k)->close_seq, 1);
    srv_run(500);
    for (uint32_t k = 0; k < SLOTS; k++) {
        CHECK(ri_load(&ri_target_slot(t, k)->dp_state) == RI_TGT_CLOSED, "session %u not closed", k);
        CHECK(janus || srv.p[k].closed, "session %u: the server saw no ABORT", k);
    }
    CHECK(t->sessions == SLOTS && t->sessions_up == SLOTS && t->sessions_closed == SLOTS,
          "totals: %lu sessions, %lu up, %lu closed", (unsigned long)t->sessions, (unsigned long)t->sessions_up,
          (unsigned long)t->sessions_closed);
    CHECK(t->rtt.count == t->total.msgs_back, "rtt histogram %lu, messages back %lu", (unsigned long)t->rtt.count,
          (unsigned long)t->total.msgs_back);
    ri_store(&cmd->phase, (uint32_t)RI_PHASE_STOP);
    int status = 0;
    for (int i = 0; i < 1000 && waitpid(dp, &status, WNOHANG) == 0; i++)
        usleep(10000);
    if (waitpid(dp, &status, WNOHANG) == 0) {
        kill(dp, SIGKILL);
        waitpid(dp, &status, 0);
        CHECK(0, "the dataplane did not stop");
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the dataplane exited with status %d", status);
    CHECK(ri_load(&cmd->dp_state) == RI_DP_DONE, "dataplane state %u at the end", ri_load(&cmd->dp_state));
    ctl_image_destroy(&img);
    if (fails) {
        fprintf(stderr, "target_dp: %d checks failed\n", fails);
        return 1;
    }
    printf("target_dp: passed\n");
    return 0;
}

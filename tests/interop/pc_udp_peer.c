/* SPDX-License-Identifier: MIT */
/*
 * A simulated agent's peer connection (webrtc/pc.h: ICE, DTLS, our
 * record layer, SCTP, DCEP) on a kernel UDP socket on 127.0.0.1, for
 * interop tests with WebRTC stacks we did not write: reads their SDP
 * offer, writes an SDP answer, answers ICE checks, runs DTLS in the role
 * the offer leaves to us, accepts the DataChannel the peer opens and
 * echoes every message. SETUP is what our answer says for an actpass
 * offer: active (we are the DTLS client) or passive (server). Exits 0 once
 * EXPECT messages are echoed and acknowledged (or the peer closed after
 * them), 1 on failure or timeout, 2 on bad arguments.
 *   pc_udp_peer OFFER ANSWER PORT EXPECT active|passive
 * (A test harness, so it reads the clock; the engines it drives do not.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pc.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char *read_file_wait(const char *path, int seconds)
{
    for (int i = 0; i < seconds * 50; i++) {
        FILE *f = fopen(path, "r");
        if (f) {
            static char buf[65536];
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
            buf[n] = 0;
            if (n)
                return buf;
        }
        usleep(20000);
    }
    return NULL;
}

/* the value of "a=<key>" in the SDP (first occurrence), into out */
static int sdp_attr(const char *sdp, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "a=%s", key);
    const char *p = strstr(sdp, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    size_t n = strcspn(p, "\r\n");
    if (n >= cap)
        return -1;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

/* The command line and what the offer and our certificate give the peer
 * connection. */
struct session {
    const char *offer_path, *answer_path, *setup_arg;
    int port;
    long expect;
    char ufrag[64], pwd[128];
    uint8_t peer_fp[32];
    bool we_client;
    struct cp cp;
    struct dtls_cert cert;
};

/* The socket, the peer connection and its memory, and the echo backlog. */
struct peer {
    int fd;
    struct sockaddr_in addr;
    socklen_t addr_len;
    struct dtls_hs_pool hs;
    struct sctp_pool *pool;
    void *amem;
    struct pc pc;
    struct pc_setup su; /* kept: a browser-style peer answers STUN all along */
    struct dtls_record_keys keys;
    struct pc_counters cnt;
    bool have_pc, up;
    long echoed;
    uint8_t *backlog;
    size_t backlog_bytes, backlog_off;
    uint8_t buf[1 << 18], d[2048];
};

enum { BACKLOG = 128 << 20 };
enum { GO_ON = -1 }; /* a step's result when the loop goes on; else the exit status */

static const char *const our_ufrag = "sgag", *const our_pwd = "swarmgen-agent-password-0001";

/* The arguments into s. 0, or 2 (usage). */
static int parse_args(int argc, char **argv, struct session *s)
{
    if (argc != 6 || (strcmp(argv[5], "active") && strcmp(argv[5], "passive"))) {
        fprintf(stderr, "usage: pc_udp_peer OFFER ANSWER PORT EXPECT active|passive\n");
        return 2;
    }
    s->offer_path = argv[1];
    s->answer_path = argv[2];
    s->port = atoi(argv[3]);
    s->expect = atol(argv[4]);
    s->setup_arg = argv[5];
    return 0;
}

/* The offer (waited for up to 30 s): ICE credentials, the fingerprint, and
 * the DTLS role it leaves us. 0, or 1 with a message. */
static int read_offer(struct session *s)
{
    char *offer = read_file_wait(s->offer_path, 30);
    if (!offer) {
        fprintf(stderr, "pc_udp_peer: no offer in %s\n", s->offer_path);
        return 1;
    }
    char fp_text[160], setup[32];
    if (sdp_attr(offer, "ice-ufrag:", s->ufrag, sizeof(s->ufrag)) ||
        sdp_attr(offer, "ice-pwd:", s->pwd, sizeof(s->pwd)) ||
        sdp_attr(offer, "fingerprint:sha-256 ", fp_text, sizeof(fp_text)) ||
        sdp_attr(offer, "setup:", setup, sizeof(setup)) || !strstr(offer, "webrtc-datachannel")) {
        fprintf(stderr, "pc_udp_peer: offer without ice-ufrag/ice-pwd/sha-256 fingerprint/setup/datachannel\n");
        return 1;
    }
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(fp_text + 3 * i, "%2x", &v) != 1) {
            fprintf(stderr, "pc_udp_peer: bad fingerprint\n");
            return 1;
        }
        s->peer_fp[i] = (uint8_t)v;
    }
    /* RFC 8842: an actpass offer lets us choose; otherwise we take the other role */
    s->we_client = strcmp(setup, "passive") == 0 || (strcmp(setup, "actpass") == 0 && !strcmp(s->setup_arg, "active"));
    return 0;
}

/* Our certificate, and the SDP answer that carries its fingerprint, our
 * ICE credentials, our role and our one host candidate. 0, or 1. */
static int write_answer(struct session *s)
{
    if (cp_default_create(&s->cp) != 0 || dtls_cert_generate(&s->cert, &s->cp) != 0)
        return 1;
    char our_fp[128];
    dtls_fingerprint_text(s->cert.fingerprint, our_fp);
    FILE *a = fopen(s->answer_path, "w");
    fprintf(a,
            "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
            "a=msid-semantic: WMS\r\nm=application %d UDP/DTLS/SCTP webrtc-datachannel\r\n"
            "c=IN IP4 127.0.0.1\r\na=mid:0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\n"
            "a=setup:%s\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n"
            "a=candidate:1 1 udp 2130706431 127.0.0.1 %d typ host\r\na=end-of-candidates\r\n",
            s->port, our_ufrag, our_pwd, our_fp, s->we_client ? "active" : "passive", s->port);
    fclose(a);
    return 0;
}

/* The UDP socket on 127.0.0.1:port, the handshake and SCTP pools, the
 * association's memory and the echo backlog. 0, or 1 with a message. */
static int peer_open(struct peer *p, int port)
{
    p->fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
    if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
        fprintf(stderr, "pc_udp_peer: bind 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    dtls_hs_pool_init(&p->hs, 2);
    const uint32_t nbuf = 8192;
    void *pmem = aligned_alloc(64, (sctp_pool_size(nbuf, 1200) + 63) & ~(size_t)63);
    p->pool = sctp_pool_init(pmem, nbuf, 1200);
    p->amem = aligned_alloc(64, sctp_assoc_size(16));
    p->addr_len = sizeof(p->addr);
    p->backlog = malloc(BACKLOG);
    return 0;
}

/* Polls the socket until the peer connection's next deadline (at most
 * 100 ms). Returns whether a datagram waits. */
static bool wait_input(struct peer *p)
{
    uint64_t t = now_ns(), next = p->have_pc ? pc_next_timeout(&p->pc) : t + 100000000ull;
    int wait_ms = next <= t ? 0 : (int)((next - t) / 1000000ull) + 1;
    if (wait_ms > 100)
        wait_ms = 100;
    struct pollfd pfd = {p->fd, POLLIN, 0};
    poll(&pfd, 1, wait_ms);
    return pfd.revents & POLLIN;
}

/* One datagram: the first sets the peer's address and the peer
 * connection up, every one goes to it. GO_ON, or 1 if pc_init failed. */
static int take_datagram(struct peer *p, struct session *s, uint64_t t)
{
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(p->fd, p->d, sizeof(p->d), 0, (struct sockaddr *)&from, &fl);
    if (n > 0 && !p->have_pc) {
        p->addr = from;
        p->addr_len = fl;
        struct pc_config c = {
            .controlling = false, .dtls_role = s->we_client ? PC_DTLS_CLIENT : PC_DTLS_SERVER,
            .wait_for_channel = true, .local_ufrag = our_ufrag, .local_pwd = our_pwd,
            .remote_ufrag = s->ufrag, .remote_pwd = s->pwd,
            .peer = {4, ntohs(from.sin_port), {0}}, .cert = &s->cert, .peer_fingerprint = s->peer_fp,
            .cp = &s->cp, .hs = &p->hs, .sctp_mem = p->amem, .sctp_pool = p->pool, .seed = (uint64_t)s->port, .setup = &p->su,
            .rec_keys = &p->keys, .counters = &p->cnt,
            .dtls_versions = DTLS_OFFER_ALL_VERSIONS}; /* as an agent's default: 1.3 and 1.2 */
        memcpy(c.peer.ip, &from.sin_addr, 4);
        dtls_record_keys_clear(&p->keys);
        memset(&p->cnt, 0, sizeof(p->cnt));
        if (pc_init(&p->pc, &c, t) != 0) {
            fprintf(stderr, "pc_udp_peer: pc_init failed\n");
            return 1;
        }
        p->have_pc = true;
    }
    if (n > 0)
        pc_handle_input(&p->pc, p->d, (size_t)n, t);
    return GO_ON;
}

/* The peer connection's events: UP logged, each message queued in the
 * backlog to be echoed, FAILED and CLOSED end the run. GO_ON, or the exit
 * status. */
static int handle_events(struct peer *p, const struct session *s)
{
    struct pc_ev ev = {.buf = p->buf, .cap = sizeof(p->buf)};
    while (pc_poll_event(&p->pc, &ev) != PC_EV_NONE) {
        enum pc_event_type e = ev.type;
        uint32_t len = ev.len;
        if (e == PC_EV_UP) {
            p->up = true;
            fprintf(stderr, "pc_udp_peer: up in %.1f ms (ice %.1f, dtls %.1f, sctp %.1f) as DTLS %s, DTLS %s\n",
                    (double)(pc_stage_time(&p->pc, PC_UP) - pc_stage_time(&p->pc, PC_ICE)) / 1e6,
                    (double)(pc_stage_time(&p->pc, PC_DTLS_WAIT) - pc_stage_time(&p->pc, PC_ICE)) / 1e6,
                    (double)(pc_stage_time(&p->pc, PC_SCTP) - pc_stage_time(&p->pc, PC_ICE)) / 1e6,
                    (double)(pc_stage_time(&p->pc, PC_DC) - pc_stage_time(&p->pc, PC_ICE)) / 1e6,
                    s->we_client ? "client" : "server",
                    pc_dtls_version(&p->pc) == DTLS_V13   ? "1.3"
                    : pc_dtls_version(&p->pc) == DTLS_V12 ? "1.2"
                                                          : "?");
        } else if (e == PC_EV_MESSAGE) {
            /* echoes wait in a backlog while the send buffer is full */
            if (p->backlog_bytes + len + 4 > BACKLOG) {
                fprintf(stderr, "pc_udp_peer: echo backlog full\n");
                return 1;
            }
            memcpy(p->backlog + p->backlog_bytes, &len, 4);
            memcpy(p->backlog + p->backlog_bytes + 4, p->buf, len);
            p->backlog_bytes += len + 4;
        } else if (e == PC_EV_FAILED) {
            fprintf(stderr, "pc_udp_peer: failed in stage %s\n", pc_stage_name(pc_stage(&p->pc)));
            return 1;
        } else if (e == PC_EV_CLOSED) {
            fprintf(stderr, "pc_udp_peer: closed by the peer after %ld echoes\n", p->echoed);
            return p->up && p->echoed >= s->expect ? 0 : 1;
        }
    }
    return GO_ON;
}

/* Sends the backlog's echoes until the send buffer is full. GO_ON, or 1
 * if one was refused. */
static int send_echoes(struct peer *p, uint64_t t)
{
    while (p->backlog_off < p->backlog_bytes) {
        uint32_t l;
        memcpy(&l, p->backlog + p->backlog_off, 4);
        int rc = pc_send(&p->pc, p->backlog + p->backlog_off + 4, l, t);
        if (rc == -EAGAIN)
            break;
        if (rc != 0) {
            fprintf(stderr, "pc_udp_peer: echo refused (%d)\n", rc);
            return 1;
        }
        p->backlog_off += l + 4;
        p->echoed++;
    }
    if (p->backlog_off == p->backlog_bytes)
        p->backlog_off = p->backlog_bytes = 0;
    return GO_ON;
}

/* Every datagram the peer connection has to send, to the peer. */
static void transmit(struct peer *p, uint64_t t)
{
    size_t n;
    while ((n = pc_poll_transmit(&p->pc, p->d, sizeof(p->d), t)) > 0)
        sendto(p->fd, p->d, n, 0, (struct sockaddr *)&p->addr, p->addr_len);
}

/* One pass: wait, take a datagram, run timers, events, echoes and sends,
 * then see whether the run is done (shortening *deadline once the echoes
 * are all sent). GO_ON, or the exit status. */
static int loop_pass(struct peer *p, struct session *s, uint64_t *deadline)
{
    bool readable = wait_input(p);
    uint64_t t = now_ns();
    int rc;
    if (readable && (rc = take_datagram(p, s, t)) != GO_ON)
        return rc;
    if (!p->have_pc)
        return GO_ON;
    if (pc_next_timeout(&p->pc) <= t)
        pc_handle_timeout(&p->pc, t);
    if ((rc = handle_events(p, s)) != GO_ON || (rc = send_echoes(p, t)) != GO_ON)
        return rc;
    transmit(p, t);
    if (p->echoed >= s->expect && pc_buffered(&p->pc) == 0) {
        fprintf(stderr, "pc_udp_peer: %ld messages echoed and acknowledged\n", p->echoed);
        return 0;
    }
    /* the peer may close as soon as it has the last echo, before
     * acknowledging it: give it two seconds, then the echoes count */
    if (p->echoed >= s->expect && *deadline > t + 2000000000ull)
        *deadline = t + 2000000000ull;
    return GO_ON;
}

/* Why the run ended without the peer's word, and the counters that show
 * where it stood. Returns the exit status. */
static int summary(struct peer *p, const struct session *s)
{
    fprintf(stderr, "pc_udp_peer: %s after %ld echoes (stage %s)\n", p->echoed >= s->expect ? "done" : "timed out",
            p->echoed, pc_stage_name(pc_stage(&p->pc)));
    if (p->have_pc) {
        const struct sctp_counters *k = pc_sctp_counters(&p->pc);
        const struct pc_counters *c = pc_counters(&p->pc);
        fprintf(stderr, "pc_udp_peer: datagrams in %lu out %lu, records dropped %lu; sctp packets in %lu out %lu, "
                        "data in %lu out %lu, messages in %lu\n",
                (unsigned long)c->datagrams_in, (unsigned long)c->datagrams_out, (unsigned long)c->records_dropped,
                (unsigned long)k->packets_in, (unsigned long)k->packets_out, (unsigned long)k->data_chunks_in,
                (unsigned long)k->data_chunks_out, (unsigned long)k->messages_in);
        for (int i = 0; i < SCTP_DROP_COUNT; i++)
            if (k->drops[i])
                fprintf(stderr, "pc_udp_peer: sctp drop %s: %lu\n", sctp_drop_name(i), (unsigned long)k->drops[i]);
    }
    return p->up && p->echoed >= s->expect ? 0 : 1;
}

int main(int argc, char **argv)
{
    static struct session s;
    static struct peer p;
    int rc = parse_args(argc, argv, &s);
    if (rc == 0)
        rc = read_offer(&s);
    if (rc == 0)
        rc = write_answer(&s);
    if (rc == 0)
        rc = peer_open(&p, s.port);
    if (rc != 0)
        return rc;
    uint64_t deadline = now_ns() + 60000000000ull;
    while (now_ns() < deadline)
        if ((rc = loop_pass(&p, &s, &deadline)) != GO_ON)
            return rc;
    return summary(&p, &s);
}

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

int main(int argc, char **argv)
{
    if (argc != 6 || (strcmp(argv[5], "active") && strcmp(argv[5], "passive"))) {
        fprintf(stderr, "usage: pc_udp_peer OFFER ANSWER PORT EXPECT active|passive\n");
        return 2;
    }
    const char *offer_path = argv[1], *answer_path = argv[2];
    int port = atoi(argv[3]);
    long expect = atol(argv[4]);
    char *offer = read_file_wait(offer_path, 30);
    if (!offer) {
        fprintf(stderr, "pc_udp_peer: no offer in %s\n", offer_path);
        return 1;
    }
    char ufrag[64], pwd[128], fp_text[160], setup[32];
    if (sdp_attr(offer, "ice-ufrag:", ufrag, sizeof(ufrag)) || sdp_attr(offer, "ice-pwd:", pwd, sizeof(pwd)) ||
        sdp_attr(offer, "fingerprint:sha-256 ", fp_text, sizeof(fp_text)) ||
        sdp_attr(offer, "setup:", setup, sizeof(setup)) || !strstr(offer, "webrtc-datachannel")) {
        fprintf(stderr, "pc_udp_peer: offer without ice-ufrag/ice-pwd/sha-256 fingerprint/setup/datachannel\n");
        return 1;
    }
    uint8_t peer_fp[32];
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(fp_text + 3 * i, "%2x", &v) != 1) {
            fprintf(stderr, "pc_udp_peer: bad fingerprint\n");
            return 1;
        }
        peer_fp[i] = (uint8_t)v;
    }
    /* RFC 8842: an actpass offer lets us choose; otherwise we take the other role */
    bool we_client = strcmp(setup, "passive") == 0 || (strcmp(setup, "actpass") == 0 && !strcmp(argv[5], "active"));
    static struct dtls_cert cert;
    static struct cp cp;
    if (cp_default_create(&cp) != 0 || dtls_cert_generate(&cert, &cp) != 0)
        return 1;
    char our_fp[128];
    dtls_fingerprint_text(cert.fingerprint, our_fp);
    const char *our_ufrag = "sgag", *our_pwd = "swarmgen-agent-password-0001";
    FILE *a = fopen(answer_path, "w");
    fprintf(a,
            "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
            "a=msid-semantic: WMS\r\nm=application %d UDP/DTLS/SCTP webrtc-datachannel\r\n"
            "c=IN IP4 127.0.0.1\r\na=mid:0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\n"
            "a=setup:%s\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n"
            "a=candidate:1 1 udp 2130706431 127.0.0.1 %d typ host\r\na=end-of-candidates\r\n",
            port, our_ufrag, our_pwd, our_fp, we_client ? "active" : "passive", port);
    fclose(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
        fprintf(stderr, "pc_udp_peer: bind 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    static struct dtls_hs_pool hs;
    dtls_hs_pool_init(&hs, 2);
    const uint32_t nbuf = 8192;
    void *pmem = aligned_alloc(64, (sctp_pool_size(nbuf, 1200) + 63) & ~(size_t)63);
    struct sctp_pool *pool = sctp_pool_init(pmem, nbuf, 1200);
    void *amem = aligned_alloc(64, sctp_assoc_size(16));
    static struct pc pc;
    bool have_pc = false, up = false;
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    long echoed = 0;
    enum { BACKLOG = 128 << 20 };
    uint8_t *backlog = malloc(BACKLOG);
    size_t backlog_bytes = 0, backlog_off = 0;
    uint64_t deadline = now_ns() + 60000000000ull;
    static uint8_t buf[1 << 18], d[2048];
    while (now_ns() < deadline) {
        uint64_t t = now_ns(), next = have_pc ? pc_next_timeout(&pc) : t + 100000000ull;
        int wait_ms = next <= t ? 0 : (int)((next - t) / 1000000ull) + 1;
        if (wait_ms > 100)
            wait_ms = 100;
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, wait_ms);
        t = now_ns();
        if (p.revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t n = recvfrom(fd, d, sizeof(d), 0, (struct sockaddr *)&from, &fl);
            if (n > 0 && !have_pc) {
                peer = from;
                plen = fl;
                struct pc_config c = {
                    .controlling = false, .dtls_role = we_client ? PC_DTLS_CLIENT : PC_DTLS_SERVER,
                    .wait_for_channel = true, .local_ufrag = our_ufrag, .local_pwd = our_pwd,
                    .remote_ufrag = ufrag, .remote_pwd = pwd,
                    .peer = {4, ntohs(from.sin_port), {0}}, .cert = &cert, .peer_fingerprint = peer_fp,
                    .cp = &cp, .hs = &hs, .sctp_mem = amem, .sctp_pool = pool, .seed = (uint64_t)port};
                memcpy(c.peer.ip, &from.sin_addr, 4);
                if (pc_init(&pc, &c, t) != 0) {
                    fprintf(stderr, "pc_udp_peer: pc_init failed\n");
                    return 1;
                }
                have_pc = true;
            }
            if (n > 0)
                pc_handle_input(&pc, d, (size_t)n, t);
        }
        if (!have_pc)
            continue;
        if (pc_next_timeout(&pc) <= t)
            pc_handle_timeout(&pc, t);
        struct pc_ev ev = {.buf = buf, .cap = sizeof(buf)};
        while (pc_poll_event(&pc, &ev) != PC_EV_NONE) {
            enum pc_event_type e = ev.type;
            uint32_t len = ev.len;
            if (e == PC_EV_UP) {
                up = true;
                fprintf(stderr, "pc_udp_peer: up in %.1f ms (ice %.1f, dtls %.1f, sctp %.1f) as DTLS %s\n",
                        (double)(pc_stage_time(&pc, PC_UP) - pc_stage_time(&pc, PC_ICE)) / 1e6,
                        (double)(pc_stage_time(&pc, PC_DTLS_WAIT) - pc_stage_time(&pc, PC_ICE)) / 1e6,
                        (double)(pc_stage_time(&pc, PC_SCTP) - pc_stage_time(&pc, PC_ICE)) / 1e6,
                        (double)(pc_stage_time(&pc, PC_DC) - pc_stage_time(&pc, PC_ICE)) / 1e6, we_client ? "client" : "server");
            } else if (e == PC_EV_MESSAGE) {
                /* echoes wait in a backlog while the send buffer is full */
                if (backlog_bytes + len + 4 > BACKLOG) {
                    fprintf(stderr, "pc_udp_peer: echo backlog full\n");
                    return 1;
                }
                memcpy(backlog + backlog_bytes, &len, 4);
                memcpy(backlog + backlog_bytes + 4, buf, len);
                backlog_bytes += len + 4;
            } else if (e == PC_EV_FAILED) {
                fprintf(stderr, "pc_udp_peer: failed in stage %s\n", pc_stage_name(pc_stage(&pc)));
                return 1;
            } else if (e == PC_EV_CLOSED) {
                fprintf(stderr, "pc_udp_peer: closed by the peer after %ld echoes\n", echoed);
                return up && echoed >= expect ? 0 : 1;
            }
        }
        while (backlog_off < backlog_bytes) {
            uint32_t l;
            memcpy(&l, backlog + backlog_off, 4);
            int rc = pc_send(&pc, backlog + backlog_off + 4, l, t);
            if (rc == -EAGAIN)
                break;
            if (rc != 0) {
                fprintf(stderr, "pc_udp_peer: echo refused (%d)\n", rc);
                return 1;
            }
            backlog_off += l + 4;
            echoed++;
        }
        if (backlog_off == backlog_bytes)
            backlog_off = backlog_bytes = 0;
        size_t n;
        while ((n = pc_poll_transmit(&pc, d, sizeof(d), t)) > 0)
            sendto(fd, d, n, 0, (struct sockaddr *)&peer, plen);
        if (echoed >= expect && pc_buffered(&pc) == 0) {
            fprintf(stderr, "pc_udp_peer: %ld messages echoed and acknowledged\n", echoed);
            return 0;
        }
        /* the peer may close as soon as it has the last echo, before
         * acknowledging it: give it two seconds, then the echoes count */
        if (echoed >= expect && deadline > t + 2000000000ull)
            deadline = t + 2000000000ull;
    }
    fprintf(stderr, "pc_udp_peer: %s after %ld echoes (stage %s)\n", echoed >= expect ? "done" : "timed out",
            echoed, pc_stage_name(pc_stage(&pc)));
    if (have_pc) {
        const struct sctp_counters *k = pc_sctp_counters(&pc);
        fprintf(stderr, "pc_udp_peer: datagrams in %lu out %lu, records dropped %lu; sctp packets in %lu out %lu, "
                        "data in %lu out %lu, messages in %lu\n",
                (unsigned long)pc_counters(&pc)->datagrams_in, (unsigned long)pc_counters(&pc)->datagrams_out,
                (unsigned long)pc_counters(&pc)->records_dropped, (unsigned long)k->packets_in, (unsigned long)k->packets_out,
                (unsigned long)k->data_chunks_in, (unsigned long)k->data_chunks_out, (unsigned long)k->messages_in);
        for (int i = 0; i < SCTP_DROP_COUNT; i++)
            if (k->drops[i])
                fprintf(stderr, "pc_udp_peer: sctp drop %s: %lu\n", sctp_drop_name(i), (unsigned long)k->drops[i]);
    }
    return up && echoed >= expect ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/* The SDP offer of a target session: see target_internal.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "target_internal.h"

/* What every bundled m-line repeats: ICE, DTLS, the candidate (RFC 8843
 * §7.2: an initial offer gives each bundled line its transport). */
static void put_transport(struct sdp_out *w, const struct tgt_offer_params *p, const char *ip,
                          const char *rip, const char *mid)
{
    sdp_put(w, "c=IN IP4 %s\r\n", p->relay_ip ? rip : ip);
    sdp_put(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 ", p->ufrag, p->pwd);
    for (int i = 0; i < 32; i++)
        sdp_put(w, "%02X%s", p->fingerprint[i], i + 1 < 32 ? ":" : "\r\n");
    sdp_put(w, "a=setup:actpass\r\na=mid:%s\r\n", mid);
    if (p->relay_ip) /* type preference 0 (RFC 8445 §5.1.2.2), local 65535, component 1 */
        sdp_put(w, "a=candidate:1 1 udp 16777215 %s %u typ relay raddr %s rport %u\r\n", rip,
            (unsigned)p->relay_port, ip, (unsigned)p->port);
    else
        sdp_put(w, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\n", ip, (unsigned)p->port);
    sdp_put(w, "a=end-of-candidates\r\n");
}

int tgt_offer_write(const struct tgt_offer_params *p, char *out, size_t cap)
{
    if (cap == 0)
        return -ENOSPC;
    struct sdp_out w = {.p = out, .cap = cap};
    char ip[16], rip[16];
    snprintf(ip, sizeof(ip), "%u.%u.%u.%u", p->ip >> 24, (p->ip >> 16) & 255, (p->ip >> 8) & 255,
             p->ip & 255);
    snprintf(rip, sizeof(rip), "%u.%u.%u.%u", p->relay_ip >> 24, (p->relay_ip >> 16) & 255,
             (p->relay_ip >> 8) & 255, p->relay_ip & 255);
    unsigned mport = p->relay_ip ? p->relay_port : p->port; /* the m= lines name the one candidate */
    sdp_put(&w, "v=0\r\no=- %llu 2 IN IP4 %s\r\ns=-\r\nt=0 0\r\n",
        (unsigned long long)(p->sess_id & INT64_MAX), ip);
    bool video = p->audio && p->video;
    sdp_put(&w, "a=group:BUNDLE %s\r\na=msid-semantic: WMS%s\r\n", video ? "0 1 2" : p->audio ? "0 1" : "0",
            video ? " swarmgen" : "");
    if (p->audio) {
        sdp_put(&w, "m=audio %u UDP/TLS/RTP/SAVPF 111\r\n", mport);
        put_transport(&w, p, ip, rip, "0");
        sdp_put(&w, "a=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
                "a=fmtp:111 minptime=10;useinbandfec=1\r\n");
        sdp_put(&w, "a=ssrc:%u cname:swarmgen%u\r\n", p->ssrc, p->ip & 0xffffff);
    }
    if (video) { /* VP8 as Chrome offers it, less what we do not do (REMB, transport-cc, RTX) */
        sdp_put(&w, "m=video %u UDP/TLS/RTP/SAVPF 96\r\n", mport);
        put_transport(&w, p, ip, rip, "1");
        sdp_put(&w, "a=sendrecv\r\na=msid:swarmgen video%u\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
                "a=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n",
                p->ip & 0xffffff);
        sdp_put(&w, "a=ssrc:%u cname:swarmgen%u\r\na=ssrc:%u msid:swarmgen video%u\r\n", p->video_ssrc,
                p->ip & 0xffffff, p->video_ssrc, p->ip & 0xffffff);
    }
    sdp_put(&w, "m=application %u UDP/DTLS/SCTP webrtc-datachannel\r\n", mport);
    put_transport(&w, p, ip, rip, video ? "2" : p->audio ? "1" : "0");
    sdp_put(&w, "a=sctp-port:5000\r\na=max-message-size:262144\r\n");
    if (w.full)
        return -ENOSPC;
    return (int)w.len;
}

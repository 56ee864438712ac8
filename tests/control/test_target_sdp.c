/* SPDX-License-Identifier: MIT */
/* Target mode's SDP: our offer read back by our own SDP parser (the one the
 * WHIP server answers with), and the answer rules: credentials,
 * fingerprint, DTLS role, candidates (filtered, deduplicated, sorted,
 * bounded), c= fallback, audio, and one-line reasons for what we refuse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"
#include "target.h"
#include "target_internal.h"

#define FP_TEXT                                                                                    \
    "94:7F:81:53:63:32:08:31:7E:FF:94:21:99:AF:D9:F0:FA:8E:00:3F:B6:02:F9:E7:81:D2:3F:6A:49:0D:"   \
    "B5:9F"

static struct sdp_offer work, back;

static struct tgt_offer_params params(bool audio)
{
    struct tgt_offer_params p = {.ufrag = "AbCd1234",
                                 .pwd = "0123456789abcdefghij+/XY",
                                 .ip = 0xc6120003,
                                 .port = RI_TARGET_PORT,
                                 .audio = audio,
                                 .ssrc = 0x12345678,
                                 .sess_id = 42};
    for (int i = 0; i < 32; i++)
        p.fingerprint[i] = (uint8_t)(i * 7 + 1);
    return p;
}

Test(target_offer, datachannel_only_parses_back_with_our_credentials)
{
    struct tgt_offer_params p = params(false);
    char buf[4096], why[128];
    int n = tgt_offer_write(&p, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    cr_assert_eq(sdp_parse_offer(buf, (size_t)n, &back, why, sizeof(why)), 0, "%s", why);
    cr_assert_str_eq(back.ice_ufrag, "AbCd1234");
    cr_assert_str_eq(back.ice_pwd, p.pwd);
    cr_assert_arr_eq(back.fingerprint, p.fingerprint, 32);
    cr_assert_eq(back.setup, SDP_SETUP_ACTPASS);
    cr_assert_eq(back.n_media, 1);
    cr_assert_eq(back.app, 0);
    cr_assert_eq(back.audio, -1);
    cr_assert_eq(back.sctp_port, 5000);
    cr_assert_eq(back.max_message_size, 262144);
    cr_assert_eq(back.n_cand, 1);
    cr_assert_str_eq(back.cand[0].ip, "198.18.0.3");
    cr_assert_eq(back.cand[0].port, RI_TARGET_PORT);
    cr_assert_eq(back.cand[0].type, SDP_CAND_HOST);
    cr_assert(back.end_of_candidates);
    cr_assert_not(back.ice_trickle, "we send every candidate: no trickle");
    cr_assert_not_null(strstr(buf, "a=group:BUNDLE 0\r\n"));
    cr_assert_not_null(strstr(
        buf, "m=application 50000 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 198.18.0.3\r\n"));
    /* every line ends in CRLF and is printable */
    for (int i = 0; i < n; i++)
        cr_assert(buf[i] == '\r'   ? buf[i + 1] == '\n'
                  : buf[i] == '\n' ? buf[i - 1] == '\r'
                                   : (buf[i] >= 0x20 && buf[i] < 0x7f));
}

Test(target_offer, audio_first_bundled_and_servable_by_our_answerer)
{
    struct tgt_offer_params p = params(true);
    char buf[4096], why[128];
    int n = tgt_offer_write(&p, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    cr_assert_eq(sdp_parse_offer(buf, (size_t)n, &back, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(back.n_media, 2);
    cr_assert_eq(back.media[0].kind, SDP_KIND_AUDIO);
    cr_assert_eq(back.app, 1);
    cr_assert_eq(back.audio, 0, "the audio line is one our WHIP server would accept");
    cr_assert_eq(back.audio_pt, 111);
    cr_assert(back.media[0].rtcp_mux);
    cr_assert_str_eq(back.media[0].mid, "0");
    cr_assert_str_eq(back.media[1].mid, "1");
    cr_assert_eq(back.n_bundle, 2);
    cr_assert_not_null(strstr(buf, "a=ssrc:305419896 cname:"));
    cr_assert_not_null(strstr(buf, "a=rtpmap:111 opus/48000/2\r\n"));
}

Test(target_offer, video_line_vp8_with_feedback_bundled_between_audio_and_data)
{
    struct tgt_offer_params p = params(true);
    p.video = true;
    p.video_ssrc = tgt_video_ssrc(p.ssrc);
    cr_assert_neq(p.video_ssrc, p.ssrc);
    char buf[4096], why[128], line[64];
    int n = tgt_offer_write(&p, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    cr_assert_eq(sdp_parse_offer(buf, (size_t)n, &back, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(back.n_media, 3);
    cr_assert_eq(back.media[0].kind, SDP_KIND_AUDIO);
    cr_assert_eq(back.media[1].kind, SDP_KIND_VIDEO);
    cr_assert_eq(back.app, 2);
    cr_assert_eq(back.n_bundle, 3);
    cr_assert_str_eq(back.media[1].mid, "1");
    cr_assert_str_eq(back.media[2].mid, "2");
    cr_assert(back.media[1].rtcp_mux);
    cr_assert_eq(back.media[1].n_pt, 1);
    cr_assert_eq(back.media[1].pt[0].pt, 96);
    cr_assert_str_eq(back.media[1].pt[0].name, "VP8");
    cr_assert_eq(back.media[1].pt[0].clock, 90000);
    cr_assert_not_null(strstr(buf, "a=group:BUNDLE 0 1 2\r\n"));
    cr_assert_not_null(strstr(buf, "a=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"));
    snprintf(line, sizeof(line), "a=ssrc:%u msid:swarmgen video", p.video_ssrc);
    cr_assert_not_null(strstr(buf, line));
    cr_assert_not_null(strstr(buf, "a=msid:swarmgen video"));
    /* without audio there is no video line (video rides with audio) */
    p.audio = false;
    n = tgt_offer_write(&p, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    cr_assert_null(strstr(buf, "m=video"));
}

Test(target_offer, relay_candidate_only_with_relay)
{
    /* --relay: the relayed address is the one candidate and the default
     * destination, the agent's address its raddr (iceTransportPolicy relay) */
    struct tgt_offer_params p = params(true);
    p.relay_ip = 0xc613fffe; /* 198.19.255.254 */
    p.relay_port = 44768;
    char buf[4096], why[128];
    int n = tgt_offer_write(&p, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    cr_assert_eq(sdp_parse_offer(buf, (size_t)n, &back, why, sizeof(why)), 0, "%s", why);
    cr_assert_gt(back.n_cand, 0);
    for (int i = 0; i < back.n_cand; i++) { /* the same one on each bundled line */
        cr_assert_str_eq(back.cand[i].ip, "198.19.255.254");
        cr_assert_eq(back.cand[i].port, 44768);
        cr_assert_eq(back.cand[i].type, SDP_CAND_RELAY);
        cr_assert_eq(back.cand[i].priority, 16777215u);
    }
    cr_assert(back.end_of_candidates);
    cr_assert_null(strstr(buf, "typ host"), "no host candidate");
    cr_assert_null(strstr(buf, " 50000 typ"), "the agent's own address is only the raddr");
    cr_assert_not_null(strstr(buf, "typ relay raddr 198.18.0.3 rport 50000\r\n"));
    cr_assert_not_null(strstr(buf, "m=audio 44768 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 198.19.255.254\r\n"));
    cr_assert_not_null(strstr(buf, "m=application 44768 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 198.19.255.254\r\n"));
}

Test(target_offer, too_small_a_buffer_is_enospc)
{
    struct tgt_offer_params p = params(true);
    char buf[4096];
    int n = tgt_offer_write(&p, buf, sizeof(buf));
    cr_assert_eq(tgt_offer_write(&p, buf, (size_t)n), -ENOSPC);
    cr_assert_eq(tgt_offer_write(&p, buf, (size_t)n + 1), n);
}

/* An answer as an SFU writes it, with `extra` lines in its data m-line. */
static int answer(char *out, size_t cap, const char *session, const char *audio, const char *app)
{
    return snprintf(out, cap,
                    "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n%s"
                    "%s"
                    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
                    "a=mid:1\r\na=ice-ufrag:srvU\r\na=ice-pwd:serverpasswordserverpass\r\n"
                    "a=fingerprint:sha-256 " FP_TEXT "\r\n%s",
                    session, audio, app);
}

static int parse(const char *text, bool audio, struct tgt_answer *a, char *why)
{
    return tgt_answer_parse(text, strlen(text), audio, a, &work, why, 128);
}

Test(target_answer, candidates_filtered_deduplicated_sorted_best_first)
{
    char text[8192], why[128];
    answer(text, sizeof(text), "a=ice-lite\r\n", "",
           "a=setup:passive\r\na=sctp-port:5001\r\na=max-message-size:100000\r\n"
           "a=candidate:1 1 udp 100 10.0.0.1 4000 typ host\r\n"
           "a=candidate:2 1 udp 300 10.0.0.2 4001 typ srflx raddr 10.0.0.1 rport 4000\r\n"
           "a=candidate:3 1 tcp 900 10.0.0.3 4002 typ host tcptype passive\r\n"
           "a=candidate:4 1 udp 800 ::1 4003 typ host\r\n"
           "a=candidate:5 1 udp 700 abc.local 4004 typ host\r\n"
           "a=candidate:6 2 udp 600 10.0.0.6 4005 typ host\r\n"
           "a=candidate:7 1 udp 200 10.0.0.7 4006 typ relay raddr 1.2.3.4 rport 5\r\n"
           "a=candidate:8 1 udp 250 10.0.0.2 4001 typ host\r\n");
    struct tgt_answer a;
    cr_assert_eq(parse(text, false, &a, why), 0, "%s", why);
    cr_assert_str_eq(a.ufrag, "srvU");
    cr_assert_str_eq(a.pwd, "serverpasswordserverpass");
    cr_assert_eq(a.fingerprint[0], 0x94);
    cr_assert_eq(a.fingerprint[31], 0x9F);
    cr_assert(a.ice_lite);
    cr_assert(a.dtls_client, "passive: we are the DTLS client");
    cr_assert_eq(a.sctp_port, 5001);
    cr_assert_eq(a.max_message, 100000);
    cr_assert_eq(a.n_cands, 3);
    cr_assert_eq(a.cand[0].ip, 0x0a000002);
    cr_assert_eq(a.cand[0].port, 4001);
    cr_assert_eq(a.cand[0].priority, 300);
    cr_assert_eq(a.cand[0].type, RI_CAND_SRFLX);
    cr_assert_eq(a.cand[1].ip, 0x0a000007);
    cr_assert_eq(a.cand[1].type, RI_CAND_RELAY);
    cr_assert_eq(a.cand[2].ip, 0x0a000001);
    cr_assert_not(a.audio);
}

Test(target_answer, at_most_the_best_eight)
{
    char cands[2048] = "a=setup:active\r\n", text[8192], why[128];
    for (int i = 0; i < 12; i++) {
        char l[96];
        snprintf(l, sizeof(l), "a=candidate:%d 1 udp %d 10.0.1.%d %d typ host\r\n", i,
                 1000 + (i * 37) % 12, i + 1, 5000 + i);
        strcat(cands, l);
    }
    answer(text, sizeof(text), "", "", cands);
    struct tgt_answer a;
    cr_assert_eq(parse(text, false, &a, why), 0, "%s", why);
    cr_assert_not(a.dtls_client, "active: we are the DTLS server");
    cr_assert_not(a.ice_lite);
    cr_assert_eq(a.n_cands, RI_TARGET_CANDS);
    for (int i = 1; i < RI_TARGET_CANDS; i++)
        cr_assert_geq(a.cand[i - 1].priority, a.cand[i].priority);
    cr_assert_eq(a.cand[0].priority, 1011);
    cr_assert_eq(a.cand[RI_TARGET_CANDS - 1].priority, 1004);
}

Test(target_answer, setup_actpass_or_absent)
{
    char text[4096], why[128];
    struct tgt_answer a;
    answer(text, sizeof(text), "", "",
           "a=setup:actpass\r\na=candidate:1 1 udp 1 10.0.0.1 1 typ host\r\n");
    cr_assert_eq(parse(text, false, &a, why), 0, "%s", why);
    cr_assert(a.dtls_client, "actpass in an answer: we pick client");
    answer(text, sizeof(text), "", "", "a=candidate:1 1 udp 1 10.0.0.1 1 typ host\r\n");
    cr_assert_eq(parse(text, false, &a, why), 0, "%s", why);
    cr_assert_not(a.dtls_client, "absent is active (RFC 4145): we are the server");
    cr_assert_eq(a.sctp_port, 5000);
    cr_assert_eq(a.max_message, 65536);
}

Test(target_answer, c_line_when_no_candidate)
{
    char text[4096], why[128];
    struct tgt_answer a;
    snprintf(text, sizeof(text),
             "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.9.9.9\r\nt=0 0\r\n"
             "m=application 7000 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 192.0.2.5\r\n"
             "a=ice-ufrag:srvU\r\na=ice-pwd:serverpasswordserverpass\r\n"
             "a=fingerprint:sha-256 " FP_TEXT "\r\na=setup:active\r\n");
    cr_assert_eq(parse(text, false, &a, why), 0, "%s", why);
    cr_assert_eq(a.n_cands, 1);
    cr_assert_eq(a.cand[0].ip, 0xc0000205);
    cr_assert_eq(a.cand[0].port, 7000);
    cr_assert_eq(a.cand[0].type, RI_CAND_HOST);
    /* the session-level c= when the line has none */
    snprintf(text, sizeof(text),
             "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.9.9.9\r\nt=0 0\r\n"
             "m=application 7000 UDP/DTLS/SCTP webrtc-datachannel\r\n"
             "a=ice-ufrag:srvU\r\na=ice-pwd:serverpasswordserverpass\r\n"
             "a=fingerprint:sha-256 " FP_TEXT "\r\n");
    cr_assert_eq(parse(text, false, &a, why), 0, "%s", why);
    cr_assert_eq(a.cand[0].ip, 0x0a090909);
}

Test(target_answer, audio_accepted_or_rejected)
{
    char text[8192], why[128];
    struct tgt_answer a;
    const char *cand = "a=candidate:1 1 udp 1 10.0.0.1 1 typ host\r\n";
    answer(text, sizeof(text), "a=group:BUNDLE 0 1\r\n",
           "m=audio 9 UDP/TLS/RTP/SAVPF 109\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtcp-mux\r\n"
           "a=rtpmap:109 opus/48000/2\r\n",
           cand);
    cr_assert_eq(parse(text, true, &a, why), 0, "%s", why);
    cr_assert(a.audio);
    cr_assert_eq(a.audio_pt, 109);
    cr_assert_eq(parse(text, false, &a, why), 0, "%s", why);
    cr_assert_not(a.audio, "no audio asked, none used");
    answer(text, sizeof(text), "a=group:BUNDLE 1\r\n",
           "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n", cand);
    cr_assert_eq(parse(text, true, &a, why), 0, "%s", why);
    cr_assert_not(a.audio, "port 0: rejected");
}

Test(target_answer, video_vp8_kept_or_line_rejected)
{
    char text[8192], why[128];
    struct tgt_answer a;
    const char *cand = "a=candidate:1 1 udp 1 10.0.0.1 1 typ host\r\n";
    const char *audio = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtcp-mux\r\n"
                        "a=rtpmap:111 opus/48000/2\r\n";
    char media[1024];
    snprintf(media, sizeof(media), "%sm=video 9 UDP/TLS/RTP/SAVPF 100\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"
             "a=rtcp-mux\r\na=rtpmap:100 VP8/90000\r\na=rtcp-fb:100 nack pli\r\n", audio);
    answer(text, sizeof(text), "a=group:BUNDLE 0 2 1\r\n", media, cand);
    cr_assert_eq(tgt_answer_parse_av(text, strlen(text), true, true, &a, &work, why, sizeof(why)), 0, "%s", why);
    cr_assert(a.audio);
    cr_assert(a.video);
    cr_assert_eq(a.video_pt, 100, "the answer's payload type for VP8");
    cr_assert_eq(tgt_answer_parse_av(text, strlen(text), true, false, &a, &work, why, sizeof(why)), 0, "%s", why);
    cr_assert_not(a.video, "no video asked, none used");
    /* rejected: port 0 */
    snprintf(media, sizeof(media), "%sm=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n", audio);
    answer(text, sizeof(text), "a=group:BUNDLE 0 1\r\n", media, cand);
    cr_assert_eq(tgt_answer_parse_av(text, strlen(text), true, true, &a, &work, why, sizeof(why)), 0, "%s", why);
    cr_assert(a.audio);
    cr_assert_not(a.video, "port 0: the session runs without video");
    /* kept, but not VP8 (H264 only): no video */
    snprintf(media, sizeof(media), "%sm=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"
             "a=rtpmap:102 H264/90000\r\n", audio);
    answer(text, sizeof(text), "a=group:BUNDLE 0 2 1\r\n", media, cand);
    cr_assert_eq(tgt_answer_parse_av(text, strlen(text), true, true, &a, &work, why, sizeof(why)), 0, "%s", why);
    cr_assert_not(a.video);
}

Test(target_answer, refusals_say_why_on_one_line)
{
    char text[8192], why[128];
    struct tgt_answer a;
    static const struct {
        const char *sdp, *want;
    } cases[] = {
        {"hello", "not SDP"},
        {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n"
         "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:srvU\r\n"
         "a=ice-pwd:serverpasswordserverpass\r\na=fingerprint:sha-256 " FP_TEXT "\r\n",
         "port 0"},
        {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n"
         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:srvU\r\n"
         "a=ice-pwd:serverpasswordserverpass\r\na=candidate:1 1 udp 1 10.0.0.1 1 typ host\r\n",
         "fingerprint"},
        {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n"
         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 "
         "0.0.0.0\r\na=ice-ufrag:srvU\r\n"
         "a=ice-pwd:serverpasswordserverpass\r\na=fingerprint:sha-256 " FP_TEXT "\r\n",
         "no candidate"},
        {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n"
         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:srvU\r\n"
         "a=ice-pwd:serverpasswordserverpass\r\na=fingerprint:sha-256 " FP_TEXT "\r\n"
         "a=candidate:1 1 udp 1 2001:db8::1 1 typ host\r\n",
         "no UDP IPv4 candidate"},
        {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n"
         "m=application 9 UDP/DTLS/SCTP "
         "webrtc-datachannel\r\na=ice-ufrag:srvUxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
         "a=ice-pwd:serverpasswordserverpass\r\na=fingerprint:sha-256 " FP_TEXT "\r\n"
         "a=candidate:1 1 udp 1 10.0.0.1 1 typ host\r\n",
         "ice-ufrag of"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "%s", cases[i].sdp);
        cr_assert_eq(parse(text, false, &a, why), -EINVAL, "case %zu", i);
        cr_assert_not_null(strstr(why, cases[i].want), "case %zu: %s", i, why);
        cr_assert_null(strchr(why, '\n'));
    }
}

Test(target_parse, kinds_and_urls)
{
    struct ctl_target_config c = {0};
    char err[256];
    cr_assert_eq(ctl_target_parse("whip:http://h:8080/whip", &c, err, sizeof(err)), 0);
    cr_assert_eq(c.kind, CTL_TARGET_WHIP);
    cr_assert_str_eq(c.url, "http://h:8080/whip");
    cr_assert_eq(ctl_target_parse("janus:https://j.example/janus", &c, err, sizeof(err)), 0);
    cr_assert_eq(c.kind, CTL_TARGET_JANUS);
    cr_assert_eq(ctl_target_parse("sip:http://h/", &c, err, sizeof(err)), -EINVAL);
    cr_assert_not_null(strstr(err, "whip:URL, janus:URL or janus-videoroom:URL"));
    cr_assert_eq(ctl_target_parse("whip:ftp://h/", &c, err, sizeof(err)), -EINVAL);
    cr_assert_eq(ctl_target_parse("whip:http:///x", &c, err, sizeof(err)), -EINVAL);
    cr_assert_eq(ctl_target_parse("whip:http://h/a b", &c, err, sizeof(err)), -EINVAL);
    cr_assert_str_eq(ctl_target_cause_name(CTL_TGT_CAUSE_HTTP_5XX), "http_5xx");
    cr_assert_str_eq(ctl_target_cause_name(CTL_TGT_CAUSE_SLOT), "slot");
}

Test(target_url, location_resolution)
{
    char out[256];
    cr_assert_eq(tgt_url_resolve("http://h:1/whip/ep", "/res/1", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "http://h:1/res/1");
    cr_assert_eq(tgt_url_resolve("http://h:1/whip/ep", "res/2", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "http://h:1/whip/res/2");
    cr_assert_eq(tgt_url_resolve("http://h:1/whip/ep", "https://o/x", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "https://o/x");
}

Test(target_json, unescape)
{
    char out[64];
    const char *raw = "v=0\\r\\na\\/b \\\"q\\\" \\u0041\\u00e9";
    int n = tgt_json_unescape(raw, strlen(raw), out, sizeof(out));
    cr_assert_eq(n, (int)strlen("v=0\r\na/b \"q\" A\xc3\xa9"));
    cr_assert_str_eq(out, "v=0\r\na/b \"q\" A\xc3\xa9");
    cr_assert_lt(tgt_json_unescape("\\u0000", 6, out, sizeof(out)), 0);
    cr_assert_lt(tgt_json_unescape("\\x", 2, out, sizeof(out)), 0);
    cr_assert_lt(tgt_json_unescape("abcdef", 6, out, 6), 0);
}

/* ---- Janus replies ---- */

static enum tgt_janus_verdict jread(const char *body, int step, uint64_t hid,
                                    struct tgt_janus_reply *r)
{
    return tgt_janus_read(body, strlen(body), step, "T1", hid, r);
}

Test(target_janus_reply, create_attach_ack_keepalive_destroy)
{
    struct tgt_janus_reply r;
    cr_assert_eq(jread("{\"janus\": \"success\", \"transaction\": \"T1\", \"data\": {\"id\": "
                       "2787859406519050}}",
                       TGT_J_CREATE, 0, &r),
                 TGT_JV_SUCCESS);
    cr_assert_eq(r.id, 2787859406519050ull, "a 2^51-sized id read exactly");
    cr_assert_eq(
        jread("{\"janus\":\"success\",\"session_id\":1,\"transaction\":\"T1\",\"data\":{\"id\":7}}",
              TGT_J_ATTACH, 0, &r),
        TGT_JV_SUCCESS);
    cr_assert_eq(r.id, 7);
    cr_assert_eq(
        jread("{\"janus\":\"ack\",\"session_id\":1,\"transaction\":\"T1\"}", TGT_J_MESSAGE, 7, &r),
        TGT_JV_ACK);
    cr_assert_eq(jread("{\"janus\":\"ack\",\"transaction\":\"T1\"}", TGT_J_KEEPALIVE, 7, &r),
                 TGT_JV_SUCCESS);
    cr_assert_eq(jread("{\"janus\":\"success\",\"transaction\":\"T1\"}", TGT_J_DESTROY, 7, &r),
                 TGT_JV_SUCCESS);
    cr_assert_null(r.sdp);
}

Test(target_janus_reply, refusals)
{
    struct tgt_janus_reply r;
    cr_assert_eq(jread("{\"janus\":\"error\",\"transaction\":\"T1\",\"error\":{\"code\":458,"
                       "\"reason\":\"No such "
                       "session 5\"}}",
                       TGT_J_ATTACH, 0, &r),
                 TGT_JV_ERROR);
    cr_assert_eq(r.cause, CTL_TGT_CAUSE_PROTOCOL);
    cr_assert_str_eq(r.why, "Janus attach: error 458 No such session 5");
    cr_assert_eq(jread("{\"janus\":\"success\",\"transaction\":\"T2\",\"data\":{\"id\":1}}",
                       TGT_J_CREATE, 0, &r),
                 TGT_JV_ERROR);
    cr_assert_not_null(strstr(r.why, "another transaction"));
    cr_assert_eq(jread("{\"janus\":\"success\",\"transaction\":\"T1\",\"data\":{\"id\":-1}}",
                       TGT_J_CREATE, 0, &r),
                 TGT_JV_ERROR);
    cr_assert_eq(jread("{\"janus\":\"success\",\"transaction\":\"T1\"}", TGT_J_CREATE, 0, &r),
                 TGT_JV_ERROR);
    cr_assert_eq(jread("<html>", TGT_J_CREATE, 0, &r), TGT_JV_ERROR);
    cr_assert_not_null(strstr(r.why, "not JSON"));
    cr_assert_eq(jread("{\"janus\":\"error\",\"transaction\":\"T1\",\"error\":{\"code\":1,"
                       "\"reason\":\"a\\nb\"}}",
                       TGT_J_CREATE, 0, &r),
                 TGT_JV_ERROR);
    cr_assert_null(strchr(r.why, '\n'), "one line: %s", r.why);
}

Test(target_janus_reply, long_poll_finds_our_answer)
{
    struct tgt_janus_reply r;
    const char *keepalive = "{\"janus\":\"keepalive\"}";
    cr_assert_eq(jread(keepalive, TGT_J_POLL, 7, &r), TGT_JV_NOTHING);
    cr_assert_eq(jread("[]", TGT_J_POLL, 7, &r), TGT_JV_NOTHING);
    const char *two =
        "[{\"janus\":\"event\",\"sender\":8,\"jsep\":{\"type\":\"answer\",\"sdp\":\"other\"}},"
        "{\"janus\":\"webrtcup\",\"sender\":7},"
        "{\"janus\":\"event\",\"sender\":7,\"plugindata\":{\"plugin\":\"janus.plugin.echotest\","
        "\"data\":{\"echotest\":\"event\",\"result\":\"ok\"}},"
        "\"jsep\":{\"type\":\"answer\",\"sdp\":\"v=0\\r\\no=- 1\"}}]";
    cr_assert_eq(jread(two, TGT_J_POLL, 7, &r), TGT_JV_ANSWER);
    cr_assert_str_eq(r.sdp, "v=0\r\no=- 1");
    cr_assert_eq(r.sdp_len, strlen("v=0\r\no=- 1"));
    free(r.sdp);
    cr_assert_eq(
        jread("{\"janus\":\"event\",\"sender\":7,\"plugindata\":{\"data\":{\"echotest\":\"event\","
              "\"error_code\":411,\"error\":\"Missing element (audio)\"}}}",
              TGT_J_POLL, 7, &r),
        TGT_JV_ERROR);
    cr_assert_str_eq(r.why, "plugin error 411 Missing element (audio)");
    cr_assert_eq(
        jread("[{\"janus\":\"hangup\",\"sender\":7,\"reason\":\"DTLS alert\"}]", TGT_J_POLL, 7, &r),
        TGT_JV_ERROR);
    cr_assert_eq(
        jread("[{\"janus\":\"event\",\"sender\":7,\"jsep\":{\"type\":\"offer\",\"sdp\":\"x\"}}]",
              TGT_J_POLL, 7, &r),
        TGT_JV_ERROR);
    cr_assert_eq(jread("[{\"janus\":\"event\",\"sender\":7,\"jsep\":{\"type\":\"answer\",\"sdp\":"
                       "\"a\\u0000\"}}]",
                       TGT_J_POLL, 7, &r),
                 TGT_JV_ERROR);
    cr_assert_eq(r.cause, CTL_TGT_CAUSE_SDP);
    cr_assert_null(r.sdp);
    cr_assert_eq(jread("42", TGT_J_POLL, 7, &r), TGT_JV_ERROR);
}

/* ---- janus-videoroom ---- */

Test(target_parse, videoroom_rooms_and_publishers)
{
    struct ctl_target_config c = {0};
    char err[256];
    cr_assert_eq(ctl_target_parse("janus-videoroom:http://h:8088/janus,rooms=4,publishers=2", &c, err,
                                  sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(c.kind, CTL_TARGET_JANUS_VR);
    cr_assert_str_eq(c.url, "http://h:8088/janus");
    cr_assert_eq(c.rooms, 4);
    cr_assert_eq(c.publishers, 2);
    cr_assert_eq(ctl_target_parse("janus-videoroom:http://h/janus", &c, err, sizeof(err)), 0);
    cr_assert_eq(c.rooms, 1, "default one room");
    cr_assert_eq(c.publishers, 1, "default one publisher");
    const char *bad[] = {"janus-videoroom:http://h/janus,rooms=0",
                         "janus-videoroom:http://h/janus,publishers=8",
                         "janus-videoroom:http://h/janus,rooms=2x",
                         "janus-videoroom:http://h/janus,rooms=",
                         "janus-videoroom:http://h/janus,rooms=-1",
                         "janus-videoroom:http://h/janus,seats=3",
                         "janus-videoroom:ftp://h,rooms=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(ctl_target_parse(bad[i], &c, err, sizeof(err)), -EINVAL, "%s", bad[i]);
        cr_assert_null(strchr(err, '\n'));
    }
}

Test(target_rooms, contiguous_blocks_of_floor_or_ceil)
{
    struct ctl_target_config c = {.kind = CTL_TARGET_JANUS_VR, .n_sessions = 32, .rooms = 4};
    for (uint32_t i = 0; i < 32; i++)
        cr_assert_eq(ctl_target_room_of(&c, i), i / 8);
    for (uint32_t r = 0; r < 4; r++)
        cr_assert_eq(ctl_target_room_first(&c, r), r * 8);
    c.n_sessions = 10;
    c.rooms = 3; /* 4, 3, 3 or 3, 3, 4: each block its first's room, sizes 3..4 */
    uint32_t size[3] = {0};
    for (uint32_t i = 0; i < 10; i++) {
        uint32_t r = ctl_target_room_of(&c, i);
        cr_assert_lt(r, 3);
        cr_assert_geq(i, ctl_target_room_first(&c, r));
        cr_assert(r == 2 || i < ctl_target_room_first(&c, r + 1));
        size[r]++;
    }
    for (uint32_t r = 0; r < 3; r++)
        cr_assert(size[r] == 3 || size[r] == 4, "room %u of %u", r, size[r]);
}

/* A subscriber offer as Janus 1.1.2's VideoRoom writes it (two audio
 * feeds, a disabled video line, one data line). */
static const char janus_sub_offer[] =
    "v=0\r\no=- 1733 1 IN IP4 198.19.255.254\r\ns=VideoRoom 42\r\nt=0 0\r\n"
    "a=group:BUNDLE 0 1 2 3\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 35:9B:63:C1:A6:50:F4:AD:9C:F6:CF:96:07:77:AD:5C:11:6B:AB:97:A4:11:92:C0:AD:69:CE:38:F4:EA:EE:1C\r\n"
    "a=msid-semantic: WMS *\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 198.19.255.254\r\na=sendonly\r\na=mid:0\r\na=rtcp-mux\r\n"
    "a=ice-ufrag:3HS4\r\na=ice-pwd:tSz1ZJFzpMw/vv1o0Z/hk9\r\na=setup:actpass\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=msid:janus janus0\r\na=ssrc:1931507671 cname:janus\r\n"
    "a=candidate:1 1 udp 2015363327 198.19.255.254 46245 typ host\r\na=end-of-candidates\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 198.19.255.254\r\na=sendonly\r\na=mid:1\r\na=rtcp-mux\r\n"
    "a=ice-ufrag:3HS4\r\na=ice-pwd:tSz1ZJFzpMw/vv1o0Z/hk9\r\na=setup:actpass\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=ssrc:42 cname:janus\r\na=ssrc:42 msid:janus janus1\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 198.19.255.254\r\na=inactive\r\na=mid:2\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 198.19.255.254\r\na=sendrecv\r\na=mid:3\r\n"
    "a=sctp-port:5000\r\na=ice-ufrag:3HS4\r\na=ice-pwd:tSz1ZJFzpMw/vv1o0Z/hk9\r\na=setup:actpass\r\n"
    "a=candidate:1 1 udp 2015363327 198.19.255.254 46245 typ host\r\na=end-of-candidates\r\n";

Test(target_subscriber, offer_ssrcs_one_per_audio_line)
{
    uint32_t ssrc[RI_TARGET_FEEDS];
    int n = tgt_offer_ssrcs(janus_sub_offer, strlen(janus_sub_offer), ssrc, RI_TARGET_FEEDS);
    cr_assert_eq(n, 2);
    cr_assert_eq(ssrc[0], 1931507671u);
    cr_assert_eq(ssrc[1], 42u, "the first a=ssrc of the line");
    cr_assert_eq(tgt_offer_ssrcs(janus_sub_offer, strlen(janus_sub_offer), ssrc, 1), 1, "at most max");
    cr_assert_eq(tgt_offer_ssrcs("m=audio 9 X 0\r\na=ssrc:99999999999 c\r\n", 34, ssrc, 2), 1);
    cr_assert_eq(ssrc[0], 0u, "an SSRC over 32 bits is none");
}

Test(target_subscriber, answer_accepts_audio_recvonly_and_data_rejects_the_rest)
{
    struct tgt_answer a;
    char why[160];
    cr_assert_eq(tgt_answer_parse(janus_sub_offer, strlen(janus_sub_offer), true, &a, &work, why,
                                  sizeof(why)),
                 0, "%s", why);
    cr_assert(a.dtls_client, "actpass: we may be the client");
    cr_assert_eq(a.n_cands, 1);
    struct tgt_offer_params p = params(false);
    char out[8192];
    int n = tgt_sub_answer_write(&p, &work, out, sizeof(out));
    cr_assert_gt(n, 0);
    cr_assert_eq((size_t)n, strlen(out));
    cr_assert_not_null(strstr(out, "a=group:BUNDLE 0 1 3\r\n"), "%s", out);
    cr_assert_not_null(strstr(out, "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"), "the video line rejected");
    cr_assert_null(strstr(out, "a=setup:actpass"));
    cr_assert_null(strstr(out, "a=sendrecv"));
    char why2[160];
    cr_assert_eq(sdp_parse_offer(out, (size_t)n, &back, why2, sizeof(why2)), 0, "%s", why2);
    cr_assert_eq(back.n_media, 4);
    cr_assert_eq(back.media[0].kind, SDP_KIND_AUDIO);
    cr_assert_eq(back.media[0].dir, SDP_DIR_RECVONLY);
    cr_assert_eq(back.media[0].opus_pt, 111);
    cr_assert_str_eq(back.media[1].mid, "1");
    cr_assert_eq(back.media[1].dir, SDP_DIR_RECVONLY);
    cr_assert_eq(back.media[2].port, 0);
    cr_assert_eq(back.app, 3);
    cr_assert_eq(back.setup, SDP_SETUP_ACTIVE);
    cr_assert_str_eq(back.ice_ufrag, p.ufrag);
    cr_assert_eq(memcmp(back.fingerprint, p.fingerprint, 32), 0);
    cr_assert_eq(tgt_sub_answer_write(&p, &work, out, 100), -ENOSPC);
}

Test(target_janus_reply, videoroom_offer_and_synchronous_success)
{
    struct tgt_janus_reply r;
    const char *ev = "[{\"janus\":\"event\",\"sender\":7,\"plugindata\":{\"plugin\":\"janus.plugin.videoroom\","
                     "\"data\":{\"videoroom\":\"attached\",\"room\":42}},"
                     "\"jsep\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}}]";
    cr_assert_eq(tgt_janus_read_jsep(ev, strlen(ev), TGT_J_POLL, "T1", 7, "offer", &r), TGT_JV_ANSWER);
    cr_assert_str_eq(r.sdp, "v=0\r\n");
    free(r.sdp);
    cr_assert_eq(tgt_janus_read_jsep(ev, strlen(ev), TGT_J_POLL, "T1", 7, "answer", &r), TGT_JV_ERROR,
                 "an offer where an answer is due");
    const char *created = "{\"janus\":\"success\",\"transaction\":\"T1\",\"sender\":7,\"plugindata\":"
                          "{\"plugin\":\"janus.plugin.videoroom\",\"data\":{\"videoroom\":\"created\","
                          "\"room\":42,\"permanent\":false}}}";
    cr_assert_eq(jread(created, TGT_J_MESSAGE, 7, &r), TGT_JV_SUCCESS);
    const char *refused = "{\"janus\":\"success\",\"transaction\":\"T1\",\"sender\":7,\"plugindata\":"
                          "{\"plugin\":\"janus.plugin.videoroom\",\"data\":{\"videoroom\":\"event\","
                          "\"error_code\":427,\"error\":\"Room 42 already exists\"}}}";
    cr_assert_eq(jread(refused, TGT_J_MESSAGE, 7, &r), TGT_JV_ERROR);
    cr_assert_str_eq(r.why, "Janus message: plugin error 427 Room 42 already exists");
    const char *nofeed = "[{\"janus\":\"event\",\"sender\":7,\"plugindata\":{\"data\":{\"videoroom\":"
                         "\"event\",\"error_code\":428,\"error\":\"No such feed (5)\"}}}]";
    cr_assert_eq(tgt_janus_read_jsep(nofeed, strlen(nofeed), TGT_J_POLL, "T1", 7, "offer", &r),
                 TGT_JV_ERROR);
    cr_assert_str_eq(r.why, "plugin error 428 No such feed (5)");
}

Test(target_janus_reply, error_403_is_denied)
{
    /* what Janus 1.1.2 answers a request with a wrong or missing apisecret */
    struct tgt_janus_reply r;
    cr_assert_eq(jread("{\"janus\":\"error\",\"transaction\":\"T1\",\"error\":{\"code\":403,"
                       "\"reason\":\"Unauthorized request (wrong or missing secret/token)\"}}",
                       TGT_J_CREATE, 0, &r),
                 TGT_JV_ERROR);
    cr_assert_eq(r.cause, CTL_TGT_CAUSE_DENIED);
    cr_assert_str_eq(r.why, "Janus create: error 403 Unauthorized request (wrong or missing secret/token)");
    cr_assert_str_eq(ctl_target_cause_name(CTL_TGT_CAUSE_DENIED), "denied");
}

/* SPDX-License-Identifier: MIT */
/* SDP offers of real endpoints (werift, Chrome, Firefox) parse; offers we
 * cannot serve are refused with their reason; our answer parses back and
 * accepts or rejects each m-line as RFC 3264 says. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdp.h"

#define FP_TEXT                                                                                    \
    "94:7F:81:53:63:32:08:31:7E:FF:94:21:99:AF:D9:F0:FA:8E:00:3F:B6:02:F9:E7:81:D2:3F:6A:49:0D:"   \
    "B5:9F"

/* werift 0.24.4: createDataChannel, createOffer, after gathering (captured here). */
static const char WERIFT_DC[] =
    "v=0\r\no=- 13085375 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\na=msid-semantic:WMS *\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2116026367 192.0.2.2 45274 typ host generation 0 "
    "ufrag 6ea1\r\n"
    "a=candidate:9c29a2bc887618212a1623bfa 1 udp 2116026367 fd00::2 39680 typ host generation 0 "
    "ufrag 6ea1\r\n"
    "a=end-of-candidates\r\na=ice-ufrag:6ea1\r\na=ice-pwd:d81407cf296cbd3b516175\r\n"
    "a=ice-options:trickle\r\na=fingerprint:sha-256 " FP_TEXT "\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:65536\r\n";

/* werift 0.24.4 with an audio transceiver added before the data channel's offer (captured). */
static const char WERIFT_AUDIO[] =
    "v=0\r\no=- 23335625 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 1 0\r\n"
    "a=extmap-allow-mixed\r\na=msid-semantic:WMS *\r\nm=audio 9 UDP/TLS/RTP/SAVPF 96 0\r\n"
    "c=IN IP4 0.0.0.0\r\na=ice-ufrag:6ea1\r\na=ice-pwd:d81407cf296cbd3b516175\r\n"
    "a=ice-options:trickle\r\na=fingerprint:sha-256 " FP_TEXT "\r\n"
    "a=setup:actpass\r\na=sendrecv\r\na=mid:1\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=rtcp-mux\r\n"
    "a=ssrc:2862489371 cname:e57d30cc-3c38-4160-93ff-d45761660963\r\n"
    "a=rtpmap:96 OPUS/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2116026367 192.0.2.2 45274 typ host generation 0 "
    "ufrag 6ea1\r\n"
    "a=end-of-candidates\r\na=ice-ufrag:6ea1\r\na=ice-pwd:d81407cf296cbd3b516175\r\n"
    "a=ice-options:trickle\r\na=fingerprint:sha-256 " FP_TEXT "\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:65536\r\n";

/* Chrome: createDataChannel, createOffer (trickle: no candidates yet). */
static const char CHROME_DC[] =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Kz2P\r\na=ice-pwd:6t8tG0Rzn1G9wXHbzV5xx2J3\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 " FP_TEXT "\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";

/* Chrome with a microphone, a camera and a data channel, after gathering
 * (mDNS host candidate, on the first m-line). */
static const char CHROME_AV[] =
    "v=0\r\no=- 8035407312580433427 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0 1 2\r\na=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS 4b8c1c5c-7b8e-4f55-9d0b-3a1f0c2e7d11\r\n"
    "m=audio 54321 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 203.0.113.7\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:3046229826 1 udp 2113937151 0b5a5bd9-2d1d-4f9b-8c14-7c3c2a1b9f1e.local 54321 typ "
    "host generation 0 network-cost 999\r\n"
    "a=candidate:842163049 1 udp 1677729535 203.0.113.7 54321 typ srflx raddr 0.0.0.0 rport 0 "
    "generation 0 network-cost 999\r\n"
    "a=ice-ufrag:Kz2P\r\na=ice-pwd:6t8tG0Rzn1G9wXHbzV5xx2J3\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 " FP_TEXT "\r\n"
    "a=setup:actpass\r\na=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\na=msid:4b8c1c5c-7b8e-4f55-9d0b-3a1f0c2e7d11 "
    "9f0e6a43-1f4e-4a3b-8c0a-2b7e5d6c1a90\r\n"
    "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 "
    "CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:1001683540 cname:Qk3YqzLrj2rQmN1u\r\n"
    "a=ssrc:1001683540 msid:4b8c1c5c-7b8e-4f55-9d0b-3a1f0c2e7d11 "
    "9f0e6a43-1f4e-4a3b-8c0a-2b7e5d6c1a90\r\n"
    "m=video 54321 UDP/TLS/RTP/SAVPF 96 97 102 103\r\nc=IN IP4 203.0.113.7\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Kz2P\r\na=ice-pwd:6t8tG0Rzn1G9wXHbzV5xx2J3\r\n"
    "a=ice-options:trickle\r\na=fingerprint:sha-256 " FP_TEXT "\r\n"
    "a=setup:actpass\r\na=mid:1\r\na=sendrecv\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 nack\r\n"
    "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=rtpmap:102 H264/90000\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
    "a=ssrc-group:FID 2231627014 632943048\r\n"
    "m=application 54321 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 203.0.113.7\r\n"
    "a=ice-ufrag:Kz2P\r\na=ice-pwd:6t8tG0Rzn1G9wXHbzV5xx2J3\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 " FP_TEXT "\r\n"
    "a=setup:actpass\r\na=mid:2\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";

/* Chromium 156 (headless, captured here): addTransceiver("audio") and
 * createDataChannel, after gathering: mDNS host candidates on every line. */
static const char CHROME156_AUDIO[] =
    "v=0\r\n"
    "o=- 8987898993314034810 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:720811102 1 udp 2113937151 a95c1ed4-c876-40ad-8529-9f63db7574e3.local 46550 typ "
    "host generation 0 network-cost 999\r\n"
    "a=candidate:763681006 1 udp 2113942271 c1347e7b-4157-46fe-9eae-c5ae2563b9e5.local 58843 typ "
    "host generation 0 network-cost 999\r\n"
    "a=ice-ufrag:5smP\r\n"
    "a=ice-pwd:PSHCq7Rg4GPdGcMD1QSLfkBm\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "03:A8:F3:ED:A8:51:F9:78:F9:0A:CE:1B:8F:82:59:6C:DD:ED:21:25:30:44:1B:B2:C1:70:60:80:67:70:F6:"
    "15\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\n"
    "a=msid:- fc19ccb9-38f3-4adb-8e55-4142d506d60e\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:278490588 cname:ympfYD9stwuLSnZ6\r\n"
    "a=ssrc:278490588 msid:- fc19ccb9-38f3-4adb-8e55-4142d506d60e\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=candidate:720811102 1 udp 2113937151 a95c1ed4-c876-40ad-8529-9f63db7574e3.local 36808 typ "
    "host generation 0 network-cost 999\r\n"
    "a=candidate:763681006 1 udp 2113942271 c1347e7b-4157-46fe-9eae-c5ae2563b9e5.local 45370 typ "
    "host generation 0 network-cost 999\r\n"
    "a=ice-ufrag:5smP\r\n"
    "a=ice-pwd:PSHCq7Rg4GPdGcMD1QSLfkBm\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "03:A8:F3:ED:A8:51:F9:78:F9:0A:CE:1B:8F:82:59:6C:DD:ED:21:25:30:44:1B:B2:C1:70:60:80:67:70:F6:"
    "15\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:262144\r\n";

/* Firefox: fingerprint at session level, LF line ends here to cover both. */
static const char FIREFOX_DC[] =
    "v=0\no=mozilla...THIS_IS_SDPARTA-99.0 7059427326359014546 0 IN IP4 0.0.0.0\ns=-\nt=0 0\n"
    "a=fingerprint:sha-256 " FP_TEXT "\n"
    "a=group:BUNDLE 0\na=ice-options:trickle\na=msid-semantic:WMS *\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 0.0.0.0\na=sendrecv\n"
    "a=ice-pwd:e2ab6ec48e4a4c1c4f8f0e0bd3b44b4d\na=ice-ufrag:3e8a4b1c\na=mid:0\n"
    "a=setup:actpass\na=sctp-port:5000\na=max-message-size:1073741823\n";

static const uint8_t FP[32] = {0x94, 0x7F, 0x81, 0x53, 0x63, 0x32, 0x08, 0x31, 0x7E, 0xFF, 0x94,
                               0x21, 0x99, 0xAF, 0xD9, 0xF0, 0xFA, 0x8E, 0x00, 0x3F, 0xB6, 0x02,
                               0xF9, 0xE7, 0x81, 0xD2, 0x3F, 0x6A, 0x49, 0x0D, 0xB5, 0x9F};

static struct sdp_offer o, back;
static char reason[256];
static char ans[16384];

static int parse(const char *text)
{
    reason[0] = '\0';
    return sdp_parse_offer(text, strlen(text), &o, reason, sizeof(reason));
}

/* text with the first `from` replaced by `to` (which must be there); the
 * result lives until the second call after this one. */
static const char *subst(const char *text, const char *from, const char *to)
{
    static char bufs[2][16384]; /* alternating: subst(subst(...)) works */
    static int k;
    char *buf = bufs[k ^= 1];
    const char *at = strstr(text, from);
    cr_assert_not_null(at, "fixture lacks '%s'", from);
    snprintf(buf, sizeof(bufs[0]), "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return buf;
}

static void assert_rejected(const char *text, const char *want)
{
    int rc = parse(text);
    cr_assert(rc == -EINVAL || rc == -ENOTSUP, "rc %d for '%s'", rc, want);
    cr_assert_not_null(strstr(reason, want), "reason '%s', want '%s'", reason, want);
    cr_assert_null(strchr(reason, '\n'), "reason is one line");
}

static struct sdp_answer_params params(bool audio)
{
    struct sdp_answer_params p = {
        .ufrag = "sgA1",
        .pwd = "abcdefghijklmnopqrstuvwx",
        .setup = SDP_SETUP_ACTIVE,
        .ip = 0x7f000001,
        .port = 40000,
        .sctp_port = 5000,
        .max_message_size = 262144,
        .audio = audio,
        .sess_id = 42,
    };
    for (int i = 0; i < 32; i++)
        p.fingerprint[i] = (uint8_t)(0xA0 + i);
    return p;
}

static void write_answer(bool audio)
{
    struct sdp_answer_params p = params(audio);
    int n = sdp_write_answer(&o, &p, ans, sizeof(ans));
    cr_assert_gt(n, 0);
    cr_assert_eq((size_t)n, strlen(ans));
}

Test(sdp, werift_offer_parses_with_its_candidates)
{
    cr_assert_eq(parse(WERIFT_DC), 0, "%s", reason);
    cr_assert_str_eq(o.ice_ufrag, "6ea1");
    cr_assert_str_eq(o.ice_pwd, "d81407cf296cbd3b516175");
    cr_assert_arr_eq(o.fingerprint, FP, 32);
    cr_assert_eq(o.setup, SDP_SETUP_ACTPASS);
    cr_assert(!o.ice_lite);
    cr_assert(o.ice_trickle);
    cr_assert(o.end_of_candidates);
    cr_assert_eq(o.n_media, 1);
    cr_assert_eq(o.app, 0);
    cr_assert_eq(o.audio, -1);
    cr_assert_eq(o.media[0].kind, SDP_KIND_APPLICATION);
    cr_assert_eq(o.media[0].port, 9);
    cr_assert_str_eq(o.media[0].proto, "UDP/DTLS/SCTP");
    cr_assert_str_eq(o.media[0].mid, "0");
    cr_assert_eq(o.sctp_port, 5000);
    cr_assert_eq(o.max_message_size, 65536);
    cr_assert_eq(o.n_bundle, 1);
    cr_assert_str_eq(o.bundle[0], "0");
    cr_assert_eq(o.sess_id, 13085375);
    cr_assert_eq(o.n_cand, 2);
    cr_assert_str_eq(o.cand[0].foundation, "32b1715da3b0ef8ba684454eb");
    cr_assert_eq(o.cand[0].component, 1);
    cr_assert_eq(o.cand[0].transport, SDP_TRANSPORT_UDP);
    cr_assert_eq(o.cand[0].priority, 2116026367u);
    cr_assert_str_eq(o.cand[0].ip, "192.0.2.2");
    cr_assert_eq(o.cand[0].port, 45274);
    cr_assert_eq(o.cand[0].type, SDP_CAND_HOST);
    cr_assert_eq(o.cand[0].media, 0);
    cr_assert_str_eq(o.cand[1].ip, "fd00::2");
}

Test(sdp, chrome_datachannel_offer_without_candidates_parses)
{
    cr_assert_eq(parse(CHROME_DC), 0, "%s", reason);
    cr_assert_str_eq(o.ice_ufrag, "Kz2P");
    cr_assert_str_eq(o.ice_pwd, "6t8tG0Rzn1G9wXHbzV5xx2J3");
    cr_assert_arr_eq(o.fingerprint, FP, 32);
    cr_assert_eq(o.setup, SDP_SETUP_ACTPASS);
    cr_assert_eq(o.max_message_size, 262144);
    cr_assert_eq(o.n_cand, 0);
    cr_assert(o.ice_trickle);
    cr_assert(!o.end_of_candidates);
    cr_assert_eq(o.sess_id, 4611731400430051336ull);
}

Test(sdp, chrome_audio_video_data_offer_finds_opus_and_pcmu_and_mdns_candidate)
{
    cr_assert_eq(parse(CHROME_AV), 0, "%s", reason);
    cr_assert_eq(o.n_media, 3);
    cr_assert_eq(o.app, 2);
    cr_assert_eq(o.audio, 0);
    cr_assert_eq(o.audio_pt, 111);
    const struct sdp_media *a = &o.media[0];
    cr_assert_eq(a->kind, SDP_KIND_AUDIO);
    cr_assert_eq(a->opus_pt, 111);
    cr_assert_eq(a->pcmu_pt, 0);
    cr_assert_eq(a->n_pt, 8);
    cr_assert(a->rtcp_mux);
    cr_assert_eq(a->dir, SDP_DIR_SENDRECV);
    cr_assert_eq(o.media[1].kind, SDP_KIND_VIDEO);
    cr_assert_eq(o.media[1].opus_pt, -1);
    cr_assert_eq(o.n_bundle, 3);
    cr_assert_eq(o.n_cand, 2);
    cr_assert_str_eq(o.cand[0].ip, "0b5a5bd9-2d1d-4f9b-8c14-7c3c2a1b9f1e.local");
    cr_assert_eq(o.cand[1].type, SDP_CAND_SRFLX);
    cr_assert_eq(o.cand[1].media, 0);
}

Test(sdp, captured_chromium_156_audio_and_data_offer_parses)
{
    cr_assert_eq(parse(CHROME156_AUDIO), 0, "%s", reason);
    cr_assert_eq(o.n_media, 2);
    cr_assert_eq(o.audio, 0);
    cr_assert_eq(o.app, 1);
    cr_assert_eq(o.audio_pt, 111);
    cr_assert_eq(o.media[0].pcmu_pt, 0);
    cr_assert_eq(o.media[0].n_pt, 8);
    cr_assert_str_eq(o.ice_ufrag, "5smP");
    cr_assert_str_eq(o.ice_pwd, "PSHCq7Rg4GPdGcMD1QSLfkBm");
    cr_assert_eq(o.fingerprint[0], 0x03);
    cr_assert_eq(o.fingerprint[31], 0x15);
    cr_assert_eq(o.max_message_size, 262144);
    cr_assert_eq(o.n_cand, 4);
    cr_assert_eq(o.cand[2].media, 1);
    cr_assert_eq(o.cand[2].port, 36808);
    cr_assert_str_eq(o.cand[2].ip, "a95c1ed4-c876-40ad-8529-9f63db7574e3.local");
    write_answer(true);
    cr_assert_not_null(strstr(ans, "\r\na=group:BUNDLE 0 1\r\n"));
    cr_assert_not_null(strstr(ans, "\r\nm=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n"));
}

Test(sdp, firefox_offer_with_session_level_fingerprint_and_lf_line_ends_parses)
{
    cr_assert_eq(parse(FIREFOX_DC), 0, "%s", reason);
    cr_assert_arr_eq(o.fingerprint, FP, 32);
    cr_assert(o.sess_has_fingerprint);
    cr_assert(!o.media[0].has_fingerprint);
    cr_assert_str_eq(o.ice_ufrag, "3e8a4b1c");
    cr_assert_str_eq(o.ice_pwd, "e2ab6ec48e4a4c1c4f8f0e0bd3b44b4d");
    cr_assert_eq(o.max_message_size, 1073741823ull);
    cr_assert_eq(o.sess_id, 7059427326359014546ull);
}

Test(sdp, media_level_ice_credentials_win_over_session_level)
{
    const char *t =
        subst(CHROME_DC, "a=group:BUNDLE 0\r\n",
              "a=group:BUNDLE 0\r\na=ice-ufrag:SESS\r\na=ice-pwd:sessionlevelpassword00\r\n");
    cr_assert_eq(parse(t), 0, "%s", reason);
    cr_assert_str_eq(o.sess_ufrag, "SESS");
    cr_assert_str_eq(o.ice_ufrag, "Kz2P");
    cr_assert_str_eq(o.ice_pwd, "6t8tG0Rzn1G9wXHbzV5xx2J3");
    /* without media-level credentials the session's apply */
    t = subst(t, "a=ice-ufrag:Kz2P\r\na=ice-pwd:6t8tG0Rzn1G9wXHbzV5xx2J3\r\n", "");
    cr_assert_eq(parse(t), 0, "%s", reason);
    cr_assert_str_eq(o.ice_ufrag, "SESS");
    cr_assert_str_eq(o.ice_pwd, "sessionlevelpassword00");
}

Test(sdp, defaults_sctp_port_5000_and_max_message_size_65536_when_absent)
{
    const char *t = subst(CHROME_DC, "a=sctp-port:5000\r\na=max-message-size:262144\r\n", "");
    cr_assert_eq(parse(t), 0, "%s", reason);
    cr_assert_eq(o.sctp_port, 5000);
    cr_assert_eq(o.max_message_size, 65536);
    cr_assert_eq(parse(subst(CHROME_DC, "a=sctp-port:5000", "a=sctp-port:5001")), 0);
    cr_assert_eq(o.sctp_port, 5001);
}

Test(sdp, ice_lite_offer_is_flagged)
{
    cr_assert_eq(parse(subst(CHROME_DC, "t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n")), 0, "%s", reason);
    cr_assert(o.ice_lite);
}

Test(sdp, structural_rejections_per_rfc_8866)
{
    assert_rejected("", "empty");
    assert_rejected("hello world", "first line is not v=0");
    assert_rejected(subst(CHROME_DC, "v=0", "v=1"), "first line is not v=0");
    assert_rejected(subst(CHROME_DC, "a=extmap-allow-mixed", "x=extmap-allow-mixed"),
                    "unknown SDP line type 'x='");
    assert_rejected(subst(CHROME_DC, "a=extmap-allow-mixed", "abc"), "not <type>=<value>");
    assert_rejected(subst(CHROME_DC, "a=extmap-allow-mixed", "A=b"), "not <type>=<value>");
    assert_rejected(subst(CHROME_DC, "o=- ", "s=- "), "second line is not o=");
    assert_rejected(subst(CHROME_DC, "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "o=- 1 2"),
                    "malformed o= line");
    assert_rejected(subst(CHROME_DC, "t=0 0\r\n", ""), "m= before any t= line");
    assert_rejected(subst(CHROME_DC, "a=mid:0\r\n", "a=mid:0\r\ns=again\r\n"),
                    "'s=' inside a media section");
    assert_rejected(
        subst(CHROME_DC, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=application 9"),
        "malformed m= line");
    assert_rejected(subst(CHROME_DC, "m=application 9 ", "m=application 99999 "),
                    "malformed m= line");
    char nul[64] = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n";
    cr_assert_eq(sdp_parse_offer(nul, sizeof(nul), &o, reason, sizeof(reason)), -EINVAL);
    cr_assert_not_null(strstr(reason, "NUL"));
}

Test(sdp, rejection_reasons_for_offers_we_cannot_serve)
{
    assert_rejected(subst(CHROME_DC, "a=fingerprint:sha-256 " FP_TEXT "\r\n", ""),
                    "no a=fingerprint:sha-256");
    assert_rejected(
        subst(CHROME_DC, "a=fingerprint:sha-256 " FP_TEXT,
              "a=fingerprint:sha-1 94:7F:81:53:63:32:08:31:7E:FF:94:21:99:AF:D9:F0:FA:8E:00:3F"),
        "fingerprint is not sha-256");
    assert_rejected(subst(CHROME_DC, FP_TEXT, "94:7F:81"), "malformed a=fingerprint:sha-256");
    assert_rejected(subst(CHROME_DC, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
                          "m=audio 9 UDP/TLS/RTP/SAVPF 111"),
                    "no m=application UDP/DTLS/SCTP webrtc-datachannel line");
    assert_rejected(subst(CHROME_DC, "UDP/DTLS/SCTP", "TCP/DTLS/SCTP"),
                    "TCP/DTLS/SCTP not supported");
    assert_rejected(
        subst(CHROME_DC, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
              "m=application 9 DTLS/SCTP 5000\r\na=sctpmap:5000 webrtc-datachannel 1024"),
        "DTLS/SCTP with a=sctpmap");
    assert_rejected(subst(CHROME_DC, "m=application 9 ", "m=application 0 "), "disabled (port 0)");
    assert_rejected(subst(CHROME_DC, "a=ice-pwd:6t8tG0Rzn1G9wXHbzV5xx2J3", "a=ice-pwd:short"),
                    "ice-pwd shorter than 22 characters");
    assert_rejected(subst(CHROME_DC, "a=ice-ufrag:Kz2P", "a=ice-ufrag:Kz2"),
                    "ice-ufrag shorter than 4 characters");
    assert_rejected(subst(CHROME_DC, "a=ice-ufrag:Kz2P", "a=ice-ufrag:Kz-P"),
                    "ice-ufrag has a character");
    assert_rejected(subst(CHROME_DC, "a=ice-ufrag:Kz2P\r\n", ""), "no a=ice-ufrag");
    assert_rejected(subst(CHROME_DC, "a=ice-pwd:6t8tG0Rzn1G9wXHbzV5xx2J3\r\n", ""), "no a=ice-pwd");
    assert_rejected(subst(CHROME_DC, "a=setup:actpass", "a=setup:holdconn"),
                    "setup:holdconn not supported");
    assert_rejected(subst(CHROME_DC, "a=setup:actpass", "a=setup:sideways"),
                    "unknown a=setup value");
    assert_rejected(subst(CHROME_DC, "a=sctp-port:5000", "a=sctp-port:0"), "malformed a=sctp-port");
    assert_rejected(subst(CHROME_DC, "a=max-message-size:262144", "a=max-message-size:-1"),
                    "malformed a=max-message-size");
    assert_rejected(subst(CHROME_AV, "a=mid:1", "a=mid:0"), "duplicate a=mid:0");
    assert_rejected(subst(CHROME_DC, "a=mid:0", "a=mid:0 1"), "a=mid is not a token");
    assert_rejected(
        subst(WERIFT_DC,
              "a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2116026367 192.0.2.2 45274 typ",
              "a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2116026367 192.0.2.2 45274 type"),
        "malformed a=candidate");
}

Test(sdp, setup_choice_follows_rfc_8842)
{
    cr_assert_eq(sdp_choose_setup(SDP_SETUP_ACTPASS, SDP_SETUP_ACTIVE), SDP_SETUP_ACTIVE);
    cr_assert_eq(sdp_choose_setup(SDP_SETUP_ACTPASS, SDP_SETUP_PASSIVE), SDP_SETUP_PASSIVE);
    cr_assert_eq(sdp_choose_setup(SDP_SETUP_ACTIVE, SDP_SETUP_ACTIVE), SDP_SETUP_PASSIVE);
    cr_assert_eq(sdp_choose_setup(SDP_SETUP_ACTIVE, SDP_SETUP_PASSIVE), SDP_SETUP_PASSIVE);
    cr_assert_eq(sdp_choose_setup(SDP_SETUP_PASSIVE, SDP_SETUP_ACTIVE), SDP_SETUP_ACTIVE);
    cr_assert_eq(sdp_choose_setup(SDP_SETUP_PASSIVE, SDP_SETUP_PASSIVE), SDP_SETUP_ACTIVE);
    /* absent: RFC 4145 makes the offerer active */
    cr_assert_eq(sdp_choose_setup(SDP_SETUP_NONE, SDP_SETUP_ACTIVE), SDP_SETUP_PASSIVE);
    cr_assert_eq(parse(subst(CHROME_DC, "a=setup:actpass\r\n", "")), 0, "%s", reason);
    cr_assert_eq(o.setup, SDP_SETUP_NONE);
    cr_assert_eq(parse(subst(CHROME_DC, "a=setup:actpass", "a=setup:passive")), 0);
    cr_assert_eq(o.setup, SDP_SETUP_PASSIVE);
}

Test(sdp, answer_to_chrome_parses_back_with_our_credentials_and_one_host_candidate)
{
    cr_assert_eq(parse(CHROME_DC), 0);
    write_answer(false);
    cr_assert_eq(strncmp(ans, "v=0\r\no=swarmgen 42 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", 47), 0,
                 "%s", ans);
    cr_assert_not_null(strstr(ans, "\r\na=ice-lite\r\n"));
    cr_assert_not_null(strstr(ans, "\r\na=group:BUNDLE 0\r\n"));
    cr_assert_not_null(strstr(ans, "\r\nm=application 40000 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                                   "c=IN IP4 127.0.0.1\r\na=mid:0\r\n"));
    cr_assert_not_null(strstr(ans, "\r\na=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"
                                   "a=end-of-candidates\r\n"));
    cr_assert_not_null(strstr(ans, "\r\na=fingerprint:sha-256 A0:A1:A2:A3:"));
    cr_assert_not_null(strstr(ans, "\r\na=setup:active\r\n"));
    cr_assert_not_null(strstr(ans, "\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n"));
    cr_assert_null(strstr(ans, "\n\n"));

    char r2[256];
    cr_assert_eq(sdp_parse_offer(ans, strlen(ans), &back, r2, sizeof(r2)), 0, "%s\n%s", r2, ans);
    cr_assert(back.ice_lite);
    cr_assert_str_eq(back.ice_ufrag, "sgA1");
    cr_assert_str_eq(back.ice_pwd, "abcdefghijklmnopqrstuvwx");
    for (int i = 0; i < 32; i++)
        cr_assert_eq(back.fingerprint[i], 0xA0 + i);
    cr_assert_eq(back.setup, SDP_SETUP_ACTIVE);
    cr_assert_eq(back.n_media, 1);
    cr_assert_str_eq(back.media[0].mid, "0");
    cr_assert_eq(back.media[0].port, 40000);
    cr_assert_eq(back.sctp_port, 5000);
    cr_assert_eq(back.max_message_size, 262144);
    cr_assert_eq(back.n_cand, 1);
    cr_assert_str_eq(back.cand[0].ip, "127.0.0.1");
    cr_assert_eq(back.cand[0].port, 40000);
    cr_assert_eq(back.cand[0].priority, 2130706431u);
    cr_assert(back.end_of_candidates);
    cr_assert_eq(back.sess_id, 42);
}

Test(sdp, answer_with_passive_setup)
{
    cr_assert_eq(parse(FIREFOX_DC), 0);
    struct sdp_answer_params p = params(false);
    p.setup = SDP_SETUP_PASSIVE;
    cr_assert_gt(sdp_write_answer(&o, &p, ans, sizeof(ans)), 0);
    cr_assert_not_null(strstr(ans, "a=setup:passive\r\n"));
    p.setup = SDP_SETUP_ACTPASS;
    cr_assert_eq(sdp_write_answer(&o, &p, ans, sizeof(ans)), -EINVAL);
}

Test(sdp, audio_is_accepted_bundled_when_media_is_on)
{
    cr_assert_eq(parse(WERIFT_AUDIO), 0, "%s", reason);
    cr_assert_eq(o.audio, 0);
    cr_assert_eq(o.app, 1);
    cr_assert_eq(o.audio_pt, 96);
    cr_assert(sdp_answer_accepts_audio(&o, true));
    write_answer(true);
    cr_assert_not_null(strstr(ans, "\r\na=group:BUNDLE 1 0\r\n"), "%s", ans);
    const char *m_audio = strstr(ans, "\r\nm=audio 40000 UDP/TLS/RTP/SAVPF 96\r\n");
    const char *m_app = strstr(ans, "\r\nm=application 40000 ");
    cr_assert_not_null(m_audio, "%s", ans);
    cr_assert_not_null(m_app);
    cr_assert_lt(m_audio, m_app, "m-lines keep the offer's order");
    cr_assert_not_null(strstr(ans, "a=mid:1\r\n"));
    cr_assert_not_null(strstr(ans, "a=rtcp-mux\r\na=sendrecv\r\na=rtpmap:96 opus/48000/2\r\n"));

    char r2[256];
    cr_assert_eq(sdp_parse_offer(ans, strlen(ans), &back, r2, sizeof(r2)), 0, "%s", r2);
    cr_assert_eq(back.n_media, 2);
    cr_assert_eq(back.audio, 0);
    cr_assert_eq(back.media[0].opus_pt, 96);
    cr_assert_str_eq(back.media[0].mid, "1");
    cr_assert_str_eq(back.media[1].mid, "0");
}

Test(sdp, audio_is_rejected_with_port_0_when_media_is_off)
{
    cr_assert_eq(parse(WERIFT_AUDIO), 0);
    cr_assert(!sdp_answer_accepts_audio(&o, false));
    write_answer(false);
    cr_assert_not_null(
        strstr(ans, "\r\nm=audio 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=mid:1\r\n"
                    "a=inactive\r\na=rtpmap:96 OPUS/48000/2\r\nm=application 40000 "),
        "%s", ans);
    cr_assert_not_null(strstr(ans, "\r\na=group:BUNDLE 0\r\n"), "%s", ans);
    char r2[256];
    cr_assert_eq(sdp_parse_offer(ans, strlen(ans), &back, r2, sizeof(r2)), 0, "%s", r2);
    cr_assert_eq(back.media[0].port, 0);
    cr_assert_eq(back.audio, -1);
}

Test(sdp, video_is_rejected_and_audio_accepted_in_chrome_offer)
{
    cr_assert_eq(parse(CHROME_AV), 0);
    write_answer(true);
    cr_assert_not_null(strstr(ans, "\r\na=group:BUNDLE 0 2\r\n"), "%s", ans);
    cr_assert_not_null(strstr(ans, "\r\nm=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n"));
    cr_assert_not_null(
        strstr(ans, "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"));
    cr_assert_not_null(
        strstr(ans, "\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=mid:1\r\n"
                    "a=inactive\r\na=rtpmap:96 VP8/90000\r\n"
                    "m=application 40000 UDP/DTLS/SCTP webrtc-datachannel\r\n"),
        "%s", ans);
}

Test(sdp, audio_needing_its_own_transport_is_not_served)
{
    /* no rtcp-mux */
    cr_assert_eq(parse(subst(WERIFT_AUDIO, "a=rtcp-mux\r\n", "")), 0);
    cr_assert_eq(o.audio, -1);
    /* not in the BUNDLE group */
    cr_assert_eq(parse(subst(WERIFT_AUDIO, "a=group:BUNDLE 1 0", "a=group:BUNDLE 0")), 0);
    cr_assert_eq(o.audio, -1);
    write_answer(true);
    cr_assert_not_null(strstr(ans, "m=audio 0 "));
    /* SDES SRTP (RTP/SAVPF without DTLS) */
    cr_assert_eq(parse(subst(WERIFT_AUDIO, "m=audio 9 UDP/TLS/RTP/SAVPF", "m=audio 9 RTP/SAVPF")),
                 0);
    cr_assert_eq(o.audio, -1);
    write_answer(true);
    cr_assert_not_null(strstr(ans, "m=audio 0 RTP/SAVPF 96\r\n"), "%s", ans);
    /* neither opus nor PCMU */
    cr_assert_eq(
        parse(subst(subst(WERIFT_AUDIO, "a=rtpmap:96 OPUS/48000/2", "a=rtpmap:96 G722/8000"),
                    "a=rtpmap:0 PCMU/8000", "a=rtpmap:0 PCMA/8000")),
        0);
    cr_assert_eq(o.audio, -1);
}

Test(sdp, pcmu_is_chosen_when_opus_is_absent_and_static_pt_0_needs_no_rtpmap)
{
    cr_assert_eq(parse(subst(subst(WERIFT_AUDIO, "a=rtpmap:96 OPUS/48000/2\r\n", ""),
                             "a=rtpmap:0 PCMU/8000\r\n", "")),
                 0);
    cr_assert_eq(o.audio, 0);
    cr_assert_eq(o.audio_pt, 0);
    write_answer(true);
    cr_assert_not_null(strstr(ans, "m=audio 40000 UDP/TLS/RTP/SAVPF 0\r\n"), "%s", ans);
    cr_assert_not_null(strstr(ans, "a=rtpmap:0 PCMU/8000\r\n"));
}

Test(sdp, answer_direction_mirrors_the_offer)
{
    cr_assert_eq(parse(subst(WERIFT_AUDIO, "a=sendrecv", "a=sendonly")), 0);
    write_answer(true);
    cr_assert_not_null(strstr(ans, "a=rtcp-mux\r\na=recvonly\r\n"));
    cr_assert_eq(parse(subst(WERIFT_AUDIO, "a=sendrecv", "a=recvonly")), 0);
    write_answer(true);
    cr_assert_not_null(strstr(ans, "a=rtcp-mux\r\na=sendonly\r\n"));
}

Test(sdp, answer_that_does_not_fit_is_enospc)
{
    cr_assert_eq(parse(CHROME_AV), 0);
    struct sdp_answer_params p = params(true);
    int full = sdp_write_answer(&o, &p, ans, sizeof(ans));
    cr_assert_gt(full, 0);
    for (size_t cap = 0; cap <= (size_t)full; cap += 37)
        cr_assert_eq(sdp_write_answer(&o, &p, ans, cap), -ENOSPC, "cap %zu", cap);
    cr_assert_eq(sdp_write_answer(&o, &p, ans, (size_t)full), -ENOSPC);
    cr_assert_eq(sdp_write_answer(&o, &p, ans, (size_t)full + 1), full);
}

Test(sdp, offer_without_mids_or_bundle_is_answered_without_them)
{
    const char *t = subst(subst(CHROME_DC, "a=group:BUNDLE 0\r\n", ""), "a=mid:0\r\n", "");
    cr_assert_eq(parse(t), 0, "%s", reason);
    write_answer(false);
    cr_assert_null(strstr(ans, "a=group"));
    cr_assert_null(strstr(ans, "a=mid"));
}

Test(sdp, candidates_beyond_16_are_counted_not_kept)
{
    static char big[16384];
    char *p = big;
    const char *at = strstr(CHROME_DC, "a=ice-ufrag");
    p += sprintf(p, "%.*s", (int)(at - CHROME_DC), CHROME_DC);
    for (int i = 0; i < 20; i++)
        p += sprintf(p, "a=candidate:%d 1 udp 100 10.0.0.%d %d typ host\r\n", i, i, 1000 + i);
    p += sprintf(p, "a=candidate:99 1 tcp 100 10.0.0.1 9 typ host tcptype active\r\n");
    sprintf(p, "%s", at);
    cr_assert_eq(parse(big), 0, "%s", reason);
    cr_assert_eq(o.n_cand, 16);
    cr_assert_eq(o.n_cand_dropped, 5);
    cr_assert_eq(o.cand[15].port, 1015);
}

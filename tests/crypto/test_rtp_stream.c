/* SPDX-License-Identifier: MIT */
/* Synthetic RTP streams: rates, timestamps, sequence numbers, marker bits,
 * keyframes, and the packets protected through SRTP. */
#include <criterion/criterion.h>
#include <string.h>

#include "media_srtp.h"
#include "rtp_stream.h"

/* Runs a stream for `seconds` of virtual time; fills per-packet fields. */
struct seen {
    int packets, frames, markers;
    uint16_t last_seq;
    uint32_t last_ts;
    int max_len;
    int key_like; /* frames bigger than twice the average */
};

static void drive(struct rtp_stream *s, double seconds, struct seen *out, struct media_srtp *srtp)
{
    memset(out, 0, sizeof(*out));
    uint64_t now = 0, end = (uint64_t)(seconds * 1e9);
    uint8_t buf[1600];
    int frame_len = 0;
    bool first = true;
    while (now < end) {
        int n = rtp_stream_poll(s, now, buf, sizeof(buf));
        if (n == 0) {
            now = rtp_stream_next_timeout(s);
            continue;
        }
        uint16_t seq = (uint16_t)(buf[2] << 8 | buf[3]);
        uint32_t ts = (uint32_t)buf[4] << 24 | buf[5] << 16 | buf[6] << 8 | buf[7];
        cr_assert_eq(buf[0], 0x80);
        if (!first) {
            cr_assert_eq(seq, (uint16_t)(out->last_seq + 1), "sequence numbers increase by one");
            cr_assert(ts == out->last_ts || ts == out->last_ts + s->ts_step, "timestamps step by frame");
        }
        first = false;
        out->last_seq = seq;
        out->last_ts = ts;
        out->packets++;
        frame_len += n - RTP_HDR_LEN;
        if (n > out->max_len)
            out->max_len = n;
        if (buf[1] & 0x80) {
            out->markers++;
            out->frames++;
            if (s->cfg.kind == RTP_VIDEO && frame_len > 2 * (int)(s->cfg.video_bps / 8 / s->cfg.fps))
                out->key_like++;
            frame_len = 0;
        }
        if (srtp) {
            int len = n;
            cr_assert_eq(media_protect_rtp(srtp, buf, &len, sizeof(buf)), 0);
        }
    }
}

Test(rtp_stream, audio_is_fifty_packets_a_second)
{
    struct rtp_stream s;
    struct rtp_stream_config c = {.kind = RTP_AUDIO, .ssrc = 0x1234, .first_seq = 65530};
    rtp_stream_init(&s, &c);
    struct seen v;
    drive(&s, 10.0, &v, NULL);
    cr_assert_eq(v.packets, 500);
    cr_assert_eq(v.max_len, 12 + 160);
    cr_assert_eq(v.last_ts, 499 * 960, "48 kHz clock, 20 ms frames");
    cr_assert_eq(v.last_seq, (uint16_t)(65530 + 499), "sequence numbers wrap");
}

Test(rtp_stream, video_frames_split_with_marker_and_keyframes)
{
    struct rtp_stream s;
    struct rtp_stream_config c = {.kind = RTP_VIDEO, .ssrc = 0x5678, .video_bps = 2000000, .fps = 30, .gop = 30};
    rtp_stream_init(&s, &c);
    struct seen v;
    drive(&s, 4.0, &v, NULL);
    cr_assert_eq(v.frames, 120);
    cr_assert_eq(v.markers, 120, "one marker per frame");
    cr_assert_leq(v.max_len, 12 + 1100, "packets within the MTU");
    cr_assert_gt(v.packets, v.frames, "frames span several packets");
    cr_assert_eq(v.key_like, 4, "a keyframe every 30 frames, 4x larger");
    cr_assert_eq(s.keyframes, 4);
    /* bytes per second near the configured bitrate (plus keyframes) */
    double bps = (double)(s.bytes - 12ull * s.packets) * 8 / 4.0;
    cr_assert(bps > 2000000 && bps < 2000000 * 1.2, "payload rate %.0f bit/s", bps);
}

Test(rtp_stream, streams_go_through_srtp)
{
    cr_assert_eq(media_srtp_global_init(), 0);
    uint8_t k[30] = {1, 2, 3};
    struct media_srtp srtp;
    cr_assert_eq(media_srtp_init(&srtp, MEDIA_AEAD_AES_128_GCM, k, k), 0);
    struct rtp_stream s;
    struct rtp_stream_config c = {.kind = RTP_VIDEO, .ssrc = 9};
    rtp_stream_init(&s, &c);
    struct seen v;
    drive(&s, 1.0, &v, &srtp);
    cr_assert_eq(srtp.c.protected_rtp, (uint64_t)v.packets);
    media_srtp_free(&srtp);
}

/* A phase and a keyframe position of its own: nothing before the offset,
 * then frames on the stream's own grid, the keyframe where first_frame
 * puts it. */
Test(rtp_stream, a_start_offset_and_a_first_frame_stagger_streams)
{
    struct rtp_stream s;
    struct rtp_stream_config c = {.kind = RTP_VIDEO, .ssrc = 7, .fps = 50, .gop = 10, .start_offset_ns = 7000000,
                                  .first_frame = 8};
    rtp_stream_init(&s, &c);
    uint8_t b[1500];
    cr_assert_eq(rtp_stream_poll(&s, 1000000000ull, b, sizeof(b)), 0, "nothing before the offset");
    cr_assert_eq(rtp_stream_next_timeout(&s), 1007000000ull);
    cr_assert_gt(rtp_stream_poll(&s, 1007000000ull, b, sizeof(b)), 0, "the first frame at the offset");
    while (rtp_stream_poll(&s, 1007000000ull, b, sizeof(b)) > 0)
        ;
    cr_assert_eq(rtp_stream_next_timeout(&s), 1027000000ull, "then every 20 ms from there");
    cr_assert_eq(s.keyframes, 0, "frame 8 of a gop of 10 is no keyframe");
    uint64_t t = 1027000000ull;
    for (int f = 0; f < 2; f++, t += 20000000ull)
        while (rtp_stream_poll(&s, t, b, sizeof(b)) > 0)
            ;
    cr_assert_eq(s.keyframes, 1, "frame 10, the stream's third, is");
}

/* With vp8: every payload starts with a VP8 payload descriptor (S on a
 * frame's first packet only), a frame's first packet with the VP8 frame
 * header (P = 0 and the start code on key frames, P = 1 otherwise), and
 * rtp_stream_key_frame makes the next frame a key frame. */
Test(rtp_stream, vp8_descriptor_key_frames_marked_and_forced)
{
    struct rtp_stream s;
    struct rtp_stream_config c = {.kind = RTP_VIDEO, .ssrc = 7, .video_bps = 300000, .fps = 15, .gop = 60,
                                  .first_frame = 1, .vp8 = true};
    rtp_stream_init(&s, &c);
    uint8_t buf[1600];
    uint64_t now = 0;
    int keys = 0, frames = 0, starts = 0;
    bool frame_start = true;
    while (frames < 120) {
        int n = rtp_stream_poll(&s, now, buf, sizeof(buf));
        if (n == 0) {
            now = rtp_stream_next_timeout(&s);
            continue;
        }
        const uint8_t *p = buf + RTP_HDR_LEN;
        if (frame_start) {
            starts++;
            cr_assert_eq(p[0], 0x10, "S set on a frame's first packet");
            cr_assert_eq(p[1] & 0x10, 0x10, "show_frame");
            bool key = (p[1] & 1) == 0;
            if (key) {
                keys++;
                cr_assert_eq(p[4], 0x9d);
                cr_assert_eq(p[5], 0x01);
                cr_assert_eq(p[6], 0x2a);
                cr_assert_eq(p[7] | (p[8] & 0x3f) << 8, 640);
                cr_assert_eq(p[9] | (p[10] & 0x3f) << 8, 480);
            }
        } else {
            cr_assert_eq(p[0], 0x00, "S clear inside a frame");
        }
        frame_start = (buf[1] & 0x80) != 0;
        if (frame_start) {
            frames++;
            if (frames == 10)
                rtp_stream_key_frame(&s); /* a PLI */
        }
    }
    cr_assert_eq(starts, 120);
    /* frame numbers 1..120: the periodic key frame at 60 and 120, the one forced after frame 10 */
    cr_assert_eq(keys, 3, "%d key frames", keys);
    cr_assert_eq(s.keyframes, 3);
}

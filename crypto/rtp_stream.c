/* SPDX-License-Identifier: MIT */
#include "rtp_stream.h"

#include <string.h>

#include "wire.h"

void rtp_stream_init(struct rtp_stream *s, const struct rtp_stream_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    struct rtp_stream_config *c = &s->cfg;
    if (!c->audio_bytes)
        c->audio_bytes = 160;
    if (!c->video_bps)
        c->video_bps = 1000000;
    if (!c->fps)
        c->fps = 30;
    if (!c->gop)
        c->gop = 60;
    if (!c->key_factor)
        c->key_factor = 4;
    if (!c->mtu_payload)
        c->mtu_payload = 1100;
    if (!c->payload_type)
        c->payload_type = c->kind == RTP_AUDIO ? 111 : 96;
    s->seq = c->first_seq;
    s->ts = c->first_ts;
    s->frame_no = c->first_frame;
    if (c->kind == RTP_AUDIO) {
        s->frame_ns = 20000000ull;
        s->ts_step = 960; /* 20 ms at 48 kHz */
    } else {
        s->frame_ns = 1000000000ull / c->fps;
        s->ts_step = 90000u / c->fps;
    }
}

static void header(struct rtp_stream *s, uint8_t *b, bool marker)
{
    b[0] = 0x80; /* version 2, no padding, no extension, no CSRC */
    b[1] = (uint8_t)((marker ? 0x80 : 0) | (s->cfg.payload_type & 0x7f));
    wire_put16(b + 2, s->seq);
    wire_put32(b + 4, s->ts);
    wire_put32(b + 8, s->cfg.ssrc);
}

int rtp_stream_poll(struct rtp_stream *s, uint64_t now, uint8_t *buf, uint16_t cap)
{
    if (!s->started) {
        s->started = true;
        s->start = now + s->cfg.start_offset_ns;
        s->next_frame = s->start;
    }
    if (s->left == 0) {
        if (now < s->next_frame)
            return 0;
        /* a new frame */
        if (s->frames)
            s->ts += s->ts_step;
        if (s->cfg.kind == RTP_AUDIO) {
            s->frame_bytes = s->cfg.audio_bytes;
        } else {
            uint32_t base = s->cfg.video_bps / 8 / s->cfg.fps;
            bool key = s->frame_no % s->cfg.gop == 0 || s->force_key;
            s->force_key = false;
            s->key = key;
            s->frame_bytes = key ? base * s->cfg.key_factor : base;
            s->keyframes += key;
        }
        s->left = s->frame_bytes;
        s->frame_no++;
        s->frames++;
        /* from the start, so 1e9/fps rounding never accumulates */
        uint64_t k = s->frames;
        s->next_frame = s->start + (s->cfg.kind == RTP_AUDIO ? k * s->frame_ns : k * 1000000000ull / s->cfg.fps);
    }
    uint32_t chunk = s->left < s->cfg.mtu_payload ? s->left : s->cfg.mtu_payload;
    if ((uint32_t)cap < RTP_HDR_LEN + chunk)
        return 0;
    bool last = chunk == s->left;
    header(s, buf, last);
    uint32_t done = s->frame_bytes - s->left;
    for (uint32_t i = 0; i < chunk; i++)
        buf[RTP_HDR_LEN + i] = (uint8_t)(s->frame_no * 31 + done + i);
    if (s->cfg.vp8 && s->cfg.kind == RTP_VIDEO && chunk >= 11) {
        uint8_t *p = buf + RTP_HDR_LEN;
        p[0] = done == 0 ? 0x10 : 0x00; /* X=0 R=0 N=0 S PID=0 */
        if (done == 0) {
            /* size0 = 0, show_frame = 1, version 0, P (0: key frame); size1, size2 */
            p[1] = (uint8_t)(0x10 | (s->key ? 0 : 1));
            p[2] = 0;
            p[3] = 0;
            if (s->key) { /* start code, width 640 and height 480 (14 bits each, little endian) */
                static const uint8_t kf[7] = {0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
                memcpy(p + 4, kf, sizeof(kf));
            }
        }
    }
    s->left -= chunk;
    s->seq++;
    s->packets++;
    s->bytes += RTP_HDR_LEN + chunk;
    return (int)(RTP_HDR_LEN + chunk);
}

void rtp_stream_key_frame(struct rtp_stream *s)
{
    s->force_key = true;
}

uint64_t rtp_stream_next_timeout(const struct rtp_stream *s)
{
    return s->left ? 0 : s->next_frame;
}

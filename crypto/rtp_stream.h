/* SPDX-License-Identifier: MIT */
/*
 * rtp_stream: synthetic media streams packetised as RTP (RFC 3550), for the
 * SRTP traffic of simulated agents.
 *
 *   audio: Opus-like, 20 ms frames, 50 packets/s, 48 kHz clock, one packet
 *          of `audio_bytes` per frame
 *   video: `fps` frames/s at 90 kHz, a frame of bitrate/fps bytes (every
 *          `gop`-th frame a keyframe `key_factor` times larger), split into
 *          packets of at most `mtu_payload` bytes; all packets of a frame
 *          share its timestamp, the last one carries the marker bit
 *
 * Sans-I/O: the stream is polled with `now` and answers its next deadline.
 * No allocation, no clock, no global state.
 */
#ifndef SWARMGEN_CRYPTO_RTP_STREAM_H
#define SWARMGEN_CRYPTO_RTP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#define RTP_HDR_LEN 12

enum rtp_kind { RTP_AUDIO, RTP_VIDEO };

struct rtp_stream_config {
    enum rtp_kind kind;
    uint32_t ssrc;
    uint8_t payload_type;   /* 111 (Opus) / 96 (video) by convention */
    uint16_t first_seq;
    uint32_t first_ts;
    uint16_t audio_bytes;   /* default 160 (64 kbit/s) */
    uint32_t video_bps;     /* default 1,000,000 */
    uint16_t fps;           /* default 30 */
    uint16_t gop;           /* keyframe every gop frames, default 60 */
    uint16_t key_factor;    /* keyframe size multiplier, default 4 */
    uint16_t mtu_payload;   /* default 1,100 */
    uint64_t start_offset_ns; /* the first frame this long after the first poll: a random phase per
                               * stream keeps thousands of streams from sending their frames at once */
    uint16_t first_frame;   /* frames counted from here (keyframes when it reaches a multiple of gop):
                               staggers the keyframes of many streams */
    bool vp8;               /* video: each payload starts with a VP8 payload descriptor (RFC 7741
                               §4.2: S on a frame's first packet, no extensions) and a frame's first
                               packet with the VP8 frame header (RFC 6386 §9.1: P = 0 on key frames,
                               then the start code and 640x480), so a receiver that parses VP8 (Janus)
                               sees key frames where they are */
};

struct rtp_stream {
    struct rtp_stream_config cfg;
    uint16_t seq;
    uint32_t ts;
    uint32_t ts_step;       /* clock ticks per frame */
    uint64_t frame_ns;      /* frame interval */
    uint64_t start;         /* first poll (ns) */
    uint64_t next_frame;    /* when the next frame starts (ns) */
    uint32_t frame_no;
    uint32_t left;          /* bytes of the current frame still to packetise */
    uint32_t frame_bytes;
    bool started;
    bool force_key;         /* the next frame is a key frame (rtp_stream_key_frame) */
    bool key;               /* the current frame is a key frame */
    uint64_t packets, bytes, frames, keyframes;
};

/* Sets up a stream; zero config fields take the defaults above. */
void rtp_stream_init(struct rtp_stream *s, const struct rtp_stream_config *cfg);

/* Writes the next RTP packet due at `now` into buf and returns its length,
 * or 0 when nothing is due (or cap is too small). */
int rtp_stream_poll(struct rtp_stream *s, uint64_t now, uint8_t *buf, uint16_t cap);

/* Makes the next frame a key frame (a PLI or FIR from the receiver). */
void rtp_stream_key_frame(struct rtp_stream *s);

/* When the next packet is due (ns). */
uint64_t rtp_stream_next_timeout(const struct rtp_stream *s);

#endif

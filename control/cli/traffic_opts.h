/* SPDX-License-Identifier: MIT */
/*
 * traffic_opts: parses --traffic and --pattern, what travels on the mesh
 * edges (include/run_image.h: enum ri_traffic, enum ri_pattern).
 *
 *   udp                       plain UDP agent messages, no connection set-up
 *   dc                        a WebRTC peer connection per edge, agent
 *                             messages in DataChannel messages
 *   dc:rate=20k,size=200,mode=rexmit:3,pattern=routed:100
 *
 * dc keys: rate=R (k/M suffixes), size=BYTES (32..65536),
 * mode=reliable|unordered|rexmit:N (0..65535)|lifetime:MS (1..600000),
 * pattern=neighbors|routed|routed:M|echo. A key left out keeps the value of
 * the plain flag (--rate, --size, --pattern). Pure functions; no allocation.
 */
#ifndef SWARMGEN_CONTROL_TRAFFIC_OPTS_H
#define SWARMGEN_CONTROL_TRAFFIC_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run_image.h"

#define CTL_DC_SIZE_MIN 32u
#define CTL_DC_SIZE_MAX 65536u
#define CTL_UDP_SIZE_MAX 1400u
#define CTL_SIGNED_SIZE_MIN 96u /* 32-byte agent-message header + 64-byte Ed25519 signature */

/* DataChannel types as DCEP writes them (RFC 8832 §5.1). */
#define CTL_DC_RELIABLE 0x00u
#define CTL_DC_UNORDERED 0x80u
#define CTL_DC_REXMIT 0x01u
#define CTL_DC_TIMED 0x02u

struct ctl_pattern {
    uint8_t pattern;         /* enum ri_pattern */
    uint32_t sample;         /* routed:M: destinations drawn (0: as many as memory allows) */
};

struct ctl_traffic {
    uint8_t kind;            /* enum ri_traffic */
    uint8_t dc_type;         /* CTL_DC_* */
    uint32_t dc_reliability; /* rexmit: retransmissions; lifetime: ms */
    uint64_t rate;           /* 0: not given (--rate applies) */
    uint32_t size;           /* 0: not given (--size applies) */
    bool have_pattern;       /* pattern= given (overrides --pattern) */
    struct ctl_pattern pattern;
};

/* Parses "neighbors", "routed", "routed:M" (M in 1..131070) or "echo".
 * Returns 0 or -EINVAL with the reason in err. Whether echo fits the
 * traffic kind is the caller's decision. */
int ctl_pattern_parse(const char *s, struct ctl_pattern *out, char *err, size_t errlen);

/* The name of a pattern for reports ("routed", "neighbors", "echo"). */
const char *ctl_pattern_name(uint8_t pattern);

/* Parses a --traffic value into `out` (zeroed first; dc defaults to a
 * reliable ordered channel). Returns 0 or -EINVAL with the reason in err
 * (the caller prefixes the flag). */
int ctl_traffic_parse(const char *s, struct ctl_traffic *out, char *err, size_t errlen);

/* --media: what SRTP media every connection carries, both ways.
 *   none | audio | video | video:bitrate=25M,fps=60,payload=1172
 * bitrate: bits/s of each stream (8k..4G, k/M/G suffixes; default 1M),
 * fps: frames/s (1..1000, default 30), payload: RTP payload bytes per
 * packet at most (100..1400, default 1100: with the 12-byte header and a
 * 10-byte tag a 1,122-byte SRTP packet); keys for video only. */
struct ctl_media {
    uint8_t kind;            /* enum ri_media */
    uint32_t bitrate;        /* 0: the default */
    uint16_t fps, payload;   /* 0: the default */
};

/* Parses a --media value into out (zeroed first). Returns 0 or -EINVAL
 * with the reason in err. */
int ctl_media_parse(const char *s, struct ctl_media *out, char *err, size_t errlen);

/* "reliable", "unordered", "rexmit:3", "lifetime:500" into buf. */
void ctl_dc_mode_format(uint8_t dc_type, uint32_t dc_reliability, char *buf, size_t len);

#endif

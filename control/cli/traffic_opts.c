/* SPDX-License-Identifier: MIT */
#include "traffic_opts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int ctl_pattern_parse(const char *s, struct ctl_pattern *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    uint64_t v;
    if (strcmp(s, "routed") == 0) {
        out->pattern = RI_PATTERN_ROUTED;
    } else if (strncmp(s, "routed:", 7) == 0) {
        if (cli_parse_u64(s + 7, 1, 131070, &v) < 0) {
            snprintf(err, errlen, "'%s': routed:M needs a destination count M in 1..131070", s);
            return -EINVAL;
        }
        out->pattern = RI_PATTERN_ROUTED;
        out->sample = (uint32_t)v;
    } else if (strcmp(s, "neighbors") == 0) {
        out->pattern = RI_PATTERN_NEIGHBORS;
    } else if (strcmp(s, "echo") == 0) {
        out->pattern = RI_PATTERN_ECHO;
    } else {
        snprintf(err, errlen, "'%s' is not one of neighbors, routed, routed:M, echo", s);
        return -EINVAL;
    }
    return 0;
}

const char *ctl_pattern_name(uint8_t pattern)
{
    switch (pattern) {
    case RI_PATTERN_ROUTED:
        return "routed";
    case RI_PATTERN_NEIGHBORS:
        return "neighbors";
    case RI_PATTERN_ECHO:
        return "echo";
    default:
        return "unknown";
    }
}

static int parse_mode(const char *v, struct ctl_traffic *t, char *err, size_t errlen)
{
    uint64_t n;
    if (strcmp(v, "reliable") == 0) {
        t->dc_type = CTL_DC_RELIABLE;
    } else if (strcmp(v, "unordered") == 0) {
        t->dc_type = CTL_DC_UNORDERED;
    } else if (strncmp(v, "rexmit:", 7) == 0) {
        if (cli_parse_u64(v + 7, 0, 65535, &n) < 0) {
            snprintf(err, errlen, "mode=%s: rexmit:N needs a retransmission count in 0..65535", v);
            return -EINVAL;
        }
        t->dc_type = CTL_DC_REXMIT;
        t->dc_reliability = (uint32_t)n;
    } else if (strncmp(v, "lifetime:", 9) == 0) {
        if (cli_parse_u64(v + 9, 1, 600000, &n) < 0) {
            snprintf(err, errlen, "mode=%s: lifetime:MS needs a lifetime in 1..600000 ms", v);
            return -EINVAL;
        }
        t->dc_type = CTL_DC_TIMED;
        t->dc_reliability = (uint32_t)n;
    } else {
        snprintf(err, errlen, "mode=%s is not one of reliable, unordered, rexmit:N, lifetime:MS",
                 v);
        return -EINVAL;
    }
    return 0;
}

/* One KEY=VAL of a dc spec. */
static int parse_key(const char *kv, struct ctl_traffic *t, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv || !eq[1]) {
        snprintf(err, errlen, "'%s' is not KEY=VALUE (keys: rate, size, mode, pattern)", kv);
        return -EINVAL;
    }
    size_t klen = (size_t)(eq - kv);
    const char *v = eq + 1;
    uint64_t n;
    if (klen == 4 && strncmp(kv, "rate", 4) == 0) {
        if (cli_parse_u64(v, 1, 1000000000ull, &n) < 0) {
            snprintf(err, errlen, "rate=%s is not a message rate in 1..1G per second", v);
            return -EINVAL;
        }
        t->rate = n;
    } else if (klen == 4 && strncmp(kv, "size", 4) == 0) {
        if (cli_parse_u64(v, CTL_DC_SIZE_MIN, CTL_DC_SIZE_MAX, &n) < 0) {
            snprintf(err, errlen, "size=%s is not a DataChannel message size in %u..%u bytes", v,
                     CTL_DC_SIZE_MIN, CTL_DC_SIZE_MAX);
            return -EINVAL;
        }
        t->size = (uint32_t)n;
    } else if (klen == 4 && strncmp(kv, "mode", 4) == 0) {
        return parse_mode(v, t, err, errlen);
    } else if (klen == 7 && strncmp(kv, "pattern", 7) == 0) {
        char why[160];
        if (ctl_pattern_parse(v, &t->pattern, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "pattern=%s", why);
            return -EINVAL;
        }
        t->have_pattern = true;
    } else {
        snprintf(err, errlen, "'%.*s' is not a key of dc (rate, size, mode, pattern)", (int)klen,
                 kv);
        return -EINVAL;
    }
    return 0;
}

int ctl_traffic_parse(const char *s, struct ctl_traffic *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(s, "udp") == 0) {
        out->kind = RI_TRAFFIC_UDP;
        return 0;
    }
    if (strncmp(s, "udp:", 4) == 0) {
        snprintf(err, errlen, "'%s': udp takes no keys (use --rate, --size, --pattern)", s);
        return -EINVAL;
    }
    if (strcmp(s, "dc") != 0 && strncmp(s, "dc:", 3) != 0) {
        snprintf(err, errlen, "'%s' is not udp, dc or dc:KEY=VAL,...", s);
        return -EINVAL;
    }
    out->kind = RI_TRAFFIC_DC;
    out->dc_type = CTL_DC_RELIABLE;
    if (s[2] == '\0')
        return 0;
    char buf[256];
    if (strlen(s + 3) >= sizeof(buf) || !s[3]) {
        snprintf(err, errlen, "'%s': expected dc:KEY=VAL,... of at most 255 characters", s);
        return -EINVAL;
    }
    snprintf(buf, sizeof(buf), "%s", s + 3);
    bool seen[4] = {false};
    const char *const keys[4] = {"rate=", "size=", "mode=", "pattern="};
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        for (int k = 0; k < 4; k++) {
            if (strncmp(kv, keys[k], strlen(keys[k])) != 0)
                continue;
            if (seen[k]) {
                snprintf(err, errlen, "%.*s given twice", (int)strlen(keys[k]) - 1, keys[k]);
                return -EINVAL;
            }
            seen[k] = true;
        }
        if (parse_key(kv, out, err, errlen) < 0)
            return -EINVAL;
    }
    return 0;
}

int ctl_media_parse(const char *s, struct ctl_media *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(s, "none") == 0) {
        out->kind = RI_MEDIA_NONE;
        return 0;
    }
    if (strcmp(s, "audio") == 0) {
        out->kind = RI_MEDIA_AUDIO;
        return 0;
    }
    if (strcmp(s, "video") != 0 && strncmp(s, "video:", 6) != 0) {
        snprintf(err, errlen, "'%s' is not one of none, audio, video, video:KEY=VAL,...", s);
        return -EINVAL;
    }
    out->kind = RI_MEDIA_VIDEO;
    if (s[5] == '\0')
        return 0;
    char buf[128];
    if (strlen(s + 6) >= sizeof(buf) || !s[6]) {
        snprintf(err, errlen, "'%s': expected video:KEY=VAL,... of at most 127 characters", s);
        return -EINVAL;
    }
    snprintf(buf, sizeof(buf), "%s", s + 6);
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        uint64_t n;
        if (strncmp(kv, "bitrate=", 8) == 0) {
            if (out->bitrate || cli_parse_u64(kv + 8, 8000, 4000000000ull, &n) < 0) {
                snprintf(err, errlen, "%s: bitrate is once, in 8k..4G bits/s", kv);
                return -EINVAL;
            }
            out->bitrate = (uint32_t)n;
        } else if (strncmp(kv, "fps=", 4) == 0) {
            if (out->fps || cli_parse_u64(kv + 4, 1, 1000, &n) < 0) {
                snprintf(err, errlen, "%s: fps is once, in 1..1000 frames/s", kv);
                return -EINVAL;
            }
            out->fps = (uint16_t)n;
        } else if (strncmp(kv, "payload=", 8) == 0) {
            if (out->payload || cli_parse_u64(kv + 8, 100, 1400, &n) < 0) {
                snprintf(err, errlen, "%s: payload is once, in 100..1400 bytes", kv);
                return -EINVAL;
            }
            out->payload = (uint16_t)n;
        } else {
            snprintf(err, errlen, "'%s' is not a key of video (bitrate, fps, payload)", kv);
            return -EINVAL;
        }
    }
    return 0;
}

void ctl_dc_mode_format(uint8_t dc_type, uint32_t dc_reliability, char *buf, size_t len)
{
    switch (dc_type) {
    case CTL_DC_RELIABLE:
        snprintf(buf, len, "reliable");
        break;
    case CTL_DC_UNORDERED:
        snprintf(buf, len, "unordered");
        break;
    case CTL_DC_REXMIT:
        snprintf(buf, len, "rexmit:%u", dc_reliability);
        break;
    case CTL_DC_TIMED:
        snprintf(buf, len, "lifetime:%u", dc_reliability);
        break;
    default:
        snprintf(buf, len, "type 0x%02x", dc_type);
        break;
    }
}

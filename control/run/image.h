/* SPDX-License-Identifier: MIT */
/*
 * ctl_image: creates, fills and removes the shared-memory run image
 * (include/run_image.h) on the control side.
 *
 * The image lives in a file under /dev/shm named after the control pid, so
 * that the dataplane can map it by path; control unlinks it when the run ends
 * (also on Ctrl-C), so no file is left behind. Not thread-safe.
 */
#ifndef SWARMGEN_CONTROL_IMAGE_H
#define SWARMGEN_CONTROL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "run_image.h"

struct ctl_image {
    struct ri_header *hdr; /* mapping, NULL when not created */
    uint64_t size;
    char path[96];
};

/* Computes the header (magic, version, section offsets and sizes) for
 * `cfg` into `h`. Pure. Returns 0, or -E2BIG when the image would exceed
 * 2^46 bytes. */
int ctl_image_layout(const struct ri_config *cfg, struct ri_header *h);

/* The UDP port (49152..65535) of endpoint `side` (0: agent a, 1: agent b)
 * of edge e, as control writes it into the EDGES section: a fixed hash of
 * the edge, so captures and tests can name a connection's 5-tuple. Pure. */
uint16_t ctl_edge_port(uint64_t e, int side);

/* Creates the shared-memory file, maps it, writes the header and config;
 * every other section is zero. On failure `err` holds the reason.
 * Returns 0, -EINVAL (a config value the dataplane's check refuses:
 * dtls_versions or ext_dtls_versions above RI_DTLS_AUTO), -E2BIG or a
 * negative errno from the system calls. */
int ctl_image_create(struct ctl_image *img, const struct ri_config *cfg, char *err, size_t errlen);

/* Unmaps and unlinks; safe to call twice or on a never-created image. */
void ctl_image_destroy(struct ctl_image *img);

/* Typed access to the sections of a created image. */
static inline struct ri_config *ctl_image_config(const struct ctl_image *img)
{
    return (struct ri_config *)ri_section(img->hdr, RI_SEC_CONFIG);
}

static inline struct ri_command *ctl_image_command(const struct ctl_image *img)
{
    return (struct ri_command *)ri_section(img->hdr, RI_SEC_COMMAND);
}

static inline struct ri_metrics *ctl_image_metrics(const struct ctl_image *img)
{
    return (struct ri_metrics *)ri_section(img->hdr, RI_SEC_METRICS);
}

#endif

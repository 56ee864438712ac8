/* SPDX-License-Identifier: MIT */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rng.h"

static uint64_t align_up(uint64_t v)
{
    return (v + RI_ALIGN - 1) / RI_ALIGN * RI_ALIGN;
}

int ctl_image_layout(const struct ri_config *cfg, struct ri_header *h)
{
    uint64_t n = cfg->n_agents, e = cfg->n_edges, d = cfg->n_dests;
    uint64_t size[RI_SEC_COUNT] = {
        [RI_SEC_CONFIG] = sizeof(struct ri_config),
        [RI_SEC_AGENTS] = n * sizeof(struct ri_agent),
        [RI_SEC_ADJ_OFF] = (n + 1) * sizeof(uint32_t),
        [RI_SEC_ADJ] = 2 * e * sizeof(uint32_t),
        [RI_SEC_ADJ_EDGE] = 2 * e * sizeof(uint32_t),
        [RI_SEC_EDGES] = e * sizeof(struct ri_edge),
        [RI_SEC_DESTS] = d * sizeof(uint32_t),
        [RI_SEC_DEST_INDEX] = n * sizeof(int32_t),
        [RI_SEC_ROUTES] = RI_ROUTES_BYTES(n, d),
        [RI_SEC_COMMAND] = sizeof(struct ri_command),
        [RI_SEC_METRICS] = (uint64_t)cfg->n_workers * sizeof(struct ri_metrics),
        [RI_SEC_EXTERNAL] = sizeof(struct ri_external),
        [RI_SEC_FINGERPRINTS] = n * 32,
        [RI_SEC_TARGET] = sizeof(struct ri_target) + (uint64_t)cfg->target_slots * sizeof(struct ri_target_slot),
        [RI_SEC_RELAY] = sizeof(struct ri_relay),
        [RI_SEC_AGENT_STATS] = (uint64_t)cfg->n_workers * ri_agent_block_bytes(cfg->n_agents),
    };
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, RI_MAGIC, 8);
    h->version = RI_VERSION;
    h->header_size = sizeof(*h);
    h->n_sections = RI_SEC_COUNT;
    h->metrics_size = sizeof(struct ri_metrics);
    uint64_t off = align_up(sizeof(*h));
    for (int i = 0; i < RI_SEC_COUNT; i++) {
        if (size[i] > (UINT64_C(1) << 46))
            return -E2BIG;
        h->sec[i].offset = off;
        h->sec[i].size = size[i];
        off = align_up(off + size[i]);
    }
    if (off > (UINT64_C(1) << 46))
        return -E2BIG;
    h->image_size = off;
    return 0;
}

int ctl_image_create(struct ctl_image *img, const struct ri_config *cfg, char *err, size_t errlen)
{
    static unsigned serial;
    struct ri_header h;
    memset(img, 0, sizeof(*img));
    if (cfg->dtls_versions > RI_DTLS_AUTO || cfg->ext_dtls_versions > RI_DTLS_AUTO) {
        snprintf(err, errlen, "run config: DTLS versions %u/%u are not RI_DTLS_* bits", cfg->dtls_versions,
                 cfg->ext_dtls_versions);
        return -EINVAL;
    }
    int rc = ctl_image_layout(cfg, &h);
    if (rc < 0) {
        snprintf(err, errlen, "run image too large");
        return rc;
    }
    snprintf(img->path, sizeof(img->path), "/dev/shm/swarmgen-%d-%u.img", (int)getpid(),
             serial++);
    int fd = open(img->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", img->path, strerror(errno));
        return rc;
    }
    if (ftruncate(fd, (off_t)h.image_size) < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: cannot size to %llu bytes: %s", img->path,
                 (unsigned long long)h.image_size, strerror(errno));
        close(fd);
        unlink(img->path);
        return rc;
    }
    void *map = mmap(NULL, h.image_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        rc = -errno;
        snprintf(err, errlen, "%s: mmap: %s", img->path, strerror(errno));
        unlink(img->path);
        return rc;
    }
    img->hdr = map;
    img->size = h.image_size;
    memcpy(map, &h, sizeof(h));
    memcpy(ri_section(img->hdr, RI_SEC_CONFIG), cfg, sizeof(*cfg));
    return 0;
}

void ctl_image_destroy(struct ctl_image *img)
{
    if (img->hdr) {
        munmap(img->hdr, img->size);
        img->hdr = NULL;
    }
    if (img->path[0]) {
        unlink(img->path);
        img->path[0] = '\0';
    }
}

uint16_t ctl_edge_port(uint64_t e, int side)
{
    uint64_t s = e * 2 + (uint64_t)side + 0x5347;
    return (uint16_t)(49152 + ctl_splitmix64(&s) % 16384);
}

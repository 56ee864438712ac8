/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the run-image check (include/run_image.h: ri_check),
 * what swarmgen-dp and swarmgen-usrsctp run on a mapped image before they
 * bind a view to it and read its sections.
 *
 * A valid image for a small run (8 agents, 12 edges, 8 destinations, 1
 * worker) is laid out once with ctl_image_layout (control/run/image.c);
 * each input is XORed over its first bytes (header, then config: an empty
 * input is the valid image). The mapping's length: the image's own size,
 * or, when the input's first byte has bit 0 set, the (mutated) header's
 * image_size capped at 4 MiB. The mapping is a buffer of exactly that
 * length, so a read past it is ASan's to catch.
 *
 * Checked: the result is 0, -EBADMSG, -EPROTO or -ERANGE; an image that
 * passes has every section the config implies inside the mapping: the
 * target reads the first and last element of each through ri_view_bind. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAP_CAP (4u << 20)

static uint8_t *valid;
static uint64_t valid_len;

static void build_once(void)
{
    struct ri_config c;
    memset(&c, 0, sizeof(c));
    c.n_agents = 8;
    c.n_workers = 1;
    c.n_edges = 12;
    c.n_dests = 8;
    c.msg_size = 64;
    struct ri_header h;
    if (ctl_image_layout(&c, &h) != 0 || h.image_size > MAP_CAP) {
        fprintf(stderr, "fuzz_image: the valid image is %llu bytes, over %u\n",
                (unsigned long long)h.image_size, MAP_CAP);
        abort();
    }
    valid = calloc(1, h.image_size);
    if (!valid)
        abort();
    memcpy(valid, &h, sizeof(h));
    memcpy(valid + h.sec[RI_SEC_CONFIG].offset, &c, sizeof(c));
    valid_len = h.image_size;
    if (ri_check(valid, valid_len) != 0)
        abort();
}

static volatile uint8_t sink;

static void touch(const void *p, uint64_t bytes)
{
    if (bytes == 0)
        return;
    sink ^= ((const volatile uint8_t *)p)[0];
    sink ^= ((const volatile uint8_t *)p)[bytes - 1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one mapping per length, kept between inputs (holding the valid image)
     * so that an input costs its own bytes, not a copy of the whole image */
    static uint8_t *map;
    static uint64_t map_len;
    if (!valid)
        build_once();
    struct ri_header h;
    memcpy(&h, valid, sizeof(h));
    for (size_t i = 0; i < size && i < sizeof(h); i++)
        ((uint8_t *)&h)[i] ^= data[i];
    uint64_t len = valid_len;
    if (size > 0 && (data[0] & 1))
        len = h.image_size < MAP_CAP ? h.image_size : MAP_CAP;
    if (!map || len != map_len) {
        free(map);
        map = malloc(len ? len : 1);
        if (!map)
            abort();
        memcpy(map, valid, len < valid_len ? len : valid_len);
        if (len > valid_len)
            memset(map + valid_len, 0, len - valid_len);
        map_len = len;
    }
    uint64_t n = size < len ? size : len;
    if (n > valid_len)
        n = valid_len;
    for (uint64_t i = 0; i < n; i++)
        map[i] ^= data[i];

    int rc = ri_check(map, len);
    if (rc != 0 && rc != -EBADMSG && rc != -EPROTO && rc != -ERANGE)
        __builtin_trap();
    if (rc == 0) {
        struct ri_view v;
        ri_view_bind(&v, (struct ri_header *)map, len);
        uint64_t na = v.cfg->n_agents, ne = v.cfg->n_edges, nd = v.cfg->n_dests;
        touch(v.cfg, sizeof(*v.cfg));
        touch(v.agents, na * sizeof(*v.agents));
        touch(v.adj_off, (na + 1) * 4);
        touch(v.adj, 2 * ne * 4);
        touch(v.adj_edge, 2 * ne * 4);
        touch(v.edges, ne * sizeof(*v.edges));
        touch(v.dests, nd * 4);
        touch(v.dest_index, na * 4);
        touch(v.routes, na * nd * 2);
        touch(v.cmd, sizeof(*v.cmd));
        touch(v.metrics, v.cfg->n_workers * sizeof(*v.metrics));
        touch(v.fingerprints, na * 32);
        touch(ri_section(v.hdr, RI_SEC_EXTERNAL), sizeof(struct ri_external));
    }
    for (uint64_t i = 0; i < n; i++)
        map[i] ^= data[i]; /* back to the valid image */
    return 0;
}

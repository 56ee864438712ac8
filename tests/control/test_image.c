/* SPDX-License-Identifier: MIT */
/* Run image: layout, version and bounds checks on both sides' contract. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "met_stats.h"

static struct ri_config small_config(void)
{
    struct ri_config c;
    memset(&c, 0, sizeof(c));
    c.n_agents = 100;
    c.n_workers = 2;
    c.n_edges = 1000;
    c.n_dests = 100;
    c.msg_size = 64;
    return c;
}

Test(run_image, layout_is_aligned_disjoint_and_checks)
{
    struct ri_config c = small_config();
    struct ri_header h;
    cr_assert_eq(ctl_image_layout(&c, &h), 0);
    uint64_t prev_end = sizeof(h);
    for (int i = 0; i < RI_SEC_COUNT; i++) {
        cr_assert_eq(h.sec[i].offset % RI_ALIGN, 0, "section %d aligned", i);
        cr_assert_geq(h.sec[i].offset, prev_end, "section %d after the previous", i);
        prev_end = h.sec[i].offset + h.sec[i].size;
    }
    cr_assert_leq(prev_end, h.image_size);
    cr_assert_eq(h.sec[RI_SEC_ROUTES].size, 100 * 100 * 2);
    cr_assert_eq(h.sec[RI_SEC_METRICS].size, 2 * sizeof(struct ri_metrics));
    cr_assert_eq(sizeof(struct ri_metrics) % RI_ALIGN, 0, "metrics blocks stay cache aligned");
}

Test(run_image, created_image_passes_the_dataplane_check)
{
    struct ri_config c = small_config();
    struct ctl_image img;
    char err[128];
    cr_assert_eq(ctl_image_create(&img, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(ri_check(img.hdr, img.size), 0);
    cr_assert_eq(ctl_image_config(&img)->n_agents, 100);
    struct stat st;
    cr_assert_eq(stat(img.path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, img.size);
    char path[sizeof(img.path)];
    strcpy(path, img.path);
    ctl_image_destroy(&img);
    cr_assert_neq(stat(path, &st), 0, "image file removed");
    ctl_image_destroy(&img); /* twice is harmless */
}

Test(run_image, check_rejects_foreign_old_and_truncated_images)
{
    struct ri_config c = small_config();
    struct ri_header h;
    ctl_image_layout(&c, &h);
    char *buf = calloc(1, h.image_size);
    cr_assert_not_null(buf);
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + h.sec[RI_SEC_CONFIG].offset, &c, sizeof(c));
    cr_assert_eq(ri_check(buf, h.image_size), 0);
    cr_assert_eq(ri_check(buf, h.image_size - 1), -ERANGE, "mapping shorter than the image");
    cr_assert_eq(ri_check(buf, 10), -EBADMSG);

    struct ri_header *hp = (struct ri_header *)buf;
    hp->version = RI_VERSION + 1;
    cr_assert_eq(ri_check(buf, h.image_size), -EPROTO);
    hp->version = RI_VERSION;
    hp->metrics_size--;
    cr_assert_eq(ri_check(buf, h.image_size), -EPROTO);
    hp->metrics_size++;
    hp->magic[0] = 'X';
    cr_assert_eq(ri_check(buf, h.image_size), -EBADMSG);
    hp->magic[0] = 'S';
    hp->sec[RI_SEC_ROUTES].size = h.image_size; /* runs past the end */
    cr_assert_eq(ri_check(buf, h.image_size), -ERANGE);
    hp->sec[RI_SEC_ROUTES].size = 10; /* smaller than n_agents * n_dests */
    cr_assert_eq(ri_check(buf, h.image_size), -ERANGE);
    hp->sec[RI_SEC_ROUTES].size = h.sec[RI_SEC_ROUTES].size;
    hp->sec[RI_SEC_AGENTS].offset += 8; /* misaligned */
    cr_assert_eq(ri_check(buf, h.image_size), -ERANGE);
    free(buf);
}

Test(run_image, dtls_versions_out_of_range_are_refused_by_both_checks)
{
    struct ri_config c = small_config();
    struct ri_header h;
    ctl_image_layout(&c, &h);
    char *buf = calloc(1, h.image_size);
    cr_assert_not_null(buf);
    memcpy(buf, &h, sizeof(h));
    struct ri_config *ic = (struct ri_config *)(buf + h.sec[RI_SEC_CONFIG].offset);
    for (unsigned v = 0; v <= 255; v++) {
        for (int which = 0; which < 2; which++) {
            c.dtls_versions = which == 0 ? (uint8_t)v : 0;
            c.ext_dtls_versions = which == 1 ? (uint8_t)v : 0;
            memcpy(ic, &c, sizeof(c));
            int want = v <= RI_DTLS_AUTO ? 0 : -EPROTO;
            cr_assert_eq(ri_check(buf, h.image_size), want, "%s %u", which ? "ext_dtls_versions" : "dtls_versions", v);
        }
    }
    free(buf);
    /* control refuses to write such an image at all */
    struct ctl_image img;
    char err[128];
    c = small_config();
    c.dtls_versions = 4;
    cr_assert_eq(ctl_image_create(&img, &c, err, sizeof(err)), -EINVAL);
    cr_assert_not_null(strstr(err, "DTLS"), "%s", err);
    c.dtls_versions = RI_DTLS_V12;
    c.ext_dtls_versions = 7;
    cr_assert_eq(ctl_image_create(&img, &c, err, sizeof(err)), -EINVAL);
    c.ext_dtls_versions = RI_DTLS_V13;
    cr_assert_eq(ctl_image_create(&img, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(ri_check(img.hdr, img.size), 0);
    cr_assert_eq(ctl_image_config(&img)->dtls_versions, RI_DTLS_V12);
    cr_assert_eq(ctl_image_config(&img)->ext_dtls_versions, RI_DTLS_V13);
    ctl_image_destroy(&img);
    cr_assert_eq(ri_dtls_offer(0), RI_DTLS_AUTO, "0 in an image (hand-built) means auto");
    cr_assert_eq(ri_dtls_index(0xfefd), 0);
    cr_assert_eq(ri_dtls_index(0xfefc), 1);
    cr_assert_eq(ri_dtls_index(0), 0);
}

Test(run_image, snapshot_protocol_reads_published_copy)
{
    struct ri_config c = small_config();
    struct ctl_image img;
    char err[128];
    cr_assert_eq(ctl_image_create(&img, &c, err, sizeof(err)), 0, "%s", err);
    struct ri_metrics *m = ctl_image_metrics(&img);
    struct ri_command *cmd = ctl_image_command(&img);
    struct ctl_snap s;
    cr_assert_eq(ctl_snap_init(&s, 2), 0);
    /* nobody answers: times out and falls back to the live counters */
    m[0].live.msgs_sent = 5;
    m[1].live.msgs_sent = 7;
    cr_assert_eq(ctl_snap_take(&s, cmd, m, false, 2000000), -ETIMEDOUT);
    cr_assert_eq(s.total.msgs_sent, 12);
    /* published copies are used, not live values */
    uint64_t next = cmd->snap_req + 1;
    for (int w = 0; w < 2; w++) {
        m[w].snap = m[w].live;
        m[w].snap.msgs_sent = 100;
        m[w].snap_seq = next;
    }
    cr_assert_eq(ctl_snap_take(&s, cmd, m, false, 2000000), 0);
    cr_assert_eq(s.total.msgs_sent, 200);
    ctl_snap_free(&s);
    ctl_image_destroy(&img);
}

/* SPDX-License-Identifier: MIT */
/*
 * run_image_map: how a dataplane process (swarmgen-dp, swarmgen-usrsctp)
 * maps the run image control wrote and refuses one it must not touch.
 * Header-only.
 */
#ifndef SWARMGEN_RUN_IMAGE_MAP_H
#define SWARMGEN_RUN_IMAGE_MAP_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_image.h"

/* Maps the image at `path` shared and read-write and checks it (ri_check).
 * 0 with *hdr and *size set, or a negative errno with a one-line reason
 * naming --image in err; nothing stays mapped on failure. */
static inline int ri_map(const char *path, struct ri_header **hdr, uint64_t *size, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        snprintf(err, errlen, "--image %s: %s", path, strerror(-rc));
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(struct ri_header)) {
        snprintf(err, errlen, "--image %s: not a run image (too small)", path);
        close(fd);
        return -EBADMSG;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        int rc = -errno;
        snprintf(err, errlen, "--image %s: mmap: %s", path, strerror(-rc));
        return rc;
    }
    int rc = ri_check(map, (uint64_t)st.st_size);
    if (rc < 0) {
        snprintf(err, errlen, "--image %s: %s", path,
                 rc == -EBADMSG  ? "not a run image"
                 : rc == -EPROTO ? "run image of another version or layout"
                                 : "run image section out of bounds");
        munmap(map, (size_t)st.st_size);
        return rc;
    }
    *hdr = map;
    *size = (uint64_t)st.st_size;
    return 0;
}

#endif

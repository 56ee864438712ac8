/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input: how the datagram fuzz targets (fuzz_sctp, fuzz_pc) read
 * their input: a sequence of records, each a 2-byte big-endian length
 * (taken modulo the caller's buffer), one byte of flags for the target to
 * steer with, then that many bytes (fewer when the input ends first).
 */
#ifndef SWARMGEN_TESTS_FUZZ_INPUT_H
#define SWARMGEN_TESTS_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Copies the next record's bytes into buf (cap bytes) and sets *len and
 * *flags; false when fewer than 3 bytes are left at *off. */
static inline bool fuzz_next(const uint8_t *data, size_t size, size_t *off, uint8_t *buf, size_t cap, size_t *len,
                             uint8_t *flags)
{
    if (*off + 3 > size)
        return false;
    size_t n = (size_t)(data[*off] << 8 | data[*off + 1]) % cap;
    *flags = data[*off + 2];
    *off += 3;
    if (n > size - *off)
        n = size - *off;
    memcpy(buf, data + *off, n);
    *off += n;
    *len = n;
    return true;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * json_read: a small strict JSON reader (RFC 8259) for swarmgen's own
 * reports: parses a document into a flat node array and looks numbers up
 * by dotted path ("latency_us.p99"). Not thread-safe per document.
 */
#ifndef SWARMGEN_CONTROL_JSON_READ_H
#define SWARMGEN_CONTROL_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>

enum jr_type { JR_NULL, JR_BOOL, JR_NUM, JR_STR, JR_ARR, JR_OBJ };

struct jr_node {
    enum jr_type type;
    const char *key;     /* member name inside an object (points into the text), or NULL */
    size_t key_len;
    double num;          /* JR_NUM, JR_BOOL (0/1) */
    int parent;          /* index, -1 for the root */
};

struct jr_doc {
    char *text;          /* owned */
    struct jr_node *node;
    int n, cap;
};

/* Parses `text` (copied). Returns 0, -EINVAL (with the byte offset of the
 * error in *err_off) or -ENOMEM. */
int jr_parse(struct jr_doc *d, const char *text, size_t len, size_t *err_off);

/* Reads a whole file and parses it. -errno for I/O errors. */
int jr_load(struct jr_doc *d, const char *path, size_t *err_off);

void jr_free(struct jr_doc *d);

/* The number at a dotted path of object members from the root. */
bool jr_number(const struct jr_doc *d, const char *path, double *out);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * json_read: a small strict JSON reader (RFC 8259) for swarmgen's own
 * reports: parses a document into a flat node array (in document order,
 * each node pointing at its parent), looks numbers up by dotted path
 * ("latency_us.p99"), walks a node's children, and keeps the text of
 * strings and numbers so whole numbers read back exactly. Not thread-safe
 * per document.
 */
#ifndef SWARMGEN_CONTROL_JSON_READ_H
#define SWARMGEN_CONTROL_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jr_type { JR_NULL, JR_BOOL, JR_NUM, JR_STR, JR_ARR, JR_OBJ };

struct jr_node {
    enum jr_type type;
    const char *key;     /* member name inside an object (points into the text), or NULL */
    size_t key_len;
    double num;          /* JR_NUM, JR_BOOL (0/1) */
    int parent;          /* index, -1 for the root */
    const char *raw;     /* JR_STR: the bytes between the quotes, escapes left as
                            written; JR_NUM: the number as written (points into
                            the text); NULL for the other types */
    size_t raw_len;
};

struct jr_doc {
    char *text;          /* owned */
    struct jr_node *node;
    int n, cap;
};

/* Reads the whole file at `path` into a NUL-terminated buffer (*text, the
 * caller frees it) of *len bytes (len may be NULL). Returns 0, -errno when
 * it cannot be opened, or -ENOMEM (out of memory, or the file reaches `max`
 * bytes). */
int jr_read_file(const char *path, size_t max, char **text, size_t *len);

/* Parses `text` (copied). Returns 0, -EINVAL (with the byte offset of the
 * error in *err_off) or -ENOMEM. */
int jr_parse(struct jr_doc *d, const char *text, size_t len, size_t *err_off);

/* Reads a whole file (less than 64 MiB) and parses it. -errno for I/O
 * errors. */
int jr_load(struct jr_doc *d, const char *path, size_t *err_off);

void jr_free(struct jr_doc *d);

/* The member `key` of object node `obj`; -1 when obj is not an object
 * (or -1) or has no such member. */
int jr_member(const struct jr_doc *d, int obj, const char *key);

/* Element `idx` of array node `arr`; -1 when arr is not an array (or -1)
 * or is shorter. */
int jr_element(const struct jr_doc *d, int arr, uint32_t idx);

/* The number at a dotted path of object members from the root. */
bool jr_number(const struct jr_doc *d, const char *path, double *out);

/* The node at a dotted path of object members below node `from` (0: the
 * root); `from` itself for an empty path; -1 when a member is missing. */
int jr_find(const struct jr_doc *d, int from, const char *path);

/* The next child of `parent` (object member or array element) after node
 * `after` (pass `parent` for the first), in document order; -1 after the
 * last. Children of one node come in the order of the text. */
int jr_next_child(const struct jr_doc *d, int parent, int after);

/* The number node `node` as an exact unsigned integer: true only when it
 * is written as a plain decimal integer (no sign, fraction or exponent)
 * that fits uint64_t. */
bool jr_u64(const struct jr_doc *d, int node, uint64_t *out);

/* True when node `node` is a string whose raw bytes are exactly `s`
 * (strings swarmgen writes need no escapes, so raw is the value). */
bool jr_str_is(const struct jr_doc *d, int node, const char *s);

#endif

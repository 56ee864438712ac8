/* SPDX-License-Identifier: MIT */
/*
 * json: a small streaming JSON writer for reports and --json outputs.
 *
 * The writer tracks nesting and commas so callers only say what to write.
 * Keys are written with json_key() before a value inside objects. Strings are
 * escaped per RFC 8259. Non-finite doubles are written as null. The writer
 * never allocates; nesting is limited to JSON_MAX_DEPTH levels (deeper calls
 * are ignored and flagged in `err`). Not thread-safe: one writer per thread.
 */
#ifndef SWARMGEN_CONTROL_JSON_H
#define SWARMGEN_CONTROL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
    FILE *f;
    int depth;
    bool need_comma[JSON_MAX_DEPTH];
    bool after_key;
    bool pretty;
    bool compact; /* json_compact(): pretty is off for now */
    bool err; /* set on nesting overflow or misuse */
};

/* Starts a writer on `f` (not owned). `pretty` indents with two spaces. */
void json_init(struct json_writer *w, FILE *f, bool pretty);
void json_obj_begin(struct json_writer *w);
void json_obj_end(struct json_writer *w);
void json_arr_begin(struct json_writer *w);
void json_arr_end(struct json_writer *w);
/* Writes an object key; the next call writes its value. */
void json_key(struct json_writer *w, const char *key);
void json_str(struct json_writer *w, const char *s);
void json_u64(struct json_writer *w, uint64_t v);
void json_i64(struct json_writer *w, int64_t v);
/* Writes `v` with up to `prec` significant digits (%.*g); NaN/inf as null. */
void json_dbl(struct json_writer *w, double v, int prec);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
/* Writes a JSON string whose content is already escaped: the `len` raw
 * bytes at `raw` go between the quotes unchanged (a string read back by
 * json_read.h, written again). */
void json_str_raw(struct json_writer *w, const char *raw, size_t len);
/* Writes `len` bytes of already encoded JSON value text (a number read
 * back by json_read.h, written again) unchanged. */
void json_raw(struct json_writer *w, const char *text, size_t len);
/* Writes what follows (until json_compact(w, false)) without newlines or
 * indentation: long arrays of small items stay on one line. */
void json_compact(struct json_writer *w, bool on);
/* Ends the document with a newline. Returns 0, or -EIO when a write failed
 * or -EINVAL when the nesting was misused. */
int json_finish(struct json_writer *w);

/* Key-value shorthands for objects. */
void json_kv_str(struct json_writer *w, const char *k, const char *v);
void json_kv_u64(struct json_writer *w, const char *k, uint64_t v);
void json_kv_dbl(struct json_writer *w, const char *k, double v, int prec);
void json_kv_bool(struct json_writer *w, const char *k, bool v);

#endif

/* SPDX-License-Identifier: MIT */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>

void json_init(struct json_writer *w, FILE *f, bool pretty)
{
    w->f = f;
    w->depth = 0;
    w->need_comma[0] = false;
    w->after_key = false;
    w->pretty = pretty;
    w->compact = false;
    w->err = false;
}

static void newline_indent(struct json_writer *w)
{
    if (!w->pretty || w->compact)
        return;
    fputc('\n', w->f);
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->f);
}

/* Called before every value or key: writes the separator it needs. */
static void before_item(struct json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        fputc(',', w->f);
    if (w->depth > 0)
        newline_indent(w);
    w->need_comma[w->depth] = true;
}

static void open(struct json_writer *w, char c)
{
    before_item(w);
    fputc(c, w->f);
    if (w->depth + 1 >= JSON_MAX_DEPTH) {
        w->err = true;
        return;
    }
    w->depth++;
    w->need_comma[w->depth] = false;
}

static void close(struct json_writer *w, char c)
{
    if (w->depth == 0) {
        w->err = true;
        return;
    }
    bool had_items = w->need_comma[w->depth];
    w->depth--;
    if (had_items)
        newline_indent(w);
    fputc(c, w->f);
}

void json_obj_begin(struct json_writer *w)
{
    open(w, '{');
}

void json_obj_end(struct json_writer *w)
{
    close(w, '}');
}

void json_arr_begin(struct json_writer *w)
{
    open(w, '[');
}

void json_arr_end(struct json_writer *w)
{
    close(w, ']');
}

static void write_escaped(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void json_key(struct json_writer *w, const char *key)
{
    before_item(w);
    write_escaped(w->f, key);
    fputs(w->pretty ? ": " : ":", w->f);
    w->after_key = true;
}

void json_str(struct json_writer *w, const char *s)
{
    before_item(w);
    write_escaped(w->f, s ? s : "");
}

void json_u64(struct json_writer *w, uint64_t v)
{
    before_item(w);
    fprintf(w->f, "%" PRIu64, v);
}

void json_i64(struct json_writer *w, int64_t v)
{
    before_item(w);
    fprintf(w->f, "%" PRId64, v);
}

void json_dbl(struct json_writer *w, double v, int prec)
{
    before_item(w);
    if (!isfinite(v))
        fputs("null", w->f);
    else
        fprintf(w->f, "%.*g", prec, v);
}

void json_bool(struct json_writer *w, bool v)
{
    before_item(w);
    fputs(v ? "true" : "false", w->f);
}

void json_null(struct json_writer *w)
{
    before_item(w);
    fputs("null", w->f);
}

void json_str_raw(struct json_writer *w, const char *raw, size_t len)
{
    before_item(w);
    fputc('"', w->f);
    fwrite(raw, 1, len, w->f);
    fputc('"', w->f);
}

void json_raw(struct json_writer *w, const char *text, size_t len)
{
    before_item(w);
    fwrite(text, 1, len, w->f);
}

void json_compact(struct json_writer *w, bool on)
{
    w->compact = on;
}

int json_finish(struct json_writer *w)
{
    fputc('\n', w->f);
    if (w->err || w->depth != 0)
        return -EINVAL;
    return ferror(w->f) ? -EIO : 0;
}

void json_kv_str(struct json_writer *w, const char *k, const char *v)
{
    json_key(w, k);
    json_str(w, v);
}

void json_kv_u64(struct json_writer *w, const char *k, uint64_t v)
{
    json_key(w, k);
    json_u64(w, v);
}

void json_kv_dbl(struct json_writer *w, const char *k, double v, int prec)
{
    json_key(w, k);
    json_dbl(w, v, prec);
}

void json_kv_bool(struct json_writer *w, const char *k, bool v)
{
    json_key(w, k);
    json_bool(w, v);
}

/* SPDX-License-Identifier: MIT */
#include "json_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    struct jr_doc *d;
    const char *s, *end;
    int depth;
};

static void ws(struct parser *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\n' || *p->s == '\r' || *p->s == '\t'))
        p->s++;
}

static int add(struct parser *p, enum jr_type t, int parent, const char *key, size_t key_len)
{
    struct jr_doc *d = p->d;
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 256;
        struct jr_node *nn = realloc(d->node, (size_t)cap * sizeof(*nn));
        if (!nn)
            return -ENOMEM;
        d->node = nn;
        d->cap = cap;
    }
    d->node[d->n] = (struct jr_node){t, key, key_len, 0, parent, NULL, 0};
    return d->n++;
}

/* A string; sets start and len to its raw bytes (escapes left as they are). */
static int string(struct parser *p, const char **start, size_t *len)
{
    if (p->s >= p->end || *p->s != '"')
        return -EINVAL;
    const char *b = ++p->s;
    while (p->s < p->end && *p->s != '"') {
        if ((unsigned char)*p->s < 0x20)
            return -EINVAL;
        if (*p->s == '\\') {
            p->s++;
            if (p->s >= p->end || !strchr("\"\\/bfnrtu", *p->s))
                return -EINVAL;
        }
        p->s++;
    }
    if (p->s >= p->end)
        return -EINVAL;
    *start = b;
    *len = (size_t)(p->s - b);
    p->s++;
    return 0;
}

static int value(struct parser *p, int parent, const char *key, size_t key_len)
{
    ws(p);
    if (p->s >= p->end || ++p->depth > 64)
        return -EINVAL;
    int rc = 0;
    char c = *p->s;
    if (c == '{' || c == '[') {
        int me = add(p, c == '{' ? JR_OBJ : JR_ARR, parent, key, key_len);
        if (me < 0)
            return me;
        p->s++;
        ws(p);
        char close = c == '{' ? '}' : ']';
        if (p->s < p->end && *p->s == close) {
            p->s++;
        } else {
            for (;;) {
                const char *k = NULL;
                size_t kl = 0;
                if (c == '{') {
                    ws(p);
                    if (string(p, &k, &kl) < 0)
                        return -EINVAL;
                    ws(p);
                    if (p->s >= p->end || *p->s++ != ':')
                        return -EINVAL;
                }
                rc = value(p, me, k, kl);
                if (rc < 0)
                    return rc;
                ws(p);
                if (p->s < p->end && *p->s == ',') {
                    p->s++;
                    continue;
                }
                if (p->s < p->end && *p->s == close) {
                    p->s++;
                    break;
                }
                return -EINVAL;
            }
        }
    } else if (c == '"') {
        const char *b;
        size_t l;
        if (string(p, &b, &l) < 0)
            return -EINVAL;
        rc = add(p, JR_STR, parent, key, key_len);
        if (rc >= 0) {
            p->d->node[rc].raw = b;
            p->d->node[rc].raw_len = l;
        }
    } else if (!strncmp(p->s, "true", 4) || !strncmp(p->s, "false", 5) || !strncmp(p->s, "null", 4)) {
        bool t = *p->s == 't', n = *p->s == 'n';
        p->s += t || n ? 4 : 5;
        rc = add(p, n ? JR_NULL : JR_BOOL, parent, key, key_len);
        if (rc >= 0)
            p->d->node[rc].num = t;
    } else {
        /* JSON number grammar */
        const char *b = p->s;
        if (p->s < p->end && *p->s == '-')
            p->s++;
        if (p->s >= p->end || *p->s < '0' || *p->s > '9')
            return -EINVAL;
        if (*p->s == '0')
            p->s++;
        else
            while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
                p->s++;
        if (p->s < p->end && *p->s == '.') {
            p->s++;
            if (p->s >= p->end || *p->s < '0' || *p->s > '9')
                return -EINVAL;
            while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
                p->s++;
        }
        if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
            p->s++;
            if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
                p->s++;
            if (p->s >= p->end || *p->s < '0' || *p->s > '9')
                return -EINVAL;
            while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
                p->s++;
        }
        char buf[64];
        size_t l = (size_t)(p->s - b);
        if (l >= sizeof(buf))
            return -EINVAL;
        memcpy(buf, b, l);
        buf[l] = '\0';
        rc = add(p, JR_NUM, parent, key, key_len);
        if (rc >= 0) {
            p->d->node[rc].num = strtod(buf, NULL);
            p->d->node[rc].raw = b;
            p->d->node[rc].raw_len = l;
        }
    }
    p->depth--;
    return rc < 0 ? rc : 0;
}

int jr_parse(struct jr_doc *d, const char *text, size_t len, size_t *err_off)
{
    memset(d, 0, sizeof(*d));
    d->text = malloc(len + 1);
    if (!d->text)
        return -ENOMEM;
    memcpy(d->text, text, len);
    d->text[len] = '\0';
    struct parser p = {d, d->text, d->text + len, 0};
    int rc = value(&p, -1, NULL, 0);
    if (rc == 0) {
        ws(&p);
        if (p.s != p.end)
            rc = -EINVAL;
    }
    if (rc < 0) {
        if (err_off)
            *err_off = (size_t)(p.s - d->text);
        jr_free(d);
    }
    return rc;
}

int jr_read_file(const char *path, size_t max, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap + 1);
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = cap < max ? realloc(buf, cap * 2 + 1) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return -ENOMEM;
    buf[n] = '\0';
    *text = buf;
    if (len)
        *len = n;
    return 0;
}

int jr_load(struct jr_doc *d, const char *path, size_t *err_off)
{
    char *buf;
    size_t len;
    int rc = jr_read_file(path, 64u << 20, &buf, &len);
    if (rc < 0)
        return rc;
    rc = jr_parse(d, buf, len, err_off);
    free(buf);
    return rc;
}

/* The member of object `obj` named by key[0..kl). */
static int jr_member_n(const struct jr_doc *d, int obj, const char *key, size_t kl)
{
    if (obj < 0 || d->node[obj].type != JR_OBJ)
        return -1;
    for (int i = jr_next_child(d, obj, obj); i >= 0; i = jr_next_child(d, obj, i))
        if (d->node[i].key && d->node[i].key_len == kl && memcmp(d->node[i].key, key, kl) == 0)
            return i;
    return -1;
}

void jr_free(struct jr_doc *d)
{
    free(d->text);
    free(d->node);
    memset(d, 0, sizeof(*d));
}

int jr_member(const struct jr_doc *d, int obj, const char *key)
{
    return jr_member_n(d, obj, key, strlen(key));
}

int jr_element(const struct jr_doc *d, int arr, uint32_t idx)
{
    if (arr < 0 || d->node[arr].type != JR_ARR)
        return -1;
    uint32_t k = 0;
    for (int i = jr_next_child(d, arr, arr); i >= 0; i = jr_next_child(d, arr, i))
        if (k++ == idx)
            return i;
    return -1;
}

int jr_find(const struct jr_doc *d, int from, const char *path)
{
    if (from < 0 || from >= d->n)
        return -1;
    int cur = from;
    const char *seg = path;
    while (*seg && cur >= 0) {
        const char *dot = strchr(seg, '.');
        size_t sl = dot ? (size_t)(dot - seg) : strlen(seg);
        cur = jr_member_n(d, cur, seg, sl);
        seg = dot ? dot + 1 : seg + sl;
    }
    return cur;
}

bool jr_number(const struct jr_doc *d, const char *path, double *out)
{
    int cur = jr_find(d, 0, path);
    if (cur < 0 || d->node[cur].type != JR_NUM)
        return false;
    *out = d->node[cur].num;
    return true;
}

int jr_next_child(const struct jr_doc *d, int parent, int after)
{
    if (parent < 0 || after < parent)
        return -1;
    for (int i = after + 1; i < d->n; i++) {
        if (d->node[i].parent == parent)
            return i;
        if (d->node[i].parent < parent)
            return -1; /* past the last descendant of parent */
    }
    return -1;
}

bool jr_u64(const struct jr_doc *d, int node, uint64_t *out)
{
    if (node < 0 || node >= d->n || d->node[node].type != JR_NUM)
        return false;
    const char *s = d->node[node].raw;
    size_t n = d->node[node].raw_len;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    *out = v;
    return n > 0;
}

bool jr_str_is(const struct jr_doc *d, int node, const char *s)
{
    if (node < 0 || node >= d->n || d->node[node].type != JR_STR)
        return false;
    size_t n = strlen(s);
    return d->node[node].raw_len == n && memcmp(d->node[node].raw, s, n) == 0;
}

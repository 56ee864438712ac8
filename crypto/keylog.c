/* SPDX-License-Identifier: MIT */
#include "keylog.h"

#include <string.h>

static char *hex(char *out, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        *out++ = digits[b[i] >> 4];
        *out++ = digits[b[i] & 15];
    }
    return out;
}

size_t keylog_line(char *out, const uint8_t client_random[32], const uint8_t master[48])
{
    memcpy(out, "CLIENT_RANDOM ", 14);
    char *p = hex(out + 14, client_random, 32);
    *p++ = ' ';
    p = hex(p, master, 48);
    *p++ = '\n';
    *p = '\0';
    return KEYLOG_LINE_LEN;
}

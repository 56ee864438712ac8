/* SPDX-License-Identifier: MIT */
/* JSON string bodies as json_read keeps them (escapes as written), decoded
 * for the Janus client: see target_internal.h. Pure, reentrant. */
#include <errno.h>
#include <stddef.h>

#include "target_internal.h"

int tgt_json_unescape(const char *raw, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)raw[i];
        if (c == '\\') {
            if (++i >= len)
                return -EINVAL;
            switch (raw[i]) {
            case '"':
                c = '"';
                break;
            case '\\':
                c = '\\';
                break;
            case '/':
                c = '/';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                if (i + 4 >= len)
                    return -EINVAL;
                c = 0;
                for (int k = 1; k <= 4; k++) {
                    char h = raw[i + k];
                    int v = h >= '0' && h <= '9'   ? h - '0'
                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                   : -1;
                    if (v < 0)
                        return -EINVAL;
                    c = c << 4 | (unsigned)v;
                }
                i += 4;
                if (c == 0)
                    return -EINVAL;
                if (c >= 0x80) { /* UTF-8; SDP is ASCII, so this is never ours to read */
                    if (o + 3 >= cap)
                        return -EINVAL;
                    if (c < 0x800) {
                        out[o++] = (char)(0xc0 | c >> 6);
                    } else {
                        out[o++] = (char)(0xe0 | c >> 12);
                        out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
                    }
                    c = 0x80 | (c & 0x3f);
                }
                break;
            }
            default:
                return -EINVAL;
            }
        } else if (c == 0) {
            return -EINVAL;
        }
        if (o + 1 >= cap)
            return -EINVAL;
        out[o++] = (char)c;
    }
    if (o >= cap)
        return -EINVAL;
    out[o] = '\0';
    return (int)o;
}

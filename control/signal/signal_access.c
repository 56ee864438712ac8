/* SPDX-License-Identifier: MIT */
/* The WHIP server's access checks: see signal_access.h. */
#include "signal_access.h"

#include <string.h>
#include <strings.h>

bool sig_bearer_ok(const char *token, const char *auth, size_t auth_n)
{
    if (token == NULL || token[0] == '\0')
        return true;
    if (auth == NULL || auth_n < 7 || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    size_t i = 7;
    while (i < auth_n && auth[i] == ' ')
        i++;
    const char *guess = auth + i;
    size_t gn = auth_n - i, tn = strlen(token);
    /* over the token's length, whatever the guess's: a shorter guess is
     * compared against zeros and fails on the length */
    unsigned char diff = gn != tn;
    for (size_t k = 0; k < tn; k++)
        diff |= (unsigned char)((k < gn ? guess[k] : 0) ^ token[k]);
    return diff == 0;
}

enum sig_origin sig_origin_check(const char *origins, const char *origin, size_t n)
{
    enum sig_origin v = SIG_ORIGIN_REFUSED;
    for (const char *p = origins; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ',');
        const char *e = end ? end : p + strlen(p);
        while (p < e && *p == ' ')
            p++;
        const char *q = e;
        while (q > p && q[-1] == ' ')
            q--;
        size_t len = (size_t)(q - p);
        if (len == n && memcmp(p, origin, n) == 0)
            return SIG_ORIGIN_LISTED;
        if (len == 1 && *p == '*')
            v = SIG_ORIGIN_ANY;
        p = end ? end + 1 : e;
    }
    return v;
}

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

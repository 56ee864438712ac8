/* SPDX-License-Identifier: MIT */
/*
 * signal_access: who may use the WHIP server — the bearer token (RFC 9725
 * section 4.5, RFC 6750) and the browser origins allowed by CORS. Pure
 * functions of the request's header values and the server's settings: no
 * I/O, no clock, no state; any thread.
 */
#ifndef SWARMGEN_CONTROL_SIGNAL_ACCESS_H
#define SWARMGEN_CONTROL_SIGNAL_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether auth[0..auth_n), the value of an Authorization header (auth NULL:
 * the request has none), is "Bearer <token>": the scheme in any case, one
 * or more spaces, then exactly token. token NULL or "" means no token is
 * required (always true). The token's bytes are all compared whatever the
 * guess, so the time taken does not tell how much of it was right. */
bool sig_bearer_ok(const char *token, const char *auth, size_t auth_n);

enum sig_origin {
    SIG_ORIGIN_REFUSED, /* not in the list */
    SIG_ORIGIN_LISTED,  /* in the list: answer Access-Control-Allow-Origin: <origin> */
    SIG_ORIGIN_ANY,     /* admitted by "*": answer Access-Control-Allow-Origin: * */
};

/* Whether a page of origin[0..n) (the Origin header's value, e.g.
 * "https://app.example:8443", or "null" for file:// pages and sandboxed
 * frames) may use the server. `origins` is the comma list of allowed ones
 * (spaces around an item ignored), compared byte for byte; an item "*"
 * admits every origin; NULL or "" admits none. */
enum sig_origin sig_origin_check(const char *origins, const char *origin, size_t n);

#endif

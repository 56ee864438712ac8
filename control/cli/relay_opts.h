/* SPDX-License-Identifier: MIT */
/*
 * relay_opts: the value of `swarmgen run --relay`,
 * turn:HOST:PORT,user=U,pass=P[,realm=R][,transport=udp|tcp] (docs/turn.md).
 * Pure parsing; no global state; thread-safe.
 */
#ifndef SWARMGEN_CONTROL_RELAY_OPTS_H
#define SWARMGEN_CONTROL_RELAY_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run_image.h"

struct ctl_relay {
    bool on;
    uint32_t ip;     /* the server's IPv4 address, host byte order */
    uint16_t port;
    bool tcp;        /* transport=tcp: TURN over a TCP connection per agent */
    char user[RI_RELAY_STR], pass[RI_RELAY_STR], realm[RI_RELAY_STR]; /* realm "" unless given */
};

/* Parses s into *out. Returns 0; -EINVAL for bad syntax and -ENOTSUP for
 * turns: (TLS), with one line for the user in err (the
 * password is never repeated). */
int ctl_relay_parse(const char *s, struct ctl_relay *out, char *err, size_t errlen);

#endif

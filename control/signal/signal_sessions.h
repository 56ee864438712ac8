/* SPDX-License-Identifier: MIT */
/*
 * signal_sessions: the WHIP server's table of the sessions it opened. Each
 * entry holds the resource id the session was given (128 bits from
 * getrandom(2), written as 32 lower-case hex digits in
 * /whip/sessions/{id}), the id the session ops know it by, and the address
 * of the client that opened it (for the per-client limit). Ids are drawn,
 * not counted: knowing one session's URL tells nothing of another's, so a
 * client can end only the sessions it was told about.
 *
 * Fixed size (CTL_SIGNAL_MAX_SESSIONS entries), no allocation, no clock.
 * An entry is taken at a 201 and given back at DELETE; a session the ops
 * report gone (ctl_signal_ops.alive) keeps its entry, so that a late DELETE
 * still reaches the ops, until a new session needs the room. Used by the
 * signaling thread only.
 */
#ifndef SWARMGEN_CONTROL_SIGNAL_SESSIONS_H
#define SWARMGEN_CONTROL_SIGNAL_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signaling.h"

#define SIG_ID_BYTES 16
#define SIG_ID_HEX   (2 * SIG_ID_BYTES)

struct sig_session {
    bool used;
    int sid;                  /* the session ops' id (from ops->open) */
    uint32_t client;          /* the client's IPv4 address, host byte order */
    uint8_t id[SIG_ID_BYTES]; /* the resource id */
};

struct sig_sessions {
    struct sig_session e[CTL_SIGNAL_MAX_SESSIONS];
};

/* ctl_signal_ops.alive: false once session `sid` has ended on its own. */
typedef bool sig_alive_fn(void *arg, int sid);

/* Fills id with fresh random bytes (getrandom(2)). Returns 0, or a negative
 * errno when the kernel has none to give (the caller refuses the session:
 * no id is better than a guessable one). Thread-safe. */
int sig_id_new(uint8_t id[SIG_ID_BYTES]);

/* Writes id as SIG_ID_HEX lower-case hex digits and a NUL. */
void sig_id_hex(const uint8_t id[SIG_ID_BYTES], char hex[SIG_ID_HEX + 1]);

/* Reads p[0..n): exactly SIG_ID_HEX lower-case hex digits (the spelling
 * sig_id_hex writes; any other is no id of ours). Returns 0, or -EINVAL. */
int sig_id_parse(const char *p, size_t n, uint8_t id[SIG_ID_BYTES]);

/* The index of the used entry holding id, or -ENOENT. Every used entry is
 * compared in full, without an early exit, so the time taken does not tell
 * how much of a guess was right. */
int sig_sessions_find(const struct sig_sessions *t, const uint8_t id[SIG_ID_BYTES]);

/* The index of an entry for a new session: a free one, else one whose
 * session alive() says has ended (alive NULL: sessions end at DELETE only).
 * Returns -ENOSPC when every entry holds a live session. */
int sig_sessions_slot(const struct sig_sessions *t, sig_alive_fn *alive, void *arg);

/* How many live sessions (as in sig_sessions_slot) client has opened. */
uint32_t sig_sessions_count(const struct sig_sessions *t, uint32_t client, sig_alive_fn *alive,
                            void *arg);

#endif

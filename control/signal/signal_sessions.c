/* SPDX-License-Identifier: MIT */
/* The WHIP server's session table: see signal_sessions.h. */
#include "signal_sessions.h"

#include <errno.h>
#include <sys/random.h>

int sig_id_new(uint8_t id[SIG_ID_BYTES])
{
    size_t got = 0;
    while (got < SIG_ID_BYTES) {
        ssize_t n = getrandom(id + got, SIG_ID_BYTES - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        got += (size_t)n;
    }
    return 0;
}

static const char hex_digit[] = "0123456789abcdef";

void sig_id_hex(const uint8_t id[SIG_ID_BYTES], char hex[SIG_ID_HEX + 1])
{
    for (int i = 0; i < SIG_ID_BYTES; i++) {
        hex[2 * i] = hex_digit[id[i] >> 4];
        hex[2 * i + 1] = hex_digit[id[i] & 15];
    }
    hex[SIG_ID_HEX] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int sig_id_parse(const char *p, size_t n, uint8_t id[SIG_ID_BYTES])
{
    if (n != SIG_ID_HEX)
        return -EINVAL;
    for (int i = 0; i < SIG_ID_BYTES; i++) {
        int hi = nibble(p[2 * i]), lo = nibble(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        id[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int sig_sessions_find(const struct sig_sessions *t, const uint8_t id[SIG_ID_BYTES])
{
    int found = -ENOENT;
    for (int k = 0; k < CTL_SIGNAL_MAX_SESSIONS; k++) {
        const struct sig_session *e = &t->e[k];
        uint8_t diff = 0;
        for (int i = 0; i < SIG_ID_BYTES; i++)
            diff |= (uint8_t)(e->id[i] ^ id[i]);
        if (e->used && diff == 0)
            found = k;
    }
    return found;
}

static bool live(const struct sig_session *e, sig_alive_fn *alive, void *arg)
{
    return e->used && (alive == NULL || alive(arg, e->sid));
}

int sig_sessions_slot(const struct sig_sessions *t, sig_alive_fn *alive, void *arg)
{
    for (int k = 0; k < CTL_SIGNAL_MAX_SESSIONS; k++)
        if (!t->e[k].used)
            return k;
    for (int k = 0; k < CTL_SIGNAL_MAX_SESSIONS; k++)
        if (!live(&t->e[k], alive, arg))
            return k;
    return -ENOSPC;
}

uint32_t sig_sessions_count(const struct sig_sessions *t, uint32_t client, sig_alive_fn *alive,
                            void *arg)
{
    uint32_t n = 0;
    for (int k = 0; k < CTL_SIGNAL_MAX_SESSIONS; k++)
        if (t->e[k].client == client && live(&t->e[k], alive, arg))
            n++;
    return n;
}

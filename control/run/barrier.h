/* SPDX-License-Identifier: MIT */
/*
 * barrier: the shards of one swarm (--shard I/N) meet before each phase
 * (docs/scale-out.md). Shard 0 listens on the --barrier TCP port; every
 * other shard connects to it (retrying while shard 0 is not up yet) and
 * keeps the connection for the whole run. At a barrier each shard sends
 * shard 0 its arrival with a blob (at the start: its agents' certificate
 * fingerprints, the signaling of the swarm); once all have arrived shard
 * 0 answers each with "go" and every blob, in shard order. Each message
 * carries the swarm's key (seed, agents, topology, edges, N ...): a shard
 * of another swarm is refused with one line; a shard that does not come
 * or goes away fails the run with one line. No clock needed. Not
 * thread-safe.
 */
#ifndef SWARMGEN_CONTROL_BARRIER_H
#define SWARMGEN_CONTROL_BARRIER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

enum ctl_barrier_phase {
    CTL_BARRIER_CONNECT = 1, /* the connect phase starts (udp: the load) */
    CTL_BARRIER_LOAD = 2,    /* the load starts */
    CTL_BARRIER_STOP = 3,    /* the load and the drain are over: the dataplanes stop */
    CTL_BARRIER_QUIET = 4,   /* every dataplane stopped polling: they may close the link */
};

struct ctl_barrier {
    int listen_fd;           /* shard 0 */
    int *fd;                 /* shard 0: fd[i] to shard i (-1 before it came); others: fd[0] to shard 0 */
    uint32_t shard, n_shards;
    uint64_t key;
    char host[256];
    uint16_t port;
    uint64_t gone[16];       /* bit s: shard s went away (ctl_barrier_watch) */
};

/* Parses HOST:PORT (or :PORT, HOST then 127.0.0.1) into b; 0 or -EINVAL. */
int ctl_barrier_parse(struct ctl_barrier *b, const char *spec);

/* Shard 0 listens on the port (every address); the others connect at
 * their first barrier. 0, or a negative errno with `err`. */
int ctl_barrier_open(struct ctl_barrier *b, uint32_t shard, uint32_t n_shards, uint64_t key, char *err,
                     size_t errlen);

/* Waits at `phase` until every shard is there, for at most timeout_ns;
 * stops early when *interrupted. Sends `mine` (mine_len bytes, may be 0)
 * and fills all[0 .. sum of every shard's blob) with every shard's blob in
 * shard order (all_cap bytes at most; lens[i] their lengths, may be
 * NULL). 0; -ETIMEDOUT, -EPIPE (a shard went away), -EPROTO (another
 * swarm), -EMSGSIZE or -EINTR, with `err` saying which shard. */
int ctl_barrier_wait(struct ctl_barrier *b, enum ctl_barrier_phase phase, const void *mine, uint64_t mine_len,
                     void *all, uint64_t all_cap, uint64_t *lens, uint64_t timeout_ns,
                     volatile sig_atomic_t *interrupted, char *err, size_t errlen);

/* Between barriers: notices shards that went away (their connection to
 * shard 0 closed; shard 0 tells the others), without waiting. Sets their
 * bits in b->gone; returns how many are new. */
int ctl_barrier_watch(struct ctl_barrier *b);

void ctl_barrier_close(struct ctl_barrier *b);

#endif

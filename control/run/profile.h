/* SPDX-License-Identifier: MIT */
/*
 * profile: load profiles — named phases with durations and linear ramps of
 * the message rate and of the share of active agents.
 *
 * Presets scale with the base rate (--rate) and the total duration
 * (--duration); a scenario file (YAML, see docs/profiles.md) gives the same
 * power with explicit phases. Pure functions except the file loader.
 */
#ifndef SWARMGEN_CONTROL_PROFILE_H
#define SWARMGEN_CONTROL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_MAX_PHASES 32

enum ctl_phase_kind {
    CTL_PHASE_NORMAL = 0,
    CTL_PHASE_SPIKE = 1,    /* recovery is measured after it */
};

struct ctl_phase {
    char name[32];
    uint64_t duration_ns;
    double rate_from, rate_to;     /* msgs/s, linear over the phase */
    double agents_from, agents_to; /* share of agents generating, 0..1 */
    uint8_t kind;                  /* enum ctl_phase_kind */
    /* target sessions started per second, linear over the phase (ramped
     * joins, docs/target.md); filled by ctl_profile_set_joins */
    double join_from, join_to;
    uint8_t join_set;              /* a scenario's join_rate: (else --join-rate x the rate's ramp) */
    uint8_t join_rel;              /* bit 0: join_from, bit 1: join_to a share of --join-rate ("50%") */
};

struct ctl_profile {
    char name[64];                 /* preset name or file path */
    uint32_t n;
    struct ctl_phase phase[CTL_MAX_PHASES];
    char sla[512];                 /* SLA text from a scenario file, "" if none */
};

/* Fills `p` from a preset: constant, ramp, load, spike, soak. Returns 0,
 * or -ENOENT for an unknown name. */
int ctl_profile_preset(const char *name, double base_rate, uint64_t duration_ns,
                       struct ctl_profile *p);

/* Loads a YAML scenario file. On error returns -EINVAL (or -errno for I/O)
 * and writes "FILE:LINE: field: reason" into err. */
int ctl_profile_load(const char *path, double base_rate, struct ctl_profile *p, char *err,
                     size_t errlen);

/* The highest rate of any phase (the larger of its rate_from and rate_to),
 * msgs/s; 0 without phases. Pure. */
double ctl_profile_peak_rate(const struct ctl_profile *p);

/* Sum of the phase durations. */
uint64_t ctl_profile_duration(const struct ctl_profile *p);

/* Where time t_ns (since generation began) falls: phase index, rate and
 * agent share there. Past the end: the last phase's end values. */
void ctl_profile_at(const struct ctl_profile *p, uint64_t t_ns, uint32_t *phase, double *rate,
                    double *agents);

/* Fills every phase's join_from/join_to: a scenario's join_rate: as
 * given (a percentage of `join_rate`), else `join_rate` scaled by the
 * phase's rate ramp over `base_rate` (--rate, > 0), so joins follow the
 * same ramp as the messages. Pure. */
void ctl_profile_set_joins(struct ctl_profile *p, double base_rate, double join_rate);

/* True when a scenario phase gave join_rate:. Pure. */
bool ctl_profile_has_joins(const struct ctl_profile *p);

/* Target sessions to start per second at time t_ns of the load (linear
 * within the phase); 0 past the end. Pure. */
double ctl_profile_join_at(const struct ctl_profile *p, uint64_t t_ns);

/* Start time of phase i in ns. */
uint64_t ctl_profile_phase_start(const struct ctl_profile *p, uint32_t i);

#endif

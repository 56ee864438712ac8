/* SPDX-License-Identifier: MIT */
/*
 * netem_opts: parses --netem link-class specifications for the dataplane's
 * network emulation (include/run_image.h: struct ri_netem).
 *
 *   delay=10ms,jitter=2ms,loss=5%,dup=1%,reorder=10%,rate=100Mbit
 *   ge=1%/20%[/100%]          Gilbert-Elliott loss: P(good->bad)/P(bad->good)/loss while bad
 *   outage=3s@10s             silent (every frame lost) for 3 s, 10 s into the load
 *   flap=5s/1s                up 5 s, down 1 s, again and again from the start of the load
 *   class=wan,share=20%,...   a named class applied to that share of the edges
 *
 * A spec without class= is the global class (index 0). Pure functions.
 */
#ifndef SWARMGEN_CONTROL_NETEM_OPTS_H
#define SWARMGEN_CONTROL_NETEM_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "run_image.h"

/* Parses one spec into `out` (zeroed first, enabled set). 0 or -EINVAL with
 * the reason in err. */
int ctl_netem_parse(const char *spec, struct ri_netem *out, char *err, size_t errlen);

/* The class of edge `e`: a seeded draw against the classes' shares
 * (classes 1..n-1 in order; the rest get class 0). */
uint16_t ctl_netem_class_of(const struct ri_netem *classes, uint32_t n_classes, uint64_t seed,
                            uint64_t e);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * external: the control side of external WebRTC peers (--external). Serves
 * WHIP (control/signal/signaling.h) once the dataplane is READY: an offer for
 * /whip/agents/{id} takes a free slot of the run image's EXTERNAL section,
 * gets fresh ICE credentials (getrandom), is written into the slot and
 * published (include/run_image.h has the protocol); the answer carries the
 * fingerprint of the certificate the dataplane published, the agent's
 * address and the slot's port as the one host candidate, and a=ice-lite.
 * DELETE asks the dataplane to close the session. The figures the
 * dataplane writes into the section become the report's `external`
 * object and a summary line.
 *
 * Threads: ctl_external_start/stop and the report functions run on the
 * main thread; the ops run on the signaling thread, which is the only
 * writer of the slots' control fields while the server runs.
 */
#ifndef SWARMGEN_CONTROL_EXTERNAL_H
#define SWARMGEN_CONTROL_EXTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "run_image.h"
#include "signaling.h"

struct ctl_external {
    struct ri_external *x; /* the image's section */
    const struct ri_agent *agents;
    uint32_t n_agents;
    uint8_t mode;         /* enum ri_ext_mode */
    bool prefer_active;   /* --external-setup: our role for an actpass offer */
    char signal_addr[64]; /* as given (--signal) */
    uint16_t signal_port; /* bound */
    struct ctl_signal *sig;
    struct ctl_signal_stats sig_stats; /* taken at stop */
    /* signaling thread only */
    uint32_t next_seq;
    bool open[RI_EXTERNAL_MAX]; /* the slot's session has a WHIP resource not yet deleted */
    uint8_t dtls_versions;      /* --external-dtls (RI_DTLS_*), for the report; set by the caller after start */
};

/* Writes the section's request half before the dataplane starts: mode,
 * slots, port vdev string, and how long an up session may go without a
 * datagram from its peer before the dataplane closes it (idle_ns, 0
 * never). `port` must fit 255 characters. */
void ctl_external_prepare(struct ri_external *x, uint8_t mode, uint32_t n_slots, const char *port,
                          uint64_t idle_ns);

/* Starts the WHIP server on `addr` ("ADDR:PORT") for the image's section
 * `x` (the dataplane READY: its fingerprint published), with the token,
 * origins, per-client limit and timeout of `access` (its ip and port are
 * ignored: addr says them; NULL: the defaults). 0, or a negative errno with
 * the reason in err (-EINVAL: a bad address or access setting). */
int ctl_external_start(struct ctl_external *e, struct ri_external *x, const struct ri_agent *agents,
                       uint32_t n_agents, uint8_t mode, bool prefer_active, const char *addr,
                       const struct ctl_signal_config *access, char *err, size_t errlen);

/* Stops the server (joins its thread) and closes every session still
 * open (the dataplane ends them when it sees close_seq). Idempotent. */
void ctl_external_stop(struct ctl_external *e);

/* The `external` object of the JSON report (nothing when e is NULL or
 * external peers are off). Reads the section: call after the dataplane
 * stopped for final figures. */
void ctl_external_report_json(struct json_writer *w, const struct ctl_external *e);

/* The summary line `external` (nothing when e is NULL). */
void ctl_external_report_summary(FILE *f, const struct ctl_external *e);

/* ICE credentials: `ufrag` of 8 and `pwd` of 24 characters of the ICE
 * alphabet (ALPHA / DIGIT / "+" / "/"), NUL-terminated, from getrandom,
 * never from the run seed. 0, or -EIO when getrandom fails (nothing
 * written: the offer is refused rather than answered with guessable
 * credentials). Thread-safe. */
int ctl_external_credentials(char ufrag[9], char pwd[25]);

#endif

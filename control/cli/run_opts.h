/* SPDX-License-Identifier: MIT */
/*
 * run_opts: the flags of `swarmgen run`, their defaults and validation.
 *
 * The flags are one table (run_flags.c: name, value, usage text, handler);
 * ctl_run_opts_parse() either fills the struct or prints one line naming the
 * bad flag and exits with code 2 (cli_fail). Not thread-safe (it exits the
 * process on bad input).
 */
#ifndef SWARMGEN_CONTROL_RUN_OPTS_H
#define SWARMGEN_CONTROL_RUN_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "relay_opts.h"
#include "run_image.h"
#include "signaling.h"

#define CTL_MAX_PORTS 8
#define CTL_IP_BASE 0xc6120000u /* 198.18.0.0: agent i is .1 + i (two sides: RI_SIDE_NET) */
#define CTL_MAX_AGENTS_RUN 131070u /* one address each in 198.18.0.0/15 */
#define CTL_SCTP_BUFS_MIN 1024u
#define CTL_SCTP_BUFS_MAX 16777216u
#define CTL_SCTP_BUF_BYTES 1200u /* payload bytes of one SCTP pool buffer */
#define CTL_KEYLOG_MAX 250000u
#define CTL_SCTP_HEARTBEAT_DEFAULT_MS 30000 /* RFC 9260's HB.interval default, as dcSCTP's and usrsctp's */

struct ctl_run_opts {
    uint32_t agents;
    char topology[128];
    uint64_t seed;
    uint64_t rate;           /* messages/s, all workers */
    uint64_t duration_ns;
    uint64_t drain_ns;       /* longest wait for in-flight messages */
    uint32_t msg_size;       /* UDP payload (udp) or DataChannel message (dc) bytes */
    uint8_t pattern;         /* enum ri_pattern */
    uint32_t route_sample;   /* routed:M: at most M destinations (0: no limit but --route-mem) */
    /* peer connections (--traffic dc) */
    uint8_t traffic;         /* enum ri_traffic */
    uint8_t dc_type;         /* DCEP channel type: 0x00, 0x80, 0x01 (rexmit), 0x02 (timed) */
    uint32_t dc_reliability; /* rexmit: retransmissions; timed: lifetime in ms */
    uint8_t media;           /* enum ri_media */
    uint32_t media_bitrate;  /* video: bits/s of each stream (0: default) */
    uint16_t media_fps, media_payload; /* video: frames/s, RTP payload bytes per packet (0: default) */
    bool sign;               /* Ed25519 signature in every agent message */
    bool consent;            /* --consent: RFC 7675 consent checks; failed connections set up again */
    uint32_t churn_milli;    /* --churn: connections per second x 1000 (0: none) */
    bool churn_pct;          /* --churn R%: churn_milli is per cent of the connections per second */
    uint8_t dtls_versions;   /* --dtls: RI_DTLS_V12, RI_DTLS_V13 or RI_DTLS_AUTO (0: not given, auto) */
    const char *keylog_path; /* --keylog: NSS key log written by the dataplane */
    uint32_t setup_cap;      /* connections in set-up at once, per core */
    uint32_t setup_attempts; /* attempts per connection before it is given up */
    uint64_t setup_timeout_ns; /* longest connect phase; with setup_timeout_auto its floor */
    bool setup_timeout_auto;   /* no --setup-timeout: ctl_connect_auto_deadline_ns */
    uint32_t sctp_bufs;      /* SCTP buffers per core; 0 until resolved (ctl_run_sctp_bufs) */
    int32_t sctp_heartbeat_ms; /* --sctp-heartbeat: 0 the default (30 s), negative off */
    uint32_t n_cores;
    uint32_t cores[RI_MAX_WORKERS];
    char cores_text[256];
    uint32_t n_ports;
    const char *ports[CTL_MAX_PORTS]; /* with two sides: [0] side A's, [1] side B's */
    const char *side[2];     /* --side-a, --side-b: the ports of two sides (docs/sides.md) */
    bool sides;              /* both given */
    uint32_t side_gateway[2]; /* --gateway A=IP,B=IP: host byte order, 0 none */
    bool cross_all;          /* --cross all: connections within a side cross the DUT too */
    bool cross_given;
    uint32_t shard, n_shards; /* --shard I/N (n_shards 0: not sharded; docs/scale-out.md) */
    const char *barrier;     /* --barrier HOST:PORT: where shard 0 meets the others */
    uint64_t barrier_timeout_ns; /* --barrier-timeout: how long the shards wait for each other to start */
    bool clock_wall;         /* --clock ptp: the hosts' clocks are in step, one-way latency across shards */
    const char *peer_mac;    /* --peer-mac MAC or I=MAC,J=MAC: where frames to other shards go */
    uint8_t peer_macs[RI_MAX_SHARDS][6]; /* parsed: per shard, zero where not given */
    const char *report_path;
    const char *dp_path;     /* NULL: next to the swarmgen binary */
    uint8_t backend;         /* enum ri_backend */
    const char *eal_extra;   /* appended to the EAL arguments */
    uint64_t route_mem;      /* bytes allowed for the routing table */
    uint32_t mbufs_per_worker;
    uint32_t burst;
    int huge;                /* -1 auto, 0 --no-huge, 1 require hugepages */
    bool quiet;
    bool dry_run;            /* --dry-run: plan the memory, start nothing */
    const char *profile;     /* preset name or scenario file */
    const char *sla_text;    /* --sla */
    bool abort_on_fail;
    const char *csv_path;
    const char *pcap_path;
    const char *prom_addr;   /* --prom ADDR:PORT */
    const char *html_path;
    uint32_t pcap_count;
    uint32_t n_netem;        /* classes used; [0] is the global class */
    struct ri_netem netem[RI_NETEM_CLASSES];
    uint32_t threads;        /* control-side threads for analysis/routing */
    /* external WebRTC peers (control/signal/external.h) */
    uint8_t external;        /* enum ri_ext_mode; RI_EXT_OFF without --external/--signal */
    const char *signal_addr; /* --signal ADDR:PORT of the WHIP server */
    const char *external_port; /* --external-port VDEV */
    bool external_active;    /* --external-setup: our DTLS role for an actpass offer (true: active) */
    uint8_t ext_dtls_versions; /* --external-dtls: as dtls_versions, for external and target sessions */
    uint32_t external_max;   /* --external-max: sessions at once */
    uint64_t external_idle_ns; /* --external-idle: an up session this silent is closed; 0 never */
    const char *signal_token; /* --signal-token: the bearer token WHIP asks for (NULL: none) */
    char signal_origins[CTL_SIGNAL_ORIGINS_MAX + 1]; /* --signal-origin, comma list ("": none) */
    uint32_t signal_max_per_client; /* --signal-max-per-client (0: CTL_SIGNAL_MAX_PER_CLIENT) */
    /* target mode (control/target/target.h, docs/target.md) */
    const char *target;      /* --target whip:URL | janus:URL (NULL: off) */
    uint32_t target_agents;  /* --target-agents: sessions (agents 0..N-1); 0 until resolved: every agent */
    const char *target_token; /* --target-token: Authorization: Bearer on WHIP requests */
    double target_rate;      /* --target-rate: DataChannel messages per second of each session */
    double join_rate;        /* --join-rate: sessions started per second (0: as fast as the server answers) */
    bool join_ramp;          /* --join-ramp: sessions join during the load, --join-rate x the profile's ramp */
    uint32_t target_gateway; /* --target-gateway IP[/LEN]: host byte order, 0 none */
    uint32_t target_link_len; /* its LEN: the port's link prefix (default 15) */
    uint64_t target_timeout_ns; /* --target-timeout: one HTTP request; the set-up of one session */
    const char *clients_csv; /* --clients-csv FILE: one row per target session */
    const char *agents_csv;  /* --agents-csv FILE: one row per agent (report_agents.h) */
    uint32_t agents_top;     /* --agents-top N: agents in each top/bottom list of the report (default 5) */
    struct ctl_relay relay;  /* --relay turn:... (docs/turn.md); relay.on false without */
    uint32_t dtls_key_update; /* --dtls-key-update: records per DTLS 1.3 epoch in the mesh (0: not given) */
    uint64_t srtp_rekey_ns;  /* --srtp-rekey: each media sender's SRTP master key switch interval (0: off) */
};

#define CTL_TARGET_RATE_DEFAULT 5.0
#define CTL_TARGET_TIMEOUT_NS_DEFAULT (10ull * 1000000000ull)

#define CTL_EXTERNAL_PORT_DEFAULT "net_af_packet0,iface=sgext0"
/* --external-idle: a browser sends ICE consent checks every 5 s or so
 * (RFC 7675) and SCTP heartbeats every 30 s, so a live peer is never
 * silent this long */
#define CTL_EXTERNAL_IDLE_NS_DEFAULT (60ull * 1000000000ull)
#define CTL_SIGNAL_ADDR_DEFAULT "127.0.0.1:8088"

/* Parses argv (argv[0] is "run"). Exits 2 with one line on bad input;
 * prints usage and exits 0 on --help. */
void ctl_run_opts_parse(struct ctl_run_opts *o, int argc, char **argv);

/* The default of --sctp-bufs, sized by demand: 16384 + min(2 * n_edges,
 * 2 * rate * ceil(msg_size / 1200)) / n_cores, capped at the flag's
 * maximum. The second term is two seconds of a core's share of `rate`
 * (msgs/s, all cores: the profile's peak when it is higher than --rate),
 * a message of msg_size bytes taking ceil(msg_size / 1200) buffers; it is
 * never more than one buffer per endpoint (every connection has two on its
 * core). 16384 is a shared reserve for bursts. Measured peaks stay well
 * under it (sctp.buffers_peak_per_core 4,201 at 20,000 routed msg/s over
 * 20,000 connections, 7,145 over 1,000,000: docs/memory.md). Pure. */
uint32_t ctl_run_sctp_bufs(uint64_t n_edges, uint32_t n_cores, uint64_t rate, uint32_t msg_size);

/* The SCTP idle heartbeat interval the run uses, in ms: --sctp-heartbeat,
 * CTL_SCTP_HEARTBEAT_DEFAULT_MS without it, 0 for off. Pure. */
uint32_t ctl_run_sctp_heartbeat_ms(const struct ctl_run_opts *o);

/* Key-log entries the dataplane keeps (one per handshake attempt: DTLS
 * 1.2's line or 1.3's five, DP_MEM_KEYLOG_LINE bytes each): min(n_edges * setup_attempts,
 * CTL_KEYLOG_MAX) with --keylog, 0 without. Pure. */
uint32_t ctl_run_keylog_max(const struct ctl_run_opts *o, uint64_t n_edges);

/* Parses a core list "0,2-3" into o->cores; 0 or -EINVAL. Checks each core
 * is online and allowed for this process. */
int ctl_parse_cores(const char *s, struct ctl_run_opts *o);

#endif

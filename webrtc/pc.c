/* SPDX-License-Identifier: MIT */
/* One endpoint of a peer connection: ICE → DTLS → SCTP → DataChannel on
 * one 5-tuple, demultiplexed by first byte (RFC 7983). */
#include "pc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

#define SLOT_RETRY_NS 1000000ull   /* a connection waiting for a handshake slot asks again after 1 ms */
/* SRTP profiles our media sessions carry: all four (srtp_session.h), offered
 * in libwebrtc's order, AEAD_AES_256_GCM first */
#define PC_SRTP DTLS_SRTP_ALL
#define SCTP_MTU (DTLS_MTU - DTLS_RECORD_OVERHEAD_GCM)

/* The set-up state behind struct pc_setup (PC_SETUP_SIZE bytes): what
 * only the way up needs (the ICE agent, the handshake's inputs, the stage
 * times, the exported SRTP keying), caller memory the endpoint gives back
 * once it is up (pc_release_setup). */
struct pc_setup_impl {
    _Alignas(64) struct ice_agent ice;
    const struct dtls_cert *cert;
    const struct cp *cp;
    const uint8_t *cookie_secret;
    const char *label;
    char *keylog;
    uint64_t slot_retry;           /* next try for a handshake slot, 0 none */
    uint64_t t_stage[PC_UP + 1];   /* when each stage was reached (ns; PC_ICE at pc_init) */
    uint32_t dc_reliability;
    uint8_t dc_type;
    uint8_t client_id_len;
    uint8_t dtls_versions;         /* cfg.dtls_versions: what dtls_init offers (client) or accepts (server) */
    uint8_t alert_len;             /* the fatal alert our failed handshake still owes the peer */
    uint16_t srtp_profile;         /* DTLS-SRTP profile the handshake chose (0 none) */
    uint8_t peer_fp[32];
    uint8_t client_id[24];         /* the peer's address as the DTLS cookie binds it */
    uint8_t alert[DTLS_RECORD_HEADER + 2 + 24];
    uint8_t srtp_keying[DTLS_KEYING_MAX]; /* its exported keying material (RFC 5764 §4.2) */
    struct stun_addr peer;         /* cfg.peer: where DTLS and SCTP go before ICE selects a pair */
    uint64_t dtls_ku_after;        /* cfg.dtls_key_update_after, for dtls_init */
};
ENGINE_STORAGE(struct pc_setup, struct pc_setup_impl, su_impl, su_cimpl)

/* The layout behind struct pc (PC_SIZE bytes): what an established
 * DataChannel touches, the record layer first. */
struct pc_impl {
    struct dtls_record rec;
    uint8_t stage, fail;           /* enum pc_stage, enum pc_fail */
    bool controlling, dtls_client, opens_channel, closed;
    uint16_t dc_sid;
    uint8_t dtls_failure;          /* enum dtls_failure when the handshake failed */
    uint8_t ev_head, ev_n;
    uint8_t events[6];             /* small ring of enum pc_event_type */
    bool keep_dtls;                /* cfg.dtls_keep: a DTLS 1.3 endpoint stays for the connection's life */
    uint8_t dtls_ver;              /* low byte of the negotiated DTLS version (0xfd 1.2, 0xfc 1.3), 0 before */
    bool notify_due;               /* pc_close_notify: our close_notify waits in pc_poll_transmit */
    int32_t hs_slot;               /* -1 when none held */
    struct dtls_hs_pool *hs;
    struct sctp_assoc *sctp;
    struct pc_setup_impl *su;      /* the set-up state; NULL once released */
    uint64_t last_now;             /* the latest `now` seen (events act at it) */
    struct pc_counters *c;         /* the caller's block (cfg.counters), maybe shared */
};
ENGINE_STORAGE(struct pc, struct pc_impl, impl, cimpl)

static const char *const stage_names[] = {"ice", "dtls_wait", "dtls", "sctp", "datachannel", "up", "failed"};

const char *pc_stage_name(enum pc_stage s)
{
    return (unsigned)s <= PC_FAILED ? stage_names[s] : "?";
}

static void push(struct pc_impl *pc, enum pc_event_type e)
{
    if (pc->ev_n < sizeof(pc->events))
        pc->events[(pc->ev_head + pc->ev_n++) % sizeof(pc->events)] = (uint8_t)e;
}

static void reach(struct pc_impl *pc, enum pc_stage s, uint64_t now)
{
    pc->stage = (uint8_t)s;
    if (s <= PC_UP && pc->su)
        pc->su->t_stage[s] = now;
}

static void release_slot(struct pc_impl *pc)
{
    if (pc->hs_slot < 0)
        return;
    dtls_hs_pool_release(pc->hs, (uint32_t)pc->hs_slot);
    pc->hs_slot = -1;
}

static void fail(struct pc_impl *pc, enum pc_fail why, uint64_t now)
{
    if (pc->stage == PC_FAILED)
        return;
    pc->fail = (uint8_t)why;
    release_slot(pc);
    reach(pc, PC_FAILED, now);
    push(pc, PC_EV_FAILED);
}

static struct dtls_endpoint *hs_ep(const struct pc_impl *pc)
{
    return pc->hs_slot >= 0 ? dtls_hs_pool_slot(pc->hs, (uint32_t)pc->hs_slot) : NULL;
}

/* Whether the handshake endpoint stays after the handshake (DTLS 1.3 with
 * cfg.dtls_keep): KeyUpdates then work both ways. */
static bool keeps(const struct pc_impl *pc)
{
    return pc->keep_dtls;
}

/* The peer's address as the DTLS cookie binds it (RFC 6347 §4.2.1). */
static void client_id_of(struct pc_setup_impl *su, const struct stun_addr *peer)
{
    su->client_id_len = (uint8_t)(peer->family == 6 ? 18 : 6);
    memcpy(su->client_id, peer->ip, peer->family == 6 ? 16 : 4);
    wire_put16(su->client_id + su->client_id_len - 2, peer->port);
}

/* The association's configuration from the connection's (MTU, role and
 * seed: pc_init adds them). */
static void sctp_config_of(const struct pc_config *cfg, struct sctp_config *sc)
{
    sctp_config_default(sc);
    sc->n_streams = cfg->n_streams ? cfg->n_streams : 16;
    sc->counters = cfg->sctp_counters;
    sc->max_buffers = cfg->sctp_max_buffers;
    if (cfg->heartbeat_ms)
        sc->heartbeat_ms = cfg->heartbeat_ms < 0 ? 0 : (uint32_t)cfg->heartbeat_ms;
}

size_t pc_sctp_size(const struct pc_config *cfg)
{
    struct sctp_config sc;
    sctp_config_of(cfg, &sc);
    return sctp_assoc_size_cfg(&sc);
}

int pc_init(struct pc *p, const struct pc_config *cfg, uint64_t now)
{
    struct pc_impl *pc = impl(p);
    memset(pc, 0, sizeof(*pc));
    if (!cfg->setup || !cfg->counters || !cfg->rec_keys)
        return -EINVAL;
    struct pc_setup_impl *su = su_impl(cfg->setup);
    memset(su, 0, sizeof(*su));
    pc->su = su; /* held from here on, failed or not: pc_release_setup gives it back */
    pc->c = cfg->counters;
    pc->dtls_client = cfg->dtls_role == PC_DTLS_AUTO ? cfg->controlling : cfg->dtls_role == PC_DTLS_CLIENT;
    dtls_record_reset(&pc->rec, cfg->rec_keys, &cfg->counters->record, pc->dtls_client);
    if (!cfg->cert || !cfg->peer_fingerprint || !cfg->cp || !cfg->hs || !cfg->sctp_mem || !cfg->sctp_pool)
        return -EINVAL;
    struct ice_config ic = {.role = cfg->controlling ? ICE_CONTROLLING : ICE_CONTROLLED,
                            .tiebreaker = cfg->seed | 1,
                            .priority = 2130706431u, /* a host candidate's, local preference 65535 */
                            .local_ufrag = cfg->local_ufrag,
                            .local_pwd = cfg->local_pwd,
                            .remote_ufrag = cfg->remote_ufrag,
                            .remote_pwd = cfg->remote_pwd,
                            .peer = cfg->peer,
                            .remote = cfg->remote_cands,
                            .n_remote = cfg->n_remote_cands,
                            .local_type = ICE_CAND_HOST,
                            .ta_ns = cfg->ice_ta_ns,
                            .consent = cfg->consent};
    if (ice_init(&su->ice, &ic) != 0)
        return -EINVAL;
    pc->controlling = cfg->controlling;
    pc->opens_channel = pc->dtls_client && !cfg->wait_for_channel;
    pc->hs = cfg->hs;
    pc->hs_slot = -1;
    su->cert = cfg->cert;
    su->cp = cfg->cp;
    su->cookie_secret = cfg->cookie_secret;
    su->dtls_versions = cfg->dtls_versions;
    su->dtls_ku_after = cfg->dtls_key_update_after;
    pc->keep_dtls = cfg->dtls_keep;
    memcpy(su->peer_fp, cfg->peer_fingerprint, 32);
    su->peer = cfg->peer;
    client_id_of(su, &cfg->peer);
    su->label = cfg->label ? cfg->label : "swarm";
    su->keylog = cfg->keylog;
    su->dc_type = (uint8_t)cfg->dc_type;
    su->dc_reliability = cfg->dc_reliability;
    struct sctp_config sc;
    sctp_config_of(cfg, &sc);
    sc.mtu = SCTP_MTU;
    sc.dtls_client = pc->dtls_client;
    sc.seed = cfg->sctp_seed ? cfg->sctp_seed : cfg->seed * 3 + 1;
    /* RFC 9653: inside DTLS the record's tag protects the packet; announce
     * that we take packets without a CRC32c (as Chrome's dcSCTP does) and
     * leave it out towards a peer that announces the same */
    sc.zero_checksum = true;
    pc->sctp = sctp_assoc_init(cfg->sctp_mem, &sc, cfg->sctp_pool, now);
    if (!pc->sctp)
        return -EINVAL;
    pc->last_now = now;
    reach(pc, PC_ICE, now);
    ice_start(&su->ice, now);
    return 0;
}

struct pc_setup *pc_release_setup(struct pc *p)
{
    struct pc_impl *pc = impl(p);
    struct pc_setup_impl *su = pc->su;
    if (!su)
        return NULL;
    pc->su = NULL;
    memset(su->srtp_keying, 0, sizeof(su->srtp_keying));
    if (pc->stage != PC_UP)
        fail(pc, PC_FAIL_ICE, pc->last_now); /* it cannot go on without its set-up state */
    return (struct pc_setup *)(void *)su;
}

/* ICE done: borrow a handshake slot (or wait for one) and start DTLS,
 * its cookie bound to the selected pair's address. */
static void start_dtls(struct pc_impl *pc, uint64_t now)
{
    struct pc_setup_impl *su = pc->su;
    struct stun_addr sel;
    if (ice_selected(&su->ice, &sel))
        client_id_of(su, &sel);
    int64_t slot = dtls_hs_pool_acquire(pc->hs);
    if (slot < 0) {
        pc->c->hs_slot_waits++;
        su->slot_retry = now + SLOT_RETRY_NS;
        return;
    }
    su->slot_retry = 0;
    pc->hs_slot = (int32_t)slot;
    struct dtls_config dc = {.is_server = !pc->dtls_client,
                             .cp = su->cp,
                             .cert = su->cert,
                             .peer_fingerprint = su->peer_fp,
                             .rec = &pc->rec,
                             .cookie_secret = su->cookie_secret,
                             .client_id = su->client_id,
                             .client_id_len = su->client_id_len,
                             .srtp = PC_SRTP,
                             .keylog = su->keylog,
                             .mtu = DTLS_MTU,
                             .versions = su->dtls_versions,
                             .key_update_after = su->dtls_ku_after};
    reach(pc, PC_DTLS, now);
    if (dtls_init(hs_ep(pc), &dc, now) != 0)
        fail(pc, PC_FAIL_DTLS, now);
}

static void ice_events(struct pc_impl *pc, uint64_t now)
{
    struct ice_ev ev;
    while (pc->su && ice_poll_event(&pc->su->ice, &ev) != ICE_EV_NONE) {
        if (ev.type == ICE_EV_CONNECTED && pc->stage == PC_ICE) {
            reach(pc, PC_DTLS_WAIT, now);
            start_dtls(pc, now);
        } else if (ev.type == ICE_EV_FAILED && pc->stage == PC_ICE) {
            fail(pc, PC_FAIL_ICE, now);
        } else if (ev.type == ICE_EV_CONSENT_LOST && pc->stage != PC_FAILED) {
            push(pc, PC_EV_CONSENT_LOST);
        }
    }
}

static void dtls_events(struct pc_impl *pc, uint64_t now)
{
    struct dtls_endpoint *e = hs_ep(pc);
    if (!e || !pc->su)
        return;
    struct dtls_ev ev;
    while (dtls_poll_event(e, &ev) != DTLS_EV_NONE) {
        if (ev.type == DTLS_EV_FAILED) {
            pc->dtls_failure = (uint8_t)ev.failure;
            /* the alert it queued outlives the slot: it goes out next */
            pc->su->alert_len = (uint8_t)dtls_poll_transmit(e, pc->su->alert, sizeof(pc->su->alert), now);
            fail(pc, PC_FAIL_DTLS, now);
            return;
        }
        if (ev.type == DTLS_EV_CONNECTED && pc->stage == PC_DTLS) {
            struct pc_setup_impl *su = pc->su;
            if (su->keylog && dtls_version(e) != DTLS_V13) /* 1.3 wrote its lines as it went */
                dtls_keylog_line(e, su->keylog);
            su->srtp_profile = dtls_srtp_profile(e);
            pc->dtls_ver = (uint8_t)(dtls_version(e) & 0xff); /* kept: the slot goes back below */
            size_t kl = dtls_srtp_keying_len(su->srtp_profile);
            if (kl && dtls_export_keying(e, "EXTRACTOR-dtls_srtp", su->srtp_keying, kl) != 0) {
                fail(pc, PC_FAIL_DTLS, now);
                return;
            }
            /* DTLS 1.2: the client is done; the server keeps its endpoint
             * until the client's first record shows it got the final
             * flight. DTLS 1.3 (RFC 9147 §7): the client's Finished is the
             * final flight, resent until acknowledged, and the server
             * acknowledges it again when it comes again: both keep their
             * endpoint until the peer's first application record */
            if (pc->dtls_client && pc->dtls_ver != (DTLS_V13 & 0xff))
                release_slot(pc);
            if (pc->dtls_ver != (DTLS_V13 & 0xff))
                pc->keep_dtls = false; /* 1.2 has no KeyUpdate: nothing to keep it for */
            reach(pc, PC_SCTP, now);
            if (pc->dtls_client)
                sctp_connect(pc->sctp, now);
        }
    }
}

/* The records of a datagram after our handshake: application data (an
 * SCTP packet) to the association, alerts to the record layer, a
 * repeated flight of the peer's to our handshake while we hold it. A
 * DTLS 1.3 record (RFC 9147 §4, the unified header) is the record
 * layer's at epoch 3 (its low epoch bits 3: application data, alerts,
 * ACKs, which it opens and consumes) and the handshake's at epoch 2 (the
 * peer's last flight again, or the ACK of ours). */
static enum engine_input records_in(struct pc_impl *pc, const uint8_t *d, size_t len, uint64_t now)
{
    uint8_t plain[16384 + 64]; /* what a peer with a larger MTU may send */
    bool took = false;
    size_t off = 0;
    while (off < len) {
        uint8_t rt = d[off];
        size_t rl;
        bool to_handshake;
        if ((rt & 0xe0) == 0x20) {
            struct dtls13_hdr h;
            if (dtls13_parse_header(d + off, len - off, &h) != 0)
                break; /* a connection id, or truncated: counted once, below */
            rl = h.rec_len;
            to_handshake = (h.epoch_bits & 3) != 3;
        } else {
            if (len - off < DTLS_RECORD_HEADER)
                break;
            rl = DTLS_RECORD_HEADER + (size_t)wire_get16(d + off + 11);
            if (rl > len - off)
                break;
            to_handshake = rt == DTLS_CT_HANDSHAKE || rt == DTLS_CT_CHANGE_CIPHER_SPEC;
        }
        /* DTLS 1.3 while the endpoint is held: every protected record
         * through it (the previous epoch's keys after a KeyUpdate of the
         * peer, KeyUpdates and ACKs taken there, epoch 2 to the handshake) */
        bool via_ep = hs_ep(pc) && (rt & 0xe0) == 0x20 && dtls_connected(hs_ep(pc));
        if (to_handshake && !via_ep) {
            /* the peer repeating its flight: it lacks ours, which
             * our handshake sends again while we hold it */
            enum engine_input r = hs_ep(pc) ? dtls_handle_input(hs_ep(pc), d + off, rl, now) : ENGINE_IN_IGNORED;
            if (r == ENGINE_IN_IGNORED)
                pc->c->records_dropped++;
            took |= r == ENGINE_IN_ACCEPTED;
            off += rl;
            continue;
        }
        size_t used;
        uint8_t type;
        int n;
        if (via_ep) {
            /* a KeyUpdate taken, or the ACK of ours, moves the endpoint's
             * counters: their deltas go to the caller's block */
            const struct dtls_counters *dc = dtls_counters(hs_ep(pc));
            uint32_t ku_out = dc->key_updates_out, ku_in = dc->key_updates_in;
            n = dtls_open_record(hs_ep(pc), d + off, rl, &used, &type, plain, sizeof(plain), now);
            pc->c->key_updates_out += dc->key_updates_out - ku_out;
            pc->c->key_updates_in += dc->key_updates_in - ku_in;
        } else {
            n = dtls_record_open(&pc->rec, d + off, rl, &used, &type, plain, sizeof(plain));
        }
        if (n < 0) {
            pc->c->records_dropped++;
        } else if (via_ep && type == DTLS_CT_HANDSHAKE) {
            took = true; /* a KeyUpdate, or the peer's final flight again */
        } else if (type == DTLS_CT_APPLICATION_DATA) {
            if (!keeps(pc))
                release_slot(pc); /* the peer has our final flight */
            took |= sctp_handle_input(pc->sctp, plain, (size_t)n, now) == ENGINE_IN_ACCEPTED;
        } else if (type == DTLS_CT_ACK) {
            /* DTLS 1.3: the server acknowledging our final flight; a client
             * whose flight it covers needs its handshake no more */
            took = true;
            struct dtls_endpoint *e = hs_ep(pc);
            if (e && !via_ep && dtls_handle_ack(e, plain, (size_t)n) && pc->dtls_client && !dtls_awaiting_ack(e))
                release_slot(pc);
            else if (e && via_ep && !keeps(pc) && pc->dtls_client && !dtls_awaiting_ack(e))
                release_slot(pc); /* dtls_open_record took the ACK */
        } else {
            took = true;
            if (type == DTLS_CT_ALERT && !dtls_record_can_open(&pc->rec)) {
                pc->closed = true;
                push(pc, PC_EV_CLOSED);
            }
        }
        off += rl;
    }
    if (off < len)
        pc->c->records_dropped++;
    return took ? ENGINE_IN_ACCEPTED : ENGINE_IN_MALFORMED;
}

enum engine_input pc_handle_input(struct pc *p, const uint8_t *d, size_t len, uint64_t now)
{
    return pc_handle_input_from(p, d, len, NULL, now);
}

enum engine_input pc_handle_input_from(struct pc *p, const uint8_t *d, size_t len, const struct stun_addr *from,
                                       uint64_t now)
{
    struct pc_impl *pc = impl(p);
    if (now > pc->last_now)
        pc->last_now = now;
    pc->c->datagrams_in++;
    if (len == 0 || pc->stage == PC_FAILED) {
        pc->c->unknown_in++;
        return ENGINE_IN_IGNORED;
    }
    uint8_t b = d[0];
    if (b <= 3) {
        pc->c->stun_in++;
        if (!pc->su) {
            pc->c->stun_dropped++; /* ICE has ended with the set-up state */
            return ENGINE_IN_IGNORED;
        }
        enum engine_input r = ice_handle_input_from(&pc->su->ice, d, len, from, now);
        ice_events(pc, now);
        return r;
    }
    if (b >= 20 && b <= 63) {
        pc->c->dtls_in++;
        if (pc->stage < PC_DTLS) {
            pc->c->records_dropped++; /* before our handshake started (no slot yet): the peer resends */
            return ENGINE_IN_IGNORED;
        }
        if (pc->stage == PC_DTLS) {
            enum engine_input r = dtls_handle_input(hs_ep(pc), d, len, now);
            if (r == ENGINE_IN_IGNORED)
                pc->c->records_dropped++;
            dtls_events(pc, now);
            return r;
        }
        return records_in(pc, d, len, now);
    }
    if (b >= 128 && b <= 191) {
        pc->c->rtp_in++; /* no media on this endpoint (the caller hands SRTP to its media session) */
        return ENGINE_IN_IGNORED;
    }
    pc->c->unknown_in++;
    return ENGINE_IN_IGNORED;
}

void pc_handle_timeout(struct pc *p, uint64_t now)
{
    struct pc_impl *pc = impl(p);
    if (now > pc->last_now)
        pc->last_now = now;
    if (pc->stage == PC_FAILED)
        return;
    struct pc_setup_impl *su = pc->su;
    if (su && ice_next_timeout(&su->ice) <= now) {
        ice_handle_timeout(&su->ice, now);
        ice_events(pc, now);
    }
    if (su && pc->stage == PC_DTLS_WAIT && su->slot_retry && su->slot_retry <= now)
        start_dtls(pc, now);
    struct dtls_endpoint *e = hs_ep(pc);
    if (e && dtls_next_timeout(e) <= now) {
        dtls_handle_timeout(e, now);
        dtls_events(pc, now);
    }
    if (pc->stage >= PC_SCTP && pc->stage != PC_FAILED && sctp_next_timeout(pc->sctp) <= now)
        sctp_handle_timeout(pc->sctp, now);
}

size_t pc_poll_transmit(struct pc *p, uint8_t *buf, size_t cap, uint64_t now)
{
    return pc_poll_transmit_to(p, buf, cap, now, NULL);
}

size_t pc_poll_transmit_to(struct pc *p, uint8_t *buf, size_t cap, uint64_t now, struct stun_addr *to)
{
    struct pc_impl *pc = impl(p);
    if (now > pc->last_now)
        pc->last_now = now;
    struct pc_setup_impl *su = pc->su;
    size_t n = 0;
    if (to) {
        /* everything but ICE's own datagrams: to the selected pair, or
         * the configured peer before one is; unknown without the set-up
         * state */
        if (!su)
            memset(to, 0, sizeof(*to));
        else if (!ice_selected(&su->ice, to))
            *to = su->peer;
    }
    if (su) {
        if (su->alert_len && cap >= su->alert_len) {
            n = su->alert_len;
            memcpy(buf, su->alert, n);
            su->alert_len = 0;
            goto sent;
        }
        if ((n = ice_poll_transmit_to(&su->ice, buf, cap, now, to)) > 0)
            goto sent;
    }
    struct dtls_endpoint *e = hs_ep(pc);
    if (e && (n = dtls_poll_transmit(e, buf, cap, now)) > 0)
        goto sent;
    if (pc->stage >= PC_SCTP && pc->stage != PC_FAILED && dtls_record_can_seal(&pc->rec)) {
        /* the SCTP packet straight where its ciphertext goes: sealed in place */
        size_t pre = dtls_record_prefix(&pc->rec);
        if (cap < pre + SCTP_MTU + 1 + 16) /* the tag, and DTLS 1.3's inner content type */
            return 0;
        size_t m = sctp_poll_transmit(pc->sctp, buf + pre, SCTP_MTU, now);
        if (m > 0) {
            int sealed = dtls_record_seal(&pc->rec, DTLS_CT_APPLICATION_DATA, buf + pre, m, buf, cap);
            if (sealed > 0) {
                n = (size_t)sealed;
                goto sent;
            }
        }
        if (pc->notify_due) { /* after every SCTP packet: its SHUTDOWN-COMPLETE first */
            pc->notify_due = false;
            int sealed = dtls_record_close(&pc->rec, buf, cap);
            if (sealed > 0) {
                n = (size_t)sealed;
                goto sent;
            }
        }
    }
    return 0;
sent:
    pc->c->datagrams_out++;
    return n;
}

enum pc_event_type pc_poll_event(struct pc *p, struct pc_ev *out)
{
    struct pc_impl *pc = impl(p);
    out->len = 0;
    out->binary = false;
    out->fail = PC_FAIL_NONE;
    for (;;) {
        if (pc->ev_n) {
            out->type = (enum pc_event_type)pc->events[pc->ev_head];
            pc->ev_head = (uint8_t)((pc->ev_head + 1) % sizeof(pc->events));
            pc->ev_n--;
            if (out->type == PC_EV_FAILED)
                out->fail = (enum pc_fail)pc->fail;
            return out->type;
        }
        if (pc->stage < PC_SCTP || pc->stage == PC_FAILED)
            return out->type = PC_EV_NONE;
        struct sctp_ev ev = {.buf = out->buf, .cap = out->cap};
        uint64_t now = pc->last_now;
        switch (sctp_poll_event(pc->sctp, &ev)) {
        case SCTP_EV_NONE:
            return out->type = PC_EV_NONE;
        case SCTP_EV_UP:
            reach(pc, PC_DC, now);
            if (pc->opens_channel) {
                const struct pc_setup_impl *su = pc->su;
                struct sctp_dc_opts o = {.priority = 256};
                if (su) {
                    o.type = (enum sctp_dc_type)su->dc_type;
                    o.reliability = su->dc_reliability;
                    o.label = su->label;
                    o.label_len = (uint16_t)strlen(su->label);
                }
                int sid = su ? sctp_dc_open(pc->sctp, &o, now) : -EINVAL;
                if (sid < 0)
                    fail(pc, PC_FAIL_DC, now);
                else
                    pc->dc_sid = (uint16_t)sid;
            }
            break;
        case SCTP_EV_DC_ACKED:
        case SCTP_EV_DC_OPEN:
            if (pc->stage == PC_DC) {
                pc->dc_sid = ev.sid;
                reach(pc, PC_UP, now);
                push(pc, PC_EV_UP);
            }
            break;
        case SCTP_EV_MESSAGE:
            out->len = ev.len;
            out->binary = ev.ppid != SCTP_PPID_STRING && ev.ppid != SCTP_PPID_STRING_EMPTY;
            return out->type = PC_EV_MESSAGE;
        case SCTP_EV_DC_CLOSED:
            if (pc->stage == PC_UP && ev.sid == pc->dc_sid)
                return out->type = PC_EV_CHANNEL_CLOSED;
            break;
        case SCTP_EV_DOWN:
            if (pc->stage < PC_UP)
                fail(pc, PC_FAIL_SCTP, now);
            else {
                pc->closed = true;
                push(pc, PC_EV_CLOSED);
            }
            break;
        default:
            break;
        }
    }
}

/* The earliest deadline and which engine owns it. */
static uint64_t next_timeout(const struct pc_impl *pc, const char **why)
{
    uint64_t t = UINT64_MAX, x;
    const struct pc_setup_impl *su = pc->su;
    *why = "none";
    if (su && su->alert_len) {
        *why = "alert";
        return pc->last_now;
    }
    if (pc->stage == PC_FAILED)
        return t;
    if (su && (x = ice_next_timeout(&su->ice)) < t)
        t = x, *why = "ice";
    if (su && su->slot_retry && su->slot_retry < t)
        t = su->slot_retry, *why = "slot";
    if (pc->hs_slot >= 0 && (x = dtls_next_timeout(dtls_hs_pool_slot(pc->hs, (uint32_t)pc->hs_slot))) < t)
        t = x, *why = "dtls";
    if (pc->stage >= PC_SCTP && (x = sctp_next_timeout(pc->sctp)) < t)
        t = x, *why = "sctp";
    return t;
}

void pc_prefetch(const struct pc *p, bool rx)
{
    const struct pc_impl *pc = cimpl(p);
    if (pc->stage < PC_SCTP || pc->stage == PC_FAILED)
        return;
    dtls_record_prefetch(&pc->rec, rx);
    sctp_prefetch(pc->sctp);
}

uint64_t pc_next_timeout(const struct pc *pc)
{
    const char *why;
    return next_timeout(cimpl(pc), &why);
}

const char *pc_timeout_reason(const struct pc *pc)
{
    const char *why;
    next_timeout(cimpl(pc), &why);
    return why;
}

int pc_send_as(struct pc *p, const void *msg, size_t len, bool binary, uint64_t now)
{
    struct pc_impl *pc = impl(p);
    if (pc->stage != PC_UP)
        return -ENOTCONN;
    return sctp_dc_send(pc->sctp, pc->dc_sid, msg, len, binary, now);
}

int pc_send(struct pc *p, const void *msg, size_t len, uint64_t now)
{
    return pc_send_as(p, msg, len, true, now);
}

int pc_channel_close(struct pc *p, uint64_t now)
{
    struct pc_impl *pc = impl(p);
    if (pc->stage != PC_UP)
        return -ENOTCONN;
    return sctp_dc_close(pc->sctp, pc->dc_sid, now);
}

void pc_free(struct pc *p)
{
    struct pc_impl *pc = impl(p);
    release_slot(pc);
    dtls_record_free(&pc->rec);
}

bool pc_close(struct pc *p, uint64_t now)
{
    struct pc_impl *pc = impl(p);
    if (now > pc->last_now)
        pc->last_now = now;
    if (pc->stage >= PC_SCTP && pc->stage != PC_FAILED && !pc->closed) {
        sctp_abort(pc->sctp, now);
        return true;
    }
    return pc->su && pc->su->alert_len != 0;
}

int pc_shutdown(struct pc *p, uint64_t now)
{
    struct pc_impl *pc = impl(p);
    if (now > pc->last_now)
        pc->last_now = now;
    if (pc->stage != PC_UP || pc->closed)
        return -ENOTCONN;
    return sctp_shutdown(pc->sctp, now);
}

bool pc_close_notify(struct pc *p)
{
    struct pc_impl *pc = impl(p);
    if (pc->stage < PC_SCTP || pc->stage == PC_FAILED || !dtls_record_can_seal(&pc->rec))
        return false;
    pc->notify_due = true;
    return true;
}

enum pc_stage pc_stage(const struct pc *pc)
{
    return (enum pc_stage)cimpl(pc)->stage;
}

enum pc_fail pc_failure(const struct pc *pc)
{
    return (enum pc_fail)cimpl(pc)->fail;
}

uint64_t pc_stage_time(const struct pc *pc, enum pc_stage s)
{
    const struct pc_setup_impl *su = cimpl(pc)->su;
    return (unsigned)s <= PC_UP && su ? su->t_stage[s] : 0;
}

enum dtls_failure pc_dtls_failure(const struct pc *pc)
{
    return (enum dtls_failure)cimpl(pc)->dtls_failure;
}

bool pc_dtls_client(const struct pc *pc)
{
    return cimpl(pc)->dtls_client;
}

uint16_t pc_dtls_version(const struct pc *pc)
{
    uint8_t v = cimpl(pc)->dtls_ver;
    return v ? (uint16_t)(0xfe00 | v) : 0;
}

const struct pc_counters *pc_counters(const struct pc *pc)
{
    return cimpl(pc)->c;
}

const struct ice_counters *pc_ice_counters(const struct pc *pc)
{
    const struct pc_setup_impl *su = cimpl(pc)->su;
    return su ? ice_counters(&su->ice) : NULL;
}

const struct dtls_counters *pc_dtls_counters(const struct pc *p)
{
    const struct pc_impl *pc = cimpl(p);
    return pc->hs_slot >= 0 ? dtls_counters(dtls_hs_pool_slot(pc->hs, (uint32_t)pc->hs_slot)) : NULL;
}

int pc_key_update(struct pc *p, bool request_peer, uint64_t now)
{
    struct pc_impl *pc = impl(p);
    struct dtls_endpoint *e = hs_ep(pc);
    if (!e || pc->stage < PC_SCTP || pc->stage == PC_FAILED)
        return -ENOTSUP;
    return dtls_key_update(e, request_peer, now);
}

const struct dtls_record_counters *pc_record_counters(const struct pc *pc)
{
    return dtls_record_counters(&cimpl(pc)->rec);
}

const struct sctp_counters *pc_sctp_counters(const struct pc *pc)
{
    return sctp_counters(cimpl(pc)->sctp);
}

/* The association of an endpoint whose association is established, else NULL. */
static const struct sctp_assoc *live_sctp(const struct pc *p)
{
    if (!p)
        return NULL;
    const struct pc_impl *pc = cimpl(p);
    if (pc->stage < PC_SCTP || pc->stage == PC_FAILED || pc->closed ||
        sctp_state(pc->sctp) < SCTP_ST_ESTABLISHED)
        return NULL;
    return pc->sctp;
}

uint32_t pc_msgs_in_flight(const struct pc *from, const struct pc *to)
{
    const struct sctp_assoc *f = live_sctp(from), *t = live_sctp(to);
    if (!f && !t)
        return 0;
    return sctp_msgs_in_flight(f, t);
}

void pc_drops(const struct pc *p, struct pc_drops *d)
{
    const struct pc_impl *pc = cimpl(p);
    const struct sctp_counters *sc = sctp_counters(pc->sctp);
    d->not_webrtc = pc->c->unknown_in;
    d->stun = pc->c->stun_dropped;
    if (pc->su) {
        const struct ice_counters *ic = ice_counters(&pc->su->ice);
        d->stun += (uint64_t)ic->malformed + ic->integrity_failures + ic->ignored;
    }
    d->record = pc->c->records_dropped;
    d->sctp = 0;
    for (int i = 0; i < SCTP_DROP_COUNT; i++)
        d->sctp += sc->drops[i];
    d->rtp = pc->c->rtp_in;
}

uint32_t pc_buffered(const struct pc *pc)
{
    return sctp_buffered(cimpl(pc)->sctp);
}

bool pc_selected_peer(const struct pc *pc, struct stun_addr *out)
{
    const struct pc_setup_impl *su = cimpl(pc)->su;
    return su && ice_selected(&su->ice, out);
}

int pc_ice_restart(struct pc *p, const char *lu, const char *lp, const char *ru, const char *rp,
                   const struct ice_cand *remote, uint32_t n, uint64_t now)
{
    struct pc_impl *pc = impl(p);
    if (now > pc->last_now)
        pc->last_now = now;
    if (!pc->su)
        return -ENOTCONN;
    return ice_restart(&pc->su->ice, lu, lp, ru, rp, remote, n, pc->last_now);
}

void pc_set_peer(struct pc *pc, const struct stun_addr *peer)
{
    struct pc_setup_impl *su = impl(pc)->su;
    if (su)
        ice_set_peer(&su->ice, peer);
}

int pc_srtp_init_keys(const struct pc *p, struct srtps_session *s, uint8_t *out_local, uint8_t *out_remote)
{
    const struct pc_impl *pc = cimpl(p);
    const struct pc_setup_impl *su = pc->su;
    if (!su || su->srtp_profile == 0)
        return -ENOKEY;
    enum srtps_profile prof = (enum srtps_profile)su->srtp_profile; /* the DTLS-SRTP number */
    uint8_t local[SRTPS_MASTER_MAX], remote[SRTPS_MASTER_MAX];
    int rc = srtps_split_keying(prof, su->srtp_keying, pc->dtls_client, local, remote);
    if (rc == 0)
        rc = srtps_init(s, prof, local, remote);
    if (rc == 0 && out_local) {
        memcpy(out_local, local, srtps_master_len(prof));
        memcpy(out_remote, remote, srtps_master_len(prof));
    }
    memset(local, 0, sizeof(local));
    memset(remote, 0, sizeof(remote));
    return rc;
}

int pc_srtp_init(const struct pc *p, struct srtps_session *s)
{
    return pc_srtp_init_keys(p, s, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the full ICE agent's state machine (check list, Ta
 * pacing, triggered checks, peer-reflexive candidates, nomination, role
 * conflicts, consent, restart). The input is a script: each step picks a
 * clock advance, a source address and a message the peer might send,
 * built and signed correctly (so that it gets past integrity and reaches
 * the state machine) or left as raw bytes. Invariants: no crash, time
 * never runs back in the deadline, a connected agent has a selection. */
#include <stdint.h>
#include <string.h>

#include "ice.h"
#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *PW_US = "us-password-0123456789", *PW_PEER = "peer-password-0123456789";

static struct stun_addr addr_of(uint8_t k)
{
    return (struct stun_addr){4, (uint16_t)(1000 + (k & 7)), {10, 0, 0, (uint8_t)(1 + (k & 7))}};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct ice_cand rc[4];
    uint32_t n = (uint32_t)(data[0] & 3) + 1;
    for (uint32_t i = 0; i < 4; i++) /* all four: a restart may take them */
        rc[i] = (struct ice_cand){addr_of((uint8_t)i), 2130706431u - i * 1000, ICE_CAND_HOST};
    struct ice_config cfg = {.role = (data[0] & 4) ? ICE_CONTROLLING : ICE_CONTROLLED,
                             .tiebreaker = 1000,
                             .priority = 2130706431u,
                             .local_ufrag = "us",
                             .local_pwd = PW_US,
                             .remote_ufrag = "peer",
                             .remote_pwd = PW_PEER,
                             .remote = rc,
                             .n_remote = n,
                             .ta_ns = (data[0] & 8) ? 0 : 20000000ull,
                             .consent = data[0] & 16};
    struct ice_agent a;
    if (ice_init(&a, &cfg) != 0)
        __builtin_trap();
    uint64_t now = 0;
    ice_start(&a, now);
    uint8_t last_tid[12] = {0}, out[512], msg[512];
    size_t off = 1;
    while (off + 3 <= size) {
        uint8_t op = data[off], arg = data[off + 1], adv = data[off + 2];
        off += 3;
        now += (uint64_t)adv * 10000000ull; /* 0..2.55 s */
        ice_handle_timeout(&a, now);
        struct stun_addr to, from = addr_of(arg);
        size_t len;
        while ((len = ice_poll_transmit_to(&a, out, sizeof(out), now, &to)) > 0) {
            struct stun_msg m;
            if (stun_parse(out, len, &m) != 0 || (m.type == STUN_BINDING_REQUEST && to.family != 4))
                __builtin_trap(); /* checks go to candidates; an answer to an unknown source has none */
            if (m.type == STUN_BINDING_REQUEST)
                memcpy(last_tid, m.tid, 12);
        }
        struct ice_ev ev;
        while (ice_poll_event(&a, &ev) != ICE_EV_NONE)
            if (ev.type == ICE_EV_CONNECTED && !ice_selected(&a, NULL))
                __builtin_trap();
        uint64_t next = ice_next_timeout(&a);
        if (next < now && next != 0)
            __builtin_trap();
        struct stun_writer w;
        uint8_t tid[12];
        memset(tid, arg, sizeof(tid));
        switch (op & 7) {
        case 0: /* a check from the peer */
        case 1: {
            stun_begin(&w, msg, sizeof(msg), STUN_BINDING_REQUEST, tid);
            stun_put_bytes(&w, STUN_ATTR_USERNAME, "us:peer", 7);
            stun_put_u32(&w, STUN_ATTR_PRIORITY, 1862270975u + arg);
            stun_put_u64(&w, (op & 8) ? STUN_ATTR_ICE_CONTROLLING : STUN_ATTR_ICE_CONTROLLED, (op & 16) ? 1 : 5000);
            if (op & 32)
                stun_put_flag(&w, STUN_ATTR_USE_CANDIDATE);
            stun_put_integrity(&w, (const uint8_t *)PW_US, strlen(PW_US));
            break;
        }
        case 2: /* an answer to our latest request */
        case 3:
            stun_begin(&w, msg, sizeof(msg), (op & 8) ? STUN_BINDING_ERROR : STUN_BINDING_SUCCESS, last_tid);
            if (op & 8)
                stun_put_error(&w, (op & 16) ? 487 : 400, "x");
            else
                stun_put_xor_address(&w, &from);
            stun_put_integrity(&w, (const uint8_t *)PW_PEER, strlen(PW_PEER));
            break;
        case 4: /* a keepalive */
            stun_begin(&w, msg, sizeof(msg), STUN_BINDING_INDICATION, tid);
            break;
        case 5: /* a restart */
            if (ice_restart(&a, "us", PW_US, "peer", PW_PEER, rc, (uint32_t)(arg & 3) + 1, now) != 0)
                __builtin_trap();
            continue;
        default: { /* raw bytes */
            size_t l = arg < size - off ? arg : size - off;
            ice_handle_input_from(&a, data + off, l, (op & 8) ? NULL : &from, now);
            off += l;
            continue;
        }
        }
        stun_put_fingerprint(&w);
        int ml = stun_end(&w);
        if (ml > 0)
            ice_handle_input_from(&a, msg, (size_t)ml, &from, now);
    }
    return 0;
}

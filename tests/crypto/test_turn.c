/* SPDX-License-Identifier: MIT */
/*
 * The TURN client engine on a virtual clock against a scripted server
 * (turn_fake.h): the 401 challenge, signatures, stale nonces, batching of
 * permissions, channels, refresh deadlines, data framing and what is
 * ignored. tests/interop/test_turn_coturn.c runs it against coturn.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "turn.h"
#include "turn_fake.h"
#include "wire.h"

#define S 1000000000ull

static uint8_t mem[8192] __attribute__((aligned(64)));
static uint8_t key[16];
static uint8_t req[TURN_REQ_MAX], ans[512];
static size_t req_len;

static struct turn_client *client(uint16_t peers)
{
    cr_assert_leq(turn_size(peers), sizeof(mem));
    struct turn_config c = {.user = "ann", .pass = "pw", .lifetime_s = 600, .seed = 42, .max_peers = peers};
    struct turn_client *t = turn_init(mem, &c);
    cr_assert_not_null(t);
    cr_assert_eq(stun_long_term_key("ann", (const uint8_t *)FAKE_REALM, sizeof(FAKE_REALM) - 1, "pw", key), 0);
    return t;
}

/* The client's next datagram (asserted present). */
static struct stun_msg sent(struct turn_client *t, uint64_t now)
{
    req_len = turn_poll_transmit(t, req, sizeof(req), now);
    cr_assert_gt(req_len, 0, "nothing sent");
    struct stun_msg m;
    cr_assert_eq(stun_parse(req, req_len, &m), 0);
    cr_assert_eq(stun_check_fingerprint(req, req_len, &m), 0);
    return m;
}

static enum engine_input answer(struct turn_client *t, uint16_t code, const uint8_t *k, const char *nonce,
                                uint64_t now)
{
    int n = fake_answer(req, req_len, code, k, nonce, ans, sizeof(ans));
    cr_assert_gt(n, 0);
    struct turn_rx rx;
    enum engine_input r = turn_handle_input(t, ans, (size_t)n, now, &rx);
    cr_assert_eq(rx.peer, -1);
    return r;
}

static enum turn_event_type next_event(struct turn_client *t, struct turn_ev *ev)
{
    return turn_poll_event(t, ev);
}

/* Brings a client through the challenge to TURN_ALLOCATED at `now`. */
static void allocate(struct turn_client *t, uint64_t now)
{
    turn_allocate(t, now);
    struct stun_msg m = sent(t, now);
    cr_assert_eq(m.type, STUN_METHOD_ALLOCATE);
    cr_assert_eq(m.integrity_off, -1, "the first Allocate carries no credentials");
    cr_assert_eq(answer(t, 401, NULL, NULL, now), ENGINE_IN_ACCEPTED);
    m = sent(t, now);
    cr_assert_eq(m.username_len, 3);
    cr_assert_eq(m.realm_len, sizeof(FAKE_REALM) - 1);
    cr_assert_eq(m.nonce_len, sizeof(FAKE_NONCE) - 1);
    cr_assert_eq(stun_check_integrity(req, req_len, &m, key, 16), 0);
    cr_assert_eq(answer(t, 0, key, NULL, now), ENGINE_IN_ACCEPTED);
    struct turn_ev ev;
    cr_assert_eq(next_event(t, &ev), TURN_EV_ALLOCATED);
    cr_assert_eq(turn_state(t), TURN_ALLOCATED);
}

Test(turn, challenge_then_signed_success_allocates)
{
    struct turn_client *t = client(1);
    allocate(t, 5 * S);
    cr_assert_eq(turn_relayed(t)->port, 49152);
    cr_assert_eq(turn_mapped(t)->port, 40000);
    cr_assert_eq(turn_lifetime(t), 600);
    cr_assert_eq(turn_counters(t)->challenges, 1);
    cr_assert_eq(turn_next_timeout(t), 5 * S + 540 * S, "refresh 60 s before the lifetime ends");
}

Test(turn, success_with_a_bad_signature_is_malformed_and_the_request_stays)
{
    struct turn_client *t = client(1);
    turn_allocate(t, S);
    sent(t, S);
    answer(t, 401, NULL, NULL, S);
    sent(t, S);
    uint8_t wrong[16] = {1};
    cr_assert_eq(answer(t, 0, wrong, NULL, S), ENGINE_IN_MALFORMED);
    cr_assert_eq(turn_counters(t)->integrity_failures, 1);
    cr_assert_eq(turn_state(t), TURN_ALLOCATING);
    cr_assert_eq(answer(t, 0, key, NULL, S), ENGINE_IN_ACCEPTED);
    cr_assert_eq(turn_state(t), TURN_ALLOCATED);
}

Test(turn, a_second_401_fails_allocate_with_401)
{
    struct turn_client *t = client(1);
    turn_allocate(t, S);
    sent(t, S);
    answer(t, 401, NULL, NULL, S);
    sent(t, S);
    answer(t, 401, NULL, NULL, S);
    struct turn_ev ev;
    cr_assert_eq(next_event(t, &ev), TURN_EV_FAILED);
    cr_assert_eq(ev.stage, TURN_STAGE_ALLOCATE);
    cr_assert_eq(ev.code, 401);
    cr_assert_eq(turn_state(t), TURN_FAILED);
    cr_assert_eq(turn_poll_transmit(t, req, sizeof(req), S), 0);
    cr_assert_eq(turn_next_timeout(t), UINT64_MAX);
}

Test(turn, stale_nonces_take_the_new_nonce_three_times_then_fail)
{
    struct turn_client *t = client(1);
    allocate(t, S);
    turn_handle_timeout(t, 541 * S);
    struct stun_msg m = sent(t, 541 * S);
    cr_assert_eq(m.type, STUN_METHOD_REFRESH);
    const char *nonces[] = {"nonce-one-xxxxxx", "nonce-two-xxxxxx", "nonce-three-xxxx"};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(answer(t, 438, NULL, nonces[i], 541 * S), ENGINE_IN_ACCEPTED);
        m = sent(t, 541 * S);
        cr_assert_eq(m.nonce_len, strlen(nonces[i]));
        cr_assert_eq(memcmp(m.nonce, nonces[i], m.nonce_len), 0);
    }
    cr_assert_eq(turn_counters(t)->stale_nonces, 3);
    answer(t, 438, NULL, "nonce-four-xxxxx", 541 * S);
    struct turn_ev ev;
    cr_assert_eq(next_event(t, &ev), TURN_EV_FAILED);
    cr_assert_eq(ev.stage, TURN_STAGE_REFRESH);
    cr_assert_eq(ev.code, 438);
}

/* XOR-PEER-ADDRESS attributes in a request (stun_msg keeps the first). */
static int peer_attrs(void)
{
    int n = 0;
    for (size_t off = STUN_HDR_LEN; off + 4 <= req_len; off += 4 + ((wire_get16(req + off + 2) + 3u) & ~3u))
        n += wire_get16(req + off) == STUN_ATTR_XOR_PEER_ADDRESS;
    return n;
}

Test(turn, permissions_go_in_one_request_and_channels_follow)
{
    struct turn_client *t = client(3);
    struct stun_addr p[3] = {{.family = 4, .port = 1000, .ip = {10, 0, 0, 1}},
                             {.family = 4, .port = 1001, .ip = {10, 0, 0, 2}},
                             {.family = 6, .port = 1002, .ip = {0x20, 1, [15] = 3}}};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(turn_add_peer(t, &p[i], i == 1, S), i);
    cr_assert_eq(turn_add_peer(t, &p[0], false, S), -ENOSPC);
    uint8_t out[256], data[20] = {0};
    cr_assert_eq(turn_wrap(t, 0, data, sizeof(data), out, sizeof(out)), -EAGAIN);
    allocate(t, S);
    struct stun_msg m = sent(t, S);
    cr_assert_eq(m.type, STUN_METHOD_CREATE_PERMISSION);
    cr_assert_eq(peer_attrs(), 3);
    cr_assert_eq(stun_check_integrity(req, req_len, &m, key, 16), 0);
    answer(t, 0, key, NULL, S);
    struct turn_ev ev;
    cr_assert_eq(next_event(t, &ev), TURN_EV_PERMISSION);
    for (int i = 0; i < 3; i++)
        cr_assert(turn_peer_permitted(t, i));
    m = sent(t, S);
    cr_assert_eq(m.type, STUN_METHOD_CHANNEL_BIND);
    cr_assert_eq(m.channel, TURN_CHANNEL_MIN + 1);
    cr_assert_eq(m.xor_peer.port, 1001);
    answer(t, 0, key, NULL, S);
    cr_assert_eq(next_event(t, &ev), TURN_EV_CHANNEL);
    cr_assert_eq(ev.peer, 1);
    cr_assert_eq(turn_peer_channel(t, 1), TURN_CHANNEL_MIN + 1);
    cr_assert_eq(turn_peer_channel(t, 0), 0);
    /* data: ChannelData on the channel, Send indications elsewhere */
    cr_assert_eq(turn_wrap(t, 1, data, sizeof(data), out, sizeof(out)), 4 + 20);
    cr_assert_eq(wire_get16(out), TURN_CHANNEL_MIN + 1);
    cr_assert_eq(wire_get16(out + 2), 20);
    int n = turn_wrap(t, 2, data, sizeof(data), out, sizeof(out));
    cr_assert_eq(n, 20 + 24 + 24);
    cr_assert_eq(stun_parse(out, (size_t)n, &m), 0);
    cr_assert_eq(m.type, STUN_CLASS_INDICATION | STUN_METHOD_SEND);
    cr_assert_eq(m.xor_peer.family, 6);
    cr_assert_eq(m.data_len, 20);
    cr_assert_eq(turn_wrap(t, 1, data, sizeof(data), out, 10), -ENOSPC);
    cr_assert_eq(turn_wrap(t, 3, data, sizeof(data), out, sizeof(out)), -EINVAL);
    /* permissions again at +240 s (the channel's ChannelBind refreshed its own) */
    cr_assert_eq(turn_next_timeout(t), S + 240 * S);
    turn_handle_timeout(t, 241 * S);
    m = sent(t, 241 * S);
    cr_assert_eq(m.type, STUN_METHOD_CREATE_PERMISSION);
    cr_assert_eq(peer_attrs(), 3);
}

Test(turn, data_from_unknown_channels_and_peers_is_ignored)
{
    struct turn_client *t = client(1);
    struct stun_addr p = {.family = 4, .port = 7, .ip = {10, 1, 1, 1}};
    turn_add_peer(t, &p, true, S);
    allocate(t, S);
    sent(t, S);
    answer(t, 0, key, NULL, S); /* permission */
    sent(t, S);
    answer(t, 0, key, NULL, S); /* channel 0x4000 */
    struct turn_rx rx;
    uint8_t cd[8] = {0x40, 0x00, 0x00, 0x03, 'a', 'b', 'c', 0};
    cr_assert_eq(turn_handle_input(t, cd, sizeof(cd), S, &rx), ENGINE_IN_ACCEPTED);
    cr_assert_eq(rx.peer, 0);
    cr_assert_eq(rx.len, 3);
    cr_assert_eq(memcmp(rx.data, "abc", 3), 0);
    cd[1] = 1; /* 0x4001: not bound */
    cr_assert_eq(turn_handle_input(t, cd, sizeof(cd), S, &rx), ENGINE_IN_IGNORED);
    cd[1] = 0;
    cd[3] = 9; /* longer than the datagram */
    cr_assert_eq(turn_handle_input(t, cd, sizeof(cd), S, &rx), ENGINE_IN_MALFORMED);
    /* a Data indication from an address that is not a peer */
    struct stun_writer w;
    uint8_t tid[12] = {9}, buf[128];
    struct stun_addr other = {.family = 4, .port = 8, .ip = {10, 1, 1, 1}};
    stun_begin(&w, buf, sizeof(buf), STUN_CLASS_INDICATION | STUN_METHOD_DATA, tid);
    stun_put_xor_address_as(&w, STUN_ATTR_XOR_PEER_ADDRESS, &other);
    stun_put_bytes(&w, STUN_ATTR_DATA, "xyz", 3);
    int n = stun_end(&w);
    cr_assert_eq(turn_handle_input(t, buf, (size_t)n, S, &rx), ENGINE_IN_IGNORED);
    cr_assert_eq(rx.peer, -1);
    stun_begin(&w, buf, sizeof(buf), STUN_CLASS_INDICATION | STUN_METHOD_DATA, tid);
    stun_put_xor_address_as(&w, STUN_ATTR_XOR_PEER_ADDRESS, &p);
    stun_put_bytes(&w, STUN_ATTR_DATA, "xyz", 3);
    n = stun_end(&w);
    cr_assert_eq(turn_handle_input(t, buf, (size_t)n, S, &rx), ENGINE_IN_ACCEPTED);
    cr_assert_eq(rx.peer, 0);
    cr_assert_eq(rx.len, 3);
    /* an answer to no request of ours */
    cr_assert_eq(answer(t, 0, key, NULL, S), ENGINE_IN_IGNORED);
    const struct turn_counters *k = turn_counters(t);
    cr_assert_eq(k->channel_data_in, 1);
    cr_assert_eq(k->data_in, 1);
    cr_assert_eq(k->ignored, 3);
    cr_assert_eq(k->malformed, 1);
}

Test(turn, retransmissions_double_from_the_rto_then_fail)
{
    struct turn_config c = {.user = "u", .pass = "p", .rto_ns = S / 10, .max_tries = 3, .max_peers = 1};
    struct turn_client *t = turn_init(mem, &c);
    turn_allocate(t, 0);
    cr_assert_gt(turn_poll_transmit(t, req, sizeof(req), 0), 0);
    cr_assert_eq(turn_next_timeout(t), S / 10);
    turn_handle_timeout(t, S / 10 - 1);
    cr_assert_eq(turn_poll_transmit(t, req, sizeof(req), S / 10 - 1), 0);
    turn_handle_timeout(t, S / 10);
    cr_assert_gt(turn_poll_transmit(t, req, sizeof(req), S / 10), 0);
    cr_assert_eq(turn_next_timeout(t), S / 10 + S / 5);
    turn_handle_timeout(t, 3 * S / 10);
    cr_assert_gt(turn_poll_transmit(t, req, sizeof(req), 3 * S / 10), 0);
    turn_handle_timeout(t, 7 * S / 10);
    struct turn_ev ev;
    cr_assert_eq(turn_poll_event(t, &ev), TURN_EV_FAILED);
    cr_assert_eq(ev.code, 0);
    cr_assert_eq(turn_counters(t)->requests, 1);
    cr_assert_eq(turn_counters(t)->retransmits, 2);
}

Test(turn, close_sends_lifetime_zero)
{
    struct turn_client *t = client(1);
    allocate(t, S);
    turn_close(t, 2 * S);
    struct stun_msg m = sent(t, 2 * S);
    cr_assert_eq(m.type, STUN_METHOD_REFRESH);
    cr_assert(m.has_lifetime);
    cr_assert_eq(m.lifetime, 0);
    answer(t, 0, key, NULL, 2 * S);
    struct turn_ev ev;
    cr_assert_eq(turn_poll_event(t, &ev), TURN_EV_CLOSED);
    cr_assert_eq(turn_state(t), TURN_CLOSED);
    /* a client never allocated closes at once */
    t = client(1);
    turn_close(t, S);
    cr_assert_eq(turn_poll_event(t, &ev), TURN_EV_CLOSED);
    cr_assert_eq(turn_poll_transmit(t, req, sizeof(req), S), 0);
}

Test(turn, bad_configurations_are_refused)
{
    struct turn_config c = {.user = "u", .pass = "p", .max_peers = 0};
    cr_assert_null(turn_init(mem, &c));
    char longer[TURN_USER_MAX + 2];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = 0;
    c.max_peers = 1;
    c.user = longer;
    cr_assert_null(turn_init(mem, &c));
}

Test(turn, stream_mode_sends_once_and_times_out_at_39_5_s)
{
    struct turn_config c = {.user = "u", .pass = "p", .max_peers = 1, .stream = true};
    struct turn_client *t = turn_init(mem, &c);
    turn_allocate(t, S);
    cr_assert_gt(turn_poll_transmit(t, req, sizeof(req), S), 0);
    cr_assert_eq(turn_next_timeout(t), S + 39 * S + S / 2, "RFC 8489 §6.2.2: no retransmission over TCP");
    turn_handle_timeout(t, 40 * S);
    cr_assert_eq(turn_poll_transmit(t, req, sizeof(req), 40 * S), 0);
    turn_handle_timeout(t, 40 * S + S / 2);
    struct turn_ev ev;
    cr_assert_eq(turn_poll_event(t, &ev), TURN_EV_FAILED);
    cr_assert_eq(ev.stage, TURN_STAGE_ALLOCATE);
    cr_assert_eq(ev.code, 0);
    cr_assert_eq(turn_counters(t)->retransmits, 0);
}

Test(turn, stream_mode_pads_channel_data_and_frames_the_stream)
{
    struct turn_config c = {.user = "ann", .pass = "pw", .lifetime_s = 600, .seed = 42, .max_peers = 1,
                            .stream = true, .timeout_ns = 5 * S};
    struct turn_client *t = turn_init(mem, &c);
    cr_assert_eq(stun_long_term_key("ann", (const uint8_t *)FAKE_REALM, sizeof(FAKE_REALM) - 1, "pw", key), 0);
    struct stun_addr p = {.family = 4, .port = 1000, .ip = {10, 0, 0, 1}};
    cr_assert_eq(turn_add_peer(t, &p, true, S), 0);
    allocate(t, S);
    sent(t, S);
    answer(t, 0, key, NULL, S);
    sent(t, S);
    answer(t, 0, key, NULL, S);
    cr_assert_eq(turn_peer_channel(t, 0), TURN_CHANNEL_MIN);
    uint8_t out[64], data[5] = {1, 2, 3, 4, 5};
    cr_assert_eq(turn_wrap(t, 0, data, 5, out, sizeof(out)), 12, "4 + 5 + 3 bytes of padding");
    cr_assert_eq(wire_get16(out + 2), 5, "the length leaves the padding out");
    cr_assert_eq(out[9] | out[10] | out[11], 0);
    cr_assert_eq(turn_wrap(t, 0, data, 4, out, sizeof(out)), 8);
    cr_assert_eq(turn_wrap(t, 0, data, 5, out, 11), -ENOSPC);
    /* a stream of a padded ChannelData, a STUN answer and a partial one */
    uint8_t st[256];
    size_t n = (size_t)turn_wrap(t, 0, data, 5, st, sizeof(st));
    turn_close(t, 2 * S);
    sent(t, 2 * S);
    int a = fake_answer(req, req_len, 0, key, NULL, st + n, sizeof(st) - n);
    cr_assert_gt(a, 0);
    size_t total = n + (size_t)a;
    cr_assert_eq(turn_stream_frame(st, 3), 0, "a partial header");
    cr_assert_eq(turn_stream_frame(st, 11), 0, "the padding not yet there");
    cr_assert_eq(turn_stream_frame(st, total), 12);
    cr_assert_eq(turn_stream_frame(st + 12, (size_t)a - 1), 0);
    cr_assert_eq(turn_stream_frame(st + 12, (size_t)a), a);
    struct turn_rx rx;
    cr_assert_eq(turn_handle_input(t, st, 12, 2 * S, &rx), ENGINE_IN_ACCEPTED);
    cr_assert_eq(rx.len, 5);
    cr_assert_eq(memcmp(rx.data, data, 5), 0);
    cr_assert_eq(turn_handle_input(t, st + 12, (size_t)a, 2 * S, &rx), ENGINE_IN_ACCEPTED);
    struct turn_ev ev;
    while (turn_poll_event(t, &ev) != TURN_EV_NONE && ev.type != TURN_EV_CLOSED)
        ;
    cr_assert_eq(ev.type, TURN_EV_CLOSED);
    /* a byte neither STUN nor ChannelData, a STUN length not a multiple of 4 */
    st[0] = 0x80;
    cr_assert_eq(turn_stream_frame(st, 20), -EBADMSG);
    st[0] = 0x01, st[2] = 0, st[3] = 6;
    cr_assert_eq(turn_stream_frame(st, 40), -EBADMSG);
}

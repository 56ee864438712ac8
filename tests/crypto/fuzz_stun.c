/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the STUN parser and its integrity/fingerprint checks;
 * whatever parses must re-check without crashing, and a message we build
 * from the parsed fields must parse again. */
#include <stdint.h>
#include <string.h>

#include "ice.h"
#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an ICE agent must count and survive anything */
    static const struct ice_config cfg = {ICE_CONTROLLED, false, 7, 1, "bbbb", "key", "aaaa", "key", {4, 1, {1}}};
    struct ice_agent ice;
    ice_init(&ice, &cfg);
    ice_start(&ice, 0);
    ice_handle_input(&ice, data, size, 1);
    uint8_t out[512];
    ice_poll_transmit(&ice, out, sizeof(out), 1);
    struct stun_msg m;
    if (stun_parse(data, size, &m) != 0)
        return 0;
    stun_check_integrity(data, size, &m, (const uint8_t *)"key", 3);
    stun_check_fingerprint(data, size, &m);
    uint8_t buf[1024];
    struct stun_writer w;
    stun_begin(&w, buf, sizeof(buf), m.type, m.tid);
    if (m.username)
        stun_put_bytes(&w, STUN_ATTR_USERNAME, m.username, m.username_len);
    if (m.has_priority)
        stun_put_u32(&w, STUN_ATTR_PRIORITY, m.priority);
    if (m.xor_mapped.family)
        stun_put_xor_address(&w, &m.xor_mapped);
    stun_put_integrity(&w, (const uint8_t *)"key", 3);
    stun_put_fingerprint(&w);
    int n = stun_end(&w);
    struct stun_msg again;
    if (n > 0 && (stun_parse(buf, (size_t)n, &again) != 0 ||
                  stun_check_fingerprint(buf, (size_t)n, &again) != 0 ||
                  stun_check_integrity(buf, (size_t)n, &again, (const uint8_t *)"key", 3) != 0 ||
                  again.priority != m.priority ||
                  memcmp(again.xor_mapped.ip, m.xor_mapped.ip, sizeof(m.xor_mapped.ip)) != 0))
        __builtin_trap();
    return 0;
}

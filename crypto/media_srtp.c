/* SPDX-License-Identifier: MIT */
#include "media_srtp.h"

#include <errno.h>
#include <string.h>

int media_srtp_global_init(void)
{
    return srtp_init() == srtp_err_status_ok ? 0 : -EIO;
}

int media_key_len(enum media_suite s)
{
    return s == MEDIA_AEAD_AES_128_GCM ? 16 + 12 : 16 + 14;
}

static int salt_len(enum media_suite s)
{
    return media_key_len(s) - 16;
}

void media_srtp_split_keying(enum media_suite suite, const uint8_t *km, bool is_client,
                             uint8_t *local, uint8_t *remote)
{
    int sl = salt_len(suite);
    const uint8_t *ck = km, *sk = km + 16, *cs = km + 32, *ss = km + 32 + sl;
    memcpy(local, is_client ? ck : sk, 16);
    memcpy(local + 16, is_client ? cs : ss, (size_t)sl);
    memcpy(remote, is_client ? sk : ck, 16);
    memcpy(remote + 16, is_client ? ss : cs, (size_t)sl);
}

static int session(srtp_t *s, enum media_suite suite, const uint8_t *key, bool outbound)
{
    srtp_policy_t p;
    memset(&p, 0, sizeof(p));
    if (suite == MEDIA_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    } else if (suite == MEDIA_AES128_CM_SHA1_80) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    } else {
        return -EINVAL;
    }
    p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    p.key = (unsigned char *)key;
    p.window_size = 128;
    p.allow_repeat_tx = 0;
    p.next = NULL;
    srtp_err_status_t st = srtp_create(s, &p);
    return st == srtp_err_status_ok ? 0 : st == srtp_err_status_alloc_fail ? -ENOMEM : -EINVAL;
}

int media_srtp_init(struct media_srtp *m, enum media_suite suite, const uint8_t *local,
                    const uint8_t *remote)
{
    memset(m, 0, sizeof(*m));
    m->suite = suite;
    int rc = session(&m->tx, suite, local, true);
    if (rc == 0)
        rc = session(&m->rx, suite, remote, false);
    if (rc < 0)
        media_srtp_free(m);
    return rc;
}

static int unprotect_result(struct media_srtp *m, srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return 0;
    case srtp_err_status_auth_fail:
        m->c.auth_failures++;
        return -EACCES;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        m->c.replays++;
        return -EALREADY;
    default:
        m->c.other_failures++;
        return -EBADMSG;
    }
}

int media_protect_rtp(struct media_srtp *m, uint8_t *pkt, int *len, int cap)
{
    if (*len < 12 || cap - *len < MEDIA_MAX_TRAILER)
        return -ENOSPC;
    if (srtp_protect(m->tx, pkt, len) != srtp_err_status_ok)
        return -EINVAL;
    m->c.protected_rtp++;
    return 0;
}

int media_protect_rtcp(struct media_srtp *m, uint8_t *pkt, int *len, int cap)
{
    if (*len < 8 || cap - *len < MEDIA_MAX_TRAILER)
        return -ENOSPC;
    if (srtp_protect_rtcp(m->tx, pkt, len) != srtp_err_status_ok)
        return -EINVAL;
    m->c.protected_rtcp++;
    return 0;
}

int media_unprotect_rtp(struct media_srtp *m, uint8_t *pkt, int *len)
{
    if (*len < 12) {
        m->c.other_failures++;
        return -EBADMSG;
    }
    int rc = unprotect_result(m, srtp_unprotect(m->rx, pkt, len));
    if (rc == 0)
        m->c.unprotected_rtp++;
    return rc;
}

int media_unprotect_rtcp(struct media_srtp *m, uint8_t *pkt, int *len)
{
    if (*len < 8) {
        m->c.other_failures++;
        return -EBADMSG;
    }
    int rc = unprotect_result(m, srtp_unprotect_rtcp(m->rx, pkt, len));
    if (rc == 0)
        m->c.unprotected_rtcp++;
    return rc;
}

void media_srtp_free(struct media_srtp *m)
{
    if (m->tx)
        srtp_dealloc(m->tx);
    if (m->rx)
        srtp_dealloc(m->rx);
    m->tx = m->rx = NULL;
}

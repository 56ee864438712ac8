/* SPDX-License-Identifier: MIT */
/*
 * Our DTLS handshake on the wire, judged by what we did not write and by
 * the record layer's one promise:
 *  - Wireshark's dissector (tshark) reads a whole handshake and the
 *    application data after it, decrypted with our NSS key log: no
 *    malformed packet, the HelloVerifyRequest and the ClientHello with its
 *    16-byte cookie, the extensions a WebRTC ClientHello carries, use_srtp
 *    offered and chosen, both Finished messages and the application data
 *    readable; at the smallest MTU every message comes in fragments and
 *    Wireshark puts them together again.
 *  - The record layer owns the sequence numbers: with the server's final
 *    flight lost three times (the client repeats flight 5 on its timer,
 *    the server repeats flight 6 each time), then application data both
 *    ways, no two records a side sent share an epoch and sequence number,
 *    so no AEAD nonce is used twice under a key (epoch 1 is one key per
 *    direction), and each epoch's numbers go up in the order sent.
 *
 * tshark missing: the tshark tests are skipped, or fail when
 * SWARMGEN_REQUIRE_TSHARK is set (CI installs it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dtls_link.h"
#include "dtls_record_internal.h"
#include "wire.h"
#include "wire_capture.h"

#define SEC         1000000000ull
#define PORT_CLIENT 50000
#define PORT_SERVER 50001
#define APP_RECORDS 3

/* ---- every record each side sends ------------------------------------ */

struct sent_record {
    uint8_t type;
    uint16_t epoch;
    uint64_t seq;
    uint8_t nonce[8]; /* GCM's explicit nonce (epoch 1) */
};

#define MAX_RECORDS 256

struct record_log {
    unsigned n[2];
    struct sent_record r[2][MAX_RECORDS];
};

/* Adds each record of datagram d (len bytes) that side `from` sent. */
static void log_records(struct record_log *log, int from, const uint8_t *d, size_t len)
{
    size_t off = 0;
    while (off < len) {
        cr_assert_geq(len - off, DTLS_RECORD_HEADER, "a record header cut short");
        size_t rl = DTLS_RECORD_HEADER + ((size_t)d[off + 11] << 8 | d[off + 12]);
        cr_assert_leq(rl, len - off, "a record past its datagram");
        cr_assert_lt(log->n[from], MAX_RECORDS);
        struct sent_record *r = &log->r[from][log->n[from]++];
        r->type = d[off];
        r->epoch = (uint16_t)(d[off + 3] << 8 | d[off + 4]);
        r->seq = wire_get48(d + off + 5);
        if (rl >= DTLS_RECORD_HEADER + 8)
            memcpy(r->nonce, d + off + DTLS_RECORD_HEADER, 8);
        off += rl;
    }
}

/* ---- a capture -------------------------------------------------------- */

struct capture {
    FILE *f; /* NULL: records logged only */
    uint64_t t;
    unsigned frames;
    struct record_log log;
};

/* One datagram into the pcap: the client is host A. */
static void cap_write(struct capture *c, int from, const uint8_t *d, size_t len)
{
    if (c->f)
        wire_pcap_udp(c->f, d, len, from == 0, PORT_CLIENT, PORT_SERVER, c->t);
    c->t += 1000;
    c->frames++;
    log_records(&c->log, from, d, len);
}

static void assert_up(struct link *l)
{
    cr_assert(l->up[0] && l->up[1], "client %s (alert %d), server %s (alert %d)",
              dtls_failure_name(dtls_failure(l->ep[0])), dtls_failure_alert(l->ep[0]),
              dtls_failure_name(dtls_failure(l->ep[1])), dtls_failure_alert(l->ep[1]));
}

/* APP_RECORDS application-data records each way, sealed by one side's
 * record layer, opened by the other's, each into the capture. */
static void app_data(struct link *l, struct capture *c)
{
    for (int i = 0; i < APP_RECORDS; i++) {
        for (int from = 0; from < 2; from++) {
            uint8_t msg[100], rec[200], out[200];
            int ml = snprintf((char *)msg, sizeof(msg), "swarmgen %s record %d",
                              from ? "server" : "client", i);
            int n = dtls_record_seal(&l->rec[from], DTLS_CT_APPLICATION_DATA, msg, (size_t)ml, rec,
                                     sizeof(rec));
            cr_assert_gt(n, 0);
            cap_write(c, from, rec, (size_t)n);
            size_t used;
            uint8_t type;
            int m =
                dtls_record_open(&l->rec[1 - from], rec, (size_t)n, &used, &type, out, sizeof(out));
            cr_assert_eq(m, ml);
            cr_assert_eq(type, DTLS_CT_APPLICATION_DATA);
            cr_assert_eq(memcmp(out, msg, (size_t)ml), 0);
        }
    }
}

/* ---- tshark ----------------------------------------------------------- */

static void need_tshark(void)
{
    if (system("command -v tshark >/dev/null 2>&1") == 0)
        return;
    if (getenv("SWARMGEN_REQUIRE_TSHARK"))
        cr_assert_fail("tshark is not installed and SWARMGEN_REQUIRE_TSHARK is set");
    cr_skip_test("tshark is not installed");
}

struct dissection {
    char pcap[64], keylog[64], base[256];
};

static void cap_tap(void *arg, int from, const uint8_t *d, size_t len)
{
    cap_write(arg, from, d, len);
}

/* A handshake (and application data) at `mtu` into a pcap and a key log. */
static void capture_handshake(struct dissection *x, uint16_t mtu, struct link *l, struct capture *c)
{
    snprintf(x->pcap, sizeof(x->pcap), "/tmp/sg-dtls-wire-%d-%u.pcap", (int)getpid(), mtu);
    snprintf(x->keylog, sizeof(x->keylog), "/tmp/sg-dtls-wire-%d-%u.keys", (int)getpid(), mtu);
    struct link tmp;
    struct dtls_config cc_ = link_config(&tmp, 0), sc_ = link_config(&tmp, 1);
    cc_.mtu = sc_.mtu = mtu;
    link_setup(l, &cc_, &sc_);
    memset(c, 0, sizeof(*c));
    c->f = fopen(x->pcap, "wb");
    cr_assert_not_null(c->f);
    wire_pcap_begin(c->f);
    l->tap = cap_tap;
    l->tap_arg = c;
    link_run(l, 60 * SEC);
    assert_up(l);
    /* a clean capture: a fragmented message sent again shows in Wireshark
     * as a reassembly error ("New fragment overlaps old data") */
    cr_assert_eq(l->now, 0);
    for (int side = 0; side < 2; side++) {
        cr_assert_eq(dtls_counters(l->ep[side])->retransmit_timeouts +
                         dtls_counters(l->ep[side])->retransmits_on_repeat,
                     0, "a flight sent twice");
        cr_assert_eq(dtls_counters(l->ep[side])->records_dropped, 0);
    }
    app_data(l, c);
    cr_assert_eq(fclose(c->f), 0);
    c->f = NULL;
    char line[DTLS_KEYLOG_LINE];
    cr_assert_eq(dtls_keylog_line(l->ep[0], line), 0);
    FILE *k = fopen(x->keylog, "w");
    cr_assert_not_null(k);
    fputs(line, k);
    cr_assert_eq(fclose(k), 0);
    snprintf(x->base, sizeof(x->base), "-r %s -d udp.port==%d,dtls -o tls.keylog_file:%s", x->pcap,
             PORT_CLIENT, x->keylog);
}

/* What tshark prints for `args` into out (cap bytes, NUL-terminated),
 * asserting that it ran and took the filter: a filter it cannot read
 * must not pass as "no frame matched". */
static void tshark_output(const struct dissection *x, const char *args, char *out, size_t cap)
{
    char cmd[1024], path[64];
    snprintf(path, sizeof(path), "/tmp/sg-dtls-wire-%d.out", (int)getpid());
    snprintf(cmd, sizeof(cmd), "tshark %s %s >%s 2>/dev/null", x->base, args, path);
    int rc = system(cmd);
    cr_assert(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "tshark failed (%d): %s", rc, cmd);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    cr_assert(feof(f), "tshark said more than %zu bytes", cap);
    fclose(f);
    unlink(path);
}

/* Frames matching a display filter. */
static long frames_where(const struct dissection *x, const char *filter)
{
    char args[512];
    static char out[1 << 16];
    snprintf(args, sizeof(args), "-Y '%s'", filter);
    tshark_output(x, args, out, sizeof(out));
    long n = 0;
    for (const char *p = out; *p; p++)
        n += *p == '\n';
    return n;
}

/* The values of one field in the frames a filter matches, a line per
 * frame (several in one frame separated by ','), into out. */
static void field_values(const struct dissection *x, const char *filter, const char *field,
                         char *out, size_t cap)
{
    char args[512];
    snprintf(args, sizeof(args), "-Y '%s' -T fields -e %s", filter, field);
    tshark_output(x, args, out, cap);
}

static void dissection_done(struct dissection *x)
{
    if (getenv("SWARMGEN_KEEP_PCAP"))
        return;
    unlink(x->pcap);
    unlink(x->keylog);
}

/* The filters every capture must pass. */
static void assert_wellformed(const struct dissection *x, const struct capture *c)
{
    cr_assert_eq(frames_where(x, "dtls"), (long)c->frames, "every frame dissected as DTLS");
    cr_assert_eq(frames_where(x, "_ws.malformed"), 0, "malformed packets");
    cr_assert_eq(frames_where(x, "_ws.expert.severity >= 6291456"), 0, "expert warnings or errors");
    cr_assert_eq(frames_where(x, "dtls.handshake.type == 3"), 1, "one HelloVerifyRequest");
    cr_assert_eq(frames_where(x, "dtls.handshake.type == 1 && dtls.handshake.cookie_length == 16"),
                 1, "one ClientHello carrying a 16-byte cookie");
    cr_assert_eq(frames_where(x, "dtls.handshake.type == 1 && dtls.handshake.cookie_length == 0"),
                 1, "one ClientHello without");
    /* Finished is encrypted: readable only when the key log is right */
    cr_assert_eq(frames_where(x, "dtls.handshake.type == 20"), 2,
                 "both Finished messages decrypted with our key log");
    cr_assert_eq(
        frames_where(x, "dtls.handshake.type == 2 && dtls.handshake.ciphersuite == 0xc02b"), 1,
        "the ServerHello chose TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    /* each Certificate whole (put together from its fragments at a small
     * MTU), its DER read by Wireshark's X.509 dissector */
    char f[256];
    snprintf(f, sizeof(f),
             "ip.src == 198.18.0.1 && dtls.handshake.certificate_length == %u && "
             "x509sat.uTF8String == \"swarmgen\"",
             cc.der_len);
    cr_assert_eq(frames_where(x, f), 1, "the client's Certificate");
    snprintf(f, sizeof(f),
             "ip.src == 198.18.0.2 && dtls.handshake.certificate_length == %u && "
             "x509sat.uTF8String == \"swarmgen\"",
             sc.der_len);
    cr_assert_eq(frames_where(x, f), 1, "the server's Certificate");
}

Test(dtls_wire, tshark_reads_and_decrypts_a_whole_handshake_and_data, .timeout = 60)
{
    need_tshark();
    struct dissection x;
    struct link l;
    static struct capture c;
    capture_handshake(&x, DTLS_MTU, &l, &c);
    assert_wellformed(&x, &c);
    /* the ClientHello's extensions, in both ClientHellos */
    static const struct {
        int type;
        const char *name;
    } ext[] = {{23, "extended_master_secret"}, {65281, "renegotiation_info"},
               {10, "supported_groups"},       {11, "ec_point_formats"},
               {13, "signature_algorithms"},   {14, "use_srtp"}};
    char f[256];
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        snprintf(f, sizeof(f), "dtls.handshake.type == 1 && dtls.handshake.extension.type == %d",
                 ext[i].type);
        cr_assert_eq(frames_where(&x, f), 2, "%s in both ClientHellos", ext[i].name);
    }
    /* use_srtp offered (both profiles we configured) and one chosen */
    char v[512];
    field_values(&x, "dtls.handshake.type == 1", "dtls.use_srtp.protection_profile", v, sizeof(v));
    cr_assert_str_eq(v, "0x0002,0x0001\n0x0002,0x0001\n", "offered: %s", v);
    field_values(&x, "dtls.handshake.type == 2", "dtls.use_srtp.protection_profile", v, sizeof(v));
    cr_assert_str_eq(v, "0x0002\n", "chosen: %s", v);
    /* the application data, decrypted: what we sealed, byte for byte */
    cr_assert_eq(frames_where(&x, "dtls.app_data"), 2 * APP_RECORDS);
    field_values(&x, "dtls.app_data", "data.data", v, sizeof(v));
    char want[512] = "", hex[128];
    for (int i = 0; i < APP_RECORDS; i++) {
        for (int from = 0; from < 2; from++) {
            char msg[64];
            int ml =
                snprintf(msg, sizeof(msg), "swarmgen %s record %d", from ? "server" : "client", i);
            for (int k = 0; k < ml; k++)
                sprintf(hex + 2 * k, "%02x", (unsigned char)msg[k]);
            strcat(want, hex);
            strcat(want, "\n");
        }
    }
    cr_assert_str_eq(v, want, "decrypted application data:\n%s\nwanted:\n%s", v, want);
    dissection_done(&x);
    link_done(&l);
}

Test(dtls_wire, tshark_reassembles_every_fragmented_message_at_the_smallest_mtu, .timeout = 60)
{
    need_tshark();
    struct dissection x;
    struct link l;
    static struct capture c;
    capture_handshake(&x, DTLS_MTU_MIN, &l, &c);
    assert_wellformed(&x, &c);
    /* a Certificate (about 300 bytes) cannot fit a 256-byte datagram */
    cr_assert_geq(frames_where(&x, "dtls.handshake.fragment_length < dtls.handshake.length"), 4,
                  "fragments on the wire");
    cr_assert_geq(frames_where(&x, "dtls.fragments"), 2, "reassembled messages");
    cr_assert_geq(frames_where(&x, "dtls.fragment.count >= 2"), 2,
                  "messages of two fragments or more");
    cr_assert_eq(frames_where(&x,
                              "dtls.fragment.error || dtls.fragment.overlap.conflicts || "
                              "dtls.fragment.multiple_tails || dtls.fragment.too_long_fragment"),
                 0, "reassembly errors");
    cr_assert_eq(frames_where(&x, "frame.len > 42 + 256"), 0, "a datagram over the MTU");
    dissection_done(&x);
    link_done(&l);
}

/* ---- sequence numbers ------------------------------------------------- */

/* Side's records: no (epoch, sequence number) twice, each epoch's numbers
 * rising in the order sent, GCM's explicit nonce the record's own epoch
 * and number (so no nonce twice under a key). */
static void assert_unique_and_rising(const struct record_log *log, int side, enum dtls_suite suite)
{
    const struct sent_record *r = log->r[side];
    unsigned n = log->n[side];
    const char *who = side ? "server" : "client";
    for (unsigned i = 0; i < n; i++) {
        cr_assert_leq(r[i].epoch, 1);
        for (unsigned j = 0; j < i; j++) {
            cr_assert(r[i].epoch != r[j].epoch || r[i].seq != r[j].seq,
                      "%s: records %u and %u both epoch %u sequence %llu", who, j, i, r[i].epoch,
                      (unsigned long long)r[i].seq);
            if (r[j].epoch == r[i].epoch)
                cr_assert_lt(r[j].seq, r[i].seq, "%s: epoch %u sequence %llu sent after %llu", who,
                             r[i].epoch, (unsigned long long)r[i].seq,
                             (unsigned long long)r[j].seq);
        }
        if (r[i].epoch == 1 && suite != DTLS_SUITE_CHACHA20_POLY1305) {
            uint8_t es[8] = {0, 1};
            for (int k = 0; k < 6; k++)
                es[2 + k] = (uint8_t)(r[i].seq >> (40 - 8 * k));
            cr_assert_eq(memcmp(r[i].nonce, es, 8), 0,
                         "%s: record %u's explicit nonce is not its epoch and number", who, i);
        }
    }
}

static bool has_ccs(const uint8_t *d, size_t len)
{
    for (size_t off = 0; off + DTLS_RECORD_HEADER <= len;
         off += DTLS_RECORD_HEADER + ((size_t)d[off + 11] << 8 | d[off + 12]))
        if (d[off] == DTLS_CT_CHANGE_CIPHER_SPEC)
            return true;
    return false;
}

/* Watches a run whose link drops the datagrams in `mask` (by the index
 * each was sent with): the index of the first datagram of the server's
 * with change_cipher_spec (flight 6) that is not dropped, how many flight
 * 6 were sent and dropped, and that nothing else is dropped. */
struct watch {
    struct capture c;
    unsigned index, mask;
    int first;
    unsigned flight6, flight6_dropped;
};

static void watch_tap(void *arg, int from, const uint8_t *d, size_t len)
{
    struct watch *w = arg;
    unsigned k = w->index++;
    bool dropped = k < 32 && (w->mask >> k & 1);
    if (from == 1 && has_ccs(d, len)) {
        w->flight6++;
        w->flight6_dropped += dropped;
        if (!dropped && w->first < 0)
            w->first = (int)k;
    } else {
        cr_assert(!dropped, "datagram %u from the %s dropped: not a flight 6", k,
                  from ? "server" : "client");
    }
    cap_write(&w->c, from, d, len);
}

static void watch_run(struct link *l, struct watch *w, const struct dtls_config *c,
                      const struct dtls_config *s, unsigned mask)
{
    memset(w, 0, sizeof(*w));
    w->mask = mask;
    w->first = -1;
    link_setup(l, c, s);
    l->drop_mask = mask;
    l->tap = watch_tap;
    l->tap_arg = w;
    link_run(l, 60 * SEC);
}

/* The server's final flight lost `drops` times: the client repeats flight
 * 5 on its timer, the server answers each with flight 6 again; then
 * application data both ways. Every record of both sides checked. */
static void repeated_final_flight(uint8_t suite_bit, enum dtls_suite suite, unsigned drops)
{
    struct link tmp, l;
    struct dtls_config c = link_config(&tmp, 0), s = link_config(&tmp, 1);
    c.suites = s.suites = suite_bit;
    static struct watch w;
    /* no loss and no delay: the order of datagrams is fixed, so the index
     * of each flight 6 is found by running with the ones before dropped */
    unsigned mask = 0;
    for (unsigned i = 0; i < drops; i++) {
        watch_run(&l, &w, &c, &s, mask);
        cr_assert(w.first >= 0 && w.first < 32, "flight 6 number %u not found", i + 1);
        mask |= 1u << w.first;
        link_done(&l);
    }
    watch_run(&l, &w, &c, &s, mask);
    assert_up(&l);
    cr_assert_eq(w.flight6_dropped, drops);
    cr_assert_eq(w.flight6, drops + 1, "flight 6 sent once per flight 5");
    cr_assert_eq(dtls_counters(l.ep[0])->retransmit_timeouts, drops,
                 "the client repeated flight 5 on its timer");
    cr_assert_eq(dtls_counters(l.ep[1])->retransmits_on_repeat, drops,
                 "the server repeated flight 6 for each");
    cr_assert_eq(dtls_suite(l.ep[0]), suite);
    app_data(&l, &w.c);
    for (int side = 0; side < 2; side++) {
        assert_unique_and_rising(&w.c.log, side, suite);
        /* each Finished sent (drops + 1 of them) and each application
         * record is an epoch-1 record of its own */
        unsigned e1 = 0, ccs = 0;
        for (unsigned i = 0; i < w.c.log.n[side]; i++) {
            e1 += w.c.log.r[side][i].epoch == 1;
            ccs += w.c.log.r[side][i].type == DTLS_CT_CHANGE_CIPHER_SPEC;
        }
        cr_assert_eq(ccs, drops + 1);
        cr_assert_eq(e1, drops + 1 + APP_RECORDS, "%s: %u epoch-1 records",
                     side ? "server" : "client", e1);
        cr_assert_eq(dtls_crec(&l.rec[side])->w_seq, drops + 1 + APP_RECORDS,
                     "the record layer's next epoch-1 number");
    }
    link_done(&l);
}

Test(dtls_wire, repeated_final_flights_never_reuse_a_sequence_number, .timeout = 60)
{
    repeated_final_flight(DTLS_OFFER_AES_128_GCM, DTLS_SUITE_AES_128_GCM, 3);
    repeated_final_flight(DTLS_OFFER_AES_256_GCM, DTLS_SUITE_AES_256_GCM, 2);
    repeated_final_flight(DTLS_OFFER_CHACHA20, DTLS_SUITE_CHACHA20_POLY1305, 3);
}

/* SPDX-License-Identifier: MIT */
/*
 * rtcp: RTP control protocol (RFC 3550 §6) for the media streams of
 * simulated agents: receiver statistics of the one RTP source an agent
 * receives on a stream, sender counts of the one stream it sends, compound
 * SR/RR + SDES CNAME packets built into caller buffers, and the parser of
 * the compound packets the peer sends back (with the RTT they imply).
 *
 *   receiver statistics: sequence tracking with probation, dropout and
 *          misorder limits (RFC 3550 A.1), expected / cumulative lost /
 *          fraction lost (A.3), interarrival jitter in RTP timestamp units
 *          (A.8, kept scaled by 16 as in the RFC's integer version)
 *   sender state: packet and octet counts (payload octets, §6.4.1), last
 *          RTP timestamp and when it was sent, to extrapolate the SR's RTP
 *          timestamp to the SR's NTP time
 *   round trip: LSR (middle 32 bits of the peer's SR NTP timestamp) and
 *          its arrival time are kept, our report block carries LSR/DLSR,
 *          and a report block about us gives RTT = A - LSR - DLSR (§6.4.1)
 *
 * Time model: every entry point that needs time takes `now_ns`,
 * nanoseconds since an arbitrary epoch chosen by the caller (the lcore's
 * TSC reading converted once per loop pass). A `now_ns` older than the
 * last one an object saw is taken as that last one. The NTP timestamps we
 * send are `now_ns` written as NTP (seconds . 2^-32 fractions) from that
 * same epoch: only our own clock enters our RTT, so the epoch does not
 * matter to the peer. Report scheduling (the §6.2 interval) is the
 * caller's: nothing here has a deadline.
 *
 * Sans-I/O: no sockets, no allocation, no clock, no global state; all
 * state is in caller-owned fixed-size structs that may be copied between
 * calls. Functions on distinct objects are thread-safe; one object is
 * used by one thread at a time. Parsing never copies: pointers in
 * struct rtcp_msg refer to the parsed buffer.
 */
#ifndef SWARMGEN_CRYPTO_RTCP_H
#define SWARMGEN_CRYPTO_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* Packet types (RFC 3550 §12.1). */
#define RTCP_PT_SR   200
#define RTCP_PT_RR   201
#define RTCP_PT_SDES 202
#define RTCP_PT_BYE  203
#define RTCP_PT_APP  204

#define RTCP_SDES_CNAME 1

/* RFC 3550 A.1 constants. */
#define RTCP_MAX_DROPOUT    3000
#define RTCP_MAX_MISORDER   100
#define RTCP_MIN_SEQUENTIAL 2

#define RTCP_HDR_LEN        4
#define RTCP_SR_LEN         28 /* header, SSRC, 20 bytes of sender info */
#define RTCP_RR_LEN         8  /* header, SSRC */
#define RTCP_BLOCK_LEN      24 /* one report block */
#define RTCP_CNAME_MAX      64 /* longest CNAME a session sends (RFC allows 255) */
#define RTCP_MSG_MAX_BLOCKS 31 /* report blocks kept by the parser (RC is 5 bits) */
/* The longest compound packet rtcp_build_sr writes: SR with one block,
 * SDES with one chunk carrying the longest CNAME. */
#define RTCP_BUILD_MAX (RTCP_SR_LEN + RTCP_BLOCK_LEN + 8 + ((2 + RTCP_CNAME_MAX + 4) & ~3))

/* Cumulative lost is a 24-bit signed field (RFC 3550 §6.4.1). */
#define RTCP_LOST_MAX 0x7fffff
#define RTCP_LOST_MIN (-0x800000)

/* What one received RTP packet did to the statistics (RFC 3550 A.1). */
enum rtcp_seq_result {
    RTCP_SEQ_COUNTED = 0,   /* valid: counted in `received` (in order, late, or duplicate) */
    RTCP_SEQ_PROBATION = 1, /* source not yet validated: not counted */
    RTCP_SEQ_JUMP = 2,      /* a jump beyond MAX_DROPOUT: not counted; the next packet
                               in sequence after it re-synchronises the source */
    RTCP_SEQ_FOREIGN = 3,   /* another SSRC than the tracked source: not counted */
};

/* A reception report block (RFC 3550 §6.4.1), host order. */
struct rtcp_report_block {
    uint32_t ssrc;        /* the source reported on */
    uint8_t fraction;     /* lost since the previous report, in 1/256 */
    int32_t lost;         /* cumulative, RTCP_LOST_MIN..RTCP_LOST_MAX */
    uint32_t ext_max_seq; /* cycles << 16 | highest sequence number */
    uint32_t jitter;      /* RTP timestamp units */
    uint32_t lsr;         /* middle 32 bits of the last SR's NTP timestamp, 0 if none */
    uint32_t dlsr;        /* delay since that SR, 1/65536 s; 0 if none */
};

/* Sender info of an SR (RFC 3550 §6.4.1), host order. */
struct rtcp_sender_info {
    uint64_t ntp;    /* seconds << 32 | 2^-32 fractions */
    uint32_t rtp_ts; /* the same instant on the RTP clock */
    uint32_t packets, octets;
};

/* Receiver statistics of one RTP source (RFC 3550 A.1, A.3, A.8). */
struct rtcp_source {
    uint32_t ssrc;
    uint32_t clock_rate; /* RTP timestamp ticks per second */
    bool bound;          /* ssrc is known (given at init or learned from the first packet) */
    bool valid;          /* probation passed at least once */
    bool has_transit;    /* a transit time to difference against (A.8) */
    bool has_lsr;        /* an SR of this source was received */
    bool heard;          /* a packet of the source arrived (probation started) */
    uint16_t max_seq;    /* highest sequence number seen */
    uint32_t cycles;     /* shifted count of sequence number cycles */
    uint32_t base_seq;
    uint32_t bad_seq;                        /* last 'bad' sequence number + 1 */
    uint32_t probation;                      /* sequential packets till the source is valid */
    uint32_t received;                       /* packets counted (duplicates included, per A.3) */
    uint32_t expected_prior, received_prior; /* at the last report */
    uint32_t transit;                        /* relative transit of the last packet, RTP units */
    uint64_t jitter16;                       /* interarrival jitter * 16, RTP units */
    uint32_t lsr;       /* middle 32 bits of the NTP timestamp of its last SR */
    uint64_t lsr_at_ns; /* when that SR arrived */
    uint64_t last_ns;   /* latest `now_ns` seen */
};

/* Our outgoing stream, as its SR describes it. */
struct rtcp_sender {
    uint32_t ssrc;
    uint32_t clock_rate;
    uint32_t packets, octets;      /* wrap modulo 2^32 as the SR fields do */
    uint32_t last_rtp_ts;          /* of the last packet sent */
    uint64_t last_rtp_ns;          /* when it was sent */
    uint32_t packets_at_report[2]; /* packet count at the last and the one before */
};

/* A parsed compound packet; cname points into the parsed buffer. */
struct rtcp_msg {
    uint32_t ssrc; /* sender SSRC of the first (SR or RR) packet */
    bool is_sr;    /* first packet is an SR: `si` is set */
    struct rtcp_sender_info si;
    uint8_t n_blocks;      /* stored in blocks[] (the first RTCP_MSG_MAX_BLOCKS) */
    uint16_t blocks_total; /* in all SR/RR packets of the compound */
    struct rtcp_report_block blocks[RTCP_MSG_MAX_BLOCKS];
    bool has_cname; /* the first CNAME item of any SDES chunk */
    uint32_t cname_ssrc;
    const uint8_t *cname;
    uint8_t cname_len;
    uint8_t n_packets; /* RTCP packets in the compound (saturating at 255) */
    uint8_t n_skipped; /* of those, BYE, APP and unknown types, skipped (saturating) */
    bool has_bye;
};

/* A session's counters, written by its owner thread only. */
struct rtcp_session_counters {
    uint64_t sr_sent, rr_sent, received, malformed, ignored, rtt_samples;
};

struct rtcp_config {
    uint32_t ssrc;        /* of our outgoing stream */
    uint32_t clock_rate;  /* of our outgoing stream, e.g. 48000 / 90000 */
    uint32_t remote_ssrc; /* the source we receive; 0: learn it from its first RTP or RTCP packet */
    uint32_t remote_clock_rate; /* of that source */
    const char *cname;          /* 1..RTCP_CNAME_MAX bytes, NUL-terminated; copied */
};

/* One media stream of a peer connection: what we send, what we receive,
 * and what the peer last told us about our stream. */
struct rtcp_session {
    struct rtcp_sender tx;
    struct rtcp_source rx;
    uint8_t cname_len;
    char cname[RTCP_CNAME_MAX];
    bool has_remote_report;                 /* remote_report is set */
    struct rtcp_report_block remote_report; /* the peer's last block about our stream */
    bool has_rtt;
    uint64_t rtt_ns; /* the last RTT sample */
    uint64_t last_ns;
    struct rtcp_session_counters c;
};

/* ---- time conversions (pure) ---- */

/* `ns` since the caller's epoch as a 64-bit NTP timestamp (seconds in the
 * high 32 bits, modulo 2^32). */
uint64_t rtcp_ntp_from_ns(uint64_t ns);

/* The middle 32 bits of an NTP timestamp (units of 1/65536 s), as LSR and
 * the RTT's arrival time A use. */
uint32_t rtcp_ntp_mid(uint64_t ntp);

/* RTT from a report block about our stream arriving at `now_ns`:
 * A - LSR - DLSR, A = rtcp_ntp_mid(rtcp_ntp_from_ns(now_ns)). Writes
 * nanoseconds to *rtt_ns (truncated to the 1/65536 s units; a slightly
 * negative result from rounding is 0). Returns 0, -ENODATA when lsr is 0
 * (the peer has no SR of ours yet) or -ERANGE when A - LSR - DLSR is
 * negative beyond rounding (LSR not ours, or clocks confused). */
int rtcp_rtt_ns(uint64_t now_ns, uint32_t lsr, uint32_t dlsr, uint64_t *rtt_ns);

/* ---- receiver statistics of one source ---- */

/* Sets s up for source `ssrc` (0: bind to the first packet's SSRC) on a
 * clock of `clock_rate` Hz (0 is taken as 1; rtcp_init refuses it). The
 * first packet starts probation (A.1: RTCP_MIN_SEQUENTIAL packets in sequence validate the
 * source; `received` and the expected count start at the packet that
 * completes probation, as in the RFC). */
void rtcp_source_init(struct rtcp_source *s, uint32_t ssrc, uint32_t clock_rate);

/* One RTP packet of SSRC `ssrc`, sequence number `seq`, RTP timestamp
 * `rtp_ts`, arrived at `now_ns`. Updates sequence state (A.1) and, for
 * counted packets, jitter (A.8: transit = arrival on the RTP clock -
 * rtp_ts). Returns an enum rtcp_seq_result; never fails. */
enum rtcp_seq_result rtcp_source_on_rtp(struct rtcp_source *s, uint32_t ssrc, uint16_t seq,
                                        uint32_t rtp_ts, uint64_t now_ns);

/* An SR of this source (its NTP timestamp) arrived at now_ns: remembered
 * for LSR/DLSR. */
void rtcp_source_on_sr(struct rtcp_source *s, uint64_t ntp, uint64_t now_ns);

/* Extended highest sequence number (cycles + max_seq). */
uint32_t rtcp_source_ext_max(const struct rtcp_source *s);

/* Packets expected since the source was validated (A.3); 0 before. */
uint32_t rtcp_source_expected(const struct rtcp_source *s);

/* Cumulative lost (expected - received), clamped to 24 bits signed;
 * negative when duplicates outnumber losses. */
int32_t rtcp_source_lost(const struct rtcp_source *s);

/* Interarrival jitter in RTP timestamp units (the report block field). */
uint32_t rtcp_source_jitter(const struct rtcp_source *s);

/* The same jitter in nanoseconds and milliseconds, for metrics. */
uint64_t rtcp_source_jitter_ns(const struct rtcp_source *s);
double rtcp_source_jitter_ms(const struct rtcp_source *s);

/* Fills *rb with the report block for s at now_ns and starts a new
 * reporting interval (fraction lost is the loss since the previous call,
 * A.3). Returns 0, or -ENODATA (rb untouched, nothing changed) when the
 * source is not validated yet. */
int rtcp_source_report(struct rtcp_source *s, uint64_t now_ns, struct rtcp_report_block *rb);

/* ---- sender state of our stream ---- */

/* Sets t up for our stream `ssrc` on a clock of `clock_rate` Hz (0 is
 * taken as 1; rtcp_init refuses it). */
void rtcp_sender_init(struct rtcp_sender *t, uint32_t ssrc, uint32_t clock_rate);

/* We sent an RTP packet with timestamp `rtp_ts` and `payload_len` payload
 * octets (header, extensions and padding excluded, §6.4.1) at now_ns. */
void rtcp_sender_on_rtp(struct rtcp_sender *t, uint32_t rtp_ts, uint32_t payload_len,
                        uint64_t now_ns);

/* Our RTP clock at now_ns: the last timestamp sent plus the time since,
 * on the stream's clock; 0 before the first packet. */
uint32_t rtcp_sender_rtp_ts_at(const struct rtcp_sender *t, uint64_t now_ns);

/* ---- codec (pure) ---- */

/* Parses a compound RTCP packet, validated per RFC 3550 A.2: length a
 * multiple of 4 and at least 8, every packet version 2, the first SR or
 * RR without padding, the padding bit only on the last packet (its count
 * within that packet), packet lengths adding up to `len`; SR/RR long
 * enough for their report count; SDES chunks and items within their
 * packet. BYE, APP and unknown types are skipped. Reads only buf[0..len).
 * Returns 0 with *m filled, -EBADMSG when the framing is not RTCP
 * (version, first type, padding, lengths), or -EPROTO when a packet's body
 * is malformed; *m is then unspecified. */
int rtcp_parse(const uint8_t *buf, size_t len, struct rtcp_msg *m);

/* Writes a compound packet from *m: an SR (m->is_sr, with m->si) or an RR
 * from m->ssrc with m->blocks[0..n_blocks), then, when m->has_cname, an
 * SDES packet with one chunk (cname_ssrc, CNAME item). Reads m only.
 * Returns the length written, -EINVAL (more than 31 blocks), or -ENOSPC
 * when it does not fit in cap (nothing meaningful written). */
int rtcp_write(uint8_t *buf, size_t cap, const struct rtcp_msg *m);

/* ---- a stream's session ---- */

/* Sets s up from cfg (copied; cfg->cname need not outlive the call).
 * Returns 0, or -EINVAL for a zero clock rate or a CNAME empty or longer
 * than RTCP_CNAME_MAX. */
int rtcp_init(struct rtcp_session *s, const struct rtcp_config *cfg);

/* We sent an RTP packet on our stream: see rtcp_sender_on_rtp. */
void rtcp_on_rtp_sent(struct rtcp_session *s, uint32_t rtp_ts, uint32_t payload_len,
                      uint64_t now_ns);

/* We received an RTP packet (its header fields): see rtcp_source_on_rtp. */
enum rtcp_seq_result rtcp_on_rtp_received(struct rtcp_session *s, uint32_t ssrc, uint16_t seq,
                                          uint32_t rtp_ts, uint64_t now_ns);

/* Builds SR + SDES CNAME at now_ns into buf: sender info (NTP of now_ns,
 * our RTP clock at now_ns, packet and octet counts), one report block on
 * the received source once it is validated (which starts a new loss
 * interval), our CNAME. Returns the length (at most RTCP_BUILD_MAX) or
 * -ENOSPC, in which case no state changed. */
int rtcp_build_sr(struct rtcp_session *s, uint64_t now_ns, uint8_t *buf, size_t cap);

/* The same as an RR (no sender info). Returns the length or -ENOSPC (no
 * state changed). */
int rtcp_build_rr(struct rtcp_session *s, uint64_t now_ns, uint8_t *buf, size_t cap);

/* An SR when we sent RTP since the report before last (RFC 3550 §6.4),
 * else an RR. Returns as rtcp_build_sr. */
int rtcp_build_report(struct rtcp_session *s, uint64_t now_ns, uint8_t *buf, size_t cap);

/* A compound packet from the peer arrived at now_ns. Parses it (into *m
 * when m is not NULL, else on the stack) and, when its sender is the
 * source we receive (learned from this packet when neither config nor RTP
 * named it yet): records LSR of its SR, and from a report block about
 * our SSRC keeps remote_report and an RTT sample (has_rtt, rtt_ns) when
 * the block carries an LSR. Returns (engine.h) ENGINE_IN_ACCEPTED
 * (applied), ENGINE_IN_IGNORED (well formed but from another SSRC: only
 * c.ignored and the session's latest `now` change; *m holds what it
 * said), or ENGINE_IN_MALFORMED (rtcp_parse refused it: counted in
 * c.malformed). */
enum engine_input rtcp_handle_input(struct rtcp_session *s, const uint8_t *buf, size_t len,
                                    uint64_t now_ns, struct rtcp_msg *m);

/* Feedback packets (RFC 4585 §6.1) in a compound (or RFC 5506 reduced-
 * size) RTCP packet about the media source `ssrc`. */
struct rtcp_fb {
    uint32_t pli;  /* PSFB FMT 1 (RFC 4585 §6.3.1), media source ssrc */
    uint32_t fir;  /* PSFB FMT 4 (RFC 5104 §4.3.1), an FCI entry naming ssrc */
    uint32_t nack; /* RTPFB FMT 1 (RFC 4585 §6.2.1), media source ssrc: packets, not entries */
};
#define RTCP_PT_RTPFB 205
#define RTCP_PT_PSFB  206

/* Counts them into *fb (zeroed first); walks the packets by their length
 * fields and stops at the first that does not fit. Reads buf only. */
void rtcp_feedback_count(const uint8_t *buf, size_t len, uint32_t ssrc, struct rtcp_fb *fb);

#endif

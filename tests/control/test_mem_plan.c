/* SPDX-License-Identifier: MIT */
/* The memory plan: dataplane/dp_mem.h's categories from the engines' sizes,
 * /proc/meminfo's figures, the verdict. */
#include <criterion/criterion.h>
#include <string.h>

#include "dp_conn_state.h"
#include "dp_mem.h"
#include "srtp_session.h"
#include "mem_plan.h"

static struct dp_mem_in dc_run(void)
{
    return (struct dp_mem_in){.n_agents = 1000, .n_workers = 2, .n_edges = 4001, .n_dests = 1000, .dc = true,
                              .setup_cap = 16, .sctp_bufs = 16384 + 4001, .mbufs_per_worker = 32768,
                              .image_bytes = 4u << 20};
}

Test(mem_plan, workers_split_the_connections_as_the_dataplane_does)
{
    struct dp_mem_in in = dc_run();
    struct dp_mem_worker a, b;
    dp_mem_worker(&in, 0, &a);
    dp_mem_worker(&in, 1, &b);
    cr_assert_eq(a.n_conns, 2001, "edges 0, 2, ..., 4000");
    cr_assert_eq(b.n_conns, 2000);
    cr_assert_eq(a.hs_slots, 34);
    cr_assert_eq(a.hs_stride % 64, 0);
    cr_assert_eq(a.conn % 64, 0);
    cr_assert_eq(a.sctp_assoc, dp_mem_alloc_size(2 * 2001 * a.assoc_size));
    cr_assert_eq(a.keylog, 0, "no --keylog");
    in.keylog_max = 1000;
    dp_mem_worker(&in, 0, &a);
    cr_assert_eq(a.keylog_cap, 501);
    cr_assert_eq(a.keylog, 501 * DP_MEM_KEYLOG_LINE);
    dp_mem_worker(&in, 2, &a);
    cr_assert_eq(a.n_conns, 0, "no such worker");
}

Test(mem_plan, categories_add_up_and_scale_with_connections)
{
    struct dp_mem_in in = dc_run();
    struct dp_mem_out o, big;
    dp_mem_plan(&in, &o);
    uint64_t sum = 0;
    for (int c = 0; c < DP_MEM_COUNT; c++)
        sum += o.bytes[c];
    cr_assert_eq(o.total, sum);
    cr_assert_eq(o.total, o.dataplane_heap + o.dpdk_heap + o.shm);
    cr_assert_eq(o.bytes[DP_MEM_ROUTES], 1000ull * 1000 * 2);
    cr_assert_eq(o.bytes[DP_MEM_IMAGE], (4u << 20) - 2000000);
    struct dp_mem_worker w0;
    dp_mem_worker(&in, 0, &w0);
    double each = (double)(sizeof(struct dp_conn) + 2 * w0.assoc_size + w0.key_stride + sizeof(struct dp_conn_wheel) + 8);
    cr_assert(o.conn_per_connection >= each && o.conn_per_connection < each + 64,
              "two struct pc, two associations, a key area, the wheel links, queue and dirty list: %.0f, not %.0f",
              o.conn_per_connection, each);
    /* the budget: both ends of an established connection */
    cr_assert_leq(o.conn_per_connection, 2048, "%.0f bytes of connection state per connection", o.conn_per_connection);
    in.n_edges = 400001; /* large enough that whole 2 MiB pages are a rounding */
    dp_mem_plan(&in, &o);
    in.n_edges *= 10;
    dp_mem_plan(&in, &big);
    double ratio = (double)big.bytes[DP_MEM_CONN] / (double)o.bytes[DP_MEM_CONN];
    cr_assert(ratio > 9.9 && ratio < 10.1, "connection state is per connection: %f", ratio);
    cr_assert_eq(big.bytes[DP_MEM_HS], o.bytes[DP_MEM_HS], "handshake slots follow the cap, not the connections");
}

Test(mem_plan, udp_has_no_connection_state)
{
    struct dp_mem_in in = dc_run();
    in.dc = false;
    struct dp_mem_out o;
    dp_mem_plan(&in, &o);
    cr_assert_eq(o.bytes[DP_MEM_CONN] + o.bytes[DP_MEM_SCTP_POOL] + o.bytes[DP_MEM_HS] + o.bytes[DP_MEM_CERT] +
                     o.bytes[DP_MEM_WORKER], 0);
    cr_assert_gt(o.bytes[DP_MEM_MBUF], 65536ull * 2048);
    cr_assert_eq(o.conn_per_connection, 0);
}

/* Arrays are what they hold, rounded up to a cache line: big ones start
 * on a 2 MiB boundary (dp_conn.c) but are not rounded up to one, so the
 * plan and the accounting count no pages never touched. */
Test(mem_plan, arrays_are_rounded_to_a_cache_line)
{
    cr_assert_eq(dp_mem_alloc_size(0), 0);
    cr_assert_eq(dp_mem_alloc_size(1), 64);
    cr_assert_eq(dp_mem_alloc_size(DP_MEM_BIG_PAGE - 1), DP_MEM_BIG_PAGE);
    cr_assert_eq(dp_mem_alloc_size(DP_MEM_BIG_PAGE), DP_MEM_BIG_PAGE);
    cr_assert_eq(dp_mem_alloc_size(DP_MEM_BIG_PAGE + 1), DP_MEM_BIG_PAGE + 64);
}

Test(mem_plan, names)
{
    cr_assert_str_eq(dp_mem_key(DP_MEM_CONN), "connection_state");
    cr_assert_str_eq(dp_mem_label(DP_MEM_MBUF), "mbufs");
    cr_assert_null(dp_mem_key(DP_MEM_COUNT));
}

Test(mem_plan, meminfo)
{
    char text[] = "MemTotal:       32000000 kB\nMemAvailable:   15231828 kB\nHugePages_Total:     512\n"
                  "HugePages_Free:      500\nHugepagesize:       2048 kB\n";
    FILE *f = fmemopen(text, strlen(text), "r");
    struct ctl_meminfo mi;
    cr_assert_eq(ctl_meminfo_parse(f, &mi), 0);
    fclose(f);
    cr_assert_eq(mi.available, 15231828ull * 1024);
    cr_assert_eq(mi.huge_free, 500ull * 2048 * 1024);
    char none[] = "MemTotal: 1 kB\n";
    f = fmemopen(none, strlen(none), "r");
    cr_assert_eq(ctl_meminfo_parse(f, &mi), -ENODATA);
    fclose(f);
}

Test(mem_plan, verdict_names_what_is_short)
{
    struct ctl_mem_plan p;
    memset(&p, 0, sizeof(p));
    p.planned = true;
    p.in = dc_run();
    dp_mem_plan(&p.in, &p.out);
    p.need_ram = p.out.total;
    p.mi.available = p.out.total;
    char err[320] = "";
    cr_assert_eq(ctl_mem_plan_check(&p, err, sizeof(err)), 0, "exactly enough fits");
    p.mi.available = p.out.total - 1;
    cr_assert_eq(ctl_mem_plan_check(&p, err, sizeof(err)), -ENOMEM);
    cr_assert_not_null(strstr(err, "GiB available"), "%s", err);
    cr_assert_null(strchr(err, '\n'), "one line");
    p.mi.available = p.out.total;
    p.hugepages = true;
    p.need_huge = p.out.dpdk_heap;
    p.mi.huge_free = p.need_huge / 2;
    cr_assert_eq(ctl_mem_plan_check(&p, err, sizeof(err)), -ENOMEM);
    cr_assert_not_null(strstr(err, "hugepages"), "%s", err);
    p.planned = false;
    cr_assert_eq(ctl_mem_plan_check(&p, err, sizeof(err)), 0, "usrsctp is not planned");
}

Test(mem_plan, target_sessions_and_relay_clients_are_planned)
{
    struct dp_mem_in in = {.n_agents = 1000, .n_workers = 1, .n_edges = 2000, .dc = true, .setup_cap = 16,
                           .sctp_bufs = 1024, .mbufs_per_worker = 4096};
    struct dp_mem_out none, with;
    dp_mem_plan(&in, &none);
    cr_assert_eq(none.bytes[DP_MEM_TARGET], 0);
    cr_assert_eq(none.bytes[DP_MEM_RELAY], 0);
    in.target_slots = 1000;
    in.relay = true;
    dp_mem_plan(&in, &with);
    /* target sessions through the relay: the sessions' datagram buffer, and
     * room in every target agent's client for its sessions' candidates */
    cr_assert_eq(with.bytes[DP_MEM_TARGET], dp_mem_target(1000, 1000, 0, true));
    cr_assert_eq(with.bytes[DP_MEM_TARGET], dp_mem_target(1000, 1000, 0, false) + DP_MEM_TGT_DGRAM);
    cr_assert_eq(with.bytes[DP_MEM_RELAY], dp_mem_relay(1000, 2000, false, 1000));
    cr_assert_gt(dp_mem_relay(1000, 2000, false, 1000), dp_mem_relay(1000, 2000, false, 0) +
                                                            1000ull * (DP_MEM_RELAY_TGT_BYTES + DP_MEM_RELAY_TGT_PEERS * 9));
    /* over TCP: a connection and a stream buffer per agent */
    cr_assert_gt(dp_mem_relay(1000, 2000, true, 0), dp_mem_relay(1000, 2000, false, 0) + 1000ull * 16384);
    /* janus-videoroom: an SRTP context per feed of each session */
    cr_assert_eq(dp_mem_target(1000, 1000, 3, false), dp_mem_target(1000, 1000, 0, false) + 3000ull * SRTPS_SESSION_SIZE);
    cr_assert_eq(with.total, none.total + with.bytes[DP_MEM_TARGET] + with.bytes[DP_MEM_RELAY]);
    cr_assert_eq(with.dataplane_heap, none.dataplane_heap + with.bytes[DP_MEM_TARGET] + with.bytes[DP_MEM_RELAY]);
    /* per session: its state, its association and 32 pool buffers of 1,200 bytes, about 46 KiB */
    double per = (double)dp_mem_target(1000, 1000, 0, false) / 1000;
    cr_assert(per > DP_MEM_TGT_SESSION_BYTES + 32 * 1200 && per < 64 * 1024, "%.0f bytes per session", per);
    cr_assert_eq(dp_mem_target(0, 1000, 0, false), 0);
    cr_assert_str_eq(dp_mem_key(DP_MEM_TARGET), "target_sessions");
    cr_assert_str_eq(dp_mem_key(DP_MEM_RELAY), "relay_clients");
}

/* DTLS 1.3's KeyUpdate keeps the handshake endpoint for life: the mesh's
 * pool (--dtls-key-update) then has a slot per end of every connection,
 * target mode's (1.3 negotiable) one per session, 4 KiB each. */
Test(mem_plan, kept_dtls_endpoints_cost_a_slot_each)
{
    struct dp_mem_in in = dc_run();
    struct dp_mem_worker a, k;
    dp_mem_worker(&in, 0, &a);
    in.dtls_keep = true;
    dp_mem_worker(&in, 0, &k);
    cr_assert_eq(a.hs_slots, 34, "2 x setup_cap + 2");
    cr_assert_eq(k.hs_slots, 2 * 2001 + 2, "2 x connections + 2");
    cr_assert_eq(k.hs - a.hs, (size_t)(k.hs_slots - a.hs_slots) * a.hs_stride);
    cr_assert_eq(a.hs_stride, 4096, "a slot is 4 KiB");
    struct dp_mem_out none, kept;
    in = dc_run();
    in.target_slots = 1000;
    dp_mem_plan(&in, &none);
    in.target_dtls_keep = true;
    dp_mem_plan(&in, &kept);
    cr_assert_eq(dp_mem_target_hs(1000, false), DP_MEM_TGT_HS);
    cr_assert_eq(dp_mem_target_hs(1000, true), 1000);
    cr_assert_eq(dp_mem_target_hs(10, false), 10);
    cr_assert_eq(kept.bytes[DP_MEM_TARGET] - none.bytes[DP_MEM_TARGET], (1000ull - DP_MEM_TGT_HS) * 4096);
    cr_assert_eq(kept.total - none.total, (1000ull - DP_MEM_TGT_HS) * 4096);
}

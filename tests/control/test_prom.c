/* SPDX-License-Identifier: MIT */
/* Prometheus exposition: bucket counts are exact, the page is valid; the
 * HTTP side routes a request once its head has arrived, whatever the recv
 * sizes, and closes clients that hold a slot past the deadline. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "prom.h"
#include "prom_internal.h"

static struct ctl_snap s;

static double value_of(const char *page, const char *series)
{
    const char *p = strstr(page, series);
    cr_assert_not_null(p, "no %s", series);
    return atof(p + strlen(series));
}

Test(prom, histogram_buckets_count_exactly_the_values_at_or_below_le)
{
    cr_assert_eq(ctl_snap_init(&s, 2), 0);
    /* 1003 ns is the top of the bucket holding 1 us: le="1.003e-06" */
    met_hist_record(&s.latency, 1003);
    met_hist_record(&s.latency, 1004); /* next bucket */
    met_hist_record(&s.latency, 500);
    met_hist_record(&s.latency, 7000000000ull);
    s.total.msgs_delivered = 4;
    s.worker[1].cycles_busy = 3000000000ull;
    struct ctl_prom_info info = {.tsc_hz = 1000000000ull, .agents = 10, .phase = "ramp \"x\"", .target_rate = 5};
    static char page[1 << 16];
    size_t n = ctl_prom_render(page, sizeof(page), &s, &info);
    cr_assert_lt(n, sizeof(page));
    cr_assert_eq(value_of(page, "swarmgen_message_latency_seconds_bucket{le=\"1.003e-06\"} "), 2);
    cr_assert_eq(value_of(page, "swarmgen_message_latency_seconds_bucket{le=\"2.007e-06\"} "), 3);
    cr_assert_eq(value_of(page, "swarmgen_message_latency_seconds_bucket{le=\"5.0331648\"} "), 3);
    cr_assert_eq(value_of(page, "swarmgen_message_latency_seconds_bucket{le=\"+Inf\"} "), 4);
    cr_assert_eq(value_of(page, "swarmgen_message_latency_seconds_count "), 4);
    cr_assert_eq(value_of(page, "swarmgen_core_busy_seconds_total{core=\"1\"} "), 3);
    cr_assert_not_null(strstr(page, "swarmgen_phase_info{phase=\"ramp \\\"x\\\"\"} 1"), "%s", page);
    /* truncation reports the needed size */
    char small[64];
    cr_assert_eq(ctl_prom_render(small, sizeof(small), &s, &info), n);
    cr_assert_eq(strlen(small), sizeof(small) - 1);
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        FILE *f = popen("promtool check metrics", "w");
        fputs(page, f);
        cr_assert_eq(pclose(f), 0, "promtool rejected:\n%s", page);
    } else if (getenv("SWARMGEN_REQUIRE_PROMTOOL")) {
        cr_assert_fail("promtool is not installed");
    }
    ctl_snap_free(&s);
}

Test(prom, connection_metrics_with_traffic_dc_only)
{
    cr_assert_eq(ctl_snap_init(&s, 2), 0);
    s.total.conn_total = 4123;
    s.total.conn_attempts = 4200;
    s.total.conn_established = 4100;
    s.total.conn_attempt_failed[RI_STAGE_DTLS] = 7;
    s.total.conn_attempt_failed[RI_STAGE_DC] = 2;
    s.total.conn_dtls_up[0] = 4000;
    s.total.conn_dtls_up[1] = 100;
    s.total.dtls_key_updates_out = 31;
    s.total.dtls_key_updates_in = 30;
    met_hist_record(&s.setup[RI_SETUP_DTLS + 1], 250000000); /* one 1.3 set-up: 250 ms */
    /* set-up times: 300 ms, 310 ms, 4 s; 1 s is past the first two */
    met_hist_record(&s.setup[RI_SETUP_TOTAL], 300000000);
    met_hist_record(&s.setup[RI_SETUP_TOTAL], 310000000);
    met_hist_record(&s.setup[RI_SETUP_TOTAL], 4000000000ull);
    static char page[1 << 16];
    struct ctl_prom_info udp = {.tsc_hz = 1000000000ull, .agents = 10, .phase = "sustained"};
    ctl_prom_render(page, sizeof(page), &s, &udp);
    cr_assert_null(strstr(page, "swarmgen_connection_setup_seconds"), "udp runs have no connection metrics");
    cr_assert_null(strstr(page, "swarmgen_connections_established_total"));
    struct ctl_prom_info dc = udp;
    dc.connections = true;
    dc.phase = "connect";
    size_t n = ctl_prom_render(page, sizeof(page), &s, &dc);
    cr_assert_lt(n, sizeof(page));
    cr_assert_not_null(strstr(page, "# TYPE swarmgen_connections_total counter\n"), "%s", page);
    cr_assert_eq(value_of(page, "\nswarmgen_connections_total "), 4123);
    cr_assert_eq(value_of(page, "\nswarmgen_dtls_key_updates_sent_total "), 31);
    cr_assert_eq(value_of(page, "\nswarmgen_dtls_key_updates_received_total "), 30);
    cr_assert_eq(value_of(page, "\nswarmgen_connection_attempts_total "), 4200);
    cr_assert_eq(value_of(page, "\nswarmgen_connections_established_total "), 4100);
    cr_assert_eq(value_of(page, "swarmgen_connection_attempt_failures_total{stage=\"ice\"} "), 0);
    cr_assert_eq(value_of(page, "swarmgen_connection_attempt_failures_total{stage=\"dtls\"} "), 7);
    cr_assert_eq(value_of(page, "swarmgen_connection_attempt_failures_total{stage=\"datachannel\"} "), 2);
    cr_assert_not_null(strstr(page, "# TYPE swarmgen_connection_setup_seconds histogram\n"));
    /* le bounds are bucket tops: 0.5 s holds the two fast ones, 5 s all three */
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_bucket{le=\"0.200278015\"} "), 0);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_bucket{le=\"0.501219327\"} "), 2);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_bucket{le=\"2.00487731\"} "), 2);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_bucket{le=\"5.0331648\"} "), 3);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_bucket{le=\"+Inf\"} "), 3);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_seconds_count "), 3);
    cr_assert_float_eq(value_of(page, "swarmgen_connection_setup_seconds_sum "), 4.61, 1e-9);
    cr_assert_eq(value_of(page, "swarmgen_connections_established_by_dtls_total{version=\"1.2\"} "), 4000);
    cr_assert_eq(value_of(page, "swarmgen_connections_established_by_dtls_total{version=\"1.3\"} "), 100);
    cr_assert_eq(value_of(page, "swarmgen_connection_setup_p99_seconds{version=\"1.2\"} "), 0, "none recorded");
    cr_assert_float_eq(value_of(page, "swarmgen_connection_setup_p99_seconds{version=\"1.3\"} "), 0.25, 0.0025);
    cr_assert_not_null(strstr(page, "swarmgen_phase_info{phase=\"connect\"} 1"));
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        FILE *f = popen("promtool check metrics", "w");
        fputs(page, f);
        cr_assert_eq(pclose(f), 0, "promtool rejected:\n%s", page);
    } else if (getenv("SWARMGEN_REQUIRE_PROMTOOL")) {
        cr_assert_fail("promtool is not installed");
    }
    ctl_snap_free(&s);
}

/* The endpoint on 127.0.0.1, port 0, with a short client deadline: every
 * slot taken by an idle client, then a real scrape. */
static int dial_prom(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* GET /metrics on a new connection; the response, NUL-terminated. */
static size_t scrape(uint16_t port, char *buf, size_t cap)
{
    int fd = dial_prom(port);
    const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    size_t len = 0;
    for (ssize_t r; len + 1 < cap && (r = recv(fd, buf + len, cap - 1 - len, 0)) > 0;)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    return len;
}

Test(prom_http, idle_and_trickling_clients_are_closed_after_the_deadline)
{
    static struct ctl_prom p;
    char err[256];
    cr_assert_eq(ctl_prom_start_timeout(&p, "127.0.0.1:0", 300, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(ctl_snap_init(&s, 1), 0);
    struct ctl_prom_info info = {.tsc_hz = 1000000000ull, .agents = 2, .phase = "sustained"};
    ctl_prom_publish(&p, &s, &info);
    static char buf[1 << 16];
    cr_assert_gt(scrape(p.port, buf, sizeof(buf)), 0);
    cr_assert_eq(strncmp(buf, "HTTP/1.1 200 ", 13), 0, "%s", buf);

    /* every slot: idle ones, and one that trickles a byte every 100 ms */
    int fd[CTL_PROM_MAX_CLIENTS];
    for (int i = 0; i < CTL_PROM_MAX_CLIENTS; i++)
        fd[i] = dial_prom(p.port);
    for (int k = 0; k < 2; k++) {
        usleep(100000);
        cr_assert_eq(send(fd[0], "G", 1, MSG_NOSIGNAL), 1);
    }
    /* past the deadline (300 ms, checked every 75 ms): the slots are free */
    usleep(400000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_gt(scrape(p.port, buf, sizeof(buf)), 0,
                 "no answer: the idle clients hold every slot");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_eq(strncmp(buf, "HTTP/1.1 200 ", 13), 0, "%s", buf);
    cr_assert_not_null(strstr(buf, "swarmgen_phase_info{phase=\"sustained\"} 1"));
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(took, 0.5, "the scrape took %.2f s", took);
    /* the idle clients were closed: they read the end of the stream */
    char b;
    cr_assert_eq(recv(fd[1], &b, 1, 0), 0);
    cr_assert_leq(recv(fd[0], &b, 1, 0), 0);
    for (int i = 0; i < CTL_PROM_MAX_CLIENTS; i++)
        close(fd[i]);
    ctl_prom_stop(&p);
    ctl_snap_free(&s);
}

/* Receives `text` into req in chunks of `chunk` bytes, as recv would. */
static enum ctl_prom_route feed(struct ctl_prom_req *req, const char *text, size_t chunk, bool *head)
{
    enum ctl_prom_route r = CTL_PROM_MORE;
    size_t len = strlen(text), off = 0;
    ctl_prom_req_reset(req);
    while (r == CTL_PROM_MORE && off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (n > ctl_prom_req_space(req))
            n = ctl_prom_req_space(req); /* recv is given the room left */
        memcpy(req->buf + req->len, text + off, n);
        off += n;
        r = ctl_prom_req_received(req, n, head);
    }
    return r;
}

Test(prom_http, a_request_is_routed_once_its_head_ends_whatever_the_recv_sizes)
{
    static struct ctl_prom_req req;
    bool head;
    const char *scrape = "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
    for (size_t chunk = 1; chunk < 8; chunk++)
        cr_assert_eq(feed(&req, scrape, chunk, &head), CTL_PROM_METRICS, "chunks of %zu", chunk);
    cr_assert_not(head);
    cr_assert_eq(feed(&req, "GET /metrics HTTP/1.1\r\n", 4, &head), CTL_PROM_MORE, "no blank line yet");
    cr_assert_eq(feed(&req, "HEAD /metrics?x=1 HTTP/1.0\n\n", 64, &head), CTL_PROM_METRICS);
    cr_assert(head);
    cr_assert_eq(feed(&req, "GET / HTTP/1.1\r\n\r\n", 64, &head), CTL_PROM_NOT_FOUND);
    cr_assert_eq(feed(&req, "GET /metricsx HTTP/1.1\r\n\r\n", 64, &head), CTL_PROM_NOT_FOUND);
    cr_assert_eq(feed(&req, "HELLO /metrics HTTP/1.1\r\n\r\n", 64, &head), CTL_PROM_NOT_ALLOWED);
    cr_assert_not(head, "a method that starts with H is not HEAD");
    static char big[CTL_PROM_REQ_MAX + 16];
    memset(big, 'a', sizeof(big) - 1);
    cr_assert_eq(feed(&req, big, 1000, &head), CTL_PROM_TOO_LARGE);
    cr_assert_eq(req.len, CTL_PROM_REQ_MAX - 1);
}

Test(prom_http, a_response_has_its_body_unless_the_request_was_head)
{
    size_t len;
    char *r = ctl_prom_response(CTL_PROM_METRICS, false, "up 1\n", 5, &len);
    cr_assert_not_null(r);
    cr_assert(len > 5 && memcmp(r + len - 5, "up 1\n", 5) == 0);
    cr_assert_not_null(strstr(r, "Content-Length: 5\r\n"));
    free(r);
    r = ctl_prom_response(CTL_PROM_METRICS, true, "up 1\n", 5, &len);
    cr_assert_not_null(strstr(r, "Content-Length: 5\r\n"));
    cr_assert_eq(memcmp(r + len - 4, "\r\n\r\n", 4), 0, "HEAD: headers only");
    free(r);
    r = ctl_prom_response(CTL_PROM_NOT_ALLOWED, true, NULL, 0, &len);
    cr_assert(len > 9 && memcmp(r + len - 9, "only GET\n", 9) == 0, "405 always has its body");
    free(r);
    cr_assert_null(ctl_prom_response(CTL_PROM_MORE, false, NULL, 0, &len));
}

/* SPDX-License-Identifier: MIT */
/*
 * CRC32c cost per SCTP packet (1,200 bytes, the path MTU browsers use, and
 * 100 bytes): our SSE4.2 path, our portable path and usrsctp's
 * usrsctp_crc32c, side by side in one run; medians of REPS rounds.
 *   build-release/bench/sctp/crc32c_bench [REPS]
 */
#include <stdio.h>
#include <stdlib.h>

#include <usrsctp.h>

#include "bench.h"
#include "sctp_crc32c.h"

static uint32_t usr(const void *p, size_t n)
{
    return usrsctp_crc32c((void *)p, n);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    if (reps < 1 || reps > 100) {
        fprintf(stderr, "usage: crc32c_bench [REPS 1..100]\n");
        return 2;
    }
    static uint8_t buf[1200];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 31 + 7);
    struct {
        const char *name;
        uint32_t (*f)(const void *, size_t);
    } impl[] = {{"swarmgen sse4.2", sctp_crc32c_hw}, {"swarmgen portable", sctp_crc32c_sw},
                {"usrsctp", usr}};
    const size_t sizes[] = {100, 1200};
    volatile uint32_t sink = 0;
    printf("median of %d rounds, ns per packet\n%-20s %10s %10s\n", reps, "", "100 B", "1200 B");
    double usr_ns[2] = {0, 0}, res[3][2];
    for (int k = 0; k < 3; k++) {
        for (int s = 0; s < 2; s++) {
            double v[100];
            int n = 200000;
            for (int r = 0; r < reps; r++) {
                double t0 = bench_now_ns();
                for (int i = 0; i < n; i++) {
                    buf[0] = (uint8_t)i;
                    sink += impl[k].f(buf, sizes[s]);
                }
                v[r] = (bench_now_ns() - t0) / n;
            }
            res[k][s] = bench_median(v, reps);
            if (k == 2)
                usr_ns[s] = res[k][s];
        }
    }
    for (int k = 0; k < 3; k++)
        printf("%-20s %10.1f %10.1f   (x%.2f, x%.2f of usrsctp's time)\n", impl[k].name, res[k][0],
               res[k][1], res[k][0] / usr_ns[0], res[k][1] / usr_ns[1]);
    return sink == 1 ? 1 : 0;
}

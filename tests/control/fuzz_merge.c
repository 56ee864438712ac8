/* SPDX-License-Identifier: MIT */
/* libFuzzer target: `swarmgen report --merge` (ctl_report_merge) on two
 * shard reports — the input is the first report, a NUL byte, then the
 * second — from reading and checking them through the histograms and the
 * merged JSON walk. The files go to /tmp; the merged report, the summary
 * and the lines of bad input to /dev/null. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(p, 1, n, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char a[64], b[64];
    static FILE *null;
    if (!null) {
        snprintf(a, sizeof(a), "/tmp/fuzz-merge-%d-a.json", (int)getpid());
        snprintf(b, sizeof(b), "/tmp/fuzz-merge-%d-b.json", (int)getpid());
        null = fopen("/dev/null", "w");
        if (!null)
            abort();
    }
    if (size > 1 << 20)
        return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t first = nul ? (size_t)(nul - data) : size;
    write_file(a, data, first);
    write_file(b, nul ? nul + 1 : data, nul ? size - first - 1 : size);
    struct ctl_merge_opts o = {
        .input = {a, b}, .n = 2, .report_path = "/dev/null", .out = null, .err = null};
    ctl_report_merge(&o);
    return 0;
}

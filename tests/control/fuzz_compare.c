/* SPDX-License-Identifier: MIT */
/* libFuzzer target: what `swarmgen compare` reads of a finished run — its
 * JSON report and CSV time series (ctl_compare_sample_read). The input is
 * the report, a NUL byte, then the time series; the first byte picks the
 * measured phase's index. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    text[size] = '\0';
    const char *report = text;
    size_t rl = strlen(report);
    const char *csv = rl < size - 1 ? text + rl + 1 : "";
    struct ctl_compare_sample s;
    char err[160];
    if (ctl_compare_sample_read(report, csv, data[0] % 4, "measure", 2.5e9, &s, err,
                                sizeof(err)) == 0) {
        struct ctl_compare_row row;
        uint8_t b = RI_BACKEND_DPDK;
        s.backend = b;
        s.ok = true;
        ctl_compare_rows(&s, 1, &b, 1, &row);
    }
    free(text);
    return 0;
}

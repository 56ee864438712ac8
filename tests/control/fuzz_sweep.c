/* SPDX-License-Identifier: MIT */
/* libFuzzer target: what `swarmgen sweep` reads — its value lists
 * (ctl_sweep_list_parse) and a point's JSON report (ctl_sweep_point_read),
 * then the row written as a table, JSON, CSV and HTML (to /dev/null). The
 * first byte picks the parser (bit 0) and the point's agent count (the
 * rest); the remaining bytes are the text. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *null_out;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    if (!null_out)
        null_out = fopen("/dev/null", "w");
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (data[0] & 1) {
        uint64_t v[CTL_SWEEP_MAX_VALUES];
        int n = ctl_sweep_list_parse(text, 2, 131070, v);
        for (int i = 0; i < n; i++)
            if (v[i] < 2 || v[i] > 131070)
                __builtin_trap(); /* a value out of range was accepted */
    } else {
        struct ctl_sweep_point p[2];
        memset(p, 0, sizeof(p));
        p[0].agents = data[0] >> 1;
        char err[160] = "";
        if (ctl_sweep_point_read(text, &p[0], err, sizeof(err)) == 0) {
            p[0].ok = true;
            if (p[0].topology[sizeof(p[0].topology) - 1] != '\0')
                __builtin_trap();
        } else if (!err[0]) {
            __builtin_trap(); /* a refusal always says why */
        }
        p[1].agents = 3;
        p[1].rate = 1000;
        snprintf(p[1].error, sizeof(p[1].error), "exit 2: \"quoted\" <error> & more");
        if (null_out)
            ctl_sweep_print(null_out, p, 2);
        ctl_sweep_json("/dev/null", text, p, 2);
        ctl_sweep_csv("/dev/null", p, 2);
        ctl_sweep_html("/dev/null", text, p, 2);
    }
    free(text);
    return 0;
}

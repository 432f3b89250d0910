/* The datasource fuzz targets: the shared replay/libFuzzer glue of tests/fuzz/fuzz-main.h,
 * and what every provider does with what its parser found. */
#pragma once

#include "ds-util.h"
#include "fuzz-main.h"

/* Turns what a parser found into parts, as the provider would: exercises validation. */
static inline void fuzz_emit(const DsMeta *m, const char *source) {
        DsResult out = {};
        (void) ds_meta_emit(m, source, "fuzz:facts", "tag", "fuzz:user-data", &out);
        ds_result_done(&out);
}

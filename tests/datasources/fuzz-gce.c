/* GCE: the recursive instance document. */
#include "ds-parse.h"
#include "fuzz-ds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = fuzz_copy(data, size);
        DsMeta m = {};
        if (!buf)
                return 0;
        ds_parse_gce_instance("fuzz:instance", buf, size, "fuzz-project", &m);
        fuzz_emit(&m, "gce");
        ds_meta_done(&m);
        free(buf);
        return 0;
}

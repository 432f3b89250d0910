/* DigitalOcean: /metadata/v1.json, its user_data through the ini parser. */
#include "ds-parse.h"
#include "fuzz-ds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = fuzz_copy(data, size);
        DsMeta m = {};
        if (!buf)
                return 0;
        ds_parse_digitalocean("fuzz:metadata", buf, size, &m);
        fuzz_emit(&m, "digitalocean");
        ds_meta_done(&m);
        free(buf);
        return 0;
}

/* Hetzner: the YAML metadata document, and (first byte odd) the private-networks list. */
#include "ds-parse.h"
#include "fuzz-ds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        char *buf = fuzz_copy(data + 1, size - 1);
        DsMeta m = {};
        if (!buf)
                return 0;
        if (data[0] & 1)
                ds_parse_hetzner_networks("fuzz:private-networks", buf, size - 1, &m);
        else
                ds_parse_hetzner_metadata("fuzz:metadata", buf, size - 1, &m);
        fuzz_emit(&m, "hetzner");
        ds_meta_done(&m);
        free(buf);
        return 0;
}

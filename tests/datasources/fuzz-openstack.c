/* OpenStack: meta_data.json, and (first byte odd) the EC2-compatible local-ipv4, as JSON
 * from a config drive or as text from the service. */
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
                ds_parse_openstack_ipv4("fuzz:local-ipv4", buf, size - 1, data[0] & 2, &m);
        else
                ds_parse_openstack_meta("fuzz:meta_data.json", buf, size - 1, &m);
        fuzz_emit(&m, "openstack");
        ds_meta_done(&m);
        free(buf);
        return 0;
}

/* Azure: the IMDS instance document, with its tagsList and base64 userData (which goes on
 * through the user-data ini parser); the same bytes as an ovf-env.xml (CustomData). */
#include "ds-parse.h"
#include "fuzz-ds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = fuzz_copy(data, size);
        DsMeta m = {};
        if (!buf)
                return 0;
        ds_parse_azure_instance("fuzz:instance", buf, size, &m);
        fuzz_emit(&m, "azure");
        ds_meta_done(&m);
        m = (DsMeta){};
        ds_parse_azure_ovf_env("fuzz:ovf-env.xml", buf, size, &m);
        fuzz_emit(&m, "azure");
        ds_meta_done(&m);
        free(buf);
        return 0;
}

/* User-data and media documents: detection of other tools' documents, then the ini
 * parser (inih through ini_parse_buffer), then config_apply's validation of every entry. */
#include "config.h"
#include "ds-util.h"
#include "fuzz-ds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = fuzz_copy(data, size);
        DsResult out = {};
        KbConfig cfg;
        if (!buf)
                return 0;
        if (ds_add_user_data(&out, "fuzz:user-data", buf, size) == 0 && config_init(&cfg) == 0) {
                for (size_t i = 0; i < out.n_parts; i++)
                        config_apply(&cfg, &out.parts[i]);
                config_done(&cfg);
        }
        ds_result_done(&out);
        free(buf);
        return 0;
}

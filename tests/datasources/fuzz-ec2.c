/* EC2: the instance identity document, local-hostname, the tag list. The first byte
 * picks which parser gets the rest. */
#include "ds-parse.h"
#include "fuzz-ds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        char *buf = fuzz_copy(data + 1, size - 1);
        DsMeta m = {};
        char **lines = NULL;
        if (!buf)
                return 0;
        switch (data[0] % 3) {
        case 0:
                ds_parse_ec2_identity("fuzz:instance-identity", buf, size - 1, &m);
                break;
        case 1:
                ds_parse_ec2_hostname("fuzz:local-hostname", buf, size - 1, &m);
                break;
        default:
                if (ds_split_lines(buf, size - 1, DS_TAGS_MAX, &lines) == 0)
                        for (char **l = lines; *l; l++)
                                ds_meta_add_tag(&m, "fuzz:tag", *l, "v");
                strv_free(lines);
                break;
        }
        fuzz_emit(&m, "ec2");
        ds_meta_done(&m);
        free(buf);
        return 0;
}

/* ini documents (/etc/kubeboot/kubeboot.ini, its drop-ins, --config, media and
 * user-data): ini_parse_buffer() — our reader and handler over inih, with line
 * counting, the line-length and NUL checks and the quote stripping — then config_apply()
 * validating every entry, and the [datasource.NAME] lookups.
 *
 * inih itself is Debian's libinih, which is not built with coverage instrumentation:
 * libFuzzer sees our layer's branches, not inih's. What crosses into inih is still
 * checked by ASan (our reader never writes past inih's buffer). */
#include "config.h"
#include "fuzz-main.h"
#include "ini-source.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = fuzz_copy(data, size);
        KbEntries es = {};
        KbConfig cfg;
        char why[WHY_MAX];
        if (!buf)
                return 0;
        if (entries_set_origin(&es, "/etc/kubeboot/kubeboot.ini") < 0)
                goto finish;
        int r = ini_parse_buffer(buf, size, &es, why, sizeof why);
        if (r == -EINVAL)
                fuzz_assert(why[0] && strnlen(why, sizeof why) < sizeof why);
        /* every entry remembers a line within the document */
        for (size_t i = 0; i < es.n; i++)
                fuzz_assert(es.e[i].line >= 1 && es.e[i].line <= size);
        if (config_init(&cfg) < 0)
                goto finish;
        (void) config_apply(&cfg, &es);
        for (KbKey k = 0; k < _KB_KEY_MAX; k++)
                free(config_format_value(&cfg, k, true));
        static const char *const names[] = { "ec2", "gce", "azure", "openstack", "digitalocean", "hetzner" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *src = NULL;
                (void) config_ds_get(&cfg, names[i], "endpoint", &src);
        }
        config_done(&cfg);
finish:
        entries_clear(&es);
        free(buf);
        return 0;
}

/* The kernel command line as gather reads it: cmdline_parse() splits it by the kernel's
 * rules, gather's own callback keeps the kubeboot.* parameters, gather picks the
 * datasource and the metadata deadlines from them before they are validated, and
 * config_apply() validates every value. phase-gather.c is included (as wireguard-tools'
 * fuzzers include their unit) to reach its static callbacks; nothing of it that reads
 * files or the network is called. */
#include "../../agent/phase-gather.c"
#include "fuzz-main.h"

/* The split itself, on its own: every parameter is a non-empty key within the line. */
static int check_param(const char *key, const char *value, void *userdata) {
        size_t n = *(size_t *) userdata;
        fuzz_assert(key && *key);
        fuzz_assert(strlen(key) <= n && (!value || strlen(value) <= n));
        return 0;
}

/* The redacted token shows its public id and nothing of its secret. */
static void check_redaction(const KbConfig *c) {
        if (!config_has(c, KB_TOKEN))
                return;
        _cleanup_free_ char *shown = config_format_value(c, KB_TOKEN, true);
        const char *tok = c->v[KB_TOKEN].str;
        fuzz_assert(shown && strlen(shown) == strlen(tok));
        fuzz_assert(strncmp(shown, tok, 7) == 0 && strspn(shown + 7, "*") == strlen(tok) - 7);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = fuzz_copy(data, size);
        KbEntries es = {};
        KbOptions opt = {};
        Kb kb;
        if (!buf)
                return 0;
        kb_init(&kb, &opt);

        (void) cmdline_parse(buf, size, check_param, &size);
        if (entries_set_origin(&es, "cmdline") < 0 || cmdline_parse(buf, size, cmdline_entry, &es) < 0 ||
            config_init(&kb.cfg) < 0)
                goto finish;

        /* what apply_datasources() reads from the raw cmdline, before validation */
        const Datasource *ds = NULL;
        DsDmi dmi = {};
        (void) datasource_select(datasource_setting(&kb, &es), &dmi, &ds);
        (void) duration_setting(&kb, &es, KB_METADATA_TIMEOUT);
        (void) duration_setting(&kb, &es, KB_METADATA_REQUEST_TIMEOUT);

        (void) config_apply(&kb.cfg, &es);
        check_redaction(&kb.cfg);
        for (KbKey k = 0; k < _KB_KEY_MAX; k++)
                free(config_format_value(&kb.cfg, k, true));
finish:
        entries_clear(&es);
        kb_done(&kb);
        free(buf);
        return 0;
}

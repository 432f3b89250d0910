/* The token scrub of phase finish, on the ini documents it rewrites: a document is
 * parsed and applied as gather does (ini_parse_buffer, config_apply), written to a file,
 * and when gather would have accepted it, finish's scrub_token_sources() rewrites the
 * lines the token was read from (phase-finish.c is included to reach it). Then the
 * scrubbed file must parse, set no token any more, and set everything else exactly as
 * before. The file lives in a private directory made once (under $TMPDIR). */
#define FUZZ_SETUP setup
#include "../../agent/phase-finish.c"
#include "fuzz-main.h"
#include "ini-source.h"
#include "validate.h"

static char dir[4096], path[4096 + 16];

static void cleanup(void) {
        unlink(path);
        rmdir(dir);
}

static void setup(void) {
        snprintf(dir, sizeof dir, "%s/kubeboot-fuzz-scrub-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        if (!mkdtemp(dir))
                abort();
        snprintf(path, sizeof path, "%s/kubeboot.ini", dir);
        atexit(cleanup);
}

static bool is_token_entry(const KbEntry *e) {
        return e->section && (streq(e->section, "join") || streq(e->section, "kubelet")) &&
               config_key_lookup(e->key) == KB_TOKEN;
}

/* The entries that are not the token, in order: what the scrub must leave alone. */
static bool same_other_entries(const KbEntries *a, const KbEntries *b) {
        size_t i = 0, j = 0;
        for (;;) {
                while (i < a->n && is_token_entry(&a->e[i]))
                        i++;
                while (j < b->n && is_token_entry(&b->e[j]))
                        j++;
                if (i == a->n || j == b->n)
                        return i == a->n && j == b->n;
                if (!streq_ptr(a->e[i].section, b->e[j].section) || !streq(a->e[i].key, b->e[j].key) ||
                    !streq(a->e[i].value, b->e[j].value))
                        return false;
                i++, j++;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        KbEntries before = {}, after = {};
        KbOptions opt = {};
        Kb kb;
        char why[WHY_MAX];
        char *again = NULL;
        size_t again_len;

        if (size > KB_INI_MAX)
                return 0;
        kb_init(&kb, &opt);
        if (entries_set_origin(&before, path) < 0 || ini_parse_buffer((const char *) data, size, &before, why,
                                                                      sizeof why) < 0)
                goto finish;
        if (config_init(&kb.cfg) < 0 || config_apply(&kb.cfg, &before) < 0 || !config_has(&kb.cfg, KB_TOKEN))
                goto finish; /* gather would have failed: no join, no finish */
        if (write_file_atomic(path, data, size, 0600) < 0)
                abort();

        scrub_token_sources(&kb);

        fuzz_assert(read_file_bounded(path, KB_INI_MAX + 4096, &again, &again_len) == 0);
        fuzz_assert(entries_set_origin(&after, path) == 0);
        fuzz_assert(ini_parse_buffer(again, again_len, &after, why, sizeof why) == 0);
        for (size_t i = 0; i < after.n; i++)
                fuzz_assert(!is_token_entry(&after.e[i])); /* the scrubbed file sets no token */
        fuzz_assert(same_other_entries(&before, &after));
finish:
        free(again);
        entries_clear(&before);
        entries_clear(&after);
        kb_done(&kb);
        return 0;
}

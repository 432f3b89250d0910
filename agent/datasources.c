#include "datasource.h"

#include "fileio.h"
#include "log.h"
#include "paths.h"

#define DMI_DIR "/sys/class/dmi/id"
#define DMI_MAX 256U

void dmi_read(const char *root, DsDmi *ret) {
        static const struct {
                const char *file;
                size_t offset;
        } fields[] = {
                { "sys_vendor", offsetof(DsDmi, sys_vendor) },
                { "product_name", offsetof(DsDmi, product_name) },
                { "product_version", offsetof(DsDmi, product_version) },
                { "product_uuid", offsetof(DsDmi, product_uuid) },
                { "product_serial", offsetof(DsDmi, product_serial) },
                { "chassis_asset_tag", offsetof(DsDmi, chassis_asset_tag) },
                { "board_vendor", offsetof(DsDmi, board_vendor) },
                { "bios_vendor", offsetof(DsDmi, bios_vendor) },
        };
        *ret = (DsDmi){};
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                _cleanup_free_ char *rel = strdup_printf(DMI_DIR "/%s", fields[i].file);
                _cleanup_free_ char *path = rel ? root_path(root, rel) : NULL;
                char *v = NULL;
                if (!path || read_file_bounded(path, DMI_MAX, &v, NULL) < 0)
                        continue; /* absent (not x86, a container) or unreadable (product_uuid is 0400) */
                strstrip(v);
                *(char **) ((char *) ret + fields[i].offset) = v;
        }
}

void dmi_done(DsDmi *dmi) {
        free(dmi->sys_vendor);
        free(dmi->product_name);
        free(dmi->product_version);
        free(dmi->product_uuid);
        free(dmi->product_serial);
        free(dmi->chassis_asset_tag);
        free(dmi->board_vendor);
        free(dmi->bios_vendor);
        *dmi = (DsDmi){};
}

int datasource_select(const char *setting, const DsDmi *dmi, const Datasource **ret) {
        *ret = NULL;
        if (streq(setting, "none"))
                return 0;
        for (const Datasource *const *d = datasources; *d; d++) {
                if (streq(setting, "auto") ? (*d)->identify(dmi) : streq(setting, (*d)->name)) {
                        *ret = *d;
                        return 0;
                }
        }
        return streq(setting, "auto") ? 0 : -EINVAL;
}

KbEntries *ds_result_add_part(DsResult *out, const char *origin) {
        KbEntries *n = realloc(out->parts, (out->n_parts + 1) * sizeof(KbEntries));
        if (!n)
                return NULL;
        out->parts = n;
        KbEntries *e = &out->parts[out->n_parts];
        *e = (KbEntries){};
        if (entries_set_origin(e, origin) < 0)
                return NULL;
        out->n_parts++;
        return e;
}

void ds_result_done(DsResult *out) {
        for (size_t i = 0; i < out->n_parts; i++)
                entries_clear(&out->parts[i]);
        free(out->parts);
        *out = (DsResult){};
}

const char *ds_endpoint(const DsEnv *env, const Datasource *ds) {
        const char *e = config_ds_get(env->cfg, ds->name, "endpoint", NULL);
        return e ?: ds->default_endpoint;
}

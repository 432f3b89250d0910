/* Metadata services and config media (DESIGN §2 sources 4 and 5): one interface, one
 * file per platform under datasources/, registered in one static table. A platform is
 * identified from DMI/SMBIOS before any request is sent; with datasource=auto and no
 * match, no network request is made at all. */
#pragma once

#include "backoff.h"
#include "config.h"
#include "http.h"

/* The DMI/SMBIOS strings cloud-init's ds-identify reads, from /sys/class/dmi/id under
 * the root; NULL where absent. */
typedef struct DsDmi {
        char *sys_vendor;
        char *product_name;
        char *product_version;
        char *product_uuid;
        char *product_serial;
        char *chassis_asset_tag;
        char *board_vendor;
        char *bios_vendor;
} DsDmi;

/* What a datasource may use: everything it reaches comes in here, so that tests point
 * it at their own fakes without test-only branches. */
typedef struct DsEnv {
        const char *root;         /* --root, for DMI and device paths; NULL for / */
        const KbConfig *cfg;      /* [datasource.NAME] settings, e.g. endpoint= */
        HttpClient *http;
        Backoff *backoff;         /* the overall deadline of the metadata fetch */
        unsigned long request_timeout_ms;
} DsEnv;

/* What a datasource found: one KbEntries per part (e.g. "ec2:instance-identity",
 * "ec2:tags", "ec2:user-data"), applied in order, later parts overriding earlier. */
typedef struct DsResult {
        KbEntries *parts;
        size_t n_parts;
} DsResult;

typedef struct Datasource {
        const char *name;             /* as in datasource= */
        const char *default_endpoint; /* overridable with [datasource.NAME] endpoint= */
        /* Does DMI say this machine runs on this platform? Pure; no I/O. */
        bool (*identify)(const DsDmi *dmi);
        /* Fetches this platform's metadata into out. Logs its own failures, naming the
         * source and key; returns 0, or a negative errno (-ETIMEDOUT when the service stayed
         * unavailable past env->backoff's deadline). */
        int (*fetch)(const DsEnv *env, const char *endpoint, DsResult *out);
} Datasource;

/* NULL-terminated, in identification order. */
extern const Datasource *const datasources[];

/* Reads the DMI strings under root. Never fails: absent files leave NULLs. */
void dmi_read(const char *root, DsDmi *ret);
void dmi_done(DsDmi *dmi);
/* The datasource for a datasource= value: a name, or "auto" (DMI), or "none". *ret is
 * NULL when none applies. -EINVAL for an unknown name. */
int datasource_select(const char *setting, const DsDmi *dmi, const Datasource **ret);
/* A new part in out with the given origin; NULL on OOM. */
KbEntries *ds_result_add_part(DsResult *out, const char *origin);
void ds_result_done(DsResult *out);
/* The endpoint to use: [datasource.NAME] endpoint=, else the default. */
const char *ds_endpoint(const DsEnv *env, const Datasource *ds);

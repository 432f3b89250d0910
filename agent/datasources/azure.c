/* Microsoft Azure: the Instance Metadata Service, Metadata: true on every request and a
 * pinned api-version; one JSON answer holds the facts, tagsList and base64 userData. When
 * userData is empty, the CustomData of ovf-env.xml on the provisioning medium: what
 * `az vm create --custom-data` sets, which IMDS never serves. */
#include <sys/stat.h>

#include "ds-media.h"
#include "ds-parse.h"
#include "log.h"
#include "paths.h"

/* The oldest version that has everything read here (userData came in 2021-01-01). */
#define AZURE_API_VERSION "2021-02-01"

/* ds-identify: Azure's chassis asset tag. */
static bool azure_identify(const DsDmi *d) {
        return streq_ptr(d->chassis_asset_tag, "7783-7084-3265-9085-8269-3286-77");
}

/* Azure attaches the provisioning medium as the VM's DVD drive: a UDF (or ISO 9660) disc
 * whose ovf-env.xml carries CustomData as base64 (cloud-init doc/sources/azure: "an attached
 * CD formatted in UDF"; Azure docs: "custom data ... in /var/lib/waagent/ovf-env.xml", put
 * there by the agent from that disc). */
#define AZURE_PROVISIONING_DEVICE "/dev/sr0"
#define AZURE_OVF_ENV "ovf-env.xml"
#define AZURE_OVF_ENV_MAX (256U * 1024U) /* custom data is at most 64 KiB, base64 in XML */

/* The custom data from the provisioning medium, read-only in the private mount namespace
 * the KUBEBOOT medium uses; nothing when there is no such medium. -ENOMEM only. */
static int azure_custom_data(const DsEnv *env, DsMeta *m) {
        _cleanup_free_ char *dev = root_path(env->root, AZURE_PROVISIONING_DEVICE);
        struct stat st;
        if (!dev)
                return -ENOMEM;
        if (stat(dev, &st) < 0 || !(S_ISBLK(st.st_mode) || S_ISREG(st.st_mode))) {
                log_debug("azure: no provisioning medium at %s", dev);
                return 0;
        }
        DsMediaFile f[] = { { .name = AZURE_OVF_ENV } };
        int r = ds_media_fetch("azure:" AZURE_PROVISIONING_DEVICE, dev, f, ELEMENTSOF(f), AZURE_OVF_ENV_MAX);
        if (r >= 0 && f[0].error == 0)
                r = ds_parse_azure_ovf_env("azure:" AZURE_OVF_ENV, f[0].data, f[0].len, m);
        else if (r >= 0 && f[0].error != -ENOENT)
                log_key_errno(LOG_WARNING, f[0].error, "azure:" AZURE_PROVISIONING_DEVICE, AZURE_OVF_ENV,
                              "cannot read it: %m");
        ds_media_files_done(f, ELEMENTSOF(f));
        return r == -ENOMEM ? r : 0;
}

static int azure_fetch(const DsEnv *env, const char *endpoint, DsResult *out) {
        static const char *const hdr[] = { "Metadata: true", NULL };
        unsigned long long t0 = now_ms();
        unsigned n0 = http_client_requests(env->http);
        HttpResponse resp = {};
        DsMeta m = {};

        int r = ds_get(env, endpoint,
                       &(DsGet){ .source = "azure", .what = "instance",
                                 .path = "/metadata/instance?api-version=" AZURE_API_VERSION, .headers = hdr },
                       &resp);
        if (r == 0)
                r = ds_parse_azure_instance("azure:instance", resp.body, resp.body_len, &m);
        else if (r == -ENOENT)
                log_key_errno(LOG_WARNING, 0, "azure", "instance", "not found");
        const char *ud_origin = "azure:userData";
        if (r >= 0 && !ds_fatal(r) && m.user_data_len == 0) {
                r = azure_custom_data(env, &m);
                ud_origin = "azure:" AZURE_OVF_ENV " CustomData";
        }
        if (r >= 0)
                r = ds_meta_emit(&m, "azure", "azure:instance", "tag", ud_origin, out);
        ds_log_done(env, "azure", n0, t0);
        ds_response_clear(&resp);
        ds_meta_done(&m);
        return r < 0 && !ds_fatal(r) ? 0 : r;
}

const Datasource ds_azure = {
        .name = "azure",
        .default_endpoint = DS_LINK_LOCAL,
        .identify = azure_identify,
        .fetch = azure_fetch,
};

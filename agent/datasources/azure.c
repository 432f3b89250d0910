/* Microsoft Azure: the Instance Metadata Service, Metadata: true on every request and a
 * pinned api-version; one JSON answer holds the facts, tagsList and base64 userData. */
#include "ds-parse.h"
#include "log.h"

/* The oldest version that has everything read here (userData came in 2021-01-01). */
#define AZURE_API_VERSION "2021-02-01"

/* ds-identify: Azure's chassis asset tag. */
static bool azure_identify(const DsDmi *d) {
        return streq_ptr(d->chassis_asset_tag, "7783-7084-3265-9085-8269-3286-77");
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
        if (r >= 0)
                r = ds_meta_emit(&m, "azure", "azure:instance", "tag", "azure:userData", out);
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

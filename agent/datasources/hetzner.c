/* Hetzner Cloud: YAML metadata (/hetzner/v1/metadata and its private-networks) and the
 * user-data as text (/hetzner/v1/userdata). */
#include "ds-parse.h"
#include "log.h"

/* ds-identify: the vendor (Hetzner's dedicated servers have no metadata service and
 * carry their board maker's DMI). */
static bool hetzner_identify(const DsDmi *d) {
        return streq_ptr(d->sys_vendor, "Hetzner");
}

static int hetzner_fetch(const DsEnv *env, const char *endpoint, DsResult *out) {
        unsigned long long t0 = now_ms();
        unsigned n0 = http_client_requests(env->http);
        HttpResponse resp = {};
        DsMeta m = {};

        int r = ds_get(env, endpoint,
                       &(DsGet){ .source = "hetzner", .what = "metadata", .path = "/hetzner/v1/metadata" }, &resp);
        if (r == 0)
                r = ds_parse_hetzner_metadata("hetzner:metadata", resp.body, resp.body_len, &m);
        else if (r == -ENOENT)
                log_key_errno(LOG_WARNING, 0, "hetzner", "metadata", "not found");
        if (ds_fatal(r))
                goto finish;

        r = ds_get(env, endpoint,
                   &(DsGet){ .source = "hetzner", .what = "private-networks",
                             .path = "/hetzner/v1/metadata/private-networks", .max_body = DS_VALUE_MAX },
                   &resp);
        if (r == 0)
                r = ds_parse_hetzner_networks("hetzner:private-networks", resp.body, resp.body_len, &m);
        if (ds_fatal(r))
                goto finish;

        r = ds_get(env, endpoint,
                   &(DsGet){ .source = "hetzner", .what = "userdata", .path = "/hetzner/v1/userdata",
                             .max_body = DS_USER_DATA_MAX },
                   &resp);
        if (r == 0)
                r = ds_meta_set_user_data(&m, resp.body, resp.body_len);
        if (ds_fatal(r))
                goto finish;

        r = ds_meta_emit(&m, "hetzner", "hetzner:metadata", "label", "hetzner:userdata", out);
        ds_log_done(env, "hetzner", n0, t0);
finish:
        ds_response_clear(&resp);
        ds_meta_done(&m);
        return r < 0 && !ds_fatal(r) ? 0 : r;
}

const Datasource ds_hetzner = {
        .name = "hetzner",
        .default_endpoint = DS_LINK_LOCAL,
        .identify = hetzner_identify,
        .fetch = hetzner_fetch,
};

/* DigitalOcean: one JSON document, /metadata/v1.json, with the droplet's facts and its
 * user_data. (Droplet tags are bare words: they cannot carry key=value.) */
#include "ds-parse.h"
#include "log.h"

/* ds-identify: the vendor. */
static bool digitalocean_identify(const DsDmi *d) {
        return streq_ptr(d->sys_vendor, "DigitalOcean");
}

static int digitalocean_fetch(const DsEnv *env, const char *endpoint, DsResult *out) {
        unsigned long long t0 = now_ms();
        unsigned n0 = http_client_requests(env->http);
        HttpResponse resp = {};
        DsMeta m = {};

        int r = ds_get(env, endpoint,
                       &(DsGet){ .source = "digitalocean", .what = "metadata", .path = "/metadata/v1.json" }, &resp);
        if (r == 0)
                r = ds_parse_digitalocean("digitalocean:metadata", resp.body, resp.body_len, &m);
        else if (r == -ENOENT)
                log_key_errno(LOG_WARNING, 0, "digitalocean", "metadata", "not found");
        if (r >= 0)
                r = ds_meta_emit(&m, "digitalocean", "digitalocean:metadata", "tag", "digitalocean:user_data", out);
        ds_log_done(env, "digitalocean", n0, t0);
        ds_response_clear(&resp);
        ds_meta_done(&m);
        return r < 0 && !ds_fatal(r) ? 0 : r;
}

const Datasource ds_digitalocean = {
        .name = "digitalocean",
        .default_endpoint = DS_LINK_LOCAL,
        .identify = digitalocean_identify,
        .fetch = digitalocean_fetch,
};

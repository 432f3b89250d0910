/* Google Compute Engine: every request carries Metadata-Flavor: Google; the instance in
 * one recursive JSON answer (name, zone, network interfaces, attributes kubeboot-<key>, and
 * a kubeboot ini in the cloud-init style user-data attribute, below those), the project ID
 * apart. */
#include "ds-parse.h"
#include "log.h"
#include "secret.h"

#define GCE_PROJECT_MAX 256U

/* ds-identify: the product name, or (not guaranteed to be set) the serial. */
static bool gce_identify(const DsDmi *d) {
        return streq_ptr(d->product_name, "Google Compute Engine") ||
               (d->product_serial && startswith(d->product_serial, "GoogleCloud-"));
}

static int gce_fetch(const DsEnv *env, const char *endpoint, DsResult *out) {
        static const char *const hdr[] = { "Metadata-Flavor: Google", NULL };
        unsigned long long t0 = now_ms();
        unsigned n0 = http_client_requests(env->http);
        _cleanup_free_ char *project = NULL;
        HttpResponse resp = {};
        DsMeta m = {};

        int r = ds_get(env, endpoint,
                       &(DsGet){ .source = "gce", .what = "project-id",
                                 .path = "/computeMetadata/v1/project/project-id", .headers = hdr,
                                 .max_body = GCE_PROJECT_MAX },
                       &resp);
        if (r == 0 && !memchr(resp.body, 0, resp.body_len) && !(project = ds_first_word(resp.body)))
                r = -ENOMEM;
        if (r == 0 && (!project || !*project || strchr(project, '/'))) {
                log_key_errno(LOG_WARNING, 0, "gce", "project-id", "malformed: no provider ID");
                free(project);
                project = NULL;
        }
        if (ds_fatal(r))
                goto finish;

        r = ds_get(env, endpoint,
                   &(DsGet){ .source = "gce", .what = "instance",
                             .path = "/computeMetadata/v1/instance/?recursive=true", .headers = hdr },
                   &resp);
        if (r == 0)
                r = ds_parse_gce_instance("gce:instance", resp.body, resp.body_len, project, &m);
        else if (r == -ENOENT)
                log_key_errno(LOG_WARNING, 0, "gce", "instance", "not found");
        if (ds_fatal(r))
                goto finish;

        r = ds_meta_emit(&m, "gce", "gce:instance", "attribute", "gce:attribute user-data", out);
        ds_log_done(env, "gce", n0, t0);
finish:
        ds_response_clear(&resp);
        ds_meta_done(&m);
        return r < 0 && !ds_fatal(r) ? 0 : r;
}

const Datasource ds_gce = {
        .name = "gce",
        .default_endpoint = DS_LINK_LOCAL,
        .identify = gce_identify,
        .fetch = gce_fetch,
};

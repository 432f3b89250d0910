/* OpenStack: the config drive (a filesystem labelled config-2) when there is one, else the
 * metadata service; meta_data.json (uuid, hostname, meta kubeboot-<key>), user_data as an
 * ini, and the node IP from the EC2-compatible metadata. */
#include "ds-media.h"
#include "ds-parse.h"
#include "log.h"

#define OS_META "openstack/latest/meta_data.json"
#define OS_USER_DATA "openstack/latest/user_data"
#define OS_EC2_META "ec2/latest/meta-data.json"

/* ds-identify: Nova's product name or one of the asset tags OpenStack clouds set
 * (dscheck_OpenStack in cloud-init's tools/ds-identify; "Samsung Cloud Platform" was added
 * there in December 2024: an OpenStack whose SMBIOS product name is not Nova's). */
static bool openstack_identify(const DsDmi *d) {
        static const char *const names[] = { "OpenStack Nova", "OpenStack Compute", NULL };
        static const char *const tags[] = { "OpenStack Nova", "OpenStack Compute", "OpenTelekomCloud",
                                            "SAP CCloud VM",  "HUAWEICLOUD",       "Samsung Cloud Platform",
                                            NULL };
        for (const char *const *n = names; *n; n++)
                if (streq_ptr(d->product_name, *n))
                        return true;
        for (const char *const *t = tags; *t; t++)
                if (streq_ptr(d->chassis_asset_tag, *t))
                        return true;
        return false;
}

static int openstack_config_drive(const char *device, const char *label, DsMeta *m, bool *ret_ok) {
        DsMediaFile f[] = { { .name = OS_META }, { .name = OS_USER_DATA }, { .name = OS_EC2_META } };
        _cleanup_free_ char *source = strdup_printf("openstack:" DS_MEDIA_BY_LABEL "%s", label);
        int r;

        *ret_ok = false;
        if (!source)
                return -ENOMEM;
        r = ds_media_fetch(source, device, f, ELEMENTSOF(f), DS_DOC_MAX);
        if (r < 0)
                return r == -ENOMEM ? r : 0; /* logged: the metadata service may still answer */
        if (f[0].error < 0) {
                log_key_errno(LOG_WARNING, f[0].error, source, OS_META,
                              "cannot read it (%m): trying the metadata service");
                goto finish;
        }
        *ret_ok = true;
        r = ds_parse_openstack_meta("openstack:meta_data.json", f[0].data, f[0].len, m);
        if (r == -ENOMEM)
                goto finish;
        if (f[1].error == 0 && f[1].len > DS_USER_DATA_MAX)
                log_key_errno(LOG_WARNING, 0, source, OS_USER_DATA, "larger than %u bytes: rejected", DS_USER_DATA_MAX);
        else if (f[1].error == 0)
                r = ds_meta_set_user_data(m, f[1].data, f[1].len);
        if (r == -ENOMEM)
                goto finish;
        if (f[2].error == 0)
                r = ds_parse_openstack_ipv4("openstack:" OS_EC2_META, f[2].data, f[2].len, true, m);
finish:
        ds_media_files_done(f, ELEMENTSOF(f));
        return r == -ENOMEM ? r : 0;
}

static int openstack_service(const DsEnv *env, const char *endpoint, DsMeta *m) {
        HttpResponse resp = {};
        int r = ds_get(env, endpoint,
                       &(DsGet){ .source = "openstack", .what = "meta_data.json", .path = "/" OS_META }, &resp);
        if (r == 0)
                r = ds_parse_openstack_meta("openstack:meta_data.json", resp.body, resp.body_len, m);
        else if (r == -ENOENT)
                log_key_errno(LOG_WARNING, 0, "openstack", "meta_data.json", "not found");
        if (ds_fatal(r))
                goto finish;

        r = ds_get(env, endpoint,
                   &(DsGet){ .source = "openstack", .what = "user_data", .path = "/" OS_USER_DATA,
                             .max_body = DS_USER_DATA_MAX },
                   &resp);
        if (r == 0)
                r = ds_meta_set_user_data(m, resp.body, resp.body_len);
        if (ds_fatal(r))
                goto finish;

        r = ds_get(env, endpoint,
                   &(DsGet){ .source = "openstack", .what = "local-ipv4", .path = "/latest/meta-data/local-ipv4",
                             .max_body = DS_VALUE_MAX },
                   &resp);
        if (r == 0)
                r = ds_parse_openstack_ipv4("openstack:local-ipv4", resp.body, resp.body_len, false, m);
finish:
        ds_response_clear(&resp);
        return ds_fatal(r) ? r : 0;
}

static int openstack_fetch(const DsEnv *env, const char *endpoint, DsResult *out) {
        static const char *const labels[] = { "config-2", "CONFIG-2", NULL };
        unsigned long long t0 = now_ms();
        unsigned n0 = http_client_requests(env->http);
        _cleanup_free_ char *device = NULL;
        const char *label = NULL;
        bool from_drive = false;
        DsMeta m = {};

        int r = ds_media_find(env->root, labels, &device, &label);
        if (r >= 0 && device)
                r = openstack_config_drive(device, label, &m, &from_drive);
        if (r >= 0 && !from_drive)
                r = openstack_service(env, endpoint, &m);
        if (r >= 0)
                r = ds_meta_emit(&m, "openstack", "openstack:meta_data.json", "meta", "openstack:user_data", out);
        if (r >= 0)
                ds_log_done(env, from_drive ? "openstack (config drive)" : "openstack", n0, t0);
        ds_meta_done(&m);
        return r;
}

const Datasource ds_openstack = {
        .name = "openstack",
        .default_endpoint = DS_LINK_LOCAL,
        .identify = openstack_identify,
        .fetch = openstack_fetch,
};

/* Amazon EC2: IMDSv2 (a session token from PUT /latest/api/token on every request; IMDSv1
 * only with [datasource.ec2] imdsv1=true), the instance identity document, local-hostname,
 * instance tags kubeboot-<key> (when the instance exposes tags), user-data as an ini. */
#include <ctype.h>
#include <strings.h>

#include "ds-parse.h"
#include "log.h"
#include "secret.h"

#define EC2_TOKEN_TTL_S "300" /* seconds; the whole fetch fits in it many times over */
#define EC2_TOKEN_MAX 256U
/* The answer to the token PUT is read up to this size, more than a token: IMDS's error
 * pages (the XHTML "403 - Forbidden" of a disabled endpoint or of a request with
 * X-Forwarded-For, "400 - Bad Request", ...) are ~340-370 bytes, and a refusal must be
 * reported as such, not as an oversize answer (issue 15). The token itself is still held to
 * EC2_TOKEN_MAX below. AWS: "Use the Instance Metadata Service to access instance metadata"
 * (docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html). */
#define EC2_TOKEN_ANSWER_MAX 4096U

/* DMI as ds-identify (and AWS's "identify EC2 instances" page) reads it: Nitro sets the
 * vendor; Xen instances carry "amazon" in the version and matching ec2... uuid/serial. */
static bool ec2_identify(const DsDmi *d) {
        if (streq_ptr(d->sys_vendor, "Amazon EC2") || (d->bios_vendor && startswith(d->bios_vendor, "Amazon EC2")))
                return true;
        if (d->product_version && strstr(d->product_version, "amazon"))
                return true;
        return d->product_uuid && d->product_serial && strncasecmp(d->product_uuid, "ec2", 3) == 0 &&
               strcasecmp(d->product_uuid, d->product_serial) == 0;
}

static bool token_ok(const char *t, size_t len) {
        if (len == 0 || len > EC2_TOKEN_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isgraph((unsigned char) t[i]))
                        return false;
        return true;
}

/* The IMDSv2 session token as a header line (a secret), or NULL for IMDSv1. */
static int ec2_session(const DsEnv *env, const char *endpoint, char **ret) {
        static const char *const hdr[] = { "X-aws-ec2-metadata-token-ttl-seconds: " EC2_TOKEN_TTL_S, NULL };
        const char *imdsv1 = config_ds_get(env->cfg, "ec2", "imdsv1", NULL);
        bool v1 = imdsv1 && parse_bool(imdsv1) > 0;
        HttpResponse resp = {};

        *ret = NULL;
        int r = ds_get(env, endpoint,
                       &(DsGet){ .source = "ec2", .what = "api/token", .method = "PUT", .path = "/latest/api/token",
                                 .headers = hdr, .max_body = EC2_TOKEN_ANSWER_MAX },
                       &resp);
        if (r == 0) {
                strstrip(resp.body);
                if (!token_ok(resp.body, strlen(resp.body)))
                        r = log_key_errno(LOG_WARNING, -EPROTO, "ec2", "api/token", "the session token is malformed");
                else if (!(*ret = strdup_printf("X-aws-ec2-metadata-token: %s", resp.body)))
                        r = -ENOMEM;
        } else if (r == -ENOENT)
                r = log_key_errno(LOG_WARNING, -EPROTO, "ec2", "api/token", "this metadata service has no IMDSv2");
        ds_response_clear(&resp);
        if (r >= 0 || ds_fatal(r))
                return r;
        if (v1) {
                log_notice("ec2: no IMDSv2 session; [datasource.ec2] imdsv1=true: going on with IMDSv1");
                return 0;
        }
        return log_key_errno(LOG_WARNING, r, "ec2", "api/token",
                             "no IMDSv2 session token, and IMDSv1 is off (imdsv1=true in [datasource.ec2] allows "
                             "it): going on without EC2 metadata");
}

static int ec2_tags(const DsEnv *env, const char *endpoint, const char *session, DsMeta *m) {
        HttpResponse resp = {};
        _cleanup_strv_free_ char **keys = NULL;
        int r = ds_get(env, endpoint,
                       &(DsGet){ .source = "ec2", .what = "tags/instance", .path = "/latest/meta-data/tags/instance",
                                 .secret_header = session, .max_body = DS_VALUE_MAX },
                       &resp);
        if (r == -ENOENT) {
                log_debug("ec2: the instance does not expose its tags in the metadata");
                return 0;
        }
        if (r == 0) {
                r = ds_split_lines(resp.body, resp.body_len, DS_TAGS_MAX, &keys);
                if (r == -E2BIG)
                        r = log_key_errno(LOG_WARNING, 0, "ec2", "tags/instance", "more than %u tags: ignored",
                                          DS_TAGS_MAX);
        }
        ds_response_clear(&resp);
        if (r < 0 || !keys)
                return ds_fatal(r) ? r : 0;

        for (char **k = keys; *k; k++) {
                if (!startswith(*k, DS_TAG_PREFIX))
                        continue;
                if (!ds_tag_name_ok(*k)) {
                        log_key_errno(LOG_WARNING, 0, "ec2:tag", *k, "not a kubeboot key name: ignored");
                        continue;
                }
                _cleanup_free_ char *path = strdup_printf("/latest/meta-data/tags/instance/%s", *k);
                if (!path)
                        return -ENOMEM;
                r = ds_get(env, endpoint,
                           &(DsGet){ .source = "ec2:tag", .what = *k, .path = path, .secret_header = session,
                                     .max_body = DS_VALUE_MAX },
                           &resp);
                if (r == 0 && memchr(resp.body, 0, resp.body_len))
                        log_key_errno(LOG_WARNING, 0, "ec2:tag", *k, "contains a NUL character: ignored");
                else if (r == 0)
                        r = ds_meta_add_tag(m, "ec2:tag", *k, resp.body);
                ds_response_clear(&resp);
                if (ds_fatal(r))
                        return r;
        }
        return 0;
}

static int ec2_fetch(const DsEnv *env, const char *endpoint, DsResult *out) {
        unsigned long long t0 = now_ms();
        unsigned n0 = http_client_requests(env->http);
        _cleanup_secret_ char *session = NULL;
        HttpResponse resp = {};
        DsMeta m = {};

        int r = ec2_session(env, endpoint, &session);
        if (r < 0)
                return ds_fatal(r) ? r : 0;

        r = ds_get(env, endpoint,
                   &(DsGet){ .source = "ec2", .what = "instance-identity",
                             .path = "/latest/dynamic/instance-identity/document", .secret_header = session },
                   &resp);
        if (r == 0)
                r = ds_parse_ec2_identity("ec2:instance-identity", resp.body, resp.body_len, &m);
        else if (r == -ENOENT)
                log_key_errno(LOG_WARNING, 0, "ec2", "instance-identity", "not found");
        if (ds_fatal(r))
                goto finish;

        r = ds_get(env, endpoint,
                   &(DsGet){ .source = "ec2", .what = "local-hostname", .path = "/latest/meta-data/local-hostname",
                             .secret_header = session, .max_body = DS_VALUE_MAX },
                   &resp);
        if (r == 0)
                r = ds_parse_ec2_hostname("ec2:local-hostname", resp.body, resp.body_len, &m);
        if (ds_fatal(r))
                goto finish;

        r = ec2_tags(env, endpoint, session, &m);
        if (r < 0)
                goto finish;

        r = ds_get(env, endpoint,
                   &(DsGet){ .source = "ec2", .what = "user-data", .path = "/latest/user-data", .secret_header = session,
                             .max_body = DS_USER_DATA_MAX },
                   &resp);
        if (r == 0)
                r = ds_meta_set_user_data(&m, resp.body, resp.body_len);
        if (ds_fatal(r))
                goto finish;

        r = ds_meta_emit(&m, "ec2", "ec2:meta-data", "tag", "ec2:user-data", out);
        ds_log_done(env, "ec2", n0, t0);
finish:
        ds_response_clear(&resp);
        ds_meta_done(&m);
        return r < 0 && !ds_fatal(r) ? 0 : r;
}

const Datasource ds_ec2 = {
        .name = "ec2",
        .default_endpoint = DS_LINK_LOCAL,
        .identify = ec2_identify,
        .fetch = ec2_fetch,
};

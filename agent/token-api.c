#include "token-api.h"

#include "log.h"
#include "secret.h"
#include "token-secret.h"

time_t admin_now(const AdminClient *a) {
        time_t t = server_clock_now(&a->clock);
        return t ? t : time(NULL);
}

int admin_request(AdminClient *a, const char *what, const char *method, const char *path, json_object *body,
                  ApiResult *res) {
        char desc[600];
        Backoff b;

        backoff_init(&b, ADMIN_REQUEST_TIMEOUT_MS, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
        int r = api_request_retry(a->http, &b, what, a->server, &a->auth, method, path, body, res);
        if (r == -ENOMEM)
                return r;
        if (r == -EKEYREJECTED)
                return log_error_errno(r,
                                       "TLS to %s failed (%s): its certificate is not from the CA that %s trusts "
                                       "(certificate-authority); check the kubeconfig's cluster",
                                       a->server, res->detail, a->kubeconfig);
        if (r == -EFBIG)
                return log_error_errno(r, "%s: the apiserver's answer is larger than %u bytes", what,
                                       HTTP_BODY_MAX_DEFAULT);
        if (r == -EINVAL)
                return log_error_errno(r, "%s: libcurl refused the client certificate or key of %s (%s)", what,
                                       a->kubeconfig, res->detail);
        if (r < 0)
                return log_error_errno(r,
                                       "cannot reach the apiserver at %s (the server of %s), retried for up to %llus: "
                                       "%s; check that it runs and that the address is right",
                                       a->server, a->kubeconfig, ADMIN_REQUEST_TIMEOUT_MS / 1000,
                                       api_describe(r, res, desc, sizeof desc));
        server_clock_note(&a->clock, res);
        if (res->status == 401)
                return log_error_errno(-EKEYREJECTED,
                                       "the apiserver at %s does not accept the credentials of %s (HTTP 401 "
                                       "Unauthorized): check that its client certificate or token is current and "
                                       "belongs to this cluster",
                                       a->server, a->kubeconfig);
        if (res->status == 403)
                return log_error_errno(-EACCES,
                                       "%s is forbidden (HTTP 403: %s): kubeboot token needs an admin kubeconfig "
                                       "(a user in system:masters or bound to cluster-admin); check --kubeconfig "
                                       "and --context",
                                       what, res->detail[0] ? res->detail : "no reason given");
        return 0;
}

int admin_unexpected(const char *what, const ApiResult *res) {
        char desc[600];
        return log_error_errno(-EPROTO, "%s: unexpected answer from the apiserver: %s", what,
                               api_describe(0, res, desc, sizeof desc));
}

int admin_list(AdminClient *a, const char *what, const char *path, ApiResult *res, json_object **ret_items) {
        const char *sep = strchr(path, '?') ? "&" : "?";
        _cleanup_free_ char *first = strdup_printf("%s%slimit=%d", path, sep, ADMIN_LIST_LIMIT);
        if (!first)
                return -ENOMEM;
        int r = admin_request(a, what, "GET", first, NULL, res);
        if (r < 0)
                return r;
        json_object *items = json_get(res->json, "items", NULL);
        if (res->status != 200 || !items || !json_object_is_type(items, json_type_array))
                return admin_unexpected(what, res);
        /* more pages: their items join the first page's array (referenced, so that wiping
         * res wipes them all); each page's raw body is wiped at once */
        for (unsigned page = 1;; page++) {
                const char *cont = json_get_string(res->json, "metadata", "continue", NULL);
                if (isempty(cont))
                        break;
                if (page >= ADMIN_LIST_MAX_PAGES)
                        return log_error_errno(-EFBIG, "%s: more than %d pages of %d; giving up", what,
                                               ADMIN_LIST_MAX_PAGES, ADMIN_LIST_LIMIT);
                _cleanup_free_ char *esc = http_query_escape(cont);
                _cleanup_free_ char *next = esc ? strdup_printf("%s&continue=%s", first, esc) : NULL;
                if (!next)
                        return -ENOMEM;
                ApiResult more = { .retry_after_s = -1 };
                r = admin_request(a, what, "GET", next, NULL, &more);
                json_object *more_items = r >= 0 ? json_get(more.json, "items", NULL) : NULL;
                if (r >= 0 && (more.status != 200 || !more_items || !json_object_is_type(more_items, json_type_array)))
                        r = admin_unexpected(what, &more);
                for (size_t i = 0; r >= 0 && i < json_object_array_length(more_items); i++)
                        if (json_object_array_add(items, json_object_get(json_object_array_get_idx(more_items, i))) < 0)
                                r = -ENOMEM;
                /* the next page's token, into res, before more goes */
                json_object *meta = r >= 0 ? json_get(more.json, "metadata", NULL) : NULL;
                if (r >= 0)
                        json_object_object_add(res->json, "metadata", json_object_get(meta));
                if (r < 0)
                        json_wipe_strings(more.json);
                secret_wipe(more.body, more.body_len);
                api_result_clear(&more);
                if (r < 0)
                        return r;
        }
        *ret_items = items;
        return 0;
}

void admin_result_wipe(ApiResult *res) {
        json_wipe_strings(res->json);
        secret_wipe(res->body, res->body_len);
        api_result_clear(res);
}

void admin_body_wipe(json_object *body) {
        if (!body)
                return;
        /* api_request() serialized it into json-c's buffer: the same call rewrites that
         * buffer with the same text, which is then ours to wipe */
        char *text = (char *) json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
        if (text)
                secret_wipe(text, strlen(text));
        json_wipe_strings(body);
}

#include "kubelet-base.h"

#include "log.h"
#include "yaml-in.h"

int kubelet_base_fetch(HttpClient *http, Backoff *b, const char *server, const ApiAuth *auth, json_object **ret) {
        ApiResult res = { .retry_after_s = -1 };
        char desc[600], why[256];
        json_object *cfg = NULL;

        int r = api_request_retry(http, b, "kubelet-config", server, auth, "GET", KUBELET_BASE_PATH, NULL, &res);
        if (r == -ETIMEDOUT || http_is_transient(r, res.status)) {
                r = log_error_errno(-ETIMEDOUT, "reading kube-system/kubelet-config: the apiserver at %s stayed "
                                    "unavailable: %s", server, api_describe(r, &res, desc, sizeof desc));
                goto finish;
        }
        if (r < 0) {
                r = log_error_errno(r, "reading kube-system/kubelet-config: %s", api_describe(r, &res, desc, sizeof desc));
                goto finish;
        }
        /* not a kubeadm cluster, or not for this token: kubeboot's defaults, as before */
        if (res.status == 404 || res.status == 403) {
                log_info("kubelet configuration: kubeboot's built-in defaults and local keys (kube-system/kubelet-config "
                         "%s)", res.status == 404 ? "does not exist"
                                                : "may not be read by this token, or does not exist: RBAC answers first");
                *ret = NULL;
                r = 0;
                goto finish;
        }
        if (res.status != 200) {
                r = log_error_errno(-EPROTO, "unexpected answer reading kube-system/kubelet-config: %s",
                                    api_describe(0, &res, desc, sizeof desc));
                goto finish;
        }
        const char *text = json_get_string(res.json, "data", "kubelet", NULL);
        if (!text) {
                r = log_error_errno(-EBADMSG, "kube-system/kubelet-config has no data key \"kubelet\"");
                goto finish;
        }
        r = yaml_to_json(text, strlen(text), &cfg, why, sizeof why);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0 || !json_object_is_type(cfg, json_type_object) ||
            !streq_ptr(json_get_string(cfg, "kind", NULL), "KubeletConfiguration") ||
            !streq_ptr(json_get_string(cfg, "apiVersion", NULL), "kubelet.config.k8s.io/v1beta1")) {
                json_object_put(cfg);
                r = log_error_errno(-EBADMSG,
                                    "kube-system/kubelet-config holds no kubelet.config.k8s.io/v1beta1 "
                                    "KubeletConfiguration%s%s: fix it (kubeadm upgrade node phase kubelet-config "
                                    "rewrites it) or make it unreadable to the token",
                                    r < 0 ? ": " : "", r < 0 ? why : "");
                goto finish;
        }
        log_info("kubelet configuration: the cluster's kube-system/kubelet-config as the base, under local keys");
        *ret = cfg;
        r = 0;
finish:
        api_result_clear(&res);
        return r;
}

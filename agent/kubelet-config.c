#include "kubelet-config.h"

#include "paths.h"
#include "yaml-out.h"

int kubelet_config_render(const KbConfig *c, char **ret, size_t *ret_len) {
        YamlOut y;
        int r = yo_begin(&y, false);
        if (r < 0)
                return r;

        /* keys in alphabetical order, as kubeadm's marshalled files have them */
        yo_map_begin(&y);
        yo_kv_str(&y, "apiVersion", "kubelet.config.k8s.io/v1beta1");
        yo_str(&y, "authentication");
        yo_map_begin(&y);
        yo_str(&y, "anonymous");
        yo_map_begin(&y);
        yo_kv_bool(&y, "enabled", false);
        yo_map_end(&y);
        yo_str(&y, "webhook");
        yo_map_begin(&y);
        yo_kv_str(&y, "cacheTTL", "0s");
        yo_kv_bool(&y, "enabled", true);
        yo_map_end(&y);
        yo_str(&y, "x509");
        yo_map_begin(&y);
        yo_kv_str(&y, "clientCAFile", PATH_CA_CERT);
        yo_map_end(&y);
        yo_map_end(&y);
        yo_str(&y, "authorization");
        yo_map_begin(&y);
        yo_kv_str(&y, "mode", "Webhook");
        yo_str(&y, "webhook");
        yo_map_begin(&y);
        yo_kv_str(&y, "cacheAuthorizedTTL", "0s");
        yo_kv_str(&y, "cacheUnauthorizedTTL", "0s");
        yo_map_end(&y);
        yo_map_end(&y);
        yo_kv_str(&y, "cgroupDriver", c->v[KB_CGROUP_DRIVER].str);
        if (c->v[KB_CLUSTER_DNS].list && c->v[KB_CLUSTER_DNS].list[0]) {
                yo_str(&y, "clusterDNS");
                yo_seq_begin(&y);
                for (char **i = c->v[KB_CLUSTER_DNS].list; *i; i++)
                        yo_str(&y, *i);
                yo_seq_end(&y);
        }
        yo_kv_str(&y, "clusterDomain", c->v[KB_CLUSTER_DOMAIN].str);
        yo_kv_str(&y, "containerRuntimeEndpoint", c->v[KB_CONTAINER_RUNTIME_ENDPOINT].str);
        yo_kv_str(&y, "kind", "KubeletConfiguration");
        yo_kv_uint(&y, "maxPods", c->v[KB_MAX_PODS].u);
        if (config_has(c, KB_PROVIDER_ID))
                yo_kv_str(&y, "providerID", c->v[KB_PROVIDER_ID].str);
        if (c->v[KB_REGISTER_WITH_TAINTS].list && c->v[KB_REGISTER_WITH_TAINTS].list[0]) {
                yo_str(&y, "registerWithTaints");
                yo_seq_begin(&y);
                for (char **i = c->v[KB_REGISTER_WITH_TAINTS].list; *i; i++) {
                        /* validated as key[=value]:Effect */
                        _cleanup_free_ char *t = strdup(*i);
                        if (!t) {
                                y.failed = true;
                                break;
                        }
                        char *colon = strrchr(t, ':');
                        *colon = 0;
                        char *eq = strchr(t, '=');
                        if (eq)
                                *eq = 0;
                        yo_map_begin(&y);
                        yo_kv_str(&y, "effect", colon + 1);
                        yo_kv_str(&y, "key", t);
                        if (eq && eq[1])
                                yo_kv_str(&y, "value", eq + 1);
                        yo_map_end(&y);
                }
                yo_seq_end(&y);
        }
        if (config_has(c, KB_RESOLV_CONF))
                yo_kv_str(&y, "resolvConf", c->v[KB_RESOLV_CONF].str);
        yo_kv_bool(&y, "rotateCertificates", true);
        /* off unless asked, as kubeadm (componentconfigs/kubelet.go never sets it): nothing
         * approves kubernetes.io/kubelet-serving CSRs by default, and until someone does, the
         * kubelet has no serving certificate (kubectl logs/exec fail) */
        if (c->v[KB_SERVER_TLS_BOOTSTRAP].b)
                yo_kv_bool(&y, "serverTLSBootstrap", true);
        yo_map_end(&y);

        r = yo_end(&y, ret, ret_len);
        yo_done(&y);
        return r;
}

/* Appends " --name=list,joined" when the list is non-empty. */
static int append_list_flag(char **s, const char *name, char *const *list) {
        if (!list || !list[0])
                return 0;
        for (size_t i = 0; list[i]; i++) {
                char *n = strdup_printf("%s%s%s%s", *s, i == 0 ? " --" : ",", i == 0 ? name : "", list[i]);
                if (!n)
                        return -ENOMEM;
                free(*s);
                *s = n;
        }
        return 0;
}

int kubelet_flags_render(const KbConfig *c, const char *node_name, char **ret, size_t *ret_len) {
        /* Every value is validated to be free of white space and quotes: systemd splits
         * $KUBELET_KUBEADM_ARGS at white space when it expands it in ExecStart=. */
        _cleanup_free_ char *args = strdup_printf("--hostname-override=%s", node_name);
        if (!args)
                return -ENOMEM;
        if (append_list_flag(&args, "node-ip=", c->v[KB_NODE_IP].list) < 0 ||
            append_list_flag(&args, "node-labels=", c->v[KB_NODE_LABELS].list) < 0)
                return -ENOMEM;
        char *out = strdup_printf("KUBELET_KUBEADM_ARGS=\"%s\"\n", args);
        if (!out)
                return -ENOMEM;
        *ret = out;
        *ret_len = strlen(out);
        return 0;
}

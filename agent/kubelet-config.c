#include "kubelet-config.h"

#include <stdlib.h>

#include "paths.h"
#include "yaml-out.h"

/* Fields of the cluster's KubeletConfiguration that describe the node that wrote it, not
 * the cluster: this node has its own (kubeadm keeps them per node too: the CRI socket and
 * the provider ID in kubeadm-flags.env, the CA path its own, resolvConf decided on the node
 * by componentconfigs/kubelet.go). Paths are JSON object keys from the top. */
static const char *const node_specific[][3] = {
        { "authentication", "x509", "clientCAFile" },
        { "staticPodPath" },
        { "providerID" },
        { "tlsCertFile" },
        { "tlsPrivateKeyFile" },
        { "resolvConf" },
        { "containerRuntimeEndpoint" },
};

static int set(json_object *o, const char *k, json_object *v) {
        if (!v)
                return -ENOMEM;
        return json_object_object_add(o, k, v) < 0 ? -ENOMEM : 0;
}

/* The object at key in o, created empty if missing or not an object. */
static json_object *child(json_object *o, const char *k) {
        json_object *c = NULL;
        if (json_object_object_get_ex(o, k, &c) && json_object_is_type(c, json_type_object))
                return c;
        c = json_object_new_object();
        if (c && json_object_object_add(o, k, c) < 0)
                return NULL;
        return c;
}

/* Deep merge of over into into: objects merge key by key, anything else replaces; null
 * and "" in over count as unset (Go marshals zero values, e.g. containerRuntimeEndpoint: ""). */
static int merge(json_object *into, json_object *over) {
        json_object_object_foreach(over, k, v) {
                if (!v || (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0))
                        continue;
                json_object *cur = NULL;
                if (json_object_is_type(v, json_type_object) && json_object_object_get_ex(into, k, &cur) &&
                    json_object_is_type(cur, json_type_object)) {
                        int r = merge(cur, v);
                        if (r < 0)
                                return r;
                        continue;
                }
                json_object *copy = NULL;
                if (json_object_deep_copy(v, &copy, NULL) < 0)
                        return -ENOMEM;
                if (json_object_object_add(into, k, copy) < 0) {
                        json_object_put(copy);
                        return -ENOMEM;
                }
        }
        return 0;
}

static void drop(json_object *o, const char *const path[3]) {
        for (size_t i = 0; o && i < 3 && path[i]; i++) {
                if (i + 1 == 3 || !path[i + 1]) {
                        json_object_object_del(o, path[i]);
                        return;
                }
                json_object *next = NULL;
                if (!json_object_object_get_ex(o, path[i], &next) || !json_object_is_type(next, json_type_object))
                        return;
                o = next;
        }
}

static bool local(const KbConfig *c, KbKey k) {
        return config_has(c, k) && !streq(c->v[k].source, "default");
}

static json_object *string_list(char *const *l) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && l && l[i]; i++)
                json_object_array_add(a, json_object_new_string(l[i]));
        return a;
}

static json_object *taints(char *const *l) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && l && l[i]; i++) {
                /* validated as key[=value]:Effect */
                _cleanup_free_ char *t = strdup(l[i]);
                json_object *o = json_object_new_object();
                if (!t || !o) {
                        json_object_put(o);
                        json_object_put(a);
                        return NULL;
                }
                char *colon = strrchr(t, ':');
                *colon = 0;
                char *eq = strchr(t, '=');
                if (eq)
                        *eq = 0;
                json_object_object_add(o, "effect", json_object_new_string(colon + 1));
                json_object_object_add(o, "key", json_object_new_string(t));
                if (eq && eq[1])
                        json_object_object_add(o, "value", json_object_new_string(eq + 1));
                json_object_array_add(a, o);
        }
        return a;
}

/* One kubeboot key's field: its value into o at field. */
static int put_key(const KbConfig *c, KbKey k, json_object *o) {
        const KbValue *v = &c->v[k];
        switch (k) {
        case KB_CGROUP_DRIVER:
                return set(o, "cgroupDriver", json_object_new_string(v->str));
        case KB_CLUSTER_DNS:
                return v->list && v->list[0] ? set(o, "clusterDNS", string_list(v->list)) : 0;
        case KB_CLUSTER_DOMAIN:
                return set(o, "clusterDomain", json_object_new_string(v->str));
        case KB_CONTAINER_RUNTIME_ENDPOINT:
                return set(o, "containerRuntimeEndpoint", json_object_new_string(v->str));
        case KB_MAX_PODS:
                return set(o, "maxPods", json_object_new_int64((int64_t) v->u));
        case KB_PROVIDER_ID:
                return set(o, "providerID", json_object_new_string(v->str));
        case KB_REGISTER_WITH_TAINTS:
                return v->list && v->list[0] ? set(o, "registerWithTaints", taints(v->list)) : 0;
        case KB_RESOLV_CONF:
                return set(o, "resolvConf", json_object_new_string(v->str));
        case KB_SERVER_TLS_BOOTSTRAP:
                /* kubeadm leaves it unset (false): written only when asked, either way */
                return set(o, "serverTLSBootstrap", json_object_new_boolean(v->b));
        default:
                return 0;
        }
}

static const KbKey kubelet_keys[] = {
        KB_CGROUP_DRIVER, KB_CLUSTER_DNS,     KB_CLUSTER_DOMAIN,          KB_CONTAINER_RUNTIME_ENDPOINT,
        KB_MAX_PODS,      KB_PROVIDER_ID,     KB_REGISTER_WITH_TAINTS,    KB_RESOLV_CONF,
        KB_SERVER_TLS_BOOTSTRAP,
};

int kubelet_config_build(const KbConfig *c, json_object *base, json_object **ret) {
        json_object *o = json_object_new_object(), *tmp = NULL;
        int r = o ? 0 : -ENOMEM;

        /* 1. kubeboot's built-in defaults: what kubeadm's componentconfigs/kubelet.go
         * Default() sets, and the keys at their defaults */
        json_object *authn = r >= 0 ? child(o, "authentication") : NULL, *authz = authn ? child(o, "authorization") : NULL;
        json_object *anon = authz ? child(authn, "anonymous") : NULL, *wh = anon ? child(authn, "webhook") : NULL;
        json_object *azwh = wh ? child(authz, "webhook") : NULL;
        if (!azwh)
                r = -ENOMEM;
        if (r >= 0)
                r = set(anon, "enabled", json_object_new_boolean(0));
        if (r >= 0)
                r = set(wh, "cacheTTL", json_object_new_string("0s"));
        if (r >= 0)
                r = set(wh, "enabled", json_object_new_boolean(1));
        if (r >= 0)
                r = set(authz, "mode", json_object_new_string("Webhook"));
        if (r >= 0)
                r = set(azwh, "cacheAuthorizedTTL", json_object_new_string("0s"));
        if (r >= 0)
                r = set(azwh, "cacheUnauthorizedTTL", json_object_new_string("0s"));
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(kubelet_keys); i++)
                if (config_has(c, kubelet_keys[i]) && !local(c, kubelet_keys[i]) &&
                    kubelet_keys[i] != KB_SERVER_TLS_BOOTSTRAP)
                        r = put_key(c, kubelet_keys[i], o);

        /* 2. the cluster's kube-system/kubelet-config, without what belongs to a node */
        if (r >= 0 && base) {
                if (json_object_deep_copy(base, &tmp, NULL) < 0)
                        r = -ENOMEM;
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(node_specific); i++)
                        drop(tmp, node_specific[i]);
                if (r >= 0)
                        r = merge(o, tmp);
                json_object_put(tmp);
        }

        /* 3. every key set by a local source */
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(kubelet_keys); i++)
                if (local(c, kubelet_keys[i]))
                        r = put_key(c, kubelet_keys[i], o);

        /* 4. what kubeboot's join relies on, whatever the base says */
        json_object *x509 = NULL;
        if (r >= 0)
                r = set(o, "apiVersion", json_object_new_string("kubelet.config.k8s.io/v1beta1"));
        if (r >= 0)
                r = set(o, "kind", json_object_new_string("KubeletConfiguration"));
        if (r >= 0 && !(authn = child(o, "authentication")))
                r = -ENOMEM;
        if (r >= 0 && !(x509 = child(authn, "x509")))
                r = -ENOMEM;
        if (r >= 0)
                r = set(x509, "clientCAFile", json_object_new_string(PATH_CA_CERT));
        /* the node certificate kubelet bootstraps is renewed by kubelet alone */
        if (r >= 0)
                r = set(o, "rotateCertificates", json_object_new_boolean(1));
        if (r < 0) {
                json_object_put(o);
                return r;
        }
        *ret = o;
        return 0;
}

static int compare_keys(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* o as YAML, mapping keys sorted as Go's marshalled maps and kubeadm's files have them. */
static void emit_json(YamlOut *y, json_object *o) {
        switch (json_object_get_type(o)) {
        case json_type_object: {
                size_t n = (size_t) json_object_object_length(o), i = 0;
                const char **keys = calloc(n ?: 1, sizeof *keys);
                if (!keys) {
                        y->failed = true;
                        return;
                }
                json_object_object_foreach(o, k, v) {
                        (void) v;
                        keys[i++] = k;
                }
                qsort(keys, n, sizeof *keys, compare_keys);
                yo_map_begin(y);
                for (i = 0; i < n; i++) {
                        yo_str(y, keys[i]);
                        emit_json(y, json_object_object_get(o, keys[i]));
                }
                yo_map_end(y);
                free(keys);
                return;
        }
        case json_type_array:
                yo_seq_begin(y);
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        emit_json(y, json_object_array_get_idx(o, i));
                yo_seq_end(y);
                return;
        case json_type_boolean:
                yo_bool(y, json_object_get_boolean(o));
                return;
        case json_type_int:
                yo_int(y, json_object_get_int64(o));
                return;
        case json_type_double: {
                char b[64];
                snprintf(b, sizeof b, "%.17g", json_object_get_double(o));
                yo_number(y, b);
                return;
        }
        case json_type_string:
                yo_str(y, json_object_get_string(o));
                return;
        default:
                yo_null(y);
                return;
        }
}

int kubelet_config_render(const KbConfig *c, json_object *base, char **ret, size_t *ret_len) {
        json_object *o = NULL;
        YamlOut y;
        int r = kubelet_config_build(c, base, &o);
        if (r < 0)
                return r;
        r = yo_begin(&y, false);
        if (r < 0) {
                json_object_put(o);
                return r;
        }
        emit_json(&y, o);
        json_object_put(o);
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

#include "token-cluster.h"

#include <mbedtls/base64.h>

#include "jws.h"
#include "kubeconfig-read.h"
#include "log.h"
#include "secret.h"
#include "validate.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"
#define CRB_PATH "/apis/" RBAC_GROUP "/v1/clusterrolebindings"
#define SECRETS_PATH "/api/v1/namespaces/kube-system/secrets"
#define CLUSTER_INFO_NAME "cluster-info"
#define CLUSTER_INFO_PATH "/api/v1/namespaces/kube-public/configmaps/" CLUSTER_INFO_NAME
#define CLUSTER_INFO_RBAC_NAME "kubeadm:bootstrap-signer-clusterinfo"
/* A clash of token ids is rare (36^6 ids); a run of them means something else is wrong. */
#define TOKEN_CREATE_ATTEMPTS 5
/* Polling cluster-info for the signature: the one backoff policy, with a short cap
 * because the operator is waiting at a terminal. */
#define SIGNED_POLL_CAP_MS 2000UL

#define GET_NODES_ROLE "kubeadm:get-nodes"
#define KUBELET_CONFIG_ROLE "kubeadm:kubelet-config"

typedef struct SeedBinding {
        const char *name;     /* kubeadm's (cmd/kubeadm/app/phases/bootstraptoken/node/tlsbootstrap.go) */
        const char *fallback; /* ours, when kubeadm's name is taken by something else */
        const char *role;
        const char *group; /* NULL: the token's group (token_bind_group()) */
} SeedBinding;

static const SeedBinding seed_bindings[] = {
        { "kubeadm:kubelet-bootstrap", "kubeboot:kubelet-bootstrap", "system:node-bootstrapper", NULL },
        { "kubeadm:node-autoapprove-bootstrap", "kubeboot:node-autoapprove-bootstrap",
          "system:certificates.k8s.io:certificatesigningrequests:nodeclient", NULL },
        { "kubeadm:node-autoapprove-certificate-rotation", "kubeboot:node-autoapprove-certificate-rotation",
          "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes" },
        /* kubeadm join checks for a Ready Node of its name with this (join/kubelet.go) */
        { GET_NODES_ROLE, "kubeboot:get-nodes", GET_NODES_ROLE, NULL },
};

const char *token_bind_group(char *const *groups) {
        return groups && groups[0] ? groups[0] : TOKEN_DEFAULT_GROUP;
}

static json_object *managed_meta(const char *name, const char *ns) {
        json_object *meta = json_object_new_object(), *labels = json_object_new_object();
        json_object_object_add(meta, "name", json_object_new_string(name));
        if (ns)
                json_object_object_add(meta, "namespace", json_object_new_string(ns));
        json_object_object_add(labels, TOKEN_MANAGED_BY_KEY, json_object_new_string(TOKEN_MANAGED_BY_VALUE));
        json_object_object_add(meta, "labels", labels);
        return meta;
}

static json_object *rbac_object(const char *kind, const char *name, const char *ns) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "apiVersion", json_object_new_string(RBAC_GROUP "/v1"));
        json_object_object_add(o, "kind", json_object_new_string(kind));
        json_object_object_add(o, "metadata", managed_meta(name, ns));
        return o;
}

static json_object *role_ref(const char *kind, const char *name) {
        json_object *r = json_object_new_object();
        json_object_object_add(r, "apiGroup", json_object_new_string(RBAC_GROUP));
        json_object_object_add(r, "kind", json_object_new_string(kind));
        json_object_object_add(r, "name", json_object_new_string(name));
        return r;
}

static json_object *subjects_one(const char *kind, const char *name) {
        json_object *a = json_object_new_array(), *s = json_object_new_object();
        json_object_object_add(s, "apiGroup", json_object_new_string(RBAC_GROUP));
        json_object_object_add(s, "kind", json_object_new_string(kind));
        json_object_object_add(s, "name", json_object_new_string(name));
        json_object_array_add(a, s);
        return a;
}

/* A Role's rules: get `resource` of the core API group, only the object `name` unless NULL. */
static json_object *rules_get(const char *resource, const char *name) {
        json_object *rules = json_object_new_array(), *rule = json_object_new_object();
        json_object *verbs = json_object_new_array(), *groups = json_object_new_array(),
                    *resources = json_object_new_array();
        json_object_array_add(verbs, json_object_new_string("get"));
        json_object_array_add(groups, json_object_new_string(""));
        json_object_array_add(resources, json_object_new_string(resource));
        json_object_object_add(rule, "verbs", verbs);
        json_object_object_add(rule, "apiGroups", groups);
        json_object_object_add(rule, "resources", resources);
        if (name) {
                json_object *names = json_object_new_array();
                json_object_array_add(names, json_object_new_string(name));
                json_object_object_add(rule, "resourceNames", names);
        }
        json_object_array_add(rules, rule);
        return rules;
}

/* The Role `name` in ns letting `subjects` (taken) get one ConfigMap, and its RoleBinding,
 * as kubeadm makes them (clusterinfo.go CreateClusterInfoRBACRules, kubelet/config.go
 * createConfigMapRBACRules); existing ones (409) are left as they are. */
static int ensure_configmap_reader(AdminClient *a, const char *ns, const char *name, const char *configmap,
                                   json_object *subjects) {
        json_object *role = rbac_object("Role", name, ns);
        json_object_object_add(role, "rules", rules_get("configmaps", configmap));
        json_object *binding = rbac_object("RoleBinding", name, ns);
        json_object_object_add(binding, "roleRef", role_ref("Role", name));
        json_object_object_add(binding, "subjects", subjects);

        static const char *const kinds[] = { "Role", "RoleBinding" }, *const plural[] = { "roles", "rolebindings" };
        json_object *objs[] = { role, binding };
        ApiResult res = { .retry_after_s = -1 };
        int r = 0;
        for (size_t i = 0; i < ELEMENTSOF(kinds) && r >= 0; i++) {
                char what[160], path[256];
                snprintf(what, sizeof what, "creating %s %s/%s", kinds[i], ns, name);
                snprintf(path, sizeof path, "/apis/" RBAC_GROUP "/v1/namespaces/%s/%s", ns, plural[i]);
                r = admin_request(a, what, "POST", path, objs[i], &res);
                if (r < 0)
                        break;
                if (res.status == 201 || res.status == 200)
                        log_info("created %s %s/%s", kinds[i], ns, name);
                else if (res.status == 409)
                        log_debug("%s %s/%s exists; left as it is", kinds[i], ns, name);
                else
                        r = admin_unexpected(what, &res);
        }
        json_object_put(role);
        json_object_put(binding);
        api_result_clear(&res);
        return r;
}

/* Does binding b grant ClusterRole role to Group group, or (groups non-NULL) to a group a
 * token with these extra groups is in: system:bootstrappers or one of them? */
static bool binding_equivalent(json_object *b, const char *role, const char *group, char *const *groups) {
        if (!streq_ptr(json_get_string(b, "roleRef", "kind", NULL), "ClusterRole") ||
            !streq_ptr(json_get_string(b, "roleRef", "name", NULL), role))
                return false;
        json_object *subjects = json_get(b, "subjects", NULL);
        if (!subjects || !json_object_is_type(subjects, json_type_array))
                return false;
        for (size_t i = 0; i < json_object_array_length(subjects); i++) {
                json_object *s = json_object_array_get_idx(subjects, i);
                const char *ag = json_get_string(s, "apiGroup", NULL);
                const char *name = json_get_string(s, "name", NULL);
                if (!streq_ptr(json_get_string(s, "kind", NULL), "Group") || !(isempty(ag) || streq(ag, RBAC_GROUP)))
                        continue;
                if (streq_ptr(name, group) || (groups && (streq_ptr(name, TOKEN_DEFAULT_GROUP) ||
                                                          strv_contains(groups, name))))
                        return true;
        }
        return false;
}

/* The binding in items named name, or NULL. */
static json_object *binding_named(json_object *items, const char *name) {
        for (size_t i = 0; i < json_object_array_length(items); i++) {
                json_object *b = json_object_array_get_idx(items, i);
                if (streq_ptr(json_get_string(b, "metadata", "name", NULL), name))
                        return b;
        }
        return NULL;
}

static int create_binding(AdminClient *a, const SeedBinding *s, const char *group, const char *name) {
        ApiResult res = { .retry_after_s = -1 };
        json_object *b = rbac_object("ClusterRoleBinding", name, NULL);
        json_object_object_add(b, "roleRef", role_ref("ClusterRole", s->role));
        json_object_object_add(b, "subjects", subjects_one("Group", group));

        int r = admin_request(a, "creating ClusterRoleBinding", "POST", CRB_PATH, b, &res);
        if (r >= 0) {
                if (res.status == 201 || res.status == 200)
                        log_info("created ClusterRoleBinding %s (%s for group %s)", name, s->role, group);
                else if (res.status == 409)
                        /* made meanwhile by someone else, most likely the same */
                        log_warning("ClusterRoleBinding %s appeared meanwhile; left as it is", name);
                else
                        r = admin_unexpected("creating a ClusterRoleBinding", &res);
        }
        json_object_put(b);
        api_result_clear(&res);
        return r;
}

/* The ClusterRole kubeadm:get-nodes (get Nodes), unless it exists. */
static int ensure_get_nodes_role(AdminClient *a) {
        ApiResult res = { .retry_after_s = -1 };
        json_object *role = rbac_object("ClusterRole", GET_NODES_ROLE, NULL);
        json_object_object_add(role, "rules", rules_get("nodes", NULL));
        int r = admin_request(a, "creating ClusterRole " GET_NODES_ROLE, "POST", "/apis/" RBAC_GROUP "/v1/clusterroles",
                              role, &res);
        if (r >= 0) {
                if (res.status == 201 || res.status == 200)
                        log_info("created ClusterRole %s", GET_NODES_ROLE);
                else if (res.status != 409) /* kubeadm's, or an earlier run's */
                        r = admin_unexpected("creating ClusterRole " GET_NODES_ROLE, &res);
        }
        json_object_put(role);
        api_result_clear(&res);
        return r;
}

/* Bindings for kubeadm's group (or all of system:bootstrappers) go under kubeadm's names;
 * for another group under kubeboot's name plus the group, so that each group of tokens
 * gets its own and none takes kubeadm's name from the others. */
static char *binding_name(const SeedBinding *s, const char *group) {
        if (s->group || streq(group, TOKEN_KUBEADM_GROUP) || streq(group, TOKEN_DEFAULT_GROUP))
                return strdup(s->name);
        return strdup_printf("%s:%s", s->fallback, group);
}

int token_ensure_bindings(AdminClient *a, char *const *groups) {
        ApiResult res = { .retry_after_s = -1 };
        json_object *items = NULL;
        int r = admin_list(a, "listing ClusterRoleBindings", CRB_PATH, &res, &items);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < ELEMENTSOF(seed_bindings); i++) {
                const SeedBinding *s = &seed_bindings[i];
                const char *group = s->group ?: token_bind_group(groups);
                const char *found = NULL;
                for (size_t j = 0; j < json_object_array_length(items) && !found; j++) {
                        json_object *b = json_object_array_get_idx(items, j);
                        if (binding_equivalent(b, s->role, group, s->group ? NULL : groups))
                                found = json_get_string(b, "metadata", "name", NULL) ?: "?";
                }
                if (found) {
                        log_debug("ClusterRoleBinding %s already grants %s to the token's groups", found, s->role);
                        continue;
                }
                if (streq(s->role, GET_NODES_ROLE)) {
                        r = ensure_get_nodes_role(a);
                        if (r < 0)
                                goto finish;
                }
                _cleanup_free_ char *own = binding_name(s, group);
                if (!own) {
                        r = -ENOMEM;
                        goto finish;
                }
                const char *name = own;
                if (binding_named(items, name)) {
                        if (!streq(name, s->name)) {
                                r = log_error_errno(-EEXIST,
                                                    "ClusterRoleBinding %s exists but does not grant %s to group %s: "
                                                    "fix or delete it",
                                                    name, s->role, group);
                                goto finish;
                        }
                        name = s->fallback;
                        if (binding_named(items, name)) {
                                r = log_error_errno(-EEXIST,
                                                    "ClusterRoleBindings %s and %s exist but do not grant %s to "
                                                    "group %s: fix or delete one of them",
                                                    s->name, s->fallback, s->role, group);
                                goto finish;
                        }
                        log_warning("ClusterRoleBinding %s exists with other contents; creating %s", s->name, name);
                }
                r = create_binding(a, s, group, name);
                if (r < 0)
                        goto finish;
        }
        r = 0;
finish:
        api_result_clear(&res);
        return r;
}

int token_ensure_kubelet_config_rbac(AdminClient *a, char *const *groups) {
        ApiResult res = { .retry_after_s = -1 };
        int r = admin_request(a, "reading kube-system/kubelet-config", "GET",
                              "/api/v1/namespaces/kube-system/configmaps/kubelet-config", NULL, &res);
        if (r < 0)
                goto finish;
        if (res.status == 404) {
                log_debug("no kube-system/kubelet-config: nodes use their own kubelet configuration");
                r = 0;
                goto finish;
        }
        if (res.status != 200) {
                r = admin_unexpected("reading kube-system/kubelet-config", &res);
                goto finish;
        }
        /* as cmd/kubeadm/app/phases/kubelet/config.go createConfigMapRBACRules */
        json_object *subjects = subjects_one("Group", "system:nodes"), *more = subjects_one("Group", token_bind_group(groups));
        json_object_array_add(subjects, json_object_get(json_object_array_get_idx(more, 0)));
        json_object_put(more);
        api_result_clear(&res);
        r = ensure_configmap_reader(a, "kube-system", KUBELET_CONFIG_ROLE, "kubelet-config", subjects);
finish:
        api_result_clear(&res);
        return r;
}

/* The kubeconfig kubeadm's clusterinfo phase puts into cluster-info: the admin
 * kubeconfig's cluster under the name "", serialized as clientcmd.Write does. */
static char *cluster_info_kubeconfig(const char *server, const KbCA *ca) {
        size_t len = 0;
        (void) mbedtls_base64_encode(NULL, 0, &len, (const unsigned char *) ca->pem, ca->pem_len);
        _cleanup_free_ char *b64 = malloc(len + 1);
        if (!b64 || mbedtls_base64_encode((unsigned char *) b64, len + 1, &len, (const unsigned char *) ca->pem,
                                          ca->pem_len) != 0)
                return NULL;
        b64[len] = 0;
        return strdup_printf("apiVersion: v1\n"
                             "clusters:\n"
                             "- cluster:\n"
                             "    certificate-authority-data: %s\n"
                             "    server: %s\n"
                             "  name: \"\"\n"
                             "contexts: null\n"
                             "current-context: \"\"\n"
                             "kind: Config\n"
                             "preferences: {}\n"
                             "users: null\n",
                             b64, server);
}

/* POSTs, or PUTs (existing non-NULL: keeping its other data), cluster-info. */
static int write_cluster_info(AdminClient *a, json_object *existing, const char *kubeconfig) {
        ApiResult res = { .retry_after_s = -1 };
        json_object *cm;
        if (existing) {
                cm = json_object_get(existing);
                json_object *data = json_get(cm, "data", NULL);
                if (!data || !json_object_is_type(data, json_type_object)) {
                        data = json_object_new_object();
                        json_object_object_add(cm, "data", data);
                }
                json_object_object_add(data, "kubeconfig", json_object_new_string(kubeconfig));
        } else {
                cm = json_object_new_object();
                json_object *data = json_object_new_object();
                json_object_object_add(cm, "apiVersion", json_object_new_string("v1"));
                json_object_object_add(cm, "kind", json_object_new_string("ConfigMap"));
                json_object_object_add(cm, "metadata", managed_meta(CLUSTER_INFO_NAME, "kube-public"));
                json_object_object_add(data, "kubeconfig", json_object_new_string(kubeconfig));
                json_object_object_add(cm, "data", data);
        }
        int r = existing ? admin_request(a, "updating kube-public/cluster-info", "PUT", CLUSTER_INFO_PATH, cm, &res)
                         : admin_request(a, "creating kube-public/cluster-info", "POST",
                                         "/api/v1/namespaces/kube-public/configmaps", cm, &res);
        if (r >= 0) {
                if (res.status == 200 || res.status == 201)
                        log_info("%s kube-public/cluster-info", existing ? "updated" : "published");
                else if (res.status == 409)
                        r = log_error_errno(-EAGAIN, "kube-public/cluster-info changed meanwhile: run again");
                else
                        r = admin_unexpected("writing kube-public/cluster-info", &res);
        }
        json_object_put(cm);
        api_result_clear(&res);
        return r;
}

/* Role and RoleBinding that let system:anonymous get cluster-info
 * (clusterinfo.go CreateClusterInfoRBACRules); existing ones are left alone. */
static int ensure_cluster_info_rbac(AdminClient *a) {
        return ensure_configmap_reader(a, "kube-public", CLUSTER_INFO_RBAC_NAME, CLUSTER_INFO_NAME,
                                       subjects_one("User", "system:anonymous"));
}

/* The server and CA a published cluster-info names; -EBADMSG if it names none. */
static int cluster_info_read(json_object *cm, char **ret_server, KbCA **ret_ca) {
        const char *text = json_get_string(cm, "data", "kubeconfig", NULL);
        _cleanup_kubeconfig_ Kubeconfig *k = NULL;
        char why[WHY_MAX];
        if (!text || kubeconfig_parse(text, strlen(text), NULL, NULL, &k, why, sizeof why) < 0 || !k->ca_data)
                return -EBADMSG;
        int r = ca_parse(k->ca_data, k->ca_data_len, ret_ca, why, sizeof why);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        *ret_server = TAKE_PTR(k->server);
        return 0;
}

/* Decides about an existing cluster-info: 0 keep it, 1 replace it, or an error. */
static int cluster_info_judge(json_object *cm, const char *server, const KbCA *ca, bool replace_server,
                              bool replace_ca, char **ret_server) {
        _cleanup_free_ char *old_server = NULL;
        _cleanup_ca_ KbCA *old_ca = NULL;
        int r = cluster_info_read(cm, &old_server, &old_ca);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_warning("kube-public/cluster-info holds no usable kubeconfig; replacing it");
                return 1;
        }
        bool same_ca = ca_equal(old_ca, ca), same_server = streq(old_server, server);
        if (!same_ca && !replace_ca) {
                char old_pin[CA_PIN_MAX] = "?", pin[CA_PIN_MAX] = "?";
                (void) ca_pin(&old_ca->chain, old_pin);
                (void) ca_pin(&ca->chain, pin);
                return log_error_errno(-EINVAL,
                                       "kube-public/cluster-info publishes a CA (%s) other than the one the "
                                       "kubeconfig trusts (%s): nodes would not trust this apiserver; pass "
                                       "--ca-cert=FILE to publish the cluster's CA",
                                       old_pin, pin);
        }
        if (!same_server && !replace_server) {
                log_info("kube-public/cluster-info publishes the server %s (the kubeconfig says %s); nodes are "
                         "told %s: pass --server to change it",
                         old_server, server, old_server);
                *ret_server = TAKE_PTR(old_server);
                return same_ca ? 0 : 1;
        }
        if (same_ca && same_server)
                log_debug("kube-public/cluster-info is up to date");
        return !(same_ca && same_server);
}

int token_ensure_cluster_info(AdminClient *a, const char *server, const KbCA *ca, bool replace_server,
                              bool replace_ca, char **ret_server) {
        ApiResult res = { .retry_after_s = -1 };
        _cleanup_free_ char *published = NULL, *kubeconfig = NULL;
        int r = admin_request(a, "reading kube-public/cluster-info", "GET", CLUSTER_INFO_PATH, NULL, &res);
        if (r < 0)
                goto finish;
        if (res.status == 200) {
                r = cluster_info_judge(res.json, server, ca, replace_server, replace_ca, &published);
                if (r < 0)
                        goto finish;
        } else if (res.status == 404)
                r = 1;
        else {
                r = admin_unexpected("reading kube-public/cluster-info", &res);
                goto finish;
        }
        if (r == 1) {
                kubeconfig = cluster_info_kubeconfig(published ?: server, ca);
                if (!kubeconfig) {
                        r = -ENOMEM;
                        goto finish;
                }
                r = write_cluster_info(a, res.status == 200 ? res.json : NULL, kubeconfig);
                if (r < 0)
                        goto finish;
        }
        r = ensure_cluster_info_rbac(a);
        if (r < 0)
                goto finish;
        *ret_server = published ? TAKE_PTR(published) : strdup(server);
        r = *ret_server ? 0 : -ENOMEM;
finish:
        api_result_clear(&res);
        return r;
}

int token_create_secret(AdminClient *a, const TokenSpec *spec, unsigned long long ttl_s, char ret[TOKEN_LEN + 1],
                        time_t *ret_expires) {
        ApiResult res = { .retry_after_s = -1 };
        char token[TOKEN_LEN + 1];
        int r = -EEXIST;

        for (unsigned attempt = 0; attempt < TOKEN_CREATE_ATTEMPTS; attempt++) {
                TokenSpec s = *spec;
                s.expires = ttl_s ? admin_now(a) + (time_t) ttl_s : 0;
                r = token_generate(token);
                if (r < 0) {
                        log_error_errno(r, "getrandom() failed: %m");
                        break;
                }
                json_object *body = token_secret_new(token, &s);
                if (!body) {
                        r = -ENOMEM;
                        break;
                }
                r = admin_request(a, "creating the token Secret", "POST", SECRETS_PATH, body, &res);
                admin_body_wipe(body);
                json_object_put(body);
                long status = res.status;
                char desc[600];
                if (r >= 0 && status != 409 && status != 201 && status != 200)
                        log_error("creating the token Secret: unexpected answer from the apiserver: %s",
                                  api_describe(0, &res, desc, sizeof desc));
                /* the answer echoes the Secret, secret included */
                admin_result_wipe(&res);
                if (r < 0)
                        break;
                if (status == 201 || status == 200) {
                        memcpy(ret, token, sizeof token);
                        *ret_expires = s.expires;
                        r = 0;
                        break;
                }
                if (status != 409) {
                        r = -EPROTO;
                        break;
                }
                log_info("token id %.6s is taken; drawing another token", token);
                r = -EEXIST;
        }
        secret_wipe(token, sizeof token);
        if (r == -EEXIST)
                log_error("%d token ids in a row were taken: is something creating Secrets under every name?",
                          TOKEN_CREATE_ATTEMPTS);
        return r;
}

/* One anonymous look at cluster-info: 0 signed and verified, -EAGAIN not yet, or the
 * final verdicts of token_wait_signed(). */
static int check_signed(AdminClient *a, Backoff *b, const ApiAuth *anon, const char *token, char *detail,
                        size_t n) {
        ApiResult res = { .retry_after_s = -1 };
        char key[64], id[TOKEN_ID_LEN + 1], desc[600];
        int r = api_request_retry(a->http, b, "cluster-info (anonymous)", a->server, anon, "GET", CLUSTER_INFO_PATH,
                                  NULL, &res);
        memcpy(id, token, TOKEN_ID_LEN);
        id[TOKEN_ID_LEN] = 0;
        snprintf(key, sizeof key, "jws-kubeconfig-%s", id);
        if (r < 0) {
                snprintf(detail, n, "%s", api_describe(r, &res, desc, sizeof desc));
                r = r == -ENOMEM ? r : -ETIMEDOUT;
        } else if (res.status == 401 || res.status == 403) {
                snprintf(detail, n, "%s", api_describe(r, &res, desc, sizeof desc));
                r = -EACCES;
        } else if (res.status != 200) {
                snprintf(detail, n, "%s", api_describe(r, &res, desc, sizeof desc));
                r = -EAGAIN;
        } else {
                const char *kc = json_get_string(res.json, "data", "kubeconfig", NULL);
                const char *jws = json_get_string(res.json, "data", key, NULL);
                if (!kc || !jws) {
                        snprintf(detail, n, "no %s in cluster-info", key);
                        r = -EAGAIN;
                } else if (jws_verify_detached(jws, kc, strlen(kc), id, token + TOKEN_ID_LEN + 1) < 0) {
                        /* may be a signature of an older kubeconfig that the signer is replacing */
                        snprintf(detail, n, "the %s in cluster-info does not verify", key);
                        r = -EKEYREJECTED;
                } else
                        r = 0;
        }
        api_result_clear(&res);
        return r;
}

int token_wait_signed(AdminClient *a, const char *token, unsigned long long wait_ms, char *detail, size_t n) {
        ApiAuth anon = { .ca = a->auth.ca };
        Backoff b;
        backoff_init(&b, wait_ms, BACKOFF_BASE_MS, SIGNED_POLL_CAP_MS);
        for (;;) {
                int r = check_signed(a, &b, &anon, token, detail, n);
                if (r != -EAGAIN && r != -EKEYREJECTED)
                        return r;
                if (backoff_wait(&b, 0) < 0)
                        return r == -EKEYREJECTED ? r : -ETIMEDOUT;
        }
}

int token_delete_secret(AdminClient *a, const char *id) {
        ApiResult res = { .retry_after_s = -1 };
        _cleanup_free_ char *path = strdup_printf(SECRETS_PATH "/" TOKEN_SECRET_NAME_PREFIX "%s", id);
        if (!path)
                return -ENOMEM;
        int r = admin_request(a, "deleting the token Secret", "DELETE", path, NULL, &res);
        if (r >= 0) {
                if (res.status == 404)
                        r = log_error_errno(-ENOENT, "bootstrap token \"%s\" not found", id);
                else if (res.status != 200 && res.status != 202)
                        r = admin_unexpected("deleting the token Secret", &res);
        }
        /* the answer may echo the Secret */
        admin_result_wipe(&res);
        return r;
}

int token_list_secrets(AdminClient *a, ApiResult *ret_res, json_object **ret_items) {
        return admin_list(a, "listing bootstrap tokens",
                          SECRETS_PATH "?fieldSelector=type%3D" "bootstrap.kubernetes.io%2Ftoken", ret_res, ret_items);
}

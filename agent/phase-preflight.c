/* Phase preflight: before anything is written, prove that the apiserver accepts the
 * token, that RBAC lets it ask for a node certificate, and that the clocks agree, and
 * say what to fix when not. */
#include <time.h>

#include "api.h"
#include "kubelet-base.h"
#include "log.h"
#include "node-checks.h"
#include "phases.h"

/* kube-controller-manager backdates certificates by 5 minutes (pkg/controller/
 * certificates/authority/policies.go); a larger skew makes new certificates unusable. */
#define CLOCK_SKEW_MAX_S 300
#define CLOCK_SYNC_WAIT_MS 90000ULL
#define CLOCK_POLL_MS 2000ULL
/* The bootstrap authenticator reads token Secrets through an informer (plugin/pkg/auth/
 * authenticator/token/bootstrap/bootstrap.go): right after the token was created, or behind
 * another apiserver replica, it answers 401 for a moment. That long (within the discovery
 * deadline) a 401 is "not yet"; a token that is really unknown then fails with 78. */
#define TOKEN_LAG_MAX_MS 30000ULL

typedef struct Preflight {
        Kb *kb;
        HttpClient *http;
        Backoff backoff;
        const char *server;
        ApiAuth auth;
        char token_id[7];
        ServerClock clock;
        unsigned long long unauthorized_until_ms; /* the 401 window, from the first 401; 0 before */
} Preflight;

/* A 401 is "not yet" within TOKEN_LAG_MAX_MS of the first one: true if it is worth a retry
 * (after waiting), false once the window or the deadline is over. */
static bool unauthorized_retry(Preflight *p) {
        unsigned long long now = now_ms();
        if (p->unauthorized_until_ms == 0) {
                p->unauthorized_until_ms = now + TOKEN_LAG_MAX_MS;
                log_info("the apiserver does not accept the token %s yet (HTTP 401); retrying for up to %llus, as "
                         "its bootstrap-token cache may lag behind a new token",
                         p->token_id, TOKEN_LAG_MAX_MS / 1000);
        }
        if (now >= p->unauthorized_until_ms)
                return false;
        return backoff_wait(&p->backoff, 0) >= 0;
}

static int request(Preflight *p, const char *what, const char *method, const char *path, json_object *body,
                   ApiResult *res) {
        char desc[600];
        int r;
        for (;;) {
                r = api_request_retry(p->http, &p->backoff, what, p->server, &p->auth, method, path, body, res);
                if (r < 0 || res->status != 401 || !unauthorized_retry(p))
                        break;
        }
        if (r >= 0) {
                server_clock_note(&p->clock, res);
                if (res->status == 401)
                        return log_error_errno(-EKEYREJECTED,
                                               "the apiserver rejected the token %s.****************: it is unknown, "
                                               "expired, or bootstrap-token authentication is off "
                                               "(--enable-bootstrap-token-auth)",
                                               p->token_id);
                return 0;
        }
        if (r == -EKEYREJECTED)
                return log_error_errno(r, "TLS to %s failed with the trusted CA: %s", p->server, res->detail);
        if (r == -ETIMEDOUT || http_is_transient(r, res->status)) /* past the deadline: 69, as in discover */
                return log_error_errno(-ETIMEDOUT, "%s: the apiserver at %s stayed unavailable: %s", what, p->server,
                                       api_describe(r, res, desc, sizeof desc));
        return log_error_errno(r, "%s: %s", what, api_describe(r, res, desc, sizeof desc));
}

/* Who does the apiserver say we are? SelfSubjectReview (GA in 1.28); before that, a
 * request a bootstrapper may make tells at least that the token authenticates. */
static int check_identity(Preflight *p) {
        ApiResult res = { .retry_after_s = -1 };
        char desc[600];
        json_object *body = json_tokener_parse("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}");
        int r = request(p, "SelfSubjectReview", "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body, &res);
        json_object_put(body);
        if (r < 0)
                goto finish;

        if (res.status == 404) {
                log_debug("no SelfSubjectReview API (a cluster older than 1.28); listing CSRs instead");
                r = request(p, "list CSRs", "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests?limit=1",
                            NULL, &res);
                if (r < 0)
                        goto finish;
                if (res.status != 200 && res.status != 403) {
                        r = log_error_errno(-EPROTO, "unexpected answer to a CSR list: %s",
                                            api_describe(0, &res, desc, sizeof desc));
                        goto finish;
                }
                log_info("the apiserver accepts the token (HTTP %ld to a CSR list)", res.status);
                r = 0;
                goto finish;
        }
        if (res.status == 403) {
                log_info("the apiserver accepts the token (SelfSubjectReview is forbidden to it: %s)", res.detail);
                r = 0;
                goto finish;
        }
        if (res.status != 200 && res.status != 201) {
                r = log_error_errno(-EPROTO, "unexpected answer to a SelfSubjectReview: %s",
                                    api_describe(0, &res, desc, sizeof desc));
                goto finish;
        }

        char want[64];
        snprintf(want, sizeof want, "system:bootstrap:%s", p->token_id);
        const char *user = json_get_string(res.json, "status", "userInfo", "username", NULL);
        json_object *groups = json_get(res.json, "status", "userInfo", "groups", NULL);
        bool bootstrapper = false;
        for (size_t i = 0; groups && json_object_is_type(groups, json_type_array) && i < json_object_array_length(groups); i++)
                if (streq_ptr(json_object_get_string(json_object_array_get_idx(groups, i)), "system:bootstrappers"))
                        bootstrapper = true;
        if (!streq_ptr(user, want) || !bootstrapper) {
                r = log_error_errno(-EKEYREJECTED,
                                    "the apiserver authenticates the token as \"%s\", not as %s in group "
                                    "system:bootstrappers: it is not a bootstrap token of this cluster",
                                    user ?: "(nobody)", want);
                goto finish;
        }
        log_info("the apiserver accepts the token as %s", want);
        r = 0;
finish:
        api_result_clear(&res);
        return r;
}

/* Does RBAC allow verb on group/resource[/subresource] (named name, if any)? 1 yes, 0 no,
 * -ENOTSUP when it cannot be asked, <0 error. */
static int access_review(Preflight *p, const char *verb, const char *group, const char *resource,
                         const char *subresource, const char *name) {
        ApiResult res = { .retry_after_s = -1 };
        json_object *body = json_object_new_object(), *spec = json_object_new_object(),
                    *attrs = json_object_new_object();
        json_object_object_add(body, "apiVersion", json_object_new_string("authorization.k8s.io/v1"));
        json_object_object_add(body, "kind", json_object_new_string("SelfSubjectAccessReview"));
        json_object_object_add(attrs, "group", json_object_new_string(group));
        json_object_object_add(attrs, "resource", json_object_new_string(resource));
        if (subresource)
                json_object_object_add(attrs, "subresource", json_object_new_string(subresource));
        if (name)
                json_object_object_add(attrs, "name", json_object_new_string(name));
        json_object_object_add(attrs, "verb", json_object_new_string(verb));
        json_object_object_add(spec, "resourceAttributes", attrs);
        json_object_object_add(body, "spec", spec);

        int r = request(p, "SelfSubjectAccessReview", "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                        body, &res);
        json_object_put(body);
        if (r >= 0) {
                if (res.status == 200 || res.status == 201) {
                        json_object *allowed = json_get(res.json, "status", "allowed", NULL);
                        r = allowed && json_object_get_boolean(allowed) ? 1 : 0;
                } else {
                        log_warning("cannot check RBAC for %s (HTTP %ld: %s); going on", resource, res.status,
                                    res.detail);
                        r = -ENOTSUP;
                }
        }
        api_result_clear(&res);
        return r;
}

static int check_rbac(Preflight *p) {
        int r = access_review(p, "create", "certificates.k8s.io", "certificatesigningrequests", NULL, NULL);
        if (r == -ENOTSUP)
                return 0;
        if (r < 0)
                return r;
        if (r == 0)
                return log_error_errno(-EACCES,
                                       "the token may not create CertificateSigningRequests: bind ClusterRole "
                                       "system:node-bootstrapper to group system:bootstrappers (kubectl create "
                                       "clusterrolebinding kubelet-bootstrap --clusterrole=system:node-bootstrapper "
                                       "--group=system:bootstrappers)");
        r = access_review(p, "create", "certificates.k8s.io", "certificatesigningrequests", "nodeclient", NULL);
        if (r == 0)
                log_warning("CSRs of this token are not auto-approved (no binding of ClusterRole "
                            "system:certificates.k8s.io:certificatesigningrequests:nodeclient to "
                            "system:bootstrappers): the node's CSR will wait until someone runs "
                            "'kubectl certificate approve <csr>'");
        else if (r == 1)
                log_info("RBAC lets the token create node CSRs, and they are auto-approved");
        return r == -ENOTSUP || r >= 0 ? 0 : r;
}

/* Is the Node's Ready condition True? */
static bool node_is_ready(json_object *node) {
        json_object *conds = json_get(node, "status", "conditions", NULL);
        for (size_t i = 0; conds && json_object_is_type(conds, json_type_array) && i < json_object_array_length(conds);
             i++) {
                json_object *c = json_object_array_get_idx(conds, i);
                if (streq_ptr(json_get_string(c, "type", NULL), "Ready") &&
                    streq_ptr(json_get_string(c, "status", NULL), "True"))
                        return true;
        }
        return false;
}

/* kubeadm refuses to join when a Ready Node of this name exists (cmd/kubeadm/app/cmd/phases/
 * join/kubelet.go, through the kubeadm:get-nodes ClusterRole): a second kubelet under a
 * live node's name takes over its Node and its pods' fate. Asked only when the token may
 * get Nodes: kubeadm's tokens and kubeboot's may, tokens bound as the seed guide binds
 * them may not. */
static int check_duplicate_node(Preflight *p) {
        const KbConfig *c = &p->kb->cfg;
        const char *node = c->v[KB_NODE_NAME].str;
        ApiResult res = { .retry_after_s = -1 };
        char desc[600];

        int r = access_review(p, "get", "", "nodes", NULL, node);
        if (r <= 0) {
                if (r == 0 || r == -ENOTSUP)
                        log_debug("the token may not get Nodes (no kubeadm:get-nodes binding): not checking for an "
                                  "existing Node %s",
                                  node);
                return r == 0 || r == -ENOTSUP ? 0 : r;
        }
        _cleanup_free_ char *path = strdup_printf("/api/v1/nodes/%s", node);
        if (!path)
                return -ENOMEM;
        r = request(p, "get Node", "GET", path, NULL, &res);
        if (r < 0)
                goto finish;
        if (res.status == 404) {
                log_debug("no Node %s exists yet", node);
                r = 0;
        } else if (res.status != 200) {
                log_warning("cannot check for an existing Node %s (%s); going on", node,
                            api_describe(0, &res, desc, sizeof desc));
                r = 0;
        } else if (node_is_ready(res.json)) {
                r = log_key_errno(LOG_ERR, -EINVAL, c->v[KB_NODE_NAME].source, "node-name",
                                  "a Node named \"%s\" already exists in the cluster and is Ready: delete it if "
                                  "it is gone (kubectl delete node %s), or give this machine another node-name",
                                  node, node);
        } else {
                log_info("a Node named %s exists but is not Ready: this node takes it over, as kubeadm allows", node);
                r = 0;
        }
finish:
        api_result_clear(&res);
        return r;
}

/* The node's clock against the server's Date and the CA's validity; waits (bounded) for
 * time sync to fix a bad clock, as a first boot often starts with one. */
static int check_clock(Preflight *p) {
        const mbedtls_x509_crt *ca = &p->kb->ca->chain;
        time_t not_before = x509_time_to_epoch(&ca->valid_from), not_after = x509_time_to_epoch(&ca->valid_to);
        unsigned long long wait_until = now_ms() + CLOCK_SYNC_WAIT_MS;
        bool told = false;

        if (!p->clock.date)
                log_warning("the apiserver sent no Date header; checking the clock against the CA only");
        for (;;) {
                time_t now = time(NULL);
                long long skew = 0;
                time_t server_now = server_clock_now(&p->clock);
                if (server_now)
                        skew = (long long) now - (long long) server_now;
                bool skewed = skew > CLOCK_SKEW_MAX_S || skew < -CLOCK_SKEW_MAX_S;
                bool early = now < not_before;
                if (!skewed && !early)
                        break;
                if (now_ms() >= wait_until || backoff_remaining_ms(&p->backoff) == 0) {
                        if (skewed)
                                return log_error_errno(-ETIMEDOUT,
                                                       "this node's clock is %lld s %s the apiserver's (more than "
                                                       "%d s): fix time sync (NTP) on this node",
                                                       skew > 0 ? skew : -skew, skew > 0 ? "ahead of" : "behind",
                                                       CLOCK_SKEW_MAX_S);
                        return log_error_errno(-ETIMEDOUT,
                                               "this node's clock is %lld s before the cluster CA's notBefore: fix "
                                               "time sync (NTP) on this node",
                                               (long long) (not_before - now));
                }
                if (!told) {
                        log_notice("waiting up to %llus for time sync: the clock is %lld s off the apiserver's%s",
                                   CLOCK_SYNC_WAIT_MS / 1000, skew, early ? " and before the CA's notBefore" : "");
                        told = true;
                }
                struct timespec ts = { .tv_sec = CLOCK_POLL_MS / 1000 };
                nanosleep(&ts, NULL);
        }
        if (time(NULL) > not_after) {
                char when[32];
                rfc3339_format(not_after, when);
                return log_error_errno(-EKEYEXPIRED, "the cluster CA expired at %s", when);
        }
        if (p->clock.date)
                log_debug("clock within %d s of the apiserver's", CLOCK_SKEW_MAX_S);
        return 0;
}

int phase_preflight(Kb *kb) {
        const KbConfig *c = &kb->cfg;
        Preflight p = {
                .kb = kb,
                .http = kb_http(kb),
                .server = kb_server(kb),
                .auth = { .ca = kb->ca, .bearer = c->v[KB_TOKEN].str },
        };
        int r;

        if (!p.http)
                return log_error_errno(-ENOMEM, "Failed to set up libcurl");
        if (!kb->ca)
                return log_error_errno(-ENOKEY, "no trusted cluster CA: the discover phase must run first");
        memcpy(p.token_id, c->v[KB_TOKEN].str, 6);
        backoff_init(&p.backoff, c->v[KB_DISCOVERY_TIMEOUT].u, BACKOFF_BASE_MS, BACKOFF_CAP_MS);

        unsigned before = http_client_requests(p.http);
        if ((r = check_identity(&p)) < 0 || (r = check_rbac(&p)) < 0 || (r = check_duplicate_node(&p)) < 0 ||
            (r = check_clock(&p)) < 0)
                return r;
        /* read here, with the token, so that write needs nothing but the node */
        json_object_put(kb->kubelet_base);
        kb->kubelet_base = NULL;
        r = kubelet_base_fetch(p.http, &p.backoff, p.server, &p.auth, &kb->kubelet_base);
        if (r < 0)
                return r;
        /* the node itself, once the cluster side is known good (KubeletVersion asks it) */
        if ((r = node_checks_run(kb)) < 0)
                return r;
        log_debug("preflight made %u HTTP requests", http_client_requests(p.http) - before);
        return 0;
}

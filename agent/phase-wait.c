/* Phase wait: until the Node exists, checked with the node's own credentials (a
 * bootstrap token may not read Nodes); meanwhile, with the token, this node's CSR is
 * found and its state reported, so an operator knows what to approve. */
#include <mbedtls/base64.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_csr.h>

#include "api.h"
#include "kubelet-config.h"
#include "kubelet-creds.h"
#include "kubelet-watch.h"
#include "log.h"
#include "notify.h"
#include "phases.h"

#define WAIT_POLL_BASE_MS 500UL
#define WAIT_POLL_CAP_MS 3000UL
/* The CSR list only feeds the progress report (which CSR waits for approval), and it is
 * costly at scale: every kubelet client CSR of the cluster, asked with the bootstrap token
 * (the same APF flow as the kubelets' own TLS bootstrap). So it is asked rarely: after 1 s,
 * then twice as long each time, at most every 60 s; the local check for kubelet's
 * certificate runs at every poll and costs nothing. */
#define WAIT_CSR_FIRST_MS 1000ULL
#define WAIT_CSR_MAX_MS 60000ULL
#define KUBELET_SIGNER "kubernetes.io/kube-apiserver-client-kubelet"
#define SERVING_SIGNER "kubernetes.io/kubelet-serving"
/* CSRs are listed by signer (the field selector the API has) in pages, so that no 1 MiB
 * cap truncates the list on a cluster with many nodes */
#define CSR_LIST_PATH "/apis/certificates.k8s.io/v1/certificatesigningrequests?fieldSelector=spec.signerName%%3D%s&limit=%d"
#define CSR_LIST_LIMIT 100
#define CSR_LIST_MAX_PAGES 100
/* How long wait looks for kubelet's serving CSR once the Node exists (serverTLSBootstrap):
 * kubelet asks for it right after registering. Only reported, never waited for: nothing
 * approves kubelet-serving CSRs by default. */
#define SERVING_CSR_LOOK_MS 10000ULL

typedef enum CsrState { CSR_NONE, CSR_PENDING, CSR_APPROVED, CSR_ISSUED, CSR_DENIED, CSR_FAILED } CsrState;

/* Is this CSR's subject CN=system:node:<node>? */
static bool csr_is_for(const char *request_b64, const char *node) {
        size_t len = 0;
        unsigned char *pem = NULL;
        bool match = false;
        if (mbedtls_base64_decode(NULL, 0, &len, (const unsigned char *) request_b64, strlen(request_b64)) !=
            MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
                return false;
        pem = malloc(len + 1);
        if (!pem || mbedtls_base64_decode(pem, len + 1, &len, (const unsigned char *) request_b64,
                                          strlen(request_b64)) != 0) {
                free(pem);
                return false;
        }
        pem[len] = 0;
        mbedtls_x509_csr csr;
        mbedtls_x509_csr_init(&csr);
        if (mbedtls_x509_csr_parse(&csr, pem, len + 1) == 0) {
                _cleanup_free_ char *want = strdup_printf("system:node:%s", node);
                for (const mbedtls_x509_name *n = &csr.subject; want && n; n = n->next)
                        if (n->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 &&
                            n->val.len == strlen(want) && memcmp(n->val.p, want, n->val.len) == 0)
                                match = true;
        }
        mbedtls_x509_csr_free(&csr);
        free(pem);
        return match;
}

static CsrState csr_state(json_object *csr, char *reason, size_t n) {
        json_object *conds = json_get(csr, "status", "conditions", NULL);
        CsrState s = CSR_PENDING;
        for (size_t i = 0; conds && json_object_is_type(conds, json_type_array) && i < json_object_array_length(conds);
             i++) {
                json_object *c = json_object_array_get_idx(conds, i);
                const char *type = json_get_string(c, "type", NULL);
                const char *msg = json_get_string(c, "message", NULL) ?: json_get_string(c, "reason", NULL);
                if (streq_ptr(type, "Denied") || streq_ptr(type, "Failed")) {
                        snprintf(reason, n, "%s", msg ?: "");
                        return streq(type, "Denied") ? CSR_DENIED : CSR_FAILED;
                }
                if (streq_ptr(type, "Approved"))
                        s = CSR_APPROVED;
        }
        if (s == CSR_APPROVED && !isempty(json_get_string(csr, "status", "certificate", NULL)))
                s = CSR_ISSUED;
        return s;
}

static int csr_rank(CsrState s) {
        switch (s) {
        case CSR_ISSUED:
                return 4;
        case CSR_APPROVED:
                return 3;
        case CSR_DENIED:
        case CSR_FAILED:
                return 2;
        case CSR_PENDING:
                return 1;
        default:
                return 0;
        }
}

/* The CSR for signer that user made for this node and tells most (see below), page by
 * page. */
static int find_csr(HttpClient *http, const char *server, const ApiAuth *auth, const char *signer, const char *user,
                    const char *node, char *name, size_t name_n, CsrState *state, char *reason, size_t reason_n,
                    long *retry_after_s) {
        ApiResult res = { .retry_after_s = -1 };
        _cleanup_free_ char *best_created = NULL, *cont = NULL, *signer_q = http_query_escape(signer);
        int r = 0;

        if (!signer_q)
                return -ENOMEM;
        *state = CSR_NONE;
        for (unsigned page = 0; page < CSR_LIST_MAX_PAGES; page++) {
                _cleanup_free_ char *path = strdup_printf(CSR_LIST_PATH "%s%s", signer_q, CSR_LIST_LIMIT,
                                                          cont ? "&continue=" : "", cont ?: "");
                if (!path)
                        return -ENOMEM;
                r = api_request(http, server, auth, "GET", path, NULL, &res);
                *retry_after_s = r >= 0 ? res.retry_after_s : -1;
                if (r < 0 || res.status != 200) {
                        char d[600];
                        log_debug("cannot list CSRs: %s", api_describe(r, &res, d, sizeof d));
                        api_result_clear(&res);
                        return r < 0 ? r : -EPROTO;
                }
                json_object *items = json_get(res.json, "items", NULL);
                for (size_t i = 0; items && json_object_is_type(items, json_type_array) &&
                                   i < json_object_array_length(items);
                     i++) {
                        json_object *csr = json_object_array_get_idx(items, i);
                        const char *created = json_get_string(csr, "metadata", "creationTimestamp", NULL) ?: "";
                        const char *request = json_get_string(csr, "spec", "request", NULL);
                        if (!streq_ptr(json_get_string(csr, "spec", "signerName", NULL), signer) ||
                            !streq_ptr(json_get_string(csr, "spec", "username", NULL), user) || !request ||
                            !csr_is_for(request, node))
                                continue;
                        /* kubelet asks again after a denial, so the newest CSR alone hides it: a decision
                         * outranks a pending request, an approval outranks a denial, and among equals the
                         * newest counts (RFC 3339 in UTC sorts as text) */
                        char why[256] = "";
                        CsrState st = csr_state(csr, why, sizeof why);
                        int rank = csr_rank(st), best = csr_rank(*state);
                        if (best_created && (rank < best || (rank == best && strcmp(created, best_created) < 0)))
                                continue;
                        free(best_created);
                        best_created = strdup(created);
                        if (!best_created) {
                                api_result_clear(&res);
                                return -ENOMEM;
                        }
                        snprintf(name, name_n, "%s", json_get_string(csr, "metadata", "name", NULL) ?: "?");
                        snprintf(reason, reason_n, "%s", why);
                        *state = st;
                }
                const char *next = json_get_string(res.json, "metadata", "continue", NULL);
                free(cont);
                cont = NULL;
                /* base64: '+', '/' and '=' need escaping in a query */
                if (!isempty(next) && !(cont = http_query_escape(next))) {
                        api_result_clear(&res);
                        return -ENOMEM;
                }
                api_result_clear(&res);
                if (!cont)
                        break;
        }
        return 0;
}

/* The kubelet client CSR this token made for this node. */
static int find_client_csr(HttpClient *http, const Kb *kb, char *name, size_t name_n, CsrState *state, char *reason,
                           size_t reason_n, long *retry_after_s) {
        const KbConfig *c = &kb->cfg;
        ApiAuth auth = { .ca = kb->ca, .bearer = c->v[KB_TOKEN].str };
        char user[64];
        snprintf(user, sizeof user, "system:bootstrap:%.6s", c->v[KB_TOKEN].str);
        return find_csr(http, kb_server(kb), &auth, KUBELET_SIGNER, user, c->v[KB_NODE_NAME].str, name, name_n, state,
                        reason, reason_n, retry_after_s);
}

/* Does the KubeletConfiguration written for this node ask for a serving certificate? */
static bool serving_bootstrap(const Kb *kb) {
        json_object *o = NULL;
        if (kubelet_config_build(&kb->cfg, kb->kubelet_base, &o) < 0)
                return kb->cfg.v[KB_SERVER_TLS_BOOTSTRAP].b;
        json_object *v = json_get(o, "serverTLSBootstrap", NULL);
        bool b = v && json_object_get_boolean(v);
        json_object_put(o);
        return b;
}

/* serverTLSBootstrap: kubelet's serving CSR, read with its own certificate, reported as the
 * client one is (nothing approves kubelet-serving CSRs by default, so say who must). */
static void report_serving_csr(HttpClient *http, const KubeletCreds *creds, const char *node, Backoff *poll) {
        ApiAuth auth = { .ca = creds->ca, .cert = creds->pem, .cert_len = creds->pem_len };
        char user[300], csr[254] = "", reason[256] = "";
        CsrState st = CSR_NONE;
        long retry_after_s = -1;
        unsigned long long until = now_ms() + SERVING_CSR_LOOK_MS;
        snprintf(user, sizeof user, "system:node:%s", node);
        for (;;) {
                int r = find_csr(http, creds->server, &auth, SERVING_SIGNER, user, node, csr, sizeof csr, &st, reason,
                                 sizeof reason, &retry_after_s);
                if (r == -ENOMEM || (r >= 0 && st != CSR_NONE) || now_ms() >= until ||
                    backoff_wait(poll, retry_after_ms(retry_after_s)) < 0)
                        break;
        }
        if (st == CSR_PENDING)
                log_notice("kubelet's serving certificate waits for CSR %s (signer %s): kube-controller-manager does "
                           "not approve these; approve it (kubectl certificate approve %s) or run an approver, else "
                           "kubectl logs/exec and metrics do not reach this node",
                           csr, SERVING_SIGNER, csr);
        else if (st == CSR_APPROVED || st == CSR_ISSUED)
                log_info("kubelet's serving certificate CSR %s is %s", csr, st == CSR_ISSUED ? "signed" : "approved");
        else if (st == CSR_DENIED || st == CSR_FAILED)
                log_warning("kubelet's serving certificate CSR %s was %s%s%s", csr,
                            st == CSR_DENIED ? "denied" : "failed", *reason ? ": " : "", reason);
        else
                log_notice("serverTLSBootstrap is on but kubelet has not asked for a serving certificate yet (signer "
                           "%s): it needs an approver when it does",
                           SERVING_SIGNER);
}

int phase_wait(Kb *kb) {
        const char *node = kb->cfg.v[KB_NODE_NAME].str;
        HttpClient *http = kb_http(kb);
        char last[1024] = "", now[1024], detail[600], why[256];
        Backoff poll;
        _cleanup_(kubelet_watch_done) KubeletWatch watch = {};

        if (!http)
                return log_error_errno(-ENOMEM, "Failed to set up libcurl");
        backoff_init(&poll, kb->cfg.v[KB_WAIT_TIMEOUT].u, WAIT_POLL_BASE_MS, WAIT_POLL_CAP_MS);
        kubelet_watch_init(&watch, kb);
        unsigned long long csr_every = WAIT_CSR_FIRST_MS, csr_due = now_ms() + WAIT_CSR_FIRST_MS;
        for (;;) {
                _cleanup_kubelet_creds_ KubeletCreds *creds = NULL;
                long retry_after_s = -1; /* a 429's Retry-After is the floor of the next poll */
                int r = kubelet_creds_load(kb, &creds, why, sizeof why);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && !streq(creds->node, node))
                        return log_error_errno(-EINVAL,
                                               "kubelet bootstrapped as node \"%s\", not \"%s\": is "
                                               "--hostname-override overridden in KUBELET_EXTRA_ARGS?",
                                               creds->node, node);
                if (r >= 0) {
                        r = kubelet_creds_get_node(http, creds, detail, sizeof detail, &retry_after_s);
                        if (r == 1) {
                                progress("Node %s is registered", node);
                                if (serving_bootstrap(kb))
                                        report_serving_csr(http, creds, node, &poll);
                                return 0;
                        }
                        if (r == 0)
                                snprintf(now, sizeof now, "kubelet has its certificate; waiting for it to register Node %s",
                                         node);
                        else
                                snprintf(now, sizeof now, "kubelet has its certificate, but reading Node %s with it failed: %s",
                                         node, detail);
                } else if (r == -ENOENT && now_ms() < csr_due) {
                        snprintf(now, sizeof now, "%s", last[0] ? last : "waiting for kubelet to bootstrap");
                } else if (r == -ENOENT) {
                        char csr[254] = "", reason[256] = "";
                        CsrState st = CSR_NONE;
                        csr_every = csr_every * 2 < WAIT_CSR_MAX_MS ? csr_every * 2 : WAIT_CSR_MAX_MS;
                        csr_due = now_ms() + csr_every;
                        r = kb->ca ? find_client_csr(http, kb, csr, sizeof csr, &st, reason, sizeof reason,
                                                     &retry_after_s)
                                   : -ENOKEY;
                        if (r < 0)
                                snprintf(now, sizeof now, "waiting for kubelet to bootstrap");
                        else if (st == CSR_NONE)
                                snprintf(now, sizeof now, "waiting for kubelet to request its client certificate");
                        else if (st == CSR_PENDING)
                                snprintf(now, sizeof now, "waiting for CSR %s approval: kubectl certificate approve %s",
                                         csr, csr);
                        else if (st == CSR_APPROVED)
                                snprintf(now, sizeof now,
                                         "CSR %s is approved; waiting for the signer (kube-controller-manager with "
                                         "--cluster-signing-cert-file)",
                                         csr);
                        else if (st == CSR_ISSUED)
                                snprintf(now, sizeof now, "CSR %s is signed; waiting for kubelet to write its kubeconfig",
                                         csr);
                        else
                                return log_error_errno(-EKEYREJECTED, "CSR %s was %s%s%s: this node cannot join with it",
                                                       csr, st == CSR_DENIED ? "denied" : "failed",
                                                       *reason ? ": " : "", reason);
                } else
                        snprintf(now, sizeof now, "kubelet's credentials are not usable yet: %s", why);

                /* a kubelet that keeps exiting will not register anything: say so now */
                char health[512];
                KubeletHealth h = kubelet_watch_poll(&watch, health, sizeof health);
                if (h == KUBELET_GAVE_UP)
                        return log_error_errno(-ETIMEDOUT, "%s", health);
                if (h == KUBELET_FLAPPING)
                        snprintf(now, sizeof now, "%s", health);

                if (!streq(now, last)) {
                        progress("%s", now);
                        snprintf(last, sizeof last, "%s", now);
                }
                if (backoff_wait(&poll, retry_after_ms(retry_after_s)) < 0)
                        return log_error_errno(-ETIMEDOUT, "Node %s did not appear within %llus; last: %s", node,
                                               kb->cfg.v[KB_WAIT_TIMEOUT].u / 1000, last);
        }
}

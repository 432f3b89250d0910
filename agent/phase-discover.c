/* Phase discover: a cluster CA to trust. Either the explicit ca-cert (loaded and pinned
 * in gather), or token discovery as `kubeadm join --discovery-token` does it
 * (cmd/kubeadm/app/discovery/token/token.go): fetch kube-public/cluster-info without
 * trusting the server, verify the bootstrap signer's JWS with the token, pin the CA in
 * it, then prove that the server holds a key that CA certified (kubeadm: fetch cluster-info
 * again trusting only that CA and require the same bytes). */
#include "api.h"
#include "discovery.h"
#include "jws.h"
#include "kubeconfig-read.h"
#include "log.h"
#include "phases.h"
#include "secret.h"
#include "validate.h"

#define CLUSTER_INFO_PATH "/api/v1/namespaces/kube-public/configmaps/cluster-info"

/* The signed kubeconfig and the signature for our token, from a cluster-info response.
 * -ENOENT while the signature is missing (the signer has not run yet). */
static int cluster_info_parse(const ApiResult *res, const char *token_id, const char **ret_kubeconfig,
                              const char **ret_jws) {
        char key[64];
        snprintf(key, sizeof key, "jws-kubeconfig-%s", token_id);
        const char *kc = json_get_string(res->json, "data", "kubeconfig", NULL);
        if (!kc)
                return -EBADMSG;
        const char *sig = json_get_string(res->json, "data", key, NULL);
        if (!sig)
                return -ENOENT;
        *ret_kubeconfig = kc;
        *ret_jws = sig;
        return 0;
}

/* What the last answer to a cluster-info read said, while it is "not yet". */
typedef enum NotYet {
        NOT_YET_NONE,
        NOT_YET_FORBIDDEN, /* 401/403: anonymous not (yet) allowed to read it */
        NOT_YET_MISSING,   /* 404: not published (yet) */
        NOT_YET_UNSIGNED,  /* no signature for our token (yet) */
        NOT_YET_OTHER,     /* any other answer: retried too, as kubeadm retries every error */
} NotYet;

/* Fetches cluster-info until it carries a signature for our token, or the deadline. As
 * kubeadm's discovery (cmd/kubeadm/app/discovery/token/token.go retries every error until
 * its timeout), 401/403/404 are "not yet": `kubeadm init` publishes cluster-info and creates
 * the Role that lets anonymous read it last (phases/init/bootstraptoken.go), so a worker
 * booted beside its control plane sees 403 first. Only the deadline makes them an error:
 * 69, so that the unit tries again. */
static int fetch_signed(DiscoveryCtx *d, const ApiAuth *auth, ApiResult *res, const char **ret_kubeconfig,
                        const char **ret_jws) {
        char desc[600], last[600] = "";
        NotYet told = NOT_YET_NONE;
        for (;;) {
                int r = api_request_retry(d->http, &d->backoff, "cluster-info", d->server, auth, "GET",
                                          CLUSTER_INFO_PATH, NULL, res);
                /* past the deadline. If the server had answered "not yet" before, that answer is
                 * what the operator needs (a retry the deadline cut short says nothing new);
                 * else exit 69 whatever the last failure was, even a transient -EPROTO (a peer
                 * speaking no TLS or no HTTP), which alone would map to 70 */
                if (r == -ETIMEDOUT || http_is_transient(r, res->status)) {
                        if (told != NOT_YET_NONE)
                                break;
                        return log_error_errno(-ETIMEDOUT, "the apiserver at %s stayed unavailable for %llus: %s",
                                               d->server, d->timeout_ms / 1000,
                                               api_describe(r, res, desc, sizeof desc));
                }
                if (r == -EKEYREJECTED)
                        return log_error_errno(r, "TLS to %s failed: %s", d->server, res->detail);
                if (r < 0)
                        return log_error_errno(r, "cannot fetch cluster-info from %s: %s", d->server,
                                               api_describe(r, res, desc, sizeof desc));
                NotYet state;
                if (res->status == 401 || res->status == 403)
                        state = NOT_YET_FORBIDDEN;
                else if (res->status == 404)
                        state = NOT_YET_MISSING;
                else if (res->status == 200) {
                        int p = cluster_info_parse(res, d->token_id, ret_kubeconfig, ret_jws);
                        if (p == -EBADMSG)
                                return log_error_errno(p, "kube-public/cluster-info has no kubeconfig in its data");
                        if (p == 0)
                                return 0;
                        state = NOT_YET_UNSIGNED;
                } else
                        state = NOT_YET_OTHER;
                api_describe(r, res, last, sizeof last);
                if (state != told) {
                        log_info("%s (%s); waiting up to %llus",
                                 state == NOT_YET_FORBIDDEN ? "kube-public/cluster-info may not be read anonymously yet"
                                 : state == NOT_YET_MISSING  ? "kube-public/cluster-info does not exist yet"
                                 : state == NOT_YET_UNSIGNED ? "cluster-info carries no signature for this token yet"
                                                             : "unexpected answer to a read of cluster-info",
                                 last, backoff_remaining_ms(&d->backoff) / 1000);
                        told = state;
                }
                if (backoff_wait(&d->backoff, 0) < 0)
                        break;
        }
        switch (told) {
        case NOT_YET_FORBIDDEN:
                return log_error_errno(-ETIMEDOUT,
                                       "kube-public/cluster-info stayed unreadable to anonymous users for %llus "
                                       "(last: %s): check that the apiserver allows anonymous requests and that "
                                       "the Role and RoleBinding kube-public/kubeadm:bootstrap-signer-clusterinfo "
                                       "let system:anonymous get it ('kubeadm init' and 'kubeboot token create' "
                                       "make them)",
                                       d->timeout_ms / 1000, last);
        case NOT_YET_MISSING:
                return log_error_errno(-ETIMEDOUT,
                                       "kube-public/cluster-info did not appear within %llus (last: %s): publish "
                                       "it ('kubeadm init' and 'kubeboot token create' do)",
                                       d->timeout_ms / 1000, last);
        case NOT_YET_OTHER:
                return log_error_errno(-ETIMEDOUT, "reading kube-public/cluster-info from %s did not succeed within "
                                       "%llus (last: %s)",
                                       d->server, d->timeout_ms / 1000, last);
        default:
                /* readable, but never signed for this token: the token, or the signer */
                return log_error_errno(-EKEYREJECTED,
                                       "cluster-info has no signature for token %s after %llus: the token "
                                       "is unknown, expired or not valid for signing, or "
                                       "kube-controller-manager runs without the bootstrap signer "
                                       "(add bootstrapsigner,tokencleaner to its --controllers)",
                                       d->token_id, d->timeout_ms / 1000);
        }
}

int discovery_run(DiscoveryCtx *d, KbCA **ret_ca, char **ret_cluster_server) {
        ApiResult res = { .retry_after_s = -1 };
        _cleanup_kubeconfig_ Kubeconfig *kc = NULL;
        _cleanup_ca_ KbCA *ca = NULL;
        _cleanup_free_ char *signed_kubeconfig = NULL;
        const char *kubeconfig_text, *jws;
        char why[WHY_MAX], pin[CA_PIN_MAX];
        int r;

        /* 1. without trust: the content is verified by the JWS, like kubeadm does */
        ApiAuth insecure = { .insecure = true };
        r = fetch_signed(d, &insecure, &res, &kubeconfig_text, &jws);
        if (r < 0)
                goto finish;
        r = jws_verify_detached(jws, kubeconfig_text, strlen(kubeconfig_text), d->token_id, d->token_secret);
        if (r < 0) {
                r = log_error_errno(-EKEYREJECTED,
                                    "the cluster-info signature for token %s does not verify (%s): a wrong token "
                                    "secret, or someone between this node and %s",
                                    d->token_id, r == -EBADMSG ? "malformed" : "wrong signature", d->server);
                goto finish;
        }
        signed_kubeconfig = strdup(kubeconfig_text);
        if (!signed_kubeconfig) {
                r = -ENOMEM;
                goto finish;
        }

        /* 2. the CA in the signed kubeconfig, checked against the pins */
        r = kubeconfig_parse(signed_kubeconfig, strlen(signed_kubeconfig), NULL, NULL, &kc, why, sizeof why);
        if (r < 0) {
                r = log_error_errno(r == -ENOMEM ? r : -EBADMSG, "the kubeconfig in cluster-info is unusable: %s", why);
                goto finish;
        }
        if (!kc->ca_data) {
                r = log_error_errno(-EBADMSG, "the kubeconfig in cluster-info carries no certificate-authority-data");
                goto finish;
        }
        r = ca_parse(kc->ca_data, kc->ca_data_len, &ca, why, sizeof why);
        if (r < 0) {
                r = log_error_errno(r == -ENOMEM ? r : -EBADMSG, "the CA in cluster-info is unusable: %s", why);
                goto finish;
        }
        if (d->pins && d->pins[0]) {
                /* only the pinned certificates become the trust anchor: a signed bundle
                 * [someone's CA, the real CA] must not get the first one trusted */
                r = ca_keep_pinned(ca, d->pins, pin);
                if (r == -ENOMEM)
                        goto finish;
                if (r < 0) {
                        r = log_key_errno(LOG_ERR, -EKEYREJECTED, d->pins_source, "ca-cert-hash",
                                          "the CA that %s offered does not match any pin: its pin is %s (compare "
                                          "with: openssl x509 -pubkey -in ca.crt | openssl pkey -pubin -outform der "
                                          "| sha256sum)",
                                          d->server, pin);
                        goto finish;
                }
                log_info("the cluster CA matches the pin %s", pin);
        } else {
                (void) ca_check_pins(ca, NULL, pin);
                log_warning("trusting the cluster CA %s WITHOUT a pin (unsafe-skip-ca-verification): anyone on the "
                            "path to %s who knows the token could impersonate the cluster",
                            pin, d->server);
        }

        /* 3. the server must hold a key that CA certified for its address. kubeadm fetches
         * cluster-info again trusting only that CA and requires the same bytes; where the TLS
         * library allows (the portable build), the connection that served the signed copy is
         * verified instead, which proves the same of the same peer with one handshake fewer
         * (agent/peer-trust-mbedtls.c). Otherwise, or if that chain does not verify, as kubeadm. */
        r = http_trust_last_peer(d->http, ca, why, sizeof why);
        if (r == -ENOMEM)
                goto finish;
        if (r == 0)
                log_debug("the connection cluster-info came over verifies against that CA: no second fetch");
        else {
                log_debug("fetching cluster-info again, trusting only that CA (%s)", why);
                ApiAuth pinned = { .ca = ca };
                const char *kubeconfig2, *jws2;
                r = fetch_signed(d, &pinned, &res, &kubeconfig2, &jws2);
                if (r < 0)
                        goto finish;
                if (!streq(kubeconfig2, signed_kubeconfig)) {
                        r = log_error_errno(-EKEYREJECTED,
                                            "cluster-info fetched over TLS trusting the pinned CA differs from the "
                                            "signed one: refusing (a man in the middle, or the cluster CA changed "
                                            "meanwhile)");
                        goto finish;
                }
        }
        if (ret_cluster_server && kc->server && !(*ret_cluster_server = strdup(kc->server))) {
                r = -ENOMEM;
                goto finish;
        }
        *ret_ca = TAKE_PTR(ca);
        r = 0;
finish:
        api_result_clear(&res);
        return r;
}

int phase_discover(Kb *kb) {
        const KbConfig *c = &kb->cfg;
        if (kb->ca) {
                log_info("trusting the cluster CA from %s", kb->ca_source);
                return 0;
        }
        if (!config_has(c, KB_CA_CERT_HASH) && !c->v[KB_UNSAFE_SKIP_CA_VERIFICATION].b)
                return log_key_errno(LOG_ERR, -ENOKEY, "configuration", "ca-cert-hash",
                                     "not set: token discovery needs the CA's pin (kubeboot token create and kubeadm "
                                     "token create --print-join-command print it), or ca-cert, or "
                                     "unsafe-skip-ca-verification=true");

        HttpClient *http = kb_http(kb);
        if (!http)
                return log_error_errno(-ENOMEM, "Failed to set up libcurl");
        const char *token = c->v[KB_TOKEN].str;
        char token_id[7];
        memcpy(token_id, token, 6);
        token_id[6] = 0;
        DiscoveryCtx d = {
                .http = http,
                .server = c->v[KB_SERVER].str,
                .token_id = token_id,
                .token_secret = token + 7,
                .pins = c->v[KB_CA_CERT_HASH].list,
                .pins_source = c->v[KB_CA_CERT_HASH].source,
                .timeout_ms = c->v[KB_DISCOVERY_TIMEOUT].u,
        };
        backoff_init(&d.backoff, d.timeout_ms, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
        log_info("discovering the cluster CA from %s with token %s", d.server, token_id);

        KbCA *ca = NULL;
        _cleanup_free_ char *server = NULL;
        int r = discovery_run(&d, &ca, &server);
        log_debug("discovery made %u HTTP requests", http_client_requests(http));
        if (r < 0)
                return r;
        kb->ca = ca;
        /* as kubeadm (cmd/kubeadm/app/discovery/discovery.go): the bootstrap kubeconfig names
         * cluster-info's server, the controlPlaneEndpoint (a load balancer in HA clusters), not
         * the address given for discovery, which may be one control-plane node; it is as
         * trusted as the CA, since the JWS covers both */
        if (server && validate_server_url(server, NULL, 0) < 0)
                log_warning("cluster-info names the server \"%s\", which is not an https URL; keeping %s", server,
                            d.server);
        else if (server && !streq(server, d.server)) {
                log_info("cluster-info names the server %s (the controlPlaneEndpoint); using it instead of the "
                         "configured %s, as kubeadm does",
                         server, d.server);
                kb->server = TAKE_PTR(server);
        }
        kb->ca_source = strdup_printf("token discovery from %s", d.server);
        return kb->ca_source ? 0 : -ENOMEM;
}

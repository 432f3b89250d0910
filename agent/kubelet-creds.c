#include "kubelet-creds.h"

#include <limits.h>
#include <mbedtls/oid.h>
#include <unistd.h>

#include "api.h"
#include "fileio.h"
#include "kubeconfig-read.h"
#include "paths.h"
#include "secret.h"

#define NODE_CN_PREFIX "system:node:"

KubeletCreds *kubelet_creds_free(KubeletCreds *c) {
        if (!c)
                return NULL;
        free(c->server);
        ca_free(c->ca);
        secret_free_n(c->pem, c->pem_len + 1);
        free(c->node);
        free(c);
        return NULL;
}

static int parse_cert(KubeletCreds *c, char *why, size_t n) {
        mbedtls_x509_crt crt;
        mbedtls_x509_crt_init(&crt);
        /* mbedTLS reads the first certificate of the PEM; the key block after it is skipped */
        int r = mbedtls_x509_crt_parse(&crt, (const unsigned char *) c->pem, c->pem_len + 1);
        if (r < 0 || !crt.raw.p) {
                mbedtls_x509_crt_free(&crt);
                return why_invalid(why, n, "the kubelet's client certificate does not parse");
        }
        for (const mbedtls_x509_name *name = &crt.subject; name; name = name->next)
                if (name->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) == 0) {
                        size_t pl = strlen(NODE_CN_PREFIX);
                        if (name->val.len > pl && memcmp(name->val.p, NODE_CN_PREFIX, pl) == 0)
                                c->node = strndup((const char *) name->val.p + pl, name->val.len - pl);
                }
        c->not_before = x509_time_to_epoch(&crt.valid_from);
        c->not_after = x509_time_to_epoch(&crt.valid_to);
        mbedtls_x509_crt_free(&crt);
        if (!c->node)
                return why_invalid(why, n, "the kubelet's client certificate is not a node's (CN=system:node:<name>)");
        return 0;
}

/* A path kubelet wrote into its kubeconfig, as a path here: a node path resolved beneath
 * --root, unless it already lies there (a kubelet run from outside the root writes such
 * paths, and links to such paths: they are this system's). A final symlink with an
 * absolute target (kubelet-client-current.pem -> /var/lib/kubelet/pki/kubelet-client-
 * <date>.pem, as kubelet writes it) is followed inside the root, not on this system. */
static int creds_path(const Kb *kb, const char *p, char **ret) {
        const char *root = kb->opt->root;
        if (!isempty(root) && !streq(root, "/")) {
                size_t rl = strlen(root);
                if (strncmp(p, root, rl) == 0 && (p[rl] == '/' || p[rl] == 0)) {
                        *ret = strdup(p);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return kb_path_target(kb, p, ret);
}

int kubelet_creds_load(const Kb *kb, KubeletCreds **ret, char *why, size_t n) {
        _cleanup_free_ char *conf = NULL;
        _cleanup_kubeconfig_ Kubeconfig *k = NULL;
        int r;

        r = kb_path_target(kb, PATH_KUBELET_KUBECONFIG, &conf);
        if (r < 0)
                return r;
        r = kubeconfig_load(conf, NULL, &k, why, n);
        if (r < 0)
                return r;

        KubeletCreds *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->server = strdup(k->server);
        if (!c->server) {
                r = -ENOMEM;
                goto fail;
        }
        if (k->ca_data)
                r = ca_parse(k->ca_data, k->ca_data_len, &c->ca, why, n);
        else if (k->ca_file) {
                _cleanup_free_ char *p = NULL;
                r = creds_path(kb, k->ca_file, &p);
                if (r >= 0)
                        r = ca_load_value(p, NULL, &c->ca, why, n);
        } else
                r = why_invalid(why, n, "%s names no CA", conf);
        if (r < 0)
                goto fail;

        if (k->client_cert_data) {
                /* cert and key inline: one PEM holding both */
                c->pem_len = k->client_cert_data_len + k->client_key_data_len + 1;
                c->pem = malloc(c->pem_len + 1);
                if (!c->pem) {
                        r = -ENOMEM;
                        goto fail;
                }
                memcpy(c->pem, k->client_cert_data, k->client_cert_data_len);
                c->pem[k->client_cert_data_len] = '\n';
                if (k->client_key_data)
                        memcpy(c->pem + k->client_cert_data_len + 1, k->client_key_data, k->client_key_data_len);
                c->pem[c->pem_len] = 0;
        } else if (k->client_cert_file) {
                /* kubelet writes one file with both, and names it twice */
                _cleanup_free_ char *p = NULL;
                r = creds_path(kb, k->client_cert_file, &p);
                if (r < 0)
                        goto fail;
                r = read_file_bounded(p, KB_CA_MAX, &c->pem, &c->pem_len);
                if (r == -ENOENT)
                        goto fail;
                if (r < 0) {
                        r = why_invalid(why, n, "cannot read %s: %s", p, strerror(-r));
                        goto fail;
                }
        } else {
                r = why_invalid(why, n, "%s has no client certificate", conf);
                goto fail;
        }
        r = parse_cert(c, why, n);
        if (r < 0)
                goto fail;
        *ret = c;
        return 0;
fail:
        kubelet_creds_free(c);
        return r;
}

bool kubelet_creds_valid_now(const KubeletCreds *c) {
        time_t now = time(NULL);
        return now >= c->not_before && now < c->not_after;
}

int kubelet_creds_get_node(HttpClient *http, const KubeletCreds *c, char *detail, size_t n, long *retry_after_s) {
        ApiAuth auth = { .ca = c->ca, .cert = c->pem, .cert_len = c->pem_len };
        ApiResult res = { .retry_after_s = -1 };
        _cleanup_free_ char *path = strdup_printf("/api/v1/nodes/%s", c->node);
        if (!path)
                return -ENOMEM;
        int r = api_request(http, c->server, &auth, "GET", path, NULL, &res);
        api_describe(r, &res, detail, n);
        if (retry_after_s)
                *retry_after_s = r >= 0 ? res.retry_after_s : -1;
        if (r >= 0) {
                if (res.status == 200)
                        r = 1;
                else if (res.status == 404)
                        r = 0;
                else if (res.status == 401 || res.status == 403)
                        r = -EACCES;
                else
                        r = http_is_transient(0, res.status) ? -EAGAIN : -EPROTO;
        }
        api_result_clear(&res);
        return r;
}

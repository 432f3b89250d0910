/* The portable build: libcurl over kubeboot's own mbedTLS, so its TLS can be hooked.
 *
 * One TLS handshake for token discovery instead of kubeadm's two. kubeadm fetches
 * cluster-info without trust, verifies its JWS, then fetches it again over a new connection
 * that trusts only the CA it found, to prove that the server holds a key certified by that
 * CA for its address. Verifying the chain that the first connection presented against the
 * same CA and address proves the same thing of the same peer, without the second key
 * exchange (85 % of a join's CPU was the two handshakes, docs/benchmarks.md). What must
 * hold for it to be as safe as a reconnect:
 *   - the chain is the one the answer came over: read from the connection in use while its
 *     status line arrives (CURLINFO_TLS_SSL_PTR), no proxy in between (CURLINFO_USED_PROXY);
 *   - later requests can only land on that connection or on a verified new one: they look to
 *     libcurl like the insecure request (so that it reuses the connection), the pool keeps one
 *     connection (CURLOPT_MAXCONNECTS, so no other unverified one is left to reuse), no TLS
 *     session is cached or resumed, insecure requests made after trust was given never pool
 *     their connection, and every new connection of a trusting request is verified by
 *     mbedTLS itself against the CA and the host name, in the handshake, before a byte of
 *     the request (and its token) is sent: trusted_connection() below. */
#include "peer-trust.h"

#include <mbedtls/ssl.h>

#include "log.h"

struct PeerTrust {
        /* the chain the last insecure answer came over, and where it came from */
        mbedtls_x509_crt peer;
        bool peer_kept;
        char *peer_origin, *peer_host;
        /* once adopted: the CA, and the origin whose connection it vouches for */
        KbCA *trusted;
        char *trusted_origin;
};

PeerTrust *peer_trust_new(void) {
        PeerTrust *t = calloc(1, sizeof *t);
        if (t)
                mbedtls_x509_crt_init(&t->peer);
        return t;
}

PeerTrust *peer_trust_free(PeerTrust *t) {
        if (t) {
                mbedtls_x509_crt_free(&t->peer);
                free(t->peer_origin);
                free(t->peer_host);
                ca_free(t->trusted);
                free(t->trusted_origin);
                free(t);
        }
        return NULL;
}

/* scheme://host:port of url, and the host as libcurl gives it to the TLS library for the
 * certificate check (an IPv6 address without brackets). */
static int url_origin(const char *url, char **ret_origin, char **ret_host) {
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL;
        int r = -EINVAL;
        if (!u)
                return -ENOMEM;
        if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
                size_t hl = strlen(host);
                bool v6 = hl >= 2 && host[0] == '[' && host[hl - 1] == ']';
                /* a zone (fe80::1%eth0) or a trailing dot: libcurl changes the name it checks */
                if (strchr(host, '%') || host[hl - 1] == '.')
                        r = -EOPNOTSUPP;
                else if (ret_host && !(*ret_host = strndup(host + v6, hl - 2 * v6)))
                        r = -ENOMEM;
                else if (!(*ret_origin = strdup_printf("%s://%s:%s", scheme, host, port)))
                        r = -ENOMEM;
                else
                        r = 0;
        }
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
        return r;
}

void peer_trust_capture(PeerTrust *t, CURL *h) {
        struct curl_tlssessioninfo *ti = NULL;
        t->peer_kept = false;
        mbedtls_x509_crt_free(&t->peer);
        mbedtls_x509_crt_init(&t->peer);
        if (curl_easy_getinfo(h, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
            ti->backend != CURLSSLBACKEND_MBEDTLS || !ti->internals)
                return;
        const mbedtls_x509_crt *p = mbedtls_ssl_get_peer_cert(ti->internals);
        for (; p && p->raw.p; p = p->next)
                if (mbedtls_x509_crt_parse_der(&t->peer, p->raw.p, p->raw.len) != 0)
                        return;
        t->peer_kept = t->peer.raw.p != NULL;
}

void peer_trust_finish(PeerTrust *t, CURL *h, bool ok) {
        long proxied = 0;
        if (!ok || curl_easy_getinfo(h, CURLINFO_USED_PROXY, &proxied) != CURLE_OK || proxied)
                t->peer_kept = false; /* unfinished, or the chain may be a proxy's */
}

/* Called by libcurl for each new connection, after its own set-up (lib/vtls/mbedtls.c
 * mbed_connect_step1): drops its verify callback, which clears every flag when VERIFYPEER
 * is off, and its (empty) trust store; with VERIFY_REQUIRED any flag then fails the
 * handshake as MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, which libcurl reports as
 * CURLE_PEER_FAILED_VERIFICATION (-EKEYREJECTED here). */
static CURLcode trusted_connection(CURL *curl, void *sslctx, void *parm) {
        mbedtls_ssl_config *conf = sslctx;
        KbCA *ca = parm;
        mbedtls_ssl_conf_ca_chain(conf, &ca->chain, NULL);
        mbedtls_ssl_conf_verify(conf, NULL, NULL);
        mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        return CURLE_OK;
}

/* An insecure request's connection checks nothing (libcurl would build and verify the
 * chain against an empty trust store, then forgive the result): one signature check fewer
 * where the server sends its CA along, as OpenSSL-based servers do by default. The chain is
 * kept all the same (MBEDTLS_SSL_KEEP_PEER_CERTIFICATE) for peer_trust_adopt(). */
static CURLcode untrusted_connection(CURL *curl, void *sslctx, void *parm) {
        mbedtls_ssl_conf_authmode(sslctx, MBEDTLS_SSL_VERIFY_NONE);
        return CURLE_OK;
}

/* May a request trusting ca to url run on the connection the adopted chain came over? */
static bool reuses_trusted(PeerTrust *t, const char *url, const KbCA *ca) {
        _cleanup_free_ char *origin = NULL;
        if (!t->trusted || !ca || !ca_equal(ca, t->trusted))
                return false;
        return url_origin(url, &origin, NULL) == 0 && streq(origin, t->trusted_origin);
}

int peer_trust_setup(PeerTrust *t, CURL *h, const char *url, bool insecure, const KbCA *ca, bool *ret_capture) {
        *ret_capture = false;
        /* one pooled connection, whatever the request: see the top of this file */
        curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);
        if (!insecure && !reuses_trusted(t, url, ca))
                return 0;
        /* the insecure request's options, so that libcurl reuses its connection */
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
        if (!insecure) {
                if (curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, trusted_connection) != CURLE_OK ||
                    curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, t->trusted) != CURLE_OK)
                        /* fail closed: without the hook a new connection would go unverified */
                        return log_error_errno(-ENOTSUP, "%s cannot verify a connection through its TLS hook",
                                               curl_version());
                return 1;
        }
        curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, untrusted_connection);
        if (t->trusted) {
                /* its connection must never be pooled for a trusting request to pick up */
                curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
                return 1;
        }
        free(t->peer_origin);
        free(t->peer_host);
        t->peer_origin = t->peer_host = NULL;
        t->peer_kept = false;
        *ret_capture = url_origin(url, &t->peer_origin, &t->peer_host) == 0;
        return 1;
}

int peer_trust_adopt(PeerTrust *t, const KbCA *ca, char *why, size_t n) {
        uint32_t flags = 0;
        if (!t->peer_kept || t->trusted) {
                snprintf(why, n, "no connection's chain is kept");
                return -EOPNOTSUPP;
        }
        /* profile_default (SHA-2, RSA >= 2048) is stricter than libcurl's handshake profile:
         * whatever passes here would pass a reconnect */
        int r = mbedtls_x509_crt_verify_with_profile(&t->peer, (mbedtls_x509_crt *) &ca->chain, NULL,
                                                     &mbedtls_x509_crt_profile_default, t->peer_host, &flags, NULL,
                                                     NULL);
        if (r != 0) {
                char info[256] = "";
                mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
                snprintf(why, n, "the chain %s presented does not verify against that CA: %s", t->peer_origin,
                         strstrip(info));
                return -EKEYREJECTED;
        }
        KbCA *copy = NULL;
        r = ca_dup(ca, &copy);
        if (r < 0) {
                snprintf(why, n, "cannot copy the CA: %s", strerror(-r));
                return r;
        }
        t->trusted_origin = strdup(t->peer_origin);
        if (!t->trusted_origin) {
                ca_free(copy);
                return -ENOMEM;
        }
        t->trusted = copy;
        return 0;
}

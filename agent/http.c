#include "http.h"

#include <curl/curl.h>
#include <malloc.h>
#include <strings.h>

#include "log.h"
#include "secret.h"

#ifdef KB_CURL_MBEDTLS
#include <mbedtls/ssl.h>
#endif

struct HttpClient {
        CURL *h;
        unsigned requests;
#ifdef KB_CURL_MBEDTLS
        /* One TLS handshake for token discovery (http_trust_last_peer()): the chain that
         * the last insecure answer came over, and, once it verified, the CA and origin that
         * later requests may reuse that connection for. */
        mbedtls_x509_crt peer;
        bool peer_kept;
        char *peer_origin, *peer_host;
        KbCA *trusted;
        char *trusted_origin;
#endif
};

typedef struct Sink {
        HttpClient *client;
        HttpResponse *resp;
        size_t max, cap;
        bool too_big;
        bool capture; /* keep the chain of the connection this answer comes over */
} Sink;

/* libcurl's own memory, wiped when it is released: its request buffers hold the
 * Authorization header (the bootstrap token), its handle the bearer, and none of them
 * is ours to wipe otherwise. malloc_usable_size() gives the size of what is freed. */
static void wiping_free(void *p) {
        if (p)
                secret_wipe(p, malloc_usable_size(p));
        free(p);
}

static void *wiping_realloc(void *p, size_t n) {
        if (!p)
                return malloc(n);
        if (n == 0) {
                wiping_free(p);
                return NULL;
        }
        size_t old = malloc_usable_size(p);
        if (n <= old)
                return p; /* fits: nothing is left behind */
        /* never let realloc move the contents and free the old block unwiped */
        void *q = malloc(n);
        if (!q)
                return NULL;
        memcpy(q, p, old);
        wiping_free(p);
        return q;
}

static int global_init(void) {
        static bool done;
        if (!done) {
                if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wiping_free, wiping_realloc, strdup, calloc) !=
                    CURLE_OK)
                        return -EIO;
                done = true;
        }
        return 0;
}

HttpClient *http_client_new(void) {
        if (global_init() < 0)
                return NULL;
        HttpClient *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        c->h = curl_easy_init();
        if (!c->h) {
                free(c);
                return NULL;
        }
#ifdef KB_CURL_MBEDTLS
        mbedtls_x509_crt_init(&c->peer);
#endif
        return c;
}

HttpClient *http_client_free(HttpClient *c) {
        if (c) {
                curl_easy_cleanup(c->h);
#ifdef KB_CURL_MBEDTLS
                mbedtls_x509_crt_free(&c->peer);
                free(c->peer_origin);
                free(c->peer_host);
                ca_free(c->trusted);
                free(c->trusted_origin);
#endif
                free(c);
        }
        return NULL;
}

unsigned http_client_requests(const HttpClient *c) {
        return c->requests;
}

char *http_query_escape(const char *s) {
        char *e = curl_easy_escape(NULL, s, 0);
        char *r = e ? strdup(e) : NULL; /* callers free() it; curl's own copy goes back to curl */
        curl_free(e);
        return r;
}

const char *http_library_version(void) {
        return curl_version();
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Sink *s = userdata;
        size_t n = size * nmemb;
        HttpResponse *r = s->resp;
        if (r->body_len + n > s->max) {
                s->too_big = true;
                return 0; /* aborts the transfer */
        }
        if (r->body_len + n + 1 > s->cap) {
                size_t ncap = s->cap ? s->cap * 2 : 4096;
                while (ncap < r->body_len + n + 1)
                        ncap *= 2;
                if (ncap > s->max + 1)
                        ncap = s->max + 1;
                /* not realloc: the old buffer may hold a secret and must be wiped */
                char *nb = malloc(ncap);
                if (!nb)
                        return 0;
                if (r->body) {
                        memcpy(nb, r->body, r->body_len);
                        secret_free_n(r->body, s->cap);
                }
                r->body = nb;
                s->cap = ncap;
        }
        memcpy(r->body + r->body_len, ptr, n);
        r->body_len += n;
        r->body[r->body_len] = 0;
        return n;
}

#ifdef KB_CURL_MBEDTLS
static void capture_peer(HttpClient *c);
#endif

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata) {
        Sink *s = userdata;
        HttpResponse *r = s->resp;
        size_t n = size * nitems;
#ifdef KB_CURL_MBEDTLS
        /* on each status line: the last one (after a proxy's CONNECT answer) is the server's */
        if (s->capture && n > 5 && strncmp(buf, "HTTP/", 5) == 0)
                capture_peer(s->client);
#endif
        if (n > 5 && strncasecmp(buf, "Date:", 5) == 0) {
                char v[128];
                size_t l = n - 5 < sizeof v - 1 ? n - 5 : sizeof v - 1;
                memcpy(v, buf + 5, l);
                v[l] = 0;
                time_t t = curl_getdate(strstrip(v), NULL);
                if (t > 0)
                        r->date = t;
        }
        return n;
}

static int map_curl_error(CURLcode cc, bool too_big) {
        if (too_big)
                return -EFBIG;
        switch (cc) {
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
                return -EKEYREJECTED;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return -ECONNRESET;
        case CURLE_FILESIZE_EXCEEDED:
                return -EFBIG;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_SSL_CERTPROBLEM:
                return -EINVAL;
        default:
                return -EPROTO;
        }
}

#ifdef KB_CURL_MBEDTLS
/* One TLS handshake for token discovery instead of kubeadm's two. kubeadm fetches
 * cluster-info without trust, verifies its JWS, then fetches it again over a new connection
 * that trusts only the CA it found, to prove that the server holds a key certified by that
 * CA for its address. Verifying the chain that the first connection presented against the
 * same CA and address proves the same thing of the same peer, without the second key
 * exchange (85 % of a join's CPU is the two handshakes, docs/benchmarks.md). What must hold
 * for it to be as safe as a reconnect:
 *   - the chain is the one the answer came over: read from the connection in use while its
 *     status line arrives (CURLINFO_TLS_SSL_PTR), no proxy in between (CURLINFO_USED_PROXY);
 *   - later requests can only land on that connection or on a verified new one: they look to
 *     libcurl like the insecure request (so that it reuses the connection), the pool keeps one
 *     connection (CURLOPT_MAXCONNECTS, so no other unverified one is left to reuse), no TLS
 *     session is cached or resumed, insecure requests made after trust was given never pool
 *     their connection, and every new connection of a trusting request is verified by
 *     mbedTLS itself against the CA and the host name, in the handshake, before a byte of
 *     the request (and its token) is sent: the CURLOPT_SSL_CTX_FUNCTION below.
 * The distro build's libcurl (OpenSSL) has no such hook here: it reconnects, as kubeadm. */

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

static void capture_peer(HttpClient *c) {
        struct curl_tlssessioninfo *ti = NULL;
        c->peer_kept = false;
        mbedtls_x509_crt_free(&c->peer);
        mbedtls_x509_crt_init(&c->peer);
        if (curl_easy_getinfo(c->h, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
            ti->backend != CURLSSLBACKEND_MBEDTLS || !ti->internals)
                return;
        const mbedtls_x509_crt *p = mbedtls_ssl_get_peer_cert(ti->internals);
        for (; p && p->raw.p; p = p->next)
                if (mbedtls_x509_crt_parse_der(&c->peer, p->raw.p, p->raw.len) != 0)
                        return;
        c->peer_kept = c->peer.raw.p != NULL;
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
 * kept all the same (MBEDTLS_SSL_KEEP_PEER_CERTIFICATE) for http_trust_last_peer(). */
static CURLcode untrusted_connection(CURL *curl, void *sslctx, void *parm) {
        mbedtls_ssl_conf_authmode(sslctx, MBEDTLS_SSL_VERIFY_NONE);
        return CURLE_OK;
}

/* TLS options for an insecure request, or a trusting one that may reuse its connection. */
static int tls_setup_shared(HttpClient *c, const HttpRequest *req, Sink *sink) {
        CURL *h = c->h;
        bool trusting = !req->insecure;
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
        if (trusting) {
                if (curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, trusted_connection) != CURLE_OK ||
                    curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, c->trusted) != CURLE_OK)
                        /* fail closed: without the hook a new connection would go unverified */
                        return log_error_errno(-ENOTSUP, "%s cannot verify a connection through its TLS hook",
                                               curl_version());
                return 0;
        }
        curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, untrusted_connection);
        if (c->trusted) {
                /* its connection must never be pooled for a trusting request to pick up */
                curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
                return 0;
        }
        free(c->peer_origin);
        free(c->peer_host);
        c->peer_origin = c->peer_host = NULL;
        c->peer_kept = false;
        if (url_origin(req->url, &c->peer_origin, &c->peer_host) == 0)
                sink->capture = true;
        return 0;
}

/* May req run on the connection whose chain http_trust_last_peer() verified? */
static bool reuses_trusted(HttpClient *c, const HttpRequest *req) {
        _cleanup_free_ char *origin = NULL;
        if (req->insecure || !c->trusted || !req->ca || !ca_equal(req->ca, c->trusted))
                return false;
        return url_origin(req->url, &origin, NULL) == 0 && streq(origin, c->trusted_origin);
}

int http_trust_last_peer(HttpClient *c, const KbCA *ca, char *why, size_t n) {
        uint32_t flags = 0;
        if (!c->peer_kept || c->trusted) {
                snprintf(why, n, "no connection's chain is kept");
                return -EOPNOTSUPP;
        }
        /* profile_default (SHA-2, RSA >= 2048) is stricter than libcurl's handshake profile:
         * whatever passes here would pass a reconnect */
        int r = mbedtls_x509_crt_verify_with_profile(&c->peer, (mbedtls_x509_crt *) &ca->chain, NULL,
                                                     &mbedtls_x509_crt_profile_default, c->peer_host, &flags, NULL,
                                                     NULL);
        if (r != 0) {
                char info[256] = "";
                mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
                snprintf(why, n, "the chain %s presented does not verify against that CA: %s", c->peer_origin,
                         strstrip(info));
                return -EKEYREJECTED;
        }
        KbCA *copy = NULL;
        r = ca_dup(ca, &copy);
        if (r < 0) {
                snprintf(why, n, "cannot copy the CA: %s", strerror(-r));
                return r;
        }
        c->trusted_origin = strdup(c->peer_origin);
        if (!c->trusted_origin) {
                ca_free(copy);
                return -ENOMEM;
        }
        c->trusted = copy;
        return 0;
}
#else
int http_trust_last_peer(HttpClient *c, const KbCA *ca, char *why, size_t n) {
        snprintf(why, n, "%s offers no hook to verify a connection after the fact", curl_version());
        return -EOPNOTSUPP;
}
#endif

int http_perform(HttpClient *c, const HttpRequest *req, HttpResponse *resp) {
        CURL *h = c->h;
        Sink sink = { .client = c, .resp = resp, .max = req->max_body ?: HTTP_BODY_MAX_DEFAULT };
        struct curl_slist *headers = NULL;
        struct curl_slist secret_node = {};
        char errbuf[CURL_ERROR_SIZE] = "";
        int r = 0;

        http_response_clear(resp);
        resp->retry_after_s = -1;
        curl_easy_reset(h); /* keeps the connection cache: TLS sessions are reused */

        curl_easy_setopt(h, CURLOPT_URL, req->url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) (req->timeout_ms ?: HTTP_TIMEOUT_MS_DEFAULT));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         (long) (req->connect_timeout_ms ?: HTTP_CONNECT_TIMEOUT_MS_DEFAULT));
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) sink.max);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "kubeboot/" KUBEBOOT_VERSION);
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
        if (req->no_proxy)
                curl_easy_setopt(h, CURLOPT_NOPROXY, "*");

#ifdef KB_CURL_MBEDTLS
        /* one pooled connection: see http_trust_last_peer() */
        curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);
        if (req->insecure || reuses_trusted(c, req)) {
                r = tls_setup_shared(c, req, &sink);
                if (r < 0)
                        goto finish;
        } else
#endif
        if (req->insecure) {
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        } else {
                /* exactly the cluster CA: no system store next to it */
                curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
                curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
                if (req->ca) {
                        struct curl_blob blob = { .data = req->ca->pem, .len = req->ca->pem_len,
                                                  .flags = CURL_BLOB_COPY };
                        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
                }
        }
        if (req->client_cert) {
                struct curl_blob cert = { .data = (void *) req->client_cert, .len = req->client_cert_len,
                                          .flags = CURL_BLOB_NOCOPY };
                /* with the NUL: libcurl hands a key blob to mbedtls_pk_parse_key() as it is, and
                 * mbedTLS parses PEM only when the buffer's last byte is that NUL (OpenSSL
                 * ignores it) */
                struct curl_blob key = { .data = (void *) (req->client_key ?: req->client_cert),
                                         .len = (req->client_key ? req->client_key_len : req->client_cert_len) + 1,
                                         .flags = CURL_BLOB_NOCOPY };
                curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
                curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
                curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
                curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
        }

        struct curl_slist *headers_head;
        for (const char *const *hl = req->headers; hl && *hl; hl++) {
                struct curl_slist *n = curl_slist_append(headers, *hl);
                if (!n) {
                        r = -ENOMEM;
                        goto finish;
                }
                headers = n;
        }
        if (req->content_type) {
                char ct[128];
                snprintf(ct, sizeof ct, "Content-Type: %s", req->content_type);
                struct curl_slist *n = curl_slist_append(headers, ct);
                if (!n) {
                        r = -ENOMEM;
                        goto finish;
                }
                headers = n;
        }
        headers_head = headers;
        /* secrets travel in list nodes of our own, so that the only copies we make are wiped */
        if (req->secret_header) {
                secret_node.data = (char *) req->secret_header;
                secret_node.next = headers;
                headers_head = &secret_node;
        }
        /* libcurl's own bearer auth: its copies are released through wiping_free() */
        if (req->bearer && (curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER) != CURLE_OK ||
                            curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, req->bearer) != CURLE_OK)) {
                /* fail closed: the request would otherwise go out without its credentials */
                r = log_error_errno(-ENOTSUP, "%s cannot send a bearer token (built without bearer auth)",
                                   curl_version());
                goto finish;
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers_head);

        if (req->method && !streq(req->method, "GET"))
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
        }

        c->requests++;
        CURLcode cc = curl_easy_perform(h);
        resp->received_ms = now_ms();
        if (cc != CURLE_OK) {
#ifdef KB_CURL_MBEDTLS
                if (sink.capture)
                        c->peer_kept = false;
#endif
                r = map_curl_error(cc, sink.too_big);
                if (r == -EFBIG)
                        /* libcurl's words ("Failure writing output to destination") hide the cap */
                        snprintf(resp->error, sizeof resp->error,
                                 "the answer is larger than %zu bytes, the most kubeboot reads", sink.max);
                else if (cc == CURLE_SSL_CONNECT_ERROR &&
                         (strstr(errbuf, "wrong version number") || strstr(errbuf, "invalid SSL record"))) {
                        /* a peer that answered the ClientHello in plain text, in the words of
                         * OpenSSL (distro build) and of mbedTLS (portable build, -0x7200) */
                        r = -EPROTO;
                        snprintf(resp->error, sizeof resp->error,
                                 "the server does not speak TLS (plain HTTP on an https port?): %.180s", errbuf);
                } else
                        snprintf(resp->error, sizeof resp->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
                goto finish;
        }
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
#ifdef KB_CURL_MBEDTLS
        long proxied = 0;
        if (sink.capture && (curl_easy_getinfo(h, CURLINFO_USED_PROXY, &proxied) != CURLE_OK || proxied))
                c->peer_kept = false; /* the chain may be a proxy's */
#endif
        curl_off_t ra = -1;
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
                resp->retry_after_s = (long) ra;
        if (!resp->body) {
                resp->body = strdup("");
                if (!resp->body)
                        r = -ENOMEM;
        }
finish:
        /* nothing of this request may outlive it inside the handle */
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        curl_slist_free_all(headers);
        return r;
}

void http_response_clear(HttpResponse *resp) {
        free(resp->body);
        *resp = (HttpResponse){ .retry_after_s = -1 };
}

bool http_is_transient(int r, long status) {
        if (r < 0)
                return r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ETIMEDOUT || r == -ECONNRESET ||
                       r == -ENETUNREACH || r == -EPROTO;
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

#include "http.h"

#include <curl/curl.h>
#include <malloc.h>
#include <strings.h>

#include "log.h"
#include "peer-trust.h"
#include "secret.h"

struct HttpClient {
        CURL *h;
        unsigned requests;
        PeerTrust *trust; /* one TLS handshake for token discovery */
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
        c->trust = peer_trust_new();
        if (!c->h || !c->trust)
                return http_client_free(c);
        return c;
}

HttpClient *http_client_free(HttpClient *c) {
        if (c) {
                curl_easy_cleanup(c->h);
                peer_trust_free(c->trust);
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

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata) {
        Sink *s = userdata;
        HttpResponse *r = s->resp;
        size_t n = size * nitems;
        /* on each status line: the last one (after a proxy's CONNECT answer) is the server's */
        if (s->capture && n > 5 && strncmp(buf, "HTTP/", 5) == 0)
                peer_trust_capture(s->client->trust, s->client->h);
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

int http_trust_last_peer(HttpClient *c, const KbCA *ca, char *why, size_t n) {
        return peer_trust_adopt(c->trust, ca, why, n);
}

/* Trust nothing (insecure), or exactly req->ca. */
static void tls_trust(CURL *h, const HttpRequest *req) {
        if (req->insecure) {
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
                return;
        }
        /* exactly the cluster CA: no system store next to it */
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
        if (req->ca) {
                struct curl_blob blob = { .data = req->ca->pem, .len = req->ca->pem_len, .flags = CURL_BLOB_COPY };
                curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
        }
}

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

        /* the TLS hook of token discovery's one handshake, or the usual options */
        r = peer_trust_setup(c->trust, h, req->url, req->insecure, req->ca, &sink.capture);
        if (r < 0)
                goto finish;
        if (r == 0)
                tls_trust(h, req);
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
        if (sink.capture)
                peer_trust_finish(c->trust, h, cc == CURLE_OK);
        if (cc != CURLE_OK) {
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

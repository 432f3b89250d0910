/* One HTTP(S) client over libcurl for everything kubeboot fetches: bounded in time and
 * size, never following redirects, trusting exactly the CA it is given. */
#pragma once

#include <time.h>

#include "ca.h"

#define HTTP_TIMEOUT_MS_DEFAULT 10000UL
#define HTTP_CONNECT_TIMEOUT_MS_DEFAULT 5000UL
#define HTTP_BODY_MAX_DEFAULT (1024U * 1024U)

typedef struct HttpClient HttpClient;

typedef struct HttpRequest {
        const char *method; /* NULL: GET */
        const char *url;
        const char *const *headers; /* extra "Name: value" lines, NULL-terminated; no secrets */
        const char *bearer;         /* a secret: sent as Authorization: Bearer */
        const char *secret_header;  /* a "Name: value" line holding a secret (EC2's session token) */
        const char *body;           /* with content_type; NULL for none */
        size_t body_len;
        const char *content_type;
        /* TLS: trust only ca; or, with insecure, trust nothing and check nothing (used for
         * the one fetch whose content is verified by other means, like kubeadm does). */
        const KbCA *ca;
        bool insecure;
        /* PEM blobs of a client certificate (and key, if client_key is NULL), each
         * NUL-terminated at [len]: the key goes to libcurl with its NUL, which mbedTLS's
         * PEM parser requires (the portable build's TLS backend). */
        const void *client_cert;
        size_t client_cert_len;
        const void *client_key;
        size_t client_key_len;
        unsigned long timeout_ms;         /* 0: HTTP_TIMEOUT_MS_DEFAULT */
        unsigned long connect_timeout_ms; /* 0: HTTP_CONNECT_TIMEOUT_MS_DEFAULT */
        size_t max_body;                  /* 0: HTTP_BODY_MAX_DEFAULT */
        bool no_proxy;                    /* link-local metadata: never through a proxy */
} HttpRequest;

typedef struct HttpResponse {
        long status;      /* the HTTP status; 0 if no response came */
        char *body;       /* NUL-terminated */
        size_t body_len;
        time_t date;          /* the Date header, 0 if none */
        long retry_after_s;   /* Retry-After in seconds, -1 if none */
        unsigned long long received_ms; /* monotonic time the response completed */
        char error[256];      /* libcurl's words for a transport failure */
} HttpResponse;

HttpClient *http_client_new(void);
HttpClient *http_client_free(HttpClient *c);
static inline void http_client_freep(HttpClient **c) {
        http_client_free(*c);
}
#define _cleanup_http_client_ _cleanup_(http_client_freep)

/* Performs req. Returns 0 when a response arrived (whatever its status), else a
 * negative errno: -ECONNREFUSED, -EHOSTUNREACH (DNS), -ETIMEDOUT, -ECONNRESET,
 * -EKEYREJECTED (the server's certificate is not from the trusted CA), -EFBIG (body
 * over the limit), -EPROTO; resp->error then says what libcurl saw. */
int http_perform(HttpClient *c, const HttpRequest *req, HttpResponse *resp);
/* Trusts the connection the last insecure request was answered over, once its content
 * proved ca (the JWS of token discovery): verifies the chain that connection presented
 * against ca and the request's host, as a new handshake trusting ca would. On success,
 * later requests trusting ca to that origin may run on that connection (one TLS handshake
 * saved), and any new connection they open is verified by the TLS library before anything
 * is sent. -EOPNOTSUPP where that cannot be done safely (the distro build's TLS backend, a
 * proxy, no chain kept); -EKEYREJECTED when the chain does not verify. why says which. */
int http_trust_last_peer(HttpClient *c, const KbCA *ca, char *why, size_t n);
/* Releases the body; the response can be reused. */
void http_response_clear(HttpResponse *resp);
/* Is this failure (errno from http_perform, or HTTP status) worth retrying? */
bool http_is_transient(int r, long status);
/* How many requests this client has sent (for tests and benchmarks). */
unsigned http_client_requests(const HttpClient *c);

/* s percent-encoded for a URL query (curl_easy_escape: all but RFC 3986's unreserved
 * characters), as a new string; NULL on OOM. */
char *http_query_escape(const char *s);
/* libcurl's version and TLS backend, as curl_version() words them
 * ("libcurl/8.14.1 mbedTLS/3.6.6" in the portable build). */
const char *http_library_version(void);

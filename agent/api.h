/* Talking to the kube-apiserver: JSON requests over the HTTP module, with one retry
 * loop for transient failures (connection refused, DNS, 5xx, 429 + Retry-After). */
#pragma once

#include <json-c/json.h>

#include "backoff.h"
#include "http.h"

typedef struct ApiAuth {
        const KbCA *ca;       /* trust exactly this CA */
        bool insecure;        /* trust nothing (content verified otherwise) */
        const char *bearer;   /* secret */
        const void *cert;     /* client certificate PEM (with key if key is NULL) */
        size_t cert_len;
        const void *key;      /* secret */
        size_t key_len;
} ApiAuth;

/* How much of a server's Status message is kept (the rest is cut, marked "..."). */
#define API_SERVER_TEXT_MAX 300

typedef struct ApiResult {
        long status;       /* 0 if no response */
        json_object *json; /* the body, if it was JSON */
        char *body;        /* the raw body */
        size_t body_len;
        time_t date;       /* the server's Date header, 0 if none */
        unsigned long long received_ms;
        long retry_after_s;
        char detail[512]; /* a Status's message, or the transport error */
} ApiResult;

/* One request: server + path, JSON body (may be NULL). 0 when a response arrived,
 * else a negative errno from http_perform() with res->detail saying what happened. */
int api_request(HttpClient *h, const char *server, const ApiAuth *auth, const char *method, const char *path,
                json_object *body, ApiResult *res);
/* api_request() until a response that is not transient, or the deadline of b. what
 * names the request in debug logs. Returns like api_request(); on a deadline the last
 * failure is left in res and -ETIMEDOUT returned. */
int api_request_retry(HttpClient *h, Backoff *b, const char *what, const char *server, const ApiAuth *auth,
                      const char *method, const char *path, json_object *body, ApiResult *res);
void api_result_clear(ApiResult *res);

/* The apiserver's clock as the latest Date header told it, carried forward by the
 * monotonic clock (the local clock may be the thing that is wrong). */
typedef struct ServerClock {
        time_t date; /* 0 until a response carried a Date header */
        unsigned long long at_ms;
} ServerClock;
/* Takes res's Date header, if it has one. */
void server_clock_note(ServerClock *c, const ApiResult *res);
/* The apiserver's time now; 0 when no Date header has been seen. */
time_t server_clock_now(const ServerClock *c);
/* "HTTP 403 Forbidden: <message>" or the transport error, for messages. */
const char *api_describe(int r, const ApiResult *res, char *buf, size_t n);
/* A string field by path ("status", "userInfo", "username"), or NULL. */
const char *json_get_string(json_object *o, ...);
/* An object/array field by path, or NULL. */
json_object *json_get(json_object *o, ...);

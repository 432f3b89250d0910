/* The apiserver as an administrator talks to it (kubeboot token): requests with the
 * credentials of an admin kubeconfig, the one retry policy for transient failures, and
 * one clear line for what the operator must fix (unreachable, 401, 403, TLS). */
#pragma once

#include "api.h"

/* How long one request may be retried through transient failures. */
#define ADMIN_REQUEST_TIMEOUT_MS 10000ULL

typedef struct AdminClient {
        HttpClient *http;
        const char *server;
        const char *kubeconfig; /* path, named in messages */
        ApiAuth auth;
        ServerClock clock;
} AdminClient;

/* One request. 0 when the server answered with anything but 401 or 403 (the caller
 * judges res->status); else a negative errno, logged: -EKEYREJECTED (401, or the
 * server's certificate is not from the trusted CA), -EACCES (403), or what
 * api_request_retry() returned (unreachable: -ECONNREFUSED, -ETIMEDOUT, ...). */
int admin_request(AdminClient *a, const char *what, const char *method, const char *path, json_object *body,
                  ApiResult *res);
/* Items per page of admin_list(): a page of token Secrets or bindings stays far below the
 * HTTP module's 1 MiB cap, however many the cluster has. */
#define ADMIN_LIST_LIMIT 250
#define ADMIN_LIST_MAX_PAGES 400
/* A whole list, page by page (limit/continue, as client-go's pager): 0 and the items of
 * every page in *ret_items, owned by res (wipe it with admin_result_wipe() if they carry
 * secrets: every page's raw body is wiped as it is read). path may carry a query. */
int admin_list(AdminClient *a, const char *what, const char *path, ApiResult *res, json_object **ret_items);
/* Logs an answer the caller did not expect; returns -EPROTO. */
int admin_unexpected(const char *what, const ApiResult *res);
/* The apiserver's clock now (the last Date header carried forward), else ours: the
 * bootstrap authenticator judges expiry by the apiserver's clock. */
time_t admin_now(const AdminClient *a);
/* Wipes a result that carried secrets (a token Secret) and clears it. */
void admin_result_wipe(ApiResult *res);
/* Wipes a request body that carried secrets, including json-c's serialization of it. */
void admin_body_wipe(json_object *body);

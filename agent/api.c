#include "api.h"

#include <stdarg.h>

#include "log.h"
#include "secret.h"
#include "util.h"

void api_result_clear(ApiResult *res) {
        json_object_put(res->json);
        free(res->body);
        *res = (ApiResult){ .retry_after_s = -1 };
}

void server_clock_note(ServerClock *c, const ApiResult *res) {
        if (res->date)
                *c = (ServerClock){ .date = res->date, .at_ms = res->received_ms };
}

time_t server_clock_now(const ServerClock *c) {
        if (!c->date)
                return 0;
        return c->date + (time_t) ((now_ms() - c->at_ms) / 1000ULL);
}

static json_object *json_vget(json_object *o, va_list ap) {
        const char *k;
        while (o && (k = va_arg(ap, const char *))) {
                json_object *next = NULL;
                if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, k, &next))
                        return NULL;
                o = next;
        }
        return o;
}

json_object *json_get(json_object *o, ...) {
        va_list ap;
        va_start(ap, o);
        json_object *r = json_vget(o, ap);
        va_end(ap);
        return r;
}

const char *json_get_string(json_object *o, ...) {
        va_list ap;
        va_start(ap, o);
        json_object *r = json_vget(o, ap);
        va_end(ap);
        return r && json_object_is_type(r, json_type_string) ? json_object_get_string(r) : NULL;
}

/* One request, bounded by timeout_ms (0: the HTTP module's default). */
static int request_within(HttpClient *h, const char *server, const ApiAuth *auth, const char *method,
                          const char *path, json_object *body, unsigned long timeout_ms, ApiResult *res) {
        static const char *const headers[] = { "Accept: application/json", NULL };
        HttpResponse resp = { .retry_after_s = -1 };
        _cleanup_free_ char *url = NULL;
        const char *body_text = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL;

        api_result_clear(res);
        size_t sl = strlen(server);
        while (sl > 0 && server[sl - 1] == '/')
                sl--;
        url = strdup_printf("%.*s%s", (int) sl, server, path);
        if (!url)
                return -ENOMEM;

        HttpRequest req = {
                .method = method,
                .url = url,
                .headers = headers,
                .bearer = auth->bearer,
                .body = body_text,
                .body_len = body_text ? strlen(body_text) : 0,
                .content_type = body_text ? "application/json" : NULL,
                .ca = auth->ca,
                .insecure = auth->insecure,
                .client_cert = auth->cert,
                .client_cert_len = auth->cert_len,
                .client_key = auth->key,
                .client_key_len = auth->key_len,
                .timeout_ms = timeout_ms,
                .connect_timeout_ms = timeout_ms && timeout_ms < HTTP_CONNECT_TIMEOUT_MS_DEFAULT ? timeout_ms : 0,
        };
        int r = http_perform(h, &req, &resp);
        res->received_ms = resp.received_ms;
        if (r < 0) {
                snprintf(res->detail, sizeof res->detail, "%s", resp.error);
                http_response_clear(&resp);
                return r;
        }
        res->status = resp.status;
        res->date = resp.date;
        res->retry_after_s = resp.retry_after_s;
        res->body = TAKE_PTR(resp.body);
        res->body_len = resp.body_len;
        http_response_clear(&resp);

        json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        res->json = json_tokener_parse_ex(tok, res->body, (int) res->body_len);
        if (json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(res->json);
                res->json = NULL;
        }
        json_tokener_free(tok);

        if (res->status >= 300) {
                /* errors come as metav1.Status */
                /* unauthenticated text on the first discovery fetch: escaped and cut here,
                 * where it enters, so that no message quoting it carries control characters */
                const char *msg = json_get_string(res->json, "message", NULL);
                text_escape(msg ?: "", API_SERVER_TEXT_MAX, res->detail, sizeof res->detail);
        }
        return 0;
}

int api_request(HttpClient *h, const char *server, const ApiAuth *auth, const char *method, const char *path,
                json_object *body, ApiResult *res) {
        return request_within(h, server, auth, method, path, body, 0, res);
}

int api_request_retry(HttpClient *h, Backoff *b, const char *what, const char *server, const ApiAuth *auth,
                      const char *method, const char *path, json_object *body, ApiResult *res) {
        for (;;) {
                /* no single request outlives the deadline (at least a last short try is left) */
                unsigned long long left = backoff_remaining_ms(b);
                unsigned long t = left < HTTP_TIMEOUT_MS_DEFAULT ? (unsigned long) (left ?: 1) : 0;
                int r = request_within(h, server, auth, method, path, body, t, res);
                if (r == -ENOMEM || !http_is_transient(r, res->status))
                        return r;
                char d[600];
                log_debug("%s: %s; retrying", what, api_describe(r, res, d, sizeof d));
                if (backoff_wait(b, retry_after_ms(res->retry_after_s)) < 0)
                        return r < 0 ? r : -ETIMEDOUT;
        }
}

const char *api_describe(int r, const ApiResult *res, char *buf, size_t n) {
        if (r < 0)
                snprintf(buf, n, "%s (%s)", res->detail[0] ? res->detail : "no response", strerror(-r));
        else
                snprintf(buf, n, "HTTP %ld%s%s", res->status, res->detail[0] ? ": " : "", res->detail);
        return buf;
}

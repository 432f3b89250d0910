#include "ds-util.h"

#include <ctype.h>
#include <yaml.h>

#include "ini-source.h"
#include "log.h"
#include "secret.h"
#include "validate.h"

/* ---- the fetch ---- */

void ds_response_clear(HttpResponse *resp) {
        if (resp->body)
                secret_wipe(resp->body, resp->body_len);
        http_response_clear(resp);
}

static char *join_url(const char *endpoint, const char *path) {
        size_t l = strlen(endpoint);
        while (l > 0 && endpoint[l - 1] == '/')
                l--;
        return strdup_printf("%.*s%s", (int) l, endpoint, path);
}

static int get(const DsEnv *env, const char *endpoint, const DsGet *g, HttpResponse *resp) {
        _cleanup_free_ char *url = join_url(endpoint, g->path);
        size_t max = g->max_body ?: DS_DOC_MAX;
        char last[300] = "no answer";

        if (!url)
                return -ENOMEM;
        if (!startswith(endpoint, "http://") && !startswith(endpoint, "https://"))
                return log_key_errno(LOG_ERR, -EINVAL, g->source, "endpoint",
                                     "\"%s\" is not an http:// or https:// URL ([datasource.NAME] endpoint=)",
                                     endpoint);
        for (;;) {
                unsigned long long left = backoff_remaining_ms(env->backoff);
                if (left == 0)
                        break;
                unsigned long t = env->request_timeout_ms;
                if (t == 0 || t > left)
                        t = (unsigned long) left;
                HttpRequest req = {
                        .method = g->method,
                        .url = url,
                        .headers = g->headers,
                        .secret_header = g->secret_header,
                        .timeout_ms = t,
                        .connect_timeout_ms = t,
                        .max_body = max,
                        .no_proxy = true, /* link-local: never through a proxy */
                };
                ds_response_clear(resp);
                int r = http_perform(env->http, &req, resp);
                if (r == -ENOMEM)
                        return r;
                if (r == -EFBIG)
                        return log_key_errno(LOG_WARNING, r, g->source, g->what,
                                             "the answer to %s is larger than %zu bytes: rejected", g->path, max);
                if (r == 0 && resp->status == 200)
                        return 0;
                /* 204: "nothing here", as Hetzner answers /userdata when a server has none (a
                 * response recorded from the real service, issue 15) */
                if (r == 0 && (resp->status == 404 || resp->status == 204))
                        return -ENOENT;
                if (!http_is_transient(r, resp->status)) {
                        if (r < 0)
                                return log_key_errno(LOG_WARNING, r, g->source, g->what, "%s %s failed: %s",
                                                     g->method ?: "GET", g->path, resp->error);
                        if (resp->status == 401 || resp->status == 403)
                                return log_key_errno(LOG_WARNING, -EACCES, g->source, g->what,
                                                     "%s %s was refused (HTTP %ld)", g->method ?: "GET", g->path,
                                                     resp->status);
                        /* a redirect lands here too: the HTTP module never follows one */
                        return log_key_errno(LOG_WARNING, -EPROTO, g->source, g->what,
                                             "%s %s answered HTTP %ld", g->method ?: "GET", g->path, resp->status);
                }
                if (r < 0)
                        snprintf(last, sizeof last, "%s", resp->error);
                else
                        snprintf(last, sizeof last, "HTTP %ld", resp->status);
                log_debug("%s: %s: %s %s: %s; retrying", g->source, g->what, g->method ?: "GET", g->path, last);
                unsigned long long ra = 0;
                if (r == 0 && resp->retry_after_s > 0)
                        ra = (unsigned long long) resp->retry_after_s * 1000;
                if (backoff_wait(env->backoff, ra) < 0)
                        break;
        }
        ds_response_clear(resp);
        return log_key_errno(LOG_ERR, -ETIMEDOUT, g->source, g->what,
                             "the metadata service at %s stayed unavailable until the deadline (last: %s); "
                             "metadata-timeout= sets the deadline",
                             endpoint, last);
}

int ds_get(const DsEnv *env, const char *endpoint, const DsGet *g, HttpResponse *resp) {
        int r = get(env, endpoint, g, resp);
        if (r < 0)
                ds_response_clear(resp); /* a 404 or an error page: nothing to keep */
        return r;
}

void ds_log_done(const DsEnv *env, const char *source, unsigned requests_before, unsigned long long start_ms) {
        log_debug("%s: %u requests in %llu ms", source, http_client_requests(env->http) - requests_before,
                  now_ms() - start_ms);
}

/* ---- what a platform said ---- */

void ds_meta_done(DsMeta *m) {
        free(m->node_name);
        free(m->node_ip);
        free(m->provider_id);
        entries_clear(&m->tags);
        secret_free_n(m->user_data, m->user_data_len);
        *m = (DsMeta){};
}

int ds_meta_set(char **field, const char *value) {
        char *c = NULL;
        if (value && !(c = strdup(value)))
                return -ENOMEM;
        free(*field);
        *field = c;
        return 0;
}

int ds_meta_set_user_data(DsMeta *m, const char *value, size_t len) {
        char *c = malloc(len + 1);
        if (!c)
                return -ENOMEM;
        memcpy(c, value, len);
        c[len] = 0;
        secret_free_n(m->user_data, m->user_data_len);
        m->user_data = c;
        m->user_data_len = len;
        return 0;
}

bool ds_tag_name_ok(const char *name) {
        if (!*name || strlen(name) > 128)
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("-_.", *p))
                        return false;
        return true;
}

int ds_meta_add_tag(DsMeta *m, const char *source, const char *name, const char *value) {
        const char *key = startswith(name, DS_TAG_PREFIX);
        if (!key)
                return 0;
        if (!ds_tag_name_ok(key)) {
                log_key_errno(LOG_WARNING, 0, source, name, "not a kubeboot key name: ignored");
                return 0;
        }
        if (m->tags.n >= DS_TAGS_MAX) {
                log_key_errno(LOG_WARNING, 0, source, name, "more than %u kubeboot tags: ignored", DS_TAGS_MAX);
                return 0;
        }
        return entries_add(&m->tags, NULL, name, value, 0);
}

static int emit_fact(KbEntries *part, const char *origin, const char *key, const char *value,
                     int (*validate)(const char *, char *, size_t)) {
        char why[WHY_MAX];
        if (!value)
                return 0;
        if (validate(value, why, sizeof why) < 0) {
                log_key_errno(LOG_WARNING, 0, origin, key, "%s: ignored", why);
                return 0;
        }
        return entries_add(part, NULL, key, value, 0);
}

int ds_meta_emit(const DsMeta *m, const char *source, const char *facts_origin, const char *tag_kind,
                 const char *ud_origin, DsResult *out) {
        int r;

        if (m->node_name || m->node_ip || m->provider_id) {
                KbEntries *facts = ds_result_add_part(out, facts_origin);
                if (!facts)
                        return -ENOMEM;
                _cleanup_free_ char *name = m->node_name ? strdup(m->node_name) : NULL;
                if (m->node_name && !name)
                        return -ENOMEM;
                if (name)
                        ascii_strlower(strstrip(name));
                if ((r = emit_fact(facts, facts_origin, "node-name", name, validate_dns1123_subdomain)) < 0 ||
                    (r = emit_fact(facts, facts_origin, "node-ip", m->node_ip, validate_ip)) < 0 ||
                    (r = emit_fact(facts, facts_origin, "provider-id", m->provider_id, validate_provider_id)) < 0)
                        return r;
        }

        if (m->user_data && m->user_data_below_tags &&
            (r = ds_add_user_data(out, ud_origin, m->user_data, m->user_data_len)) < 0)
                return r;

        for (size_t i = 0; i < m->tags.n; i++) {
                const KbEntry *e = &m->tags.e[i];
                _cleanup_free_ char *origin = strdup_printf("%s:%s %s", source, tag_kind, e->key);
                if (!origin)
                        return -ENOMEM;
                KbEntries *part = ds_result_add_part(out, origin);
                if (!part)
                        return -ENOMEM;
                r = entries_add(part, NULL, e->key + strlen(DS_TAG_PREFIX), e->value, 0);
                if (r < 0)
                        return r;
        }

        if (m->user_data && !m->user_data_below_tags)
                return ds_add_user_data(out, ud_origin, m->user_data, m->user_data_len);
        return 0;
}

/* Documents in user-data that belong to other tools, by their first line. */
static const char *foreign_document(const char *buf, size_t len) {
        static const struct {
                const char *prefix, *what;
        } kinds[] = {
                { "#cloud-config", "a cloud-config document" },
                { "#cloud-boothook", "a cloud-init boothook" },
                { "#include", "a cloud-init include list" },
                { "#!", "a script" },
                { "Content-Type:", "a MIME multipart document" },
                { "MIME-Version:", "a MIME multipart document" },
                { "{", "a JSON document (Ignition?)" },
                { "\x1f\x8b", "gzip-compressed data" },
        };
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                size_t l = strlen(kinds[i].prefix);
                if (len >= l && memcmp(buf, kinds[i].prefix, l) == 0)
                        return kinds[i].what;
        }
        return NULL;
}

int ds_add_user_data(DsResult *out, const char *origin, const char *buf, size_t len) {
        size_t skip = 0;

        if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
                skip = 3; /* a UTF-8 byte order mark, as editors on some platforms write */
        const char *what = foreign_document(buf + skip, len - skip);
        if (what) {
                log_info("%s: holds %s, not a kubeboot ini document: ignored", origin, what);
                return 0;
        }
        bool blank = true;
        for (size_t i = skip; i < len && blank; i++)
                blank = isspace((unsigned char) buf[i]);
        if (blank)
                return 0;

        return ds_add_ini(out, origin, buf + skip, len - skip);
}

int ds_add_ini(DsResult *out, const char *origin, const char *buf, size_t len) {
        char why[WHY_MAX];
        KbEntries *part = ds_result_add_part(out, origin);
        if (!part)
                return -ENOMEM;
        int r = ini_parse_buffer(buf, len, part, why, sizeof why);
        if (r == -EINVAL) {
                log_key_errno(LOG_WARNING, 0, origin, NULL, "not a kubeboot ini document (%s): ignored", why);
                entries_clear(part);
                out->n_parts--;
                return 0;
        }
        return r;
}

/* ---- JSON ---- */

int ds_json_parse(const char *source, const char *buf, size_t len, json_object **ret) {
        if (len > (size_t) INT32_MAX)
                return log_key_errno(LOG_WARNING, -EINVAL, source, NULL, "document too large");
        json_tokener *tok = json_tokener_new_ex(DS_JSON_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        json_object *o = json_tokener_parse_ex(tok, buf, (int) len);
        enum json_tokener_error err = json_tokener_get_error(tok);
        size_t used = json_tokener_get_parse_end(tok);
        /* the tokener's buffer held every string it read: wipe it before it is freed */
        if (tok->pb && tok->pb->buf)
                secret_wipe(tok->pb->buf, (size_t) tok->pb->size);
        json_tokener_free(tok);

        if (err == json_tokener_continue || (err == json_tokener_success && !o))
                return log_key_errno(LOG_WARNING, -EINVAL, source, NULL, "not JSON: the document ends early");
        if (err != json_tokener_success) {
                ds_json_put(o);
                return log_key_errno(LOG_WARNING, -EINVAL, source, NULL, "not JSON: %s at byte %zu",
                                     json_tokener_error_desc(err), used);
        }
        while (used < len && isspace((unsigned char) buf[used]))
                used++;
        if (used < len) {
                ds_json_put(o);
                return log_key_errno(LOG_WARNING, -EINVAL, source, NULL, "not JSON: trailing data at byte %zu", used);
        }
        *ret = o;
        return 0;
}

static void json_wipe(json_object *o, unsigned depth) {
        if (!o || depth > DS_JSON_DEPTH + 1)
                return;
        switch (json_object_get_type(o)) {
        case json_type_string:
                secret_wipe((char *) json_object_get_string(o), (size_t) json_object_get_string_len(o));
                break;
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        json_wipe(json_object_array_get_idx(o, i), depth + 1);
                break;
        case json_type_object: {
                json_object_object_foreach(o, k, v) {
                        (void) k;
                        json_wipe(v, depth + 1);
                }
                break;
        }
        default:
                break;
        }
}

void ds_json_put(json_object *o) {
        json_wipe(o, 0);
        json_object_put(o);
}

json_object *ds_json_at(json_object *o, const char *path) {
        const char *p = path;
        while (o && *p) {
                size_t n = strcspn(p, ".");
                char part[128];
                if (n >= sizeof part)
                        return NULL;
                memcpy(part, p, n);
                part[n] = 0;
                if (json_object_is_type(o, json_type_object)) {
                        json_object *next = NULL;
                        if (!json_object_object_get_ex(o, part, &next))
                                return NULL;
                        o = next;
                } else if (json_object_is_type(o, json_type_array)) {
                        unsigned long idx;
                        if (parse_uint(part, 0, 1UL << 20, &idx) < 0 || idx >= json_object_array_length(o))
                                return NULL;
                        o = json_object_array_get_idx(o, idx);
                } else
                        return NULL;
                p += n;
                if (*p == '.')
                        p++;
        }
        return o;
}

char *ds_json_dup(json_object *o, const char *path) {
        json_object *v = ds_json_at(o, path);
        if (json_object_is_type(v, json_type_string))
                return strndup(json_object_get_string(v), (size_t) json_object_get_string_len(v));
        if (json_object_is_type(v, json_type_int))
                return strdup_printf("%lld", (long long) json_object_get_int64(v));
        return NULL;
}

int ds_json_take(json_object *o, const char *path, const char *source, bool required, char **field) {
        json_object *v = ds_json_at(o, path);
        bool ok = json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int);
        if (!ok) {
                if (required)
                        log_key_errno(LOG_WARNING, 0, source, path, v ? "not a string: ignored" : "missing");
                return 0;
        }
        if (json_object_is_type(v, json_type_string) &&
            strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v)) {
                log_key_errno(LOG_WARNING, 0, source, path, "contains a NUL character: ignored");
                return 0;
        }
        char *s = ds_json_dup(o, path);
        if (!s)
                return -ENOMEM;
        if (*s == 0) {
                free(s);
                if (required)
                        log_key_errno(LOG_WARNING, 0, source, path, "empty");
                return 0;
        }
        free(*field);
        *field = s;
        return 0;
}

/* ---- YAML ---- */

int ds_yaml_scalars(const char *source, const char *buf, size_t len, ds_yaml_cb cb, void *userdata) {
        yaml_parser_t p;
        yaml_event_t ev;
        bool is_map[DS_YAML_DEPTH + 1] = {}; /* the container at each depth (1 = top level) */
        int r = 0, depth = 0;
        long index = -1;
        bool want_key = true, done = false;
        char *key = NULL;

        if (!yaml_parser_initialize(&p))
                return -ENOMEM;
        yaml_parser_set_input_string(&p, (const unsigned char *) buf, len);
        while (!done && r >= 0) {
                if (!yaml_parser_parse(&p, &ev)) {
                        r = log_key_errno(LOG_WARNING, -EINVAL, source, NULL, "not YAML: %s at line %zu",
                                          p.problem ?: "syntax error", p.problem_mark.line + 1);
                        break;
                }
                /* the mapping whose scalars we report: the top level, or each item of a
                 * top-level sequence */
                bool top_seq = depth >= 1 && !is_map[1];
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                case YAML_DOCUMENT_END_EVENT: /* one document only */
                        done = true;
                        break;
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        if (depth >= DS_YAML_DEPTH) {
                                r = log_key_errno(LOG_WARNING, -EINVAL, source, NULL, "nested deeper than %d levels",
                                                  DS_YAML_DEPTH);
                                break;
                        }
                        if (depth == 1 && top_seq && ev.type == YAML_MAPPING_START_EVENT) {
                                index++;
                                want_key = true;
                        } else if ((depth == 1 && !top_seq) || (depth == 2 && top_seq)) {
                                /* a nested value: skipped; the next scalar is a key again */
                                free(key);
                                key = NULL;
                                want_key = true;
                        }
                        depth++;
                        is_map[depth] = ev.type == YAML_MAPPING_START_EVENT;
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (depth > 0)
                                depth--;
                        break;
                case YAML_SCALAR_EVENT: {
                        bool in_map = (depth == 1 && !top_seq) || (depth == 2 && top_seq && is_map[2]);
                        if (!in_map)
                                break;
                        const char *v = (const char *) ev.data.scalar.value;
                        if (strlen(v) != ev.data.scalar.length) {
                                r = log_key_errno(LOG_WARNING, -EINVAL, source, key, "contains a NUL character");
                                break;
                        }
                        if (want_key) {
                                free(key);
                                key = strdup(v);
                                if (!key)
                                        r = -ENOMEM;
                                want_key = false;
                        } else {
                                r = cb(userdata, top_seq ? index : -1, key, v);
                                free(key);
                                key = NULL;
                                want_key = true;
                        }
                        break;
                }
                default:
                        break;
                }
                if (ev.type == YAML_SCALAR_EVENT)
                        secret_wipe(ev.data.scalar.value, ev.data.scalar.length);
                yaml_event_delete(&ev);
        }
        free(key);
        yaml_parser_delete(&p);
        return r;
}

/* ---- text ---- */

int ds_split_lines(const char *buf, size_t len, size_t max, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t n = 0;
        if (!l)
                return -ENOMEM;
        for (const char *p = buf, *end = buf + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t k = nl ? (size_t) (nl - p) : (size_t) (end - p);
                _cleanup_free_ char *line = strndup(p, k);
                if (!line)
                        return -ENOMEM;
                strstrip(line);
                if (*line) {
                        if (++n > max)
                                return -E2BIG;
                        if (strv_extend(&l, line) < 0)
                                return -ENOMEM;
                }
                p += k + 1;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

char *ds_first_word(const char *s) {
        while (isspace((unsigned char) *s))
                s++;
        size_t n = 0;
        while (s[n] && !isspace((unsigned char) s[n]))
                n++;
        return strndup(s, n);
}

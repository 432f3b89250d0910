/* What the metadata providers share: the bounded, retried fetch over the one HTTP client,
 * JSON and YAML access for their parsers, and turning what a platform said into DsResult
 * parts (instance facts < tags/attributes < user-data). Quirks stay in the providers. */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include <json-c/json.h>

#include "datasource.h"

/* Every limit has a name (STYLE: rpki-client). */
#define DS_USER_DATA_MAX (64U * 1024U)  /* a user-data document, like an ini file */
#define DS_DOC_MAX (512U * 1024U)       /* a metadata document (GCE allows 512 KB of attributes) */
#define DS_VALUE_MAX (64U * 1024U)      /* one plain-text value (a tag, a hostname) */
#define DS_TAGS_MAX 256U                /* tag/attribute names we look at */
#define DS_JSON_DEPTH 32
#define DS_YAML_DEPTH 32
#define DS_TAG_PREFIX "kubeboot-"
#define DS_LINK_LOCAL "http://169.254.169.254"

/* The providers, for the registry. */
extern const Datasource ds_ec2, ds_gce, ds_azure, ds_openstack, ds_digitalocean, ds_hetzner;

/* One request of a provider. */
typedef struct DsGet {
        const char *source; /* for messages: "ec2" */
        const char *what;   /* for messages, the key: "user-data" */
        const char *method; /* NULL: GET */
        const char *path;   /* appended to the endpoint: "/latest/user-data" */
        const char *const *headers;
        const char *secret_header; /* a "Name: value" line holding a secret, wiped after use */
        size_t max_body; /* 0: DS_DOC_MAX */
} DsGet;

/* Sends g to endpoint, retrying transient failures (resets, timeouts, 429, 5xx) with the
 * shared backoff until env->backoff's deadline; each try bounded by env->request_timeout_ms,
 * never through a proxy. Returns 0 with a 200 answer in resp (wipe it with
 * ds_response_clear), -ENOENT for 404 and 204 (not logged: absent is often normal), or logs and
 * returns: -ETIMEDOUT (unavailable past the deadline), -EFBIG (answer over max_body),
 * -EACCES (401/403), -EPROTO (another status). */
int ds_get(const DsEnv *env, const char *endpoint, const DsGet *g, HttpResponse *resp);
/* Whether r ends a provider's fetch and fails gather (out of memory, or the service gone
 * past the deadline); any other error costs only the piece of metadata it was about. */
static inline bool ds_fatal(int r) {
        return r == -ENOMEM || r == -ETIMEDOUT;
}
/* Wipes the body (it may hold the token), then releases it. */
void ds_response_clear(HttpResponse *resp);

/* What a platform said, before it becomes DsResult parts. */
typedef struct DsMeta {
        char *node_name;   /* as found; lowercased when emitted */
        char *node_ip;
        char *provider_id;
        KbEntries tags;    /* kubeboot-<key> tags/attributes/meta: key as found, value a secret */
        char *user_data;   /* decoded; a secret */
        size_t user_data_len;
        bool user_data_below_tags; /* GCE's user-data attribute ranks below the kubeboot-* ones */
} DsMeta;

void ds_meta_done(DsMeta *m);
/* Replaces *field with a copy of value (NULL clears it); -ENOMEM. */
int ds_meta_set(char **field, const char *value);
/* Keeps value as the user-data (copied); -ENOMEM. */
int ds_meta_set_user_data(DsMeta *m, const char *value, size_t len);
/* Records name=value when name starts with DS_TAG_PREFIX; other names are ignored. */
int ds_meta_add_tag(DsMeta *m, const char *source, const char *name, const char *value);

/* The parts of m in precedence order: facts (origin facts_origin), one part per tag
 * ("SOURCE:TAG_KIND NAME", e.g. "gce:attribute kubeboot-token"), user-data (ud_origin);
 * with user_data_below_tags, the user-data comes before the tags.
 * Facts that do not validate are warned about and left out. 0 or -ENOMEM. */
int ds_meta_emit(const DsMeta *m, const char *source, const char *facts_origin, const char *tag_kind,
                 const char *ud_origin, DsResult *out);

/* A DsResult part holding a user-data document parsed as a kubeboot ini. Documents meant
 * for other tools (#cloud-config, scripts, MIME) are noted and skipped; malformed ones are
 * warned about (naming the origin and line) and skipped. 0 or -ENOMEM. */
int ds_add_user_data(DsResult *out, const char *origin, const char *buf, size_t len);
/* The same for a document that must be a kubeboot ini (a medium's kubeboot.ini). */
int ds_add_ini(DsResult *out, const char *origin, const char *buf, size_t len);

/* JSON: parses a whole buffer (bounded depth, nothing after the value); on failure logs a
 * warning naming source and returns -EINVAL. */
int ds_json_parse(const char *source, const char *buf, size_t len, json_object **ret);
/* Wipes every string in o (values may be secrets), then releases it. Accepts NULL. */
void ds_json_put(json_object *o);
/* The member at a dotted path ("compute.osProfile.computerName", "a.0.b" indexes arrays). */
json_object *ds_json_at(json_object *o, const char *path);
/* That member as a new string when it is a string or an integer; NULL otherwise. */
char *ds_json_dup(json_object *o, const char *path);
/* Copies a string or integer member into *field; absent or of another type: a warning
 * naming source and path when required, and *field stays. -ENOMEM only. */
int ds_json_take(json_object *o, const char *path, const char *source, bool required, char **field);

/* YAML (Hetzner): for each top-level key of a mapping whose value is a scalar, calls cb.
 * For a top-level sequence of mappings, calls cb with index set (0, 1, ...). Nested values
 * deeper than that are skipped. On a syntax error logs a warning and returns -EINVAL. */
typedef int (*ds_yaml_cb)(void *userdata, long index, const char *key, const char *value);
int ds_yaml_scalars(const char *source, const char *buf, size_t len, ds_yaml_cb cb, void *userdata);

/* Splits a text body into its non-empty lines (at most max); -E2BIG past that. */
int ds_split_lines(const char *buf, size_t len, size_t max, char ***ret);
/* The first white-space separated word of s, stripped (a copy); NULL on OOM. */
char *ds_first_word(const char *s);
/* A config key named by a tag, e.g. "token" for "kubeboot-token": letters, digits,
 * '-', '_' and '.' only (it becomes part of a URL path for some platforms). */
bool ds_tag_name_ok(const char *name);

/* A debug line with the requests a fetch made and its time. */
void ds_log_done(const DsEnv *env, const char *source, unsigned requests_before, unsigned long long start_ms);

#include "kubeconfig-read.h"

#include <libgen.h>
#include <mbedtls/base64.h>
#include <yaml.h>

#include "fileio.h"
#include "paths.h"
#include "secret.h"

Kubeconfig *kubeconfig_free(Kubeconfig *k) {
        if (!k)
                return NULL;
        free(k->context);
        free(k->cluster_name);
        free(k->server);
        free(k->ca_data);
        free(k->ca_file);
        secret_free(k->token);
        free(k->client_cert_data);
        free(k->client_cert_file);
        secret_free_n(k->client_key_data, k->client_key_data_len);
        free(k->client_key_file);
        free(k->user_name);
        free(k->token_file);
        free(k);
        return NULL;
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key) {
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(d, p->key);
                if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
                    memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0)
                        return yaml_document_get_node(d, p->value);
        }
        return NULL;
}

/* The scalar's text, or NULL if absent or not a scalar. */
static const char *scalar(yaml_node_t *n) {
        return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

/* In a list of {name: X, <field>: {...}}, the <field> mapping of the entry named name
 * (or of the first entry when name is NULL). */
static yaml_node_t *named_entry(yaml_document_t *d, yaml_node_t *root, const char *list, const char *field,
                                const char *name, char **ret_name) {
        yaml_node_t *seq = map_get(d, root, list);
        if (!seq || seq->type != YAML_SEQUENCE_NODE)
                return NULL;
        for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
                yaml_node_t *e = yaml_document_get_node(d, *i);
                const char *en = scalar(map_get(d, e, "name"));
                if (name && !streq_ptr(en, name))
                        continue;
                if (ret_name)
                        *ret_name = strdup(en ?: "");
                return map_get(d, e, field);
        }
        return NULL;
}

static int dup_field(yaml_document_t *d, yaml_node_t *map, const char *key, char **ret) {
        const char *s = scalar(map_get(d, map, key));
        if (!s || !*s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int dup_path(yaml_document_t *d, yaml_node_t *map, const char *key, const char *base_dir, char **ret) {
        const char *s = scalar(map_get(d, map, key));
        if (!s || !*s)
                return 0;
        *ret = s[0] == '/' || !base_dir ? strdup(s) : strdup_printf("%s/%s", base_dir, s);
        return *ret ? 0 : -ENOMEM;
}

static int decode_field(yaml_document_t *d, yaml_node_t *map, const char *key, unsigned char **ret, size_t *ret_len,
                        char *why, size_t n) {
        const char *s = scalar(map_get(d, map, key));
        if (!s || !*s)
                return 0;
        size_t len = strlen(s), olen = 0;
        int r = mbedtls_base64_decode(NULL, 0, &olen, (const unsigned char *) s, len);
        if (r != 0 && r != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
                return why_invalid(why, n, "%s is not valid base64", key);
        unsigned char *buf = malloc(olen + 1);
        if (!buf)
                return -ENOMEM;
        if (mbedtls_base64_decode(buf, olen + 1, &olen, (const unsigned char *) s, len) != 0) {
                free(buf);
                return why_invalid(why, n, "%s is not valid base64", key);
        }
        buf[olen] = 0;
        *ret = buf;
        *ret_len = olen;
        return 0;
}

/* libyaml frees what it parsed without wiping it; a kubeconfig may hold a token or key. */
static void wipe_document(yaml_document_t *d) {
        for (yaml_node_t *node = d->nodes.start; node && node < d->nodes.top; node++)
                if (node->type == YAML_SCALAR_NODE)
                        secret_wipe(node->data.scalar.value, node->data.scalar.length);
}

static void wipe_parser(yaml_parser_t *p) {
        if (p->raw_buffer.start)
                secret_wipe(p->raw_buffer.start, (size_t) (p->raw_buffer.end - p->raw_buffer.start));
        if (p->buffer.start)
                secret_wipe(p->buffer.start, (size_t) (p->buffer.end - p->buffer.start));
}

static int extract(yaml_document_t *d, const char *context, const char *base_dir, Kubeconfig *k, char *why,
                   size_t n) {
        yaml_node_t *root = yaml_document_get_root_node(d);
        if (!root || root->type != YAML_MAPPING_NODE)
                return why_invalid(why, n, "not a kubeconfig (the document is not a mapping)");

        const char *ctx_name = context ?: scalar(map_get(d, root, "current-context"));
        yaml_node_t *cluster, *user = NULL;
        if (!isempty(ctx_name)) {
                yaml_node_t *ctx = named_entry(d, root, "contexts", "context", ctx_name, NULL);
                if (!ctx)
                        return why_invalid(why, n, "context \"%s\" not found", ctx_name);
                k->context = strdup(ctx_name);
                const char *cn = scalar(map_get(d, ctx, "cluster"));
                const char *un = scalar(map_get(d, ctx, "user"));
                if (!cn)
                        return why_invalid(why, n, "context \"%s\" names no cluster", ctx_name);
                cluster = named_entry(d, root, "clusters", "cluster", cn, &k->cluster_name);
                if (!cluster)
                        return why_invalid(why, n, "cluster \"%s\" of context \"%s\" not found", cn, ctx_name);
                if (un) {
                        k->user_name = strdup(un);
                        user = named_entry(d, root, "users", "user", un, NULL);
                        if (!user)
                                return why_invalid(why, n, "user \"%s\" of context \"%s\" not found", un, ctx_name);
                }
        } else {
                cluster = named_entry(d, root, "clusters", "cluster", NULL, &k->cluster_name);
                if (!cluster)
                        return why_invalid(why, n, "no cluster in the kubeconfig");
        }

        int r;
        if ((r = dup_field(d, cluster, "server", &k->server)) < 0 ||
            (r = decode_field(d, cluster, "certificate-authority-data", &k->ca_data, &k->ca_data_len, why, n)) < 0 ||
            (r = dup_path(d, cluster, "certificate-authority", base_dir, &k->ca_file)) < 0)
                return r;
        const char *insecure = scalar(map_get(d, cluster, "insecure-skip-tls-verify"));
        k->insecure_skip_tls_verify = insecure && parse_bool(insecure) == 1;
        if (!k->server)
                return why_invalid(why, n, "cluster \"%s\" has no server", k->cluster_name ?: "");
        if (!user)
                return 0;
        const char *tok = scalar(map_get(d, user, "token"));
        if (tok && *tok && !(k->token = secret_strdup(tok)))
                return -ENOMEM;
        if ((r = decode_field(d, user, "client-certificate-data", &k->client_cert_data, &k->client_cert_data_len, why,
                              n)) < 0 ||
            (r = decode_field(d, user, "client-key-data", &k->client_key_data, &k->client_key_data_len, why, n)) < 0 ||
            (r = dup_path(d, user, "client-certificate", base_dir, &k->client_cert_file)) < 0 ||
            (r = dup_path(d, user, "client-key", base_dir, &k->client_key_file)) < 0 ||
            (r = dup_path(d, user, "tokenFile", base_dir, &k->token_file)) < 0)
                return r;
        k->ca_both = k->ca_data && k->ca_file;
        k->cert_both = k->client_cert_data && k->client_cert_file;
        k->key_both = k->client_key_data && k->client_key_file;
        yaml_node_t *plugin = map_get(d, user, "exec");
        if (plugin && plugin->type == YAML_MAPPING_NODE)
                k->unsupported_auth = "exec";
        plugin = map_get(d, user, "auth-provider");
        if (plugin && plugin->type == YAML_MAPPING_NODE)
                k->unsupported_auth = "auth-provider";
        return 0;
}

int kubeconfig_parse(const char *buf, size_t len, const char *context, const char *base_dir, Kubeconfig **ret,
                     char *why, size_t n) {
        yaml_parser_t parser;
        yaml_document_t doc;
        int r;

        if (len > KB_KUBECONFIG_MAX)
                return why_invalid(why, n, "larger than %u bytes", KB_KUBECONFIG_MAX);
        Kubeconfig *k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        if (!yaml_parser_initialize(&parser)) {
                free(k);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *) buf, len);
        if (!yaml_parser_load(&parser, &doc)) {
                r = why_invalid(why, n, "not YAML: %s at line %zu", parser.problem ?: "syntax error",
                         parser.problem_mark.line + 1);
                wipe_parser(&parser);
                yaml_parser_delete(&parser);
                kubeconfig_free(k);
                return r;
        }
        r = extract(&doc, context, base_dir, k, why, n);
        wipe_document(&doc);
        yaml_document_delete(&doc);
        wipe_parser(&parser);
        yaml_parser_delete(&parser);
        if (r < 0) {
                kubeconfig_free(k);
                return r;
        }
        *ret = k;
        return 0;
}

int kubeconfig_load(const char *path, const char *context, Kubeconfig **ret, char *why, size_t n) {
        _cleanup_free_ char *dir = strdup(path);
        char *buf = NULL;
        size_t len = 0;
        if (!dir)
                return -ENOMEM;
        int r = read_file_bounded(path, KB_KUBECONFIG_MAX, &buf, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return why_invalid(why, n, "cannot read %s: %s", path, strerror(-r));
        r = kubeconfig_parse(buf, len, context, dirname(dir), ret, why, n);
        secret_free_n(buf, len + 1);
        return r;
}

#define ADMIN_CONF "/etc/kubernetes/admin.conf"
#define WHY_INNER_MAX 200
#define TOKEN_FILE_MAX 8192U

int kubeconfig_find(const char *path, const char *kubeconfig_env, const char *home, char **ret, char *why,
                    size_t n) {
        if (path) {
                if (access(path, F_OK) < 0) {
                        snprintf(why, n, "%s: %s", path, strerror(errno));
                        return -ENOENT;
                }
                *ret = strdup(path);
                return *ret ? 0 : -ENOMEM;
        }
        if (!isempty(kubeconfig_env)) {
                _cleanup_strv_free_ char **l = NULL;
                if (strv_split(kubeconfig_env, ":", &l) < 0)
                        return -ENOMEM;
                for (char **p = l; p && *p; p++)
                        if (access(*p, F_OK) == 0) {
                                *ret = strdup(*p);
                                return *ret ? 0 : -ENOMEM;
                        }
                snprintf(why, n, "none of the files in $KUBECONFIG (%s) exists", kubeconfig_env);
                return -ENOENT;
        }
        if (access(ADMIN_CONF, R_OK) == 0) {
                *ret = strdup(ADMIN_CONF);
                return *ret ? 0 : -ENOMEM;
        }
        if (isempty(home)) {
                snprintf(why, n, "no --kubeconfig, no $KUBECONFIG, %s is not readable and $HOME is unset", ADMIN_CONF);
                return -ENOENT;
        }
        _cleanup_free_ char *p = strdup_printf("%s/.kube/config", home);
        if (!p)
                return -ENOMEM;
        if (access(p, F_OK) < 0) {
                snprintf(why, n, "no --kubeconfig, no $KUBECONFIG, %s is not readable and %s does not exist",
                         ADMIN_CONF, p);
                return -ENOENT;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

KubeconfigCreds *kubeconfig_creds_free(KubeconfigCreds *c) {
        if (!c)
                return NULL;
        ca_free(c->ca);
        free(c->cert);
        secret_free_n(c->key, c->key_len + 1);
        secret_free(c->token);
        free(c);
        return NULL;
}

/* A copy of data, NUL-terminated (PEM for libcurl and mbedTLS). */
static char *memdup_nul(const void *data, size_t len) {
        char *p = malloc(len + 1);
        if (p) {
                memcpy(p, data, len);
                p[len] = 0;
        }
        return p;
}

/* The bytes of a data field, else of the file it names; -ENOENT/-EINVAL with why. */
static int data_or_file(const unsigned char *data, size_t data_len, const char *file, const char *what, char **ret,
                        size_t *ret_len, char *why, size_t n) {
        if (data) {
                *ret = memdup_nul(data, data_len);
                *ret_len = data_len;
                return *ret ? 0 : -ENOMEM;
        }
        int r = read_file_bounded(file, KB_CA_MAX, ret, ret_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                snprintf(why, n, "cannot read %s %s: %s", what, file, strerror(-r));
                return r == -ENOENT ? r : -EINVAL;
        }
        return 0;
}

static int load_ca(const Kubeconfig *k, KubeconfigCreds *c, char *why, size_t n) {
        _cleanup_free_ char *pem = NULL;
        size_t len = 0;
        if (!k->ca_data && !k->ca_file)
                return 0;
        int r = data_or_file(k->ca_data, k->ca_data_len, k->ca_file, "certificate-authority", &pem, &len, why, n);
        if (r < 0)
                return r;
        r = ca_parse(pem, len, &c->ca, why, n);
        if (r == -EBADMSG) {
                char inner[WHY_INNER_MAX];
                snprintf(inner, sizeof inner, "%s", why);
                return why_invalid(why, n, "certificate-authority%s of cluster \"%s\": %s", k->ca_data ? "-data" : "",
                            k->cluster_name ?: "", inner);
        }
        return r;
}

static int load_token(const Kubeconfig *k, KubeconfigCreds *c, char *why, size_t n) {
        if (k->token) {
                c->token = secret_strdup(k->token);
                return c->token ? 0 : -ENOMEM;
        }
        if (!k->token_file)
                return 0;
        char *buf = NULL;
        size_t len = 0;
        int r = read_file_bounded(k->token_file, TOKEN_FILE_MAX, &buf, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                snprintf(why, n, "cannot read tokenFile %s: %s", k->token_file, strerror(-r));
                return r == -ENOENT ? r : -EINVAL;
        }
        /* client-go trims the file's white space */
        c->token = secret_strdup(strstrip(buf));
        secret_free_n(buf, len + 1);
        if (!c->token)
                return -ENOMEM;
        if (!*c->token)
                return why_invalid(why, n, "tokenFile %s is empty", k->token_file);
        return 0;
}

int kubeconfig_creds_load(const Kubeconfig *k, KubeconfigCreds **ret, char *why, size_t n) {
        const char *user = k->user_name ?: "(none)";
        int r;

        /* client-go's validation (clientcmd/validation.go) refuses these */
        if (k->ca_both)
                return why_invalid(why, n, "certificate-authority-data and certificate-authority are both set for cluster \"%s\"",
                            k->cluster_name ?: "");
        if (k->cert_both || k->key_both)
                return why_invalid(why, n, "client-%s-data and client-%s are both set for user \"%s\"",
                            k->cert_both ? "certificate" : "key", k->cert_both ? "certificate" : "key", user);
        if (k->unsupported_auth)
                return why_invalid(why, n, "user \"%s\" authenticates through an %s plugin, which kubeboot does not run: use "
                            "a kubeconfig with a client certificate or a token", user, k->unsupported_auth);
        bool has_cert = k->client_cert_data || k->client_cert_file;
        bool has_key = k->client_key_data || k->client_key_file;
        if (has_cert != has_key)
                return why_invalid(why, n, "user \"%s\" has a client %s but no client %s", user, has_cert ? "certificate" : "key",
                            has_cert ? "key" : "certificate");

        KubeconfigCreds *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        r = load_ca(k, c, why, n);
        if (r >= 0 && has_cert)
                r = data_or_file(k->client_cert_data, k->client_cert_data_len, k->client_cert_file,
                                 "client-certificate", &c->cert, &c->cert_len, why, n);
        if (r >= 0 && has_key)
                r = data_or_file(k->client_key_data, k->client_key_data_len, k->client_key_file, "client-key", &c->key,
                                 &c->key_len, why, n);
        if (r >= 0)
                r = load_token(k, c, why, n);
        if (r >= 0 && !c->cert && !c->token)
                r = why_invalid(why, n, "user \"%s\" has neither a client certificate nor a token", user);
        if (r < 0) {
                kubeconfig_creds_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

ApiAuth kubeconfig_creds_auth(const KubeconfigCreds *c, const KbCA *ca) {
        return (ApiAuth){
                .ca = ca ?: c->ca,
                .bearer = c->token,
                .cert = c->cert,
                .cert_len = c->cert_len,
                .key = c->key,
                .key_len = c->key_len,
        };
}

#include "token-print.h"

#include <mbedtls/base64.h>
#include <stdarg.h>

#include "log.h"
#include "secret.h"

static const char *const format_names[_TOKEN_FORMAT_MAX] = {
        [TOKEN_FORMAT_CMDLINE] = "cmdline",
        [TOKEN_FORMAT_INI] = "ini",
        [TOKEN_FORMAT_BUTANE] = "butane",
        [TOKEN_FORMAT_CLOUD_INIT] = "cloud-init",
};

TokenFormat token_format_from_string(const char *s) {
        for (int i = 0; i < _TOKEN_FORMAT_MAX; i++)
                if (streq(s, format_names[i]))
                        return (TokenFormat) i;
        return _TOKEN_FORMAT_INVALID;
}

/* printf into an exactly sized buffer: no growth that would leave copies of the secret
 * behind in freed memory. */
static char *secret_printf(const char *fmt, ...) _printf_(1, 2);
static char *secret_printf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int len = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (len < 0)
                return NULL;
        char *s = malloc((size_t) len + 1);
        if (!s)
                return NULL;
        va_start(ap, fmt);
        vsnprintf(s, (size_t) len + 1, fmt, ap);
        va_end(ap);
        return s;
}

/* text with every line indented by n spaces (for YAML literal blocks). */
static char *indent(const char *text, unsigned n) {
        size_t lines = 0, len = strlen(text);
        for (const char *p = text; *p; p++)
                lines += *p == '\n';
        char *out = malloc(len + (lines + 1) * n + 1), *o = out;
        if (!out)
                return NULL;
        for (const char *p = text; *p;) {
                memset(o, ' ', n);
                o += n;
                const char *e = strchrnul(p, '\n');
                memcpy(o, p, (size_t) (e - p));
                o += e - p;
                if (*e == '\n')
                        *o++ = '\n';
                p = *e ? e + 1 : e;
        }
        *o = 0;
        return out;
}

/* The CA for a kernel command line: base64 of DER for one certificate (shortest), of
 * the PEM for a chain. */
static char *ca_base64(const KbCA *ca) {
        const unsigned char *data = ca->chain.next && ca->chain.next->raw.p ? (const unsigned char *) ca->pem
                                                                             : ca->chain.raw.p;
        size_t len = data == ca->chain.raw.p ? ca->chain.raw.len : ca->pem_len, olen = 0;
        (void) mbedtls_base64_encode(NULL, 0, &olen, data, len);
        char *b = malloc(olen + 1);
        if (b && mbedtls_base64_encode((unsigned char *) b, olen + 1, &olen, data, len) != 0) {
                free(b);
                return NULL;
        }
        if (b)
                b[olen] = 0;
        return b;
}

static char *render_ini(const JoinMaterial *m) {
        char exp[32] = "never";
        if (m->expires)
                rfc3339_format(m->expires, exp);
        return secret_printf("# kubeboot join material, token %.6s (expires: %s); keep this file mode 0600\n"
                             "%s"
                             "[join]\n"
                             "token = %s\n"
                             "server = %s\n"
                             "ca-cert-hash = %s\n"
                             "%s",
                             m->token, exp,
                             m->ca ? "# no signed cluster-info for this token: place the cluster CA at " TOKEN_NODE_CA
                                     "\n"
                                   : "",
                             m->token, m->server, m->pin, m->ca ? "ca-cert = " TOKEN_NODE_CA "\n" : "");
}

static char *render_cmdline(const JoinMaterial *m) {
        _cleanup_free_ char *b64 = m->ca ? ca_base64(m->ca) : NULL;
        if (m->ca && !b64)
                return NULL;
        return secret_printf("kubeboot.token=%s kubeboot.server=%s kubeboot.ca-cert-hash=%s%s%s\n", m->token,
                             m->server, m->pin, b64 ? " kubeboot.ca-cert=" : "", b64 ?: "");
}

static char *render_yaml(TokenFormat format, const JoinMaterial *m) {
        _cleanup_(secret_freep) char *ini = render_ini(m), *ini_block = NULL;
        _cleanup_free_ char *ca_block = NULL;
        if (!ini)
                return NULL;
        bool butane = format == TOKEN_FORMAT_BUTANE;
        ini_block = indent(ini, butane ? 10 : 6);
        if (!ini_block || (m->ca && !(ca_block = indent(m->ca->pem, butane ? 10 : 6))))
                return NULL;
        if (butane)
                /* Flatcar's variant; Fedora CoreOS takes the same files under variant: fcos */
                return secret_printf("variant: flatcar\n"
                                     "version: 1.0.0\n"
                                     "storage:\n"
                                     "  files:\n"
                                     "    - path: " TOKEN_NODE_INI "\n"
                                     "      mode: 0600\n"
                                     "      contents:\n"
                                     "        inline: |\n"
                                     "%s"
                                     "%s%s",
                                     ini_block,
                                     ca_block ? "    - path: " TOKEN_NODE_CA "\n"
                                                "      mode: 0644\n"
                                                "      contents:\n"
                                                "        inline: |\n"
                                              : "",
                                     ca_block ?: "");
        return secret_printf("#cloud-config\n"
                             "write_files:\n"
                             "  - path: " TOKEN_NODE_INI "\n"
                             "    owner: root:root\n"
                             "    permissions: '0600'\n"
                             "    content: |\n"
                             "%s"
                             "%s%s",
                             ini_block,
                             ca_block ? "  - path: " TOKEN_NODE_CA "\n"
                                        "    owner: root:root\n"
                                        "    permissions: '0644'\n"
                                        "    content: |\n"
                                      : "",
                             ca_block ?: "");
}

int token_material_render(TokenFormat format, const JoinMaterial *m, char **ret) {
        char *s;
        switch (format) {
        case TOKEN_FORMAT_CMDLINE:
                s = render_cmdline(m);
                break;
        case TOKEN_FORMAT_INI:
                s = render_ini(m);
                break;
        case TOKEN_FORMAT_BUTANE:
        case TOKEN_FORMAT_CLOUD_INIT:
                s = render_yaml(format, m);
                break;
        default:
                return -EINVAL;
        }
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* ---- the list ---- */

enum { COL_TOKEN, COL_TTL, COL_EXPIRES, COL_USAGES, COL_DESCRIPTION, COL_GROUPS, _COL_MAX };
static const char *const col_names[_COL_MAX] = { "TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS" };
/* kubeadm's tabwriter: minimum width 10, padding 3 */
#define COL_MIN 10
#define COL_PAD 3

typedef struct Row {
        char *cells[_COL_MAX];
} Row;

/* A table cell shows no control characters (a Secret written by someone else may hold any). */
static char *cell(const char *s, const char *empty) {
        char *c = strdup(isempty(s) ? empty : s);
        for (char *p = c; p && *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return c;
}

static json_object *split_json(const char *s) {
        json_object *a = json_object_new_array();
        _cleanup_strv_free_ char **l = NULL;
        if (s && strv_split(s, ",", &l) >= 0)
                for (char **p = l; *p; p++)
                        json_object_array_add(a, json_object_new_string(*p));
        return a;
}

static json_object *token_json(const TokenInfo *t, time_t now) {
        char masked[TOKEN_LEN + 1];
        snprintf(masked, sizeof masked, "%s.****************", t->id);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(t->id));
        json_object_object_add(o, "token", json_object_new_string(masked));
        json_object_object_add(o, "expires", t->expiration ? json_object_new_string(t->expiration) : NULL);
        json_object_object_add(o, "ttlSeconds",
                               t->expiration ? json_object_new_int64(t->expires ? (int64_t) (t->expires - now) : 0)
                                             : NULL);
        json_object_object_add(o, "expired", json_object_new_boolean(t->expiration && t->expires <= now));
        json_object_object_add(o, "usages", split_json(t->usages));
        json_object_object_add(o, "description", t->description ? json_object_new_string(t->description) : NULL);
        json_object_object_add(o, "groups", split_json(t->groups));
        return o;
}

static int row_of(const TokenInfo *t, time_t now, Row *row) {
        char masked[TOKEN_LEN + 1], ttl[32] = "<forever>";
        snprintf(masked, sizeof masked, "%s.****************", t->id);
        if (t->expiration)
                short_human_duration(t->expires ? (long long) (t->expires - now) : -2, ttl);
        row->cells[COL_TOKEN] = strdup(masked);
        row->cells[COL_TTL] = strdup(ttl);
        row->cells[COL_EXPIRES] = cell(t->expiration, "<never>");
        row->cells[COL_USAGES] = cell(t->usages, "<none>");
        row->cells[COL_DESCRIPTION] = cell(t->description, "<none>");
        row->cells[COL_GROUPS] = cell(t->groups, "<none>");
        for (int c = 0; c < _COL_MAX; c++)
                if (!row->cells[c])
                        return -ENOMEM;
        return 0;
}

static void print_table(FILE *f, Row *rows, size_t n) {
        size_t w[_COL_MAX];
        for (int c = 0; c < _COL_MAX; c++) {
                w[c] = strlen(col_names[c]);
                for (size_t i = 0; i < n; i++)
                        if (strlen(rows[i].cells[c]) > w[c])
                                w[c] = strlen(rows[i].cells[c]);
                w[c] = w[c] + COL_PAD < COL_MIN ? COL_MIN : w[c] + COL_PAD;
        }
        for (size_t i = 0; i <= n; i++)
                for (int c = 0; c < _COL_MAX; c++) {
                        const char *s = i == 0 ? col_names[c] : rows[i - 1].cells[c];
                        if (c + 1 < _COL_MAX)
                                fprintf(f, "%-*s", (int) w[c], s);
                        else
                                fprintf(f, "%s\n", s);
                }
}

int token_print_list(FILE *f, json_object *items, time_t now, bool json) {
        size_t n = json_object_array_length(items), count = 0;
        Row *rows = calloc(n + 1, sizeof *rows);
        json_object *array = json ? json_object_new_array() : NULL;
        int r = 0;

        if (!rows || (json && !array)) {
                free(rows);
                json_object_put(array);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                TokenInfo t;
                char why[256];
                r = token_info_from_secret(json_object_array_get_idx(items, i), &t, why, sizeof why);
                if (r == -EINVAL) {
                        log_warning("skipping a Secret that is no valid bootstrap token: %s", why);
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                if (json)
                        json_object_array_add(array, token_json(&t, now));
                else
                        r = row_of(&t, now, &rows[count++]);
                token_info_done(&t);
        }
        if (r >= 0) {
                if (json)
                        fprintf(f, "%s\n",
                                json_object_to_json_string_ext(array, JSON_C_TO_STRING_PRETTY |
                                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
                else if (count > 0)
                        print_table(f, rows, count);
        }
        for (size_t i = 0; i < count; i++)
                for (int c = 0; c < _COL_MAX; c++)
                        free(rows[i].cells[c]);
        free(rows);
        json_object_put(array);
        return r;
}

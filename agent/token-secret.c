#include "token-secret.h"

#include <ctype.h>
#include <mbedtls/base64.h>
#include <sys/random.h>

#include "api.h"
#include "secret.h"

#define TOKEN_CHARS "0123456789abcdefghijklmnopqrstuvwxyz"
#define GROUP_PREFIX "system:bootstrappers:"
#define GROUP_REST_MAX 256 /* [a-z0-9:-]{0,255}[a-z0-9] */
#define USAGE_KEY_PREFIX "usage-bootstrap-"

int token_generate(char ret[TOKEN_LEN + 1]) {
        /* 252 = 7 * 36: bytes at or above it are redrawn, so that every character is
         * equally likely (a plain % 36 would favour the first 4) */
        unsigned char buf[64];
        size_t have = 0, used = 0;
        char out[TOKEN_LEN + 1];

        for (size_t i = 0; i < TOKEN_LEN;) {
                if (i == TOKEN_ID_LEN) {
                        out[i++] = '.';
                        continue;
                }
                if (used >= have) {
                        ssize_t k = getrandom(buf, sizeof buf, 0);
                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                secret_wipe(out, sizeof out);
                                return negative_errno();
                        }
                        have = (size_t) k;
                        used = 0;
                }
                unsigned char b = buf[used++];
                if (b < 252)
                        out[i++] = TOKEN_CHARS[b % 36];
        }
        out[TOKEN_LEN] = 0;
        memcpy(ret, out, sizeof out);
        secret_wipe(out, sizeof out);
        secret_wipe(buf, sizeof buf);
        return 0;
}

static bool all_of(const char *s, size_t len, const char *set) {
        for (size_t i = 0; i < len; i++)
                if (!s[i] || !strchr(set, s[i]))
                        return false;
        return true;
}

bool token_id_valid(const char *s) {
        return strlen(s) == TOKEN_ID_LEN && all_of(s, TOKEN_ID_LEN, TOKEN_CHARS);
}

int token_parse_usages(const char *list, unsigned *ret, char *why, size_t n) {
        _cleanup_strv_free_ char **l = NULL;
        unsigned u = 0;

        if (strv_split(list, ",", &l) < 0)
                return -ENOMEM;
        for (char **p = l; *p; p++) {
                unsigned bit = streq(*p, "authentication") ? TOKEN_USAGE_AUTHENTICATION
                               : streq(*p, "signing")      ? TOKEN_USAGE_SIGNING
                                                           : 0;
                if (!bit)
                        return why_invalid(why, n, "unknown usage \"%s\" (known: authentication, signing)", *p);
                if (u & bit)
                        return why_invalid(why, n, "usage \"%s\" given twice", *p);
                u |= bit;
        }
        if (!u)
                return why_invalid(why, n, "no usage given (authentication, signing or both)");
        *ret = u;
        return 0;
}

static bool group_valid(const char *g) {
        const char *rest = startswith(g, GROUP_PREFIX);
        if (!rest)
                return false;
        size_t len = strlen(rest);
        return len >= 1 && len <= GROUP_REST_MAX && all_of(rest, len - 1, "abcdefghijklmnopqrstuvwxyz0123456789:-") &&
               all_of(rest + len - 1, 1, TOKEN_CHARS);
}

int token_parse_groups(const char *list, char ***ret, char *why, size_t n) {
        _cleanup_strv_free_ char **l = NULL, **out = NULL;

        if (strv_split(list, ",", &l) < 0)
                return -ENOMEM;
        for (char **p = l; *p; p++) {
                if (!group_valid(*p))
                        return why_invalid(why, n,
                                    "\"%.300s\" is not a bootstrap token group: it must match "
                                    "^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$",
                                    *p);
                /* the authenticator de-duplicates too (cluster-bootstrap GetGroups) */
                if (!strv_contains(out, *p) && strv_extend(&out, *p) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

int token_validate_description(const char *s, char *why, size_t n) {
        if (strlen(s) > TOKEN_DESCRIPTION_MAX)
                return why_invalid(why, n, "longer than %u bytes", TOKEN_DESCRIPTION_MAX);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return why_invalid(why, n, "contains a control character");
        return 0;
}

/* base64 of s as a json string; a secret's copy is wiped here, json_wipe_strings()
 * wipes the json one. */
static json_object *b64_string(const char *s) {
        size_t len = strlen(s), olen = 0;
        (void) mbedtls_base64_encode(NULL, 0, &olen, (const unsigned char *) s, len);
        char *b = malloc(olen + 1);
        if (!b)
                return NULL;
        if (mbedtls_base64_encode((unsigned char *) b, olen + 1, &olen, (const unsigned char *) s, len) != 0) {
                free(b);
                return NULL;
        }
        json_object *o = json_object_new_string_len(b, (int) olen);
        secret_free_n(b, olen + 1);
        return o;
}

json_object *token_secret_new(const char *token, const TokenSpec *spec) {
        char id[TOKEN_ID_LEN + 1], name[64], exp[32];
        _cleanup_free_ char *groups = NULL;

        memcpy(id, token, TOKEN_ID_LEN);
        id[TOKEN_ID_LEN] = 0;
        snprintf(name, sizeof name, TOKEN_SECRET_NAME_PREFIX "%s", id);

        json_object *o = json_object_new_object(), *meta = json_object_new_object(), *labels = json_object_new_object(),
                    *data = json_object_new_object();
        if (!o || !meta || !labels || !data) {
                json_object_put(o);
                json_object_put(meta);
                json_object_put(labels);
                json_object_put(data);
                return NULL;
        }
        json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
        json_object_object_add(o, "kind", json_object_new_string("Secret"));
        json_object_object_add(meta, "name", json_object_new_string(name));
        json_object_object_add(meta, "namespace", json_object_new_string("kube-system"));
        json_object_object_add(labels, TOKEN_MANAGED_BY_KEY, json_object_new_string(TOKEN_MANAGED_BY_VALUE));
        json_object_object_add(meta, "labels", labels);
        json_object_object_add(o, "metadata", meta);
        json_object_object_add(o, "type", json_object_new_string(TOKEN_SECRET_TYPE));

        /* encodeTokenSecretData: the keys the authenticator and the signer read */
        char secret[TOKEN_SECRET_LEN + 1];
        memcpy(secret, token + TOKEN_ID_LEN + 1, TOKEN_SECRET_LEN);
        secret[TOKEN_SECRET_LEN] = 0;
        json_object_object_add(data, "token-id", b64_string(id));
        json_object_object_add(data, "token-secret", b64_string(secret));
        secret_wipe(secret, sizeof secret);
        if (!isempty(spec->description))
                json_object_object_add(data, "description", b64_string(spec->description));
        if (spec->expires) {
                rfc3339_format(spec->expires, exp);
                json_object_object_add(data, "expiration", b64_string(exp));
        }
        if (spec->usages & TOKEN_USAGE_SIGNING)
                json_object_object_add(data, USAGE_KEY_PREFIX "signing", b64_string("true"));
        if (spec->usages & TOKEN_USAGE_AUTHENTICATION)
                json_object_object_add(data, USAGE_KEY_PREFIX "authentication", b64_string("true"));
        if (spec->groups && spec->groups[0]) {
                size_t len = 1;
                for (char **g = spec->groups; *g; g++)
                        len += strlen(*g) + 1;
                groups = calloc(1, len);
                if (!groups) {
                        json_wipe_strings(o);
                        json_object_put(o);
                        return NULL;
                }
                for (char **g = spec->groups; *g; g++) {
                        if (g != spec->groups)
                                strcat(groups, ",");
                        strcat(groups, *g);
                }
                json_object_object_add(data, "auth-extra-groups", b64_string(groups));
        }
        json_object_object_add(o, "data", data);
        return o;
}

/* A data field of a Secret, decoded; NULL if absent or not base64. */
static char *secret_data(json_object *secret, const char *key) {
        const char *b = json_get_string(secret, "data", key, NULL);
        if (!b)
                return NULL;
        size_t len = strlen(b), olen = 0;
        int r = mbedtls_base64_decode(NULL, 0, &olen, (const unsigned char *) b, len);
        if (r != 0 && r != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
                return NULL;
        char *out = malloc(olen + 1);
        if (!out)
                return NULL;
        if (mbedtls_base64_decode((unsigned char *) out, olen + 1, &olen, (const unsigned char *) b, len) != 0) {
                free(out);
                return NULL;
        }
        out[olen] = 0;
        return out;
}

static int strcmp_p(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The usages set to "true", sorted and joined, as kubeadm's list prints them. */
static char *usages_of(json_object *secret) {
        json_object *data = json_get(secret, "data", NULL);
        _cleanup_strv_free_ char **l = NULL;
        size_t len = 1;

        if (data && json_object_is_type(data, json_type_object)) {
                json_object_object_foreach(data, k, v) {
                        (void) v;
                        const char *u = startswith(k, USAGE_KEY_PREFIX);
                        if (!u)
                                continue;
                        _cleanup_free_ char *val = secret_data(secret, k);
                        if (streq_ptr(val, "true")) {
                                if (strv_extend(&l, u) < 0)
                                        return NULL;
                                len += strlen(u) + 1;
                        }
                }
        }
        char *out = calloc(1, len);
        if (!out)
                return NULL;
        size_t count = strv_length(l);
        if (count)
                qsort(l, count, sizeof *l, strcmp_p);
        for (size_t i = 0; i < count; i++) {
                if (i)
                        strcat(out, ",");
                strcat(out, l[i]);
        }
        return out;
}

int token_info_from_secret(json_object *secret, TokenInfo *ret, char *why, size_t n) {
        const char *name = json_get_string(secret, "metadata", "name", NULL) ?: "";
        const char *id = startswith(name, TOKEN_SECRET_NAME_PREFIX);
        _cleanup_free_ char *data_id = secret_data(secret, "token-id");
        TokenInfo t = {};

        if (!streq_ptr(json_get_string(secret, "type", NULL), TOKEN_SECRET_TYPE))
                return why_invalid(why, n, "%s is not of type " TOKEN_SECRET_TYPE, name);
        if (!id || !token_id_valid(id) || !streq_ptr(data_id, id))
                return why_invalid(why, n, "%s: its name and token-id do not make a valid token id", name);
        /* a Secret the authenticator would refuse: no secret of the right form */
        _cleanup_free_ char *sec = secret_data(secret, "token-secret");
        bool sec_ok = sec && strlen(sec) == TOKEN_SECRET_LEN && all_of(sec, TOKEN_SECRET_LEN, TOKEN_CHARS);
        if (sec)
                secret_wipe(sec, strlen(sec));
        if (!sec_ok)
                return why_invalid(why, n, "%s: token-secret is missing or malformed", name);

        memcpy(t.id, id, TOKEN_ID_LEN + 1);
        t.expiration = secret_data(secret, "expiration");
        if (t.expiration && rfc3339_parse(t.expiration, &t.expires) < 0)
                t.expires = 0;
        t.usages = usages_of(secret);
        t.description = secret_data(secret, "description");
        t.groups = secret_data(secret, "auth-extra-groups");
        if (!t.usages) {
                token_info_done(&t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

void token_info_done(TokenInfo *t) {
        free(t->expiration);
        free(t->usages);
        free(t->description);
        free(t->groups);
        *t = (TokenInfo){};
}

static bool digits(const char *s, size_t n, int *ret) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

int rfc3339_parse(const char *s, time_t *ret) {
        struct tm tm = {};
        int y, mo, d, h, mi, se, oh = 0, om = 0;

        /* 2006-01-02T15:04:05[.frac](Z|±hh:mm) */
        if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
            !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
            !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
                return -EINVAL;
        const char *p = s + 19;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                while (isdigit((unsigned char) *p))
                        p++;
        }
        int sign = 0;
        if (streq(p, "Z"))
                sign = 0;
        else if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) && p[3] == ':' &&
                 digits(p + 4, 2, &om) && oh < 24 && om < 60)
                sign = *p == '+' ? 1 : -1;
        else
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
                return -EINVAL;
        tm = (struct tm){ .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = se };
        time_t t = timegm(&tm);
        if (t == (time_t) -1 || tm.tm_mday != d) /* timegm normalises Feb 30 to March */
                return -EINVAL;
        *ret = t - sign * (oh * 3600 + om * 60);
        return 0;
}

void short_human_duration(long long s, char buf[32]) {
        /* two seconds of slack for clocks that differ a little, as upstream allows */
        if (s < -1)
                snprintf(buf, 32, "<invalid>");
        else if (s < 0)
                snprintf(buf, 32, "0s");
        else if (s < 60)
                snprintf(buf, 32, "%llds", s);
        else if (s < 3600)
                snprintf(buf, 32, "%lldm", s / 60);
        else if (s < 24 * 3600)
                snprintf(buf, 32, "%lldh", s / 3600);
        else if (s < 365LL * 24 * 3600)
                snprintf(buf, 32, "%lldd", s / (24 * 3600));
        else
                snprintf(buf, 32, "%lldy", s / (365LL * 24 * 3600));
}

void json_wipe_strings(json_object *o) {
        switch (json_object_get_type(o)) {
        case json_type_string:
                /* json-c hands out its own buffer; the object is ours and about to go */
                secret_wipe((char *) json_object_get_string(o), (size_t) json_object_get_string_len(o));
                break;
        case json_type_object: {
                json_object_object_foreach(o, k, v) {
                        (void) k;
                        json_wipe_strings(v);
                }
                break;
        }
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        json_wipe_strings(json_object_array_get_idx(o, i));
                break;
        default:
                break;
        }
}

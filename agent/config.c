#include "config.h"

#include <ctype.h>

#include "log.h"
#include "secret.h"
#include "validate.h"

static const char *const datasource_choices[] = { "auto",      "none",         "ec2",     "gce", "azure",
                                                  "openstack", "digitalocean", "hetzner", NULL };
static const char *const cgroup_driver_choices[] = { "systemd", "cgroupfs", NULL };

const KbKeyInfo kb_keys[_KB_KEY_MAX] = {
#define X(id, n, sec, t, d, v, desc) \
        [KB_##id] = { .name = n, .section = sec, .type = t, .def = d, .validate = v, .description = desc },
        KB_KEYS(X)
#undef X
};

/* Per-key details the X-macro table keeps out of the way. */
static const KbKeyInfo *key_info(KbKey k, KbKeyInfo *buf) {
        *buf = kb_keys[k];
        switch (k) {
        case KB_DATASOURCE:
                buf->choices = datasource_choices;
                break;
        case KB_CGROUP_DRIVER:
                buf->choices = cgroup_driver_choices;
                break;
        case KB_MAX_PODS:
                buf->min = 1;
                buf->max = 2147483647UL; /* an int32 in KubeletConfiguration */
                break;
        default:
                break;
        }
        return buf;
}

static const char *section_name(KbSection s) {
        return s == KB_SECTION_JOIN ? "join" : "kubelet";
}

void entries_clear(KbEntries *es) {
        for (size_t i = 0; i < es->n; i++) {
                free(es->e[i].section);
                free(es->e[i].key);
                secret_free(es->e[i].value);
        }
        free(es->e);
        free(es->origin);
        *es = (KbEntries){};
}

int entries_set_origin(KbEntries *es, const char *origin) {
        char *o = strdup(origin);
        if (!o)
                return -ENOMEM;
        free(es->origin);
        es->origin = o;
        return 0;
}

int entries_add(KbEntries *es, const char *section, const char *key, const char *value, unsigned line) {
        KbEntry *n = realloc(es->e, (es->n + 1) * sizeof(KbEntry));
        if (!n)
                return -ENOMEM;
        es->e = n;
        KbEntry *e = &es->e[es->n];
        *e = (KbEntry){ .line = line };
        e->section = section ? strdup(section) : NULL;
        e->key = strdup(key);
        e->value = strdup(value ?: "");
        if ((section && !e->section) || !e->key || !e->value) {
                free(e->section);
                free(e->key);
                secret_free(e->value);
                return -ENOMEM;
        }
        es->n++;
        return 0;
}

static void value_clear(KbValue *v, KbType t) {
        if (t == KB_TYPE_SECRET)
                secret_free(v->str);
        else
                free(v->str);
        strv_free(v->list);
        free(v->source);
        free(v->origin);
        *v = (KbValue){};
}

void config_done(KbConfig *c) {
        for (KbKey k = 0; k < _KB_KEY_MAX; k++)
                value_clear(&c->v[k], kb_keys[k].type);
        for (size_t i = 0; i < c->n_ds; i++) {
                free(c->ds[i].section);
                free(c->ds[i].key);
                free(c->ds[i].value);
                free(c->ds[i].source);
        }
        free(c->ds);
        strv_free(c->token_sources);
        *c = (KbConfig){};
}

int config_key_lookup(const char *name) {
        for (KbKey k = 0; k < _KB_KEY_MAX; k++) {
                const char *a = kb_keys[k].name, *b = name;
                /* systemd's rule for cmdline keys, applied everywhere: '-' and '_' are one */
                while (*a && (*a == *b || (*a == '-' && *b == '_')))
                        a++, b++;
                if (!*a && !*b)
                        return (int) k;
        }
        return -1;
}

/* Parses and validates one (non-list) value into v; logs nothing. */
static int parse_value(const KbKeyInfo *ki, const char *s, KbValue *v, char *why, size_t n) {
        int r;
        switch (ki->type) {
        case KB_TYPE_STRING:
        case KB_TYPE_SECRET:
                if (ki->validate && (r = ki->validate(s, why, n)) < 0)
                        return r;
                v->str = strdup(s);
                return v->str ? 0 : -ENOMEM;
        case KB_TYPE_ENUM:
                for (const char *const *ch = ki->choices; *ch; ch++)
                        if (streq(*ch, s)) {
                                v->str = strdup(s);
                                return v->str ? 0 : -ENOMEM;
                        }
                {
                        size_t off = (size_t) snprintf(why, n, "\"%s\" is not one of:", s);
                        for (const char *const *ch = ki->choices; *ch && off < n; ch++)
                                off += (size_t) snprintf(why + off, n - off, " %s", *ch);
                }
                return -EINVAL;
        case KB_TYPE_BOOL:
                r = parse_bool(s);
                if (r < 0) {
                        snprintf(why, n, "\"%s\" is not a boolean (true or false)", s);
                        return -EINVAL;
                }
                v->b = r;
                return 0;
        case KB_TYPE_UINT: {
                unsigned long u;
                if (parse_uint(s, ki->min, ki->max, &u) < 0) {
                        snprintf(why, n, "\"%s\" is not a whole number from %lu to %lu", s, ki->min, ki->max);
                        return -EINVAL;
                }
                v->u = u;
                return 0;
        }
        case KB_TYPE_DURATION: {
                unsigned long long ms;
                if (parse_duration_ms(s, &ms) < 0 || ms == 0 || ms > 24ULL * 3600 * 1000) {
                        snprintf(why, n, "\"%s\" is not a duration from 1s to 24h (e.g. 90s, 5m, 1h30m)", s);
                        return -EINVAL;
                }
                v->u = ms;
                return 0;
        }
        case KB_TYPE_LIST:
                break;
        }
        return -EINVAL;
}

/* Splits a comma list, validating each item, appending to *list. */
static int parse_list(const KbKeyInfo *ki, const char *s, char ***list, char *why, size_t n) {
        _cleanup_strv_free_ char **items = NULL;
        int r = strv_split(s, ",", &items);
        if (r < 0)
                return r;
        if (!items[0]) {
                snprintf(why, n, "empty list");
                return -EINVAL;
        }
        for (char **i = items; *i; i++) {
                strstrip(*i);
                if (ki->validate && (r = ki->validate(*i, why, n)) < 0)
                        return r;
                if (!strv_contains(*list, *i) && (r = strv_extend(list, *i)) < 0)
                        return r;
        }
        return 0;
}

static int ds_setting_add(KbConfig *c, const char *section, const char *key, const char *value, const char *source) {
        KbDsSetting *n = realloc(c->ds, (c->n_ds + 1) * sizeof(KbDsSetting));
        if (!n)
                return -ENOMEM;
        c->ds = n;
        KbDsSetting *d = &c->ds[c->n_ds];
        *d = (KbDsSetting){ strdup(section), strdup(key), strdup(value), strdup(source) };
        if (!d->section || !d->key || !d->value || !d->source) {
                free(d->section);
                free(d->key);
                free(d->value);
                free(d->source);
                return -ENOMEM;
        }
        c->n_ds++;
        return 0;
}

const char *config_ds_get(const KbConfig *c, const char *ds, const char *key, const char **ret_source) {
        /* the last one set wins, as with every other key */
        for (size_t i = c->n_ds; i > 0; i--) {
                const KbDsSetting *d = &c->ds[i - 1];
                const char *name = startswith(d->section, "datasource.");
                if (name && streq(name, ds) && streq(d->key, key)) {
                        if (ret_source)
                                *ret_source = d->source;
                        return d->value;
                }
        }
        return NULL;
}

int config_set(KbConfig *c, const char *origin, const char *source, const char *section, const char *key,
               const char *value) {
        char why[WHY_MAX] = "";
        KbKeyInfo kib;
        int r;

        if (section && startswith(section, "datasource.")) {
                r = ds_setting_add(c, section, key, value, source);
                return r < 0 ? log_error_errno(r, "Out of memory") : 0;
        }
        if (section && !streq(section, "join") && !streq(section, "kubelet")) {
                log_key_errno(LOG_WARNING, 0, source, key, "unknown section [%s], ignored", section);
                return 0;
        }

        int k = config_key_lookup(key);
        if (k < 0) {
                log_key_errno(LOG_WARNING, 0, source, key, "unknown key, ignored");
                return 0;
        }
        const KbKeyInfo *ki = key_info((KbKey) k, &kib);
        if (section && !streq(section, section_name(ki->section)))
                log_key_errno(LOG_WARNING, 0, source, ki->name, "belongs in section [%s]; accepted from [%s]",
                              section_name(ki->section), section);

        /* remembered even if invalid or overridden: finish scrubs every copy it can */
        if (k == KB_TOKEN && !strv_contains(c->token_sources, source) && strv_extend(&c->token_sources, source) < 0)
                return log_error_errno(-ENOMEM, "Out of memory");

        KbValue *cur = &c->v[k];
        KbValue nv = {};
        if (ki->type == KB_TYPE_LIST) {
                /* within one source the key accumulates; a later source replaces the list */
                bool append = cur->origin && streq(cur->origin, origin);
                r = 0;
                for (char **i = cur->list; append && i && *i && r >= 0; i++)
                        r = strv_extend(&nv.list, *i);
                if (r >= 0)
                        r = parse_list(ki, value, &nv.list, why, sizeof why);
        } else {
                if (cur->origin && streq(cur->origin, origin) && !streq_ptr(cur->source, "default"))
                        log_key_errno(LOG_WARNING, 0, source, ki->name, "set again (before: %s); the later value wins",
                                      cur->source);
                r = parse_value(ki, value, &nv, why, sizeof why);
        }
        if (r == -ENOMEM) {
                value_clear(&nv, ki->type);
                return log_error_errno(r, "Out of memory");
        }
        if (r < 0) {
                value_clear(&nv, ki->type);
                return log_key_errno(LOG_ERR, r, source, ki->name, "%s", why);
        }
        nv.source = strdup(source);
        nv.origin = strdup(origin);
        if (!nv.source || !nv.origin) {
                value_clear(&nv, ki->type);
                return log_error_errno(-ENOMEM, "Out of memory");
        }
        value_clear(cur, ki->type);
        *cur = nv;
        return 0;
}

int config_init(KbConfig *c) {
        *c = (KbConfig){};
        for (KbKey k = 0; k < _KB_KEY_MAX; k++) {
                if (!kb_keys[k].def)
                        continue;
                int r = config_set(c, "default", "default", NULL, kb_keys[k].name, kb_keys[k].def);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_apply(KbConfig *c, const KbEntries *es) {
        int ret = 0;
        for (size_t i = 0; i < es->n; i++) {
                const KbEntry *e = &es->e[i];
                _cleanup_free_ char *source =
                        e->line ? strdup_printf("%s:%u", es->origin, e->line) : strdup(es->origin);
                if (!source)
                        return log_error_errno(-ENOMEM, "Out of memory");
                int r = config_set(c, es->origin, source, e->section, e->key, e->value);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && ret == 0)
                        ret = r; /* go on, so that every bad value is reported at once */
        }
        return ret;
}

char *config_format_value(const KbConfig *c, KbKey k, bool redact) {
        const KbValue *v = &c->v[k];
        if (!v->source)
                return strdup("");
        switch (kb_keys[k].type) {
        case KB_TYPE_SECRET:
                if (redact) {
                        /* a token's id is public (it names its Secret); the rest is not */
                        const char *dot = strchr(v->str, '.');
                        size_t keep = dot ? (size_t) (dot - v->str) + 1 : 0;
                        char *s = malloc(strlen(v->str) + 1);
                        if (!s)
                                return NULL;
                        memcpy(s, v->str, keep);
                        memset(s + keep, '*', strlen(v->str) - keep);
                        s[strlen(v->str)] = 0;
                        return s;
                }
                return strdup(v->str);
        case KB_TYPE_STRING:
        case KB_TYPE_ENUM:
                return strdup(v->str);
        case KB_TYPE_BOOL:
                return strdup(v->b ? "true" : "false");
        case KB_TYPE_UINT:
                return strdup_printf("%llu", v->u);
        case KB_TYPE_DURATION:
                if (v->u % 1000 == 0)
                        return strdup_printf("%llus", v->u / 1000);
                return strdup_printf("%llums", v->u);
        case KB_TYPE_LIST: {
                size_t len = 1;
                for (char **i = v->list; i && *i; i++)
                        len += strlen(*i) + 1;
                char *s = calloc(1, len);
                if (!s)
                        return NULL;
                for (char **i = v->list; i && *i; i++) {
                        if (i != v->list)
                                strcat(s, ",");
                        strcat(s, *i);
                }
                return s;
        }
        }
        return NULL;
}

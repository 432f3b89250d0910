/* `kubeboot config [--json]`: the merged configuration, each key with its source. */
#include <json-c/json.h>

#include "ca.h"
#include "log.h"
#include "phases.h"
#include "verbs.h"

static json_object *value_json(const KbConfig *c, KbKey k) {
        const KbValue *v = &c->v[k];
        if (!v->source)
                return NULL;
        switch (kb_keys[k].type) {
        case KB_TYPE_BOOL:
                return json_object_new_boolean(v->b);
        case KB_TYPE_UINT:
                return json_object_new_int64((int64_t) v->u);
        case KB_TYPE_LIST: {
                json_object *a = json_object_new_array();
                for (char **i = v->list; a && i && *i; i++)
                        json_object_array_add(a, json_object_new_string(*i));
                return a;
        }
        default: {
                _cleanup_free_ char *s = config_format_value(c, k, true);
                return s ? json_object_new_string(s) : NULL;
        }
        }
}

static int print_json(const Kb *kb) {
        json_object *root = json_object_new_object(), *keys = json_object_new_object();
        if (!root || !keys) {
                json_object_put(root);
                json_object_put(keys);
                return -ENOMEM;
        }
        for (KbKey k = 0; k < _KB_KEY_MAX; k++) {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "value", value_json(&kb->cfg, k));
                json_object_object_add(e, "source",
                                       kb->cfg.v[k].source ? json_object_new_string(kb->cfg.v[k].source) : NULL);
                json_object_object_add(e, "section",
                                       json_object_new_string(kb_keys[k].section == KB_SECTION_JOIN ? "join" : "kubelet"));
                json_object_object_add(keys, kb_keys[k].name, e);
        }
        json_object_object_add(root, "keys", keys);
        if (kb->ca) {
                json_object *ca = json_object_new_object();
                json_object *pins = json_object_new_array();
                for (const mbedtls_x509_crt *c = &kb->ca->chain; c && c->raw.p; c = c->next) {
                        char pin[CA_PIN_MAX];
                        if (ca_pin(c, pin) == 0)
                                json_object_array_add(pins, json_object_new_string(pin));
                }
                json_object_object_add(ca, "pins", pins);
                json_object_object_add(ca, "source", json_object_new_string(kb->ca_source));
                json_object_object_add(root, "ca", ca);
        }
        puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
        return 0;
}

static int print_table(const Kb *kb) {
        printf("%-30s %-45s %s\n", "KEY", "VALUE", "SOURCE");
        for (KbKey k = 0; k < _KB_KEY_MAX; k++) {
                _cleanup_free_ char *v = config_format_value(&kb->cfg, k, true);
                if (!v)
                        return -ENOMEM;
                const char *src = kb->cfg.v[k].source;
                printf("%-30s %-45s %s\n", kb_keys[k].name, src ? (*v ? v : "\"\"") : "-", src ?: "(unset)");
        }
        if (kb->ca)
                for (const mbedtls_x509_crt *c = &kb->ca->chain; c && c->raw.p; c = c->next) {
                        char pin[CA_PIN_MAX];
                        if (ca_pin(c, pin) == 0)
                                printf("\nthe CA from %s has the pin %s\n", kb->ca_source, pin);
                }
        return 0;
}

int verb_config(Kb *kb) {
        log_set_phase("gather");
        int r = gather_sources(kb);
        log_set_phase(NULL);
        if (r < 0)
                return r;
        r = kb->opt->json ? print_json(kb) : print_table(kb);
        if (r < 0)
                return log_error_errno(r, "Failed to print the configuration: %m");
        return fflush(stdout) == 0 ? 0 : log_error_errno(negative_errno(), "Failed to write to stdout: %m");
}

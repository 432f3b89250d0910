/* Every value check of the configuration on one string: the validators of
 * validate.h (server URL and host, token, CA pin, DNS names, IPs, node labels, taints,
 * provider ID, CRI endpoint, ca-cert form), the number/boolean/duration parsers, and
 * config_set() of the string under every key, which runs each key's type and list
 * splitting. Messages must never quote a token-shaped value's secret. */
#include "config.h"
#include "fuzz-main.h"
#include "validate.h"

typedef int (*validator)(const char *s, char *why, size_t n);

static const validator validators[] = {
        validate_token,     validate_server_url,   validate_ca_pin,       validate_dns1123_subdomain,
        validate_ip,        validate_node_label,   validate_taint,        validate_provider_id,
        validate_cri_endpoint, validate_ca_cert_form, validate_qualified_name, validate_label_value,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_string(data, size);
        char why[WHY_MAX];
        unsigned long u;
        unsigned long long ms;
        KbConfig cfg;
        if (!s)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(validators); i++) {
                why[0] = 0;
                int r = validators[i](s, why, sizeof why);
                fuzz_assert(r == 0 || r == -EINVAL || r == -ENOMEM);
                fuzz_assert(r == 0 || why[0]); /* a refusal says why */
        }
        /* the token's check never repeats the value */
        bool token_shaped = strlen(s) == 23 && s[6] == '.';
        why[0] = 0;
        if (validate_token(s, why, sizeof why) < 0 && token_shaped)
                fuzz_assert(!strstr(why, s + 7));

        (void) parse_uint(s, 0, (unsigned long) -1, &u);
        (void) parse_bool(s);
        (void) parse_duration_ms(s, &ms);
        (void) config_key_lookup(s);

        if (config_init(&cfg) == 0) {
                for (KbKey k = 0; k < _KB_KEY_MAX; k++) {
                        int r = config_set(&cfg, "fuzz", "fuzz:1", NULL, kb_keys[k].name, s);
                        if (r < 0 && k == KB_TOKEN && token_shaped)
                                fuzz_assert(!strstr(log_last_error(), s + 7));
                        free(config_format_value(&cfg, k, true));
                }
                config_done(&cfg);
        }
        free(s);
        return 0;
}

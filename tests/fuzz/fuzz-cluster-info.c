/* Token discovery's untrusted input: the kube-public/cluster-info ConfigMap as the
 * apiserver returns it, fetched without TLS verification. As discovery_run() handles
 * it: the JSON body parsed as api_request() parses it, the kubeconfig and this token's
 * detached JWS picked out (cluster_info_parse(); phase-discover.c is included to reach
 * it), the JWS verified, then the kubeconfig parsed, its CA decoded and checked against
 * the pins. The token is the one the seeds are signed with. kubeboot parses the
 * kubeconfig only once the JWS verifies; the fuzzer goes on either way, so that mutated
 * kubeconfigs reach the parsers too. */
#include "../../agent/phase-discover.c"
#include "fuzz-main.h"

#define TOKEN_ID "abcdef"
#define TOKEN_SECRET "0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ApiResult res = { .retry_after_s = -1 };
        _cleanup_kubeconfig_ Kubeconfig *kc = NULL;
        _cleanup_ca_ KbCA *ca = NULL;
        const char *kubeconfig_text, *jws;
        char why[WHY_MAX], pin[CA_PIN_MAX];

        res.body = fuzz_string(data, size);
        res.body_len = size;
        res.status = 200;
        if (!res.body)
                return 0;
        json_tokener *tok = json_tokener_new();
        if (!tok)
                goto finish;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        res.json = json_tokener_parse_ex(tok, res.body, (int) res.body_len);
        if (json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(res.json);
                res.json = NULL;
        }
        json_tokener_free(tok);

        if (cluster_info_parse(&res, TOKEN_ID, &kubeconfig_text, &jws) < 0)
                goto finish;
        (void) jws_verify_detached(jws, kubeconfig_text, strlen(kubeconfig_text), TOKEN_ID, TOKEN_SECRET);
        if (kubeconfig_parse(kubeconfig_text, strlen(kubeconfig_text), NULL, NULL, &kc, why, sizeof why) < 0 ||
            !kc->ca_data)
                goto finish;
        if (ca_parse(kc->ca_data, kc->ca_data_len, &ca, why, sizeof why) < 0)
                goto finish;
        char *pins[] = { "sha256:0000000000000000000000000000000000000000000000000000000000000000", NULL };
        fuzz_assert(ca_check_pins(ca, pins, pin) == -EKEYREJECTED);
        char *own[] = { pin, NULL };
        fuzz_assert(ca_check_pins(ca, own, pin) == 0);
finish:
        api_result_clear(&res);
        return 0;
}

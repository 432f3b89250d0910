/* Kubeconfig files (libyaml): the kubelet's kubeconfig, cluster-info's, an admin's for
 * `kubeboot token`. kubeconfig_parse() with client-go's context rules, then
 * kubeconfig_creds_load(): the data fields decoded, the CA parsed, client-go's checks.
 *
 * A first line "#context=NAME" (a YAML comment) picks a context, otherwise the
 * current-context is used. Relative file references resolve under a directory that
 * does not exist; documents naming any other file are only parsed, so that no input
 * makes the target read /dev/ptmx or the like (kubeboot reads what a kubeconfig names,
 * and only root writes the kubeconfigs it reads). */
#include "fuzz-main.h"
#include "kubeconfig-read.h"
#include "validate.h"

#define BASE_DIR "/nonexistent-kubeboot-fuzz"

static bool safe_ref(const char *p) {
        return !p || (startswith(p, BASE_DIR "/") && !strstr(p, ".."));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = fuzz_copy(data, size);
        _cleanup_free_ char *context = NULL;
        Kubeconfig *k = NULL;
        KubeconfigCreds *creds = NULL;
        char why[WHY_MAX];
        if (!buf)
                return 0;
        if (size > 9 && memcmp(buf, "#context=", 9) == 0) {
                const char *nl = memchr(buf, '\n', size);
                context = strndup(buf + 9, (size_t) ((nl ? nl : buf + size) - buf - 9));
        }
        int r = kubeconfig_parse(buf, size, context, BASE_DIR, &k, why, sizeof why);
        if (r < 0) {
                fuzz_assert(r == -EINVAL || r == -ENOMEM);
                goto finish;
        }
        fuzz_assert(k->server);
        if (safe_ref(k->ca_file) && safe_ref(k->client_cert_file) && safe_ref(k->client_key_file) &&
            safe_ref(k->token_file) && kubeconfig_creds_load(k, &creds, why, sizeof why) >= 0) {
                ApiAuth auth = kubeconfig_creds_auth(creds, NULL);
                fuzz_assert(auth.cert || auth.bearer);
        }
finish:
        kubeconfig_creds_free(creds);
        kubeconfig_free(k);
        free(buf);
        return 0;
}

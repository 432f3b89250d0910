#include "kubeconfig-write.h"

#include <mbedtls/base64.h>

#include "secret.h"
#include "yaml-out.h"

#define CLUSTER_NAME "kubernetes"
#define USER_NAME "tls-bootstrap-token-user"
#define CONTEXT_NAME USER_NAME "@" CLUSTER_NAME

/* libyaml copies every scalar into memory it frees without wiping. So the token never
 * enters it: a placeholder of the same length (and plain-scalar-safe, as a token is)
 * is emitted and overwritten in our own buffer afterwards. */
#define TOKEN_PLACEHOLDER "xxxxxx.kubebootplacehld"

int kubeconfig_bootstrap_render(const char *server, const KbCA *ca, const char *token, char **ret, size_t *ret_len) {
        _Static_assert(sizeof(TOKEN_PLACEHOLDER) == 24, "placeholder must be as long as a token");
        size_t b64_len = 0;
        _cleanup_free_ char *b64 = NULL;
        YamlOut y;
        char *out = NULL;
        size_t out_len = 0;
        int r;

        if (strlen(token) != strlen(TOKEN_PLACEHOLDER))
                return -EINVAL;
        (void) mbedtls_base64_encode(NULL, 0, &b64_len, (const unsigned char *) ca->pem, ca->pem_len);
        b64 = malloc(b64_len + 1);
        if (!b64)
                return -ENOMEM;
        if (mbedtls_base64_encode((unsigned char *) b64, b64_len + 1, &b64_len, (const unsigned char *) ca->pem,
                                  ca->pem_len) != 0)
                return -EIO;
        b64[b64_len] = 0;

        r = yo_begin(&y, true);
        if (r < 0)
                return r;
        yo_map_begin(&y);
        yo_kv_str(&y, "apiVersion", "v1");
        yo_str(&y, "clusters");
        yo_seq_begin(&y);
        yo_map_begin(&y);
        yo_str(&y, "cluster");
        yo_map_begin(&y);
        yo_kv_str(&y, "certificate-authority-data", b64);
        yo_kv_str(&y, "server", server);
        yo_map_end(&y);
        yo_kv_str(&y, "name", CLUSTER_NAME);
        yo_map_end(&y);
        yo_seq_end(&y);
        yo_str(&y, "contexts");
        yo_seq_begin(&y);
        yo_map_begin(&y);
        yo_str(&y, "context");
        yo_map_begin(&y);
        yo_kv_str(&y, "cluster", CLUSTER_NAME);
        yo_kv_str(&y, "user", USER_NAME);
        yo_map_end(&y);
        yo_kv_str(&y, "name", CONTEXT_NAME);
        yo_map_end(&y);
        yo_seq_end(&y);
        yo_kv_str(&y, "current-context", CONTEXT_NAME);
        yo_kv_str(&y, "kind", "Config");
        yo_str(&y, "preferences");
        yo_map_begin(&y);
        yo_map_end(&y);
        yo_str(&y, "users");
        yo_seq_begin(&y);
        yo_map_begin(&y);
        yo_kv_str(&y, "name", USER_NAME);
        yo_str(&y, "user");
        yo_map_begin(&y);
        yo_kv_str(&y, "token", TOKEN_PLACEHOLDER);
        yo_map_end(&y);
        yo_map_end(&y);
        yo_seq_end(&y);
        yo_map_end(&y);
        r = yo_end(&y, &out, &out_len);
        yo_done(&y);
        if (r < 0)
                return r;

        char *at = strstr(out, "token: " TOKEN_PLACEHOLDER "\n");
        if (!at || strstr(at + strlen("token: " TOKEN_PLACEHOLDER), TOKEN_PLACEHOLDER)) {
                secret_free_n(out, out_len + 1);
                return -EIO;
        }
        memcpy(at + strlen("token: "), token, strlen(token));
        *ret = out;
        *ret_len = out_len;
        return 0;
}

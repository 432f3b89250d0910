#include "secret.h"

#include <mbedtls/platform_util.h>

void secret_wipe(void *p, size_t n) {
        if (p && n)
                mbedtls_platform_zeroize(p, n);
}

char *secret_strdup(const char *s) {
        return s ? strdup(s) : NULL;
}

char *secret_free(char *s) {
        if (s) {
                secret_wipe(s, strlen(s));
                free(s);
        }
        return NULL;
}

void secret_free_n(void *p, size_t n) {
        if (p) {
                secret_wipe(p, n);
                free(p);
        }
}

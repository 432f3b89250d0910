#include "jws.h"

#include <json-c/json.h>
#include <mbedtls/base64.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>

#include "secret.h"

#define JWS_MAX (4U * 1024U)

int base64url_encode(const void *data, size_t len, char **ret) {
        size_t olen = 0;
        (void) mbedtls_base64_encode(NULL, 0, &olen, data, len);
        char *s = malloc(olen + 1);
        if (!s)
                return -ENOMEM;
        if (mbedtls_base64_encode((unsigned char *) s, olen + 1, &olen, data, len) != 0) {
                free(s);
                return -EIO;
        }
        while (olen > 0 && s[olen - 1] == '=')
                olen--;
        s[olen] = 0;
        for (char *p = s; *p; p++)
                *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
        *ret = s;
        return 0;
}

int base64url_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len) {
        while (len > 0 && s[len - 1] == '=')
                len--;
        if (len % 4 == 1)
                return -EBADMSG;
        size_t padded = len + (4 - len % 4) % 4;
        _cleanup_free_ char *std = malloc(padded + 1);
        if (!std)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '+' || c == '/' || c == '=')
                        return -EBADMSG; /* the standard alphabet is not base64url */
                std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
        }
        memset(std + len, '=', padded - len);
        std[padded] = 0;

        size_t olen = 0;
        int r = mbedtls_base64_decode(NULL, 0, &olen, (unsigned char *) std, padded);
        if (r != 0 && r != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
                return -EBADMSG;
        unsigned char *out = malloc(olen + 1);
        if (!out)
                return -ENOMEM;
        if (mbedtls_base64_decode(out, olen + 1, &olen, (unsigned char *) std, padded) != 0) {
                free(out);
                return -EBADMSG;
        }
        out[olen] = 0;
        *ret = out;
        *ret_len = olen;
        return 0;
}

static int hs256(const char *secret, const char *header_b64, const char *content, size_t content_len,
                 unsigned char mac[32]) {
        _cleanup_free_ char *payload_b64 = NULL;
        int r = base64url_encode(content, content_len, &payload_b64);
        if (r < 0)
                return r;

        const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
        mbedtls_md_context_t ctx;
        mbedtls_md_init(&ctx);
        /* The signing input is ASCII(BASE64URL(header) || '.' || BASE64URL(payload)). */
        if (mbedtls_md_setup(&ctx, md, 1) != 0 ||
            mbedtls_md_hmac_starts(&ctx, (const unsigned char *) secret, strlen(secret)) != 0 ||
            mbedtls_md_hmac_update(&ctx, (const unsigned char *) header_b64, strlen(header_b64)) != 0 ||
            mbedtls_md_hmac_update(&ctx, (const unsigned char *) ".", 1) != 0 ||
            mbedtls_md_hmac_update(&ctx, (const unsigned char *) payload_b64, strlen(payload_b64)) != 0 ||
            mbedtls_md_hmac_finish(&ctx, mac) != 0)
                r = -EIO;
        mbedtls_md_free(&ctx); /* zeroizes the keyed state */
        return r;
}

int jws_sign_detached(const char *content, size_t content_len, const char *token_id, const char *secret,
                      char **ret) {
        _cleanup_free_ char *header = strdup_printf("{\"alg\":\"HS256\",\"kid\":\"%s\"}", token_id);
        _cleanup_free_ char *header_b64 = NULL, *sig_b64 = NULL;
        unsigned char mac[32];
        int r;

        if (!header)
                return -ENOMEM;
        if ((r = base64url_encode(header, strlen(header), &header_b64)) < 0)
                return r;
        if ((r = hs256(secret, header_b64, content, content_len, mac)) < 0)
                return r;
        if ((r = base64url_encode(mac, sizeof mac, &sig_b64)) < 0)
                return r;
        *ret = strdup_printf("%s..%s", header_b64, sig_b64);
        return *ret ? 0 : -ENOMEM;
}

/* The protected header must say HS256 with this token's id, and nothing we do not know. */
static int check_header(const char *header_b64, size_t len, const char *token_id) {
        _cleanup_free_ unsigned char *raw = NULL;
        size_t raw_len;
        int r = base64url_decode(header_b64, len, &raw, &raw_len);
        if (r < 0)
                return r;
        json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_object *h = json_tokener_parse_ex(tok, (const char *) raw, (int) raw_len);
        bool complete = json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        r = -EBADMSG;
        if (h && complete && json_object_is_type(h, json_type_object)) {
                json_object *alg, *kid;
                if (json_object_object_get_ex(h, "alg", &alg) && json_object_is_type(alg, json_type_string) &&
                    streq(json_object_get_string(alg), "HS256") && json_object_object_get_ex(h, "kid", &kid) &&
                    json_object_is_type(kid, json_type_string) && streq(json_object_get_string(kid), token_id) &&
                    !json_object_object_get_ex(h, "crit", NULL))
                        r = 0;
        }
        json_object_put(h);
        return r;
}

int jws_verify_detached(const char *jws, const char *content, size_t content_len, const char *token_id,
                        const char *secret) {
        size_t len = strnlen(jws, JWS_MAX + 1);
        if (len > JWS_MAX)
                return -EBADMSG;
        const char *dots = strstr(jws, "..");
        if (!dots || dots == jws || strchr(dots + 2, '.'))
                return -EBADMSG;

        _cleanup_free_ char *header_b64 = strndup(jws, (size_t) (dots - jws));
        if (!header_b64)
                return -ENOMEM;
        if (strchr(header_b64, '.'))
                return -EBADMSG;
        int r = check_header(header_b64, strlen(header_b64), token_id);
        if (r < 0)
                return r;

        _cleanup_free_ unsigned char *sig = NULL;
        size_t sig_len;
        r = base64url_decode(dots + 2, strlen(dots + 2), &sig, &sig_len);
        if (r < 0)
                return r;
        unsigned char mac[32];
        r = hs256(secret, header_b64, content, content_len, mac);
        if (r < 0)
                return r;
        r = sig_len == sizeof mac && mbedtls_ct_memcmp(sig, mac, sizeof mac) == 0 ? 0 : -EKEYREJECTED;
        secret_wipe(mac, sizeof mac);
        return r;
}

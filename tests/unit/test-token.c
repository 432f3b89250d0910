/* Bootstrap tokens as Kubernetes defines them: format, usages, groups, the Secret, RFC 3339. */
#include "tap.h"
#include "token-secret.h"

#include <mbedtls/base64.h>

static const char *secret_data(json_object *s, const char *key, char *buf, size_t n) {
        json_object *data, *v;
        if (!json_object_object_get_ex(s, "data", &data) || !json_object_object_get_ex(data, key, &v))
                return NULL;
        size_t ol = 0;
        const char *b = json_object_get_string(v);
        if (mbedtls_base64_decode((unsigned char *) buf, n - 1, &ol, (const unsigned char *) b, strlen(b)) != 0)
                return NULL;
        buf[ol] = 0;
        return buf;
}

int main(void) {
        char tok[TOKEN_LEN + 1], why[256];
        int counts[36] = {};
        bool ok = true;
        for (int i = 0; i < 2000; i++) {
                if (token_generate(tok) < 0 || strlen(tok) != TOKEN_LEN || tok[6] != '.')
                        ok = false;
                for (int j = 0; j < TOKEN_LEN; j++) {
                        if (j == 6)
                                continue;
                        char ch = tok[j];
                        if (ch >= 'a' && ch <= 'z')
                                counts[ch - 'a']++;
                        else if (ch >= '0' && ch <= '9')
                                counts[26 + ch - '0']++;
                        else
                                ok = false;
                }
        }
        CHECK(ok, "2000 generated tokens all match [a-z0-9]{6}.[a-z0-9]{16}");
        /* 44000 characters over 36: ~1222 each; a biased modulo or a missing digit shows */
        int lo = 1 << 30, hi = 0;
        for (int i = 0; i < 36; i++) {
                lo = counts[i] < lo ? counts[i] : lo;
                hi = counts[i] > hi ? counts[i] : hi;
        }
        CHECK(lo > 1000 && hi < 1450, "each of the 36 characters appears about equally often (%d..%d)", lo, hi);

        CHECK(token_id_valid("abc123") && !token_id_valid("ABC123") && !token_id_valid("abc12"), "token ids");

        unsigned u = 0;
        CHECK(token_parse_usages("authentication,signing", &u, why, sizeof why) == 0 &&
                      u == (TOKEN_USAGE_AUTHENTICATION | TOKEN_USAGE_SIGNING),
              "usages parse");
        CHECK(token_parse_usages("signing,signing", &u, why, sizeof why) == -EINVAL, "a repeated usage is refused");
        CHECK(token_parse_usages("encryption", &u, why, sizeof why) == -EINVAL, "an unknown usage is refused: %s", why);
        CHECK(token_parse_usages("", &u, why, sizeof why) == -EINVAL, "no usage is refused");

        char **g = NULL;
        CHECK(token_parse_groups("system:bootstrappers:worker,system:bootstrappers:gpu-pool", &g, why, sizeof why) ==
                              0 &&
                      strv_length(g) == 2,
              "valid extra groups parse");
        strv_free(g);
        g = NULL;
        static const char *const bad_groups[] = { "system:masters", "system:bootstrappers:", "system:bootstrappers:Caps",
                                                  "system:bootstrappers:x-", "system:bootstrappers" };
        for (size_t i = 0; i < ELEMENTSOF(bad_groups); i++) {
                CHECK(token_parse_groups(bad_groups[i], &g, why, sizeof why) == -EINVAL,
                      "group \"%s\" is refused as upstream's regex does", bad_groups[i]);
                strv_free(g);
                g = NULL;
        }

        time_t t;
        CHECK(rfc3339_parse("2026-11-29T17:00:00Z", &t) == 0 && t == 1795971600, "RFC 3339 in UTC");
        CHECK(rfc3339_parse("2026-11-29T18:30:00+01:30", &t) == 0 && t == 1795971600, "RFC 3339 with an offset");
        CHECK(rfc3339_parse("2026-11-29 17:00:00", &t) == -EINVAL, "a space instead of T is not RFC 3339");
        CHECK(rfc3339_parse("2026-13-01T00:00:00Z", &t) == -EINVAL, "month 13 is refused");
        char buf[32];
        rfc3339_format(1795971600, buf);
        CHECK_STREQ(buf, "2026-11-29T17:00:00Z", "formats like Go's time.RFC3339 in UTC");
        short_human_duration(23 * 3600 + 59 * 60, buf);
        CHECK_STREQ(buf, "23h", "kubectl's short durations");

        /* the Secret the authenticator reads, and back */
        char **groups = NULL;
        token_parse_groups("system:bootstrappers:worker", &groups, why, sizeof why);
        TokenSpec spec = { .usages = TOKEN_USAGE_AUTHENTICATION | TOKEN_USAGE_SIGNING, .groups = groups,
                           .description = "test", .expires = 1795971600 };
        json_object *s = token_secret_new("abcdef.0123456789abcdef", &spec);
        char d[128];
        CHECK(s && streq(json_object_get_string(json_object_object_get(s, "type")), TOKEN_SECRET_TYPE),
              "the Secret has the bootstrap token type");
        CHECK_STREQ(secret_data(s, "token-id", d, sizeof d), "abcdef", "token-id");
        CHECK_STREQ(secret_data(s, "token-secret", d, sizeof d), "0123456789abcdef", "token-secret");
        CHECK_STREQ(secret_data(s, "expiration", d, sizeof d), "2026-11-29T17:00:00Z", "expiration in RFC 3339");
        CHECK_STREQ(secret_data(s, "usage-bootstrap-authentication", d, sizeof d), "true", "authentication usage");
        CHECK_STREQ(secret_data(s, "usage-bootstrap-signing", d, sizeof d), "true", "signing usage");
        CHECK_STREQ(secret_data(s, "auth-extra-groups", d, sizeof d), "system:bootstrappers:worker", "extra groups");
        TokenInfo info;
        CHECK(token_info_from_secret(s, &info, why, sizeof why) == 0 && streq(info.id, "abcdef") &&
                      info.expires == 1795971600 && streq(info.usages, "authentication,signing"),
              "it reads back as the authenticator would");
        token_info_done(&info);
        json_wipe_strings(s);
        CHECK(!strstr(json_object_to_json_string(s), "MDEyMzQ1Njc4OWFiY2RlZg"),
              "json_wipe_strings leaves no trace of the secret");
        json_object_put(s);
        strv_free(groups);

        json_object *junk = json_tokener_parse("{\"type\":\"Opaque\",\"data\":{}}");
        CHECK(token_info_from_secret(junk, &info, why, sizeof why) == -EINVAL, "an Opaque secret is no token: %s", why);
        json_object_put(junk);
        return tap_done();
}

/* The bootstrap signer's detached JWS and base64url. The input is "JWS\nCONTENT": the
 * signature is checked against the content with the upstream test vector's key; then
 * the round trips: our own signature of the content verifies, and only with its
 * secret; base64url decodes what it encoded; decoding arbitrary bytes stays in bounds. */
#include "fuzz-main.h"
#include "jws.h"

/* the upstream test vector (cluster-bootstrap/token/jws/jws_test.go) */
#define TOKEN_ID "joshua"
#define TOKEN_SECRET "my voice is my passcode"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = fuzz_string(data, size);
        if (!buf)
                return 0;
        const char *nl = memchr(buf, '\n', size);
        size_t jws_len = nl ? (size_t) (nl - buf) : size;
        const char *content = nl ? nl + 1 : buf + size;
        size_t content_len = size - (size_t) (content - buf);
        _cleanup_free_ char *jws = strndup(buf, jws_len);
        _cleanup_free_ char *sig = NULL, *enc = NULL;
        _cleanup_free_ unsigned char *dec = NULL, *dec2 = NULL;
        size_t dec_len, dec2_len;

        if (jws) {
                int r = jws_verify_detached(jws, content, content_len, TOKEN_ID, TOKEN_SECRET);
                fuzz_assert(r == 0 || r == -EBADMSG || r == -EKEYREJECTED || r == -ENOMEM);
        }

        /* what we sign verifies, with that secret only */
        if (jws_sign_detached(content, content_len, TOKEN_ID, TOKEN_SECRET, &sig) == 0) {
                fuzz_assert(jws_verify_detached(sig, content, content_len, TOKEN_ID, TOKEN_SECRET) == 0);
                fuzz_assert(jws_verify_detached(sig, content, content_len, TOKEN_ID, "another secret") ==
                            -EKEYREJECTED);
        }

        /* base64url: arbitrary text decodes or is refused; bytes survive a round trip */
        if (base64url_decode(buf, size, &dec, &dec_len) == 0)
                fuzz_assert(dec_len <= size);
        if (base64url_encode(data, size, &enc) == 0) {
                fuzz_assert(base64url_decode(enc, strlen(enc), &dec2, &dec2_len) == 0);
                fuzz_assert(dec2_len == size && (size == 0 || memcmp(dec2, data, size) == 0));
        }
        free(buf);
        return 0;
}

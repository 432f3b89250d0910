/* Detached JWS, checked against the upstream vectors of
 * staging/src/k8s.io/cluster-bootstrap/token/jws/jws_test.go. */
#include "jws.h"
#include "tap.h"

#define CONTENT "Hello from the other side. I must have called a thousand times."
#define SECRET "my voice is my passcode"
#define ID "joshua"
#define SIG "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"

int main(void) {
        char *s = NULL;
        CHECK(jws_sign_detached(CONTENT, strlen(CONTENT), ID, SECRET, &s) == 0, "signs");
        CHECK_STREQ(s, SIG, "the upstream vector");
        free(s);
        jws_sign_detached("", 0, ID, SECRET, &s);
        CHECK_STREQ(s, "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk",
                    "the upstream vector for empty content");
        free(s);
        jws_sign_detached(CONTENT, strlen(CONTENT), ID, "", &s);
        CHECK_STREQ(s, "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8",
                    "the upstream vector for an empty secret");
        free(s);

        CHECK(jws_verify_detached(SIG, CONTENT, strlen(CONTENT), ID, SECRET) == 0, "the upstream signature verifies");
        CHECK(jws_verify_detached(SIG "foo", CONTENT, strlen(CONTENT), ID, SECRET) < 0,
              "upstream: the signature with junk appended does not");
        CHECK(jws_verify_detached(SIG, CONTENT "!", strlen(CONTENT) + 1, ID, SECRET) == -EKEYREJECTED,
              "tampered content is rejected");
        CHECK(jws_verify_detached(SIG, CONTENT, strlen(CONTENT), ID, "another secret") == -EKEYREJECTED,
              "another token's secret is rejected");
        CHECK(jws_verify_detached(SIG, CONTENT, strlen(CONTENT), "abcdef", SECRET) == -EBADMSG,
              "a signature naming another key id is refused");
        char flipped[] = SIG;
        flipped[strlen(flipped) - 2] = flipped[strlen(flipped) - 2] == 'A' ? 'B' : 'A';
        CHECK(jws_verify_detached(flipped, CONTENT, strlen(CONTENT), ID, SECRET) == -EKEYREJECTED,
              "one changed signature character is rejected");

        /* {"alg":"none","kid":"joshua"} with an empty signature: never accepted */
        char *hdr = NULL, *none = NULL;
        base64url_encode("{\"alg\":\"none\",\"kid\":\"joshua\"}", 29, &hdr);
        none = strdup_printf("%s..", hdr);
        CHECK(jws_verify_detached(none, CONTENT, strlen(CONTENT), ID, SECRET) == -EBADMSG, "alg none is refused");
        free(hdr);
        free(none);
        base64url_encode("{\"alg\":\"HS256\",\"kid\":\"joshua\",\"crit\":[\"x\"]}", 43, &hdr);
        none = strdup_printf("%s..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8", hdr);
        CHECK(jws_verify_detached(none, CONTENT, strlen(CONTENT), ID, SECRET) == -EBADMSG, "crit headers are refused");
        free(hdr);
        free(none);
        static const char *const malformed[] = {
                "", "..", "a.b.c", "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9.x.y", "!!!..abc",
                "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..a", "bm90IGpzb24..AAAA",
        };
        for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++)
                CHECK(jws_verify_detached(malformed[i], CONTENT, strlen(CONTENT), ID, SECRET) == -EBADMSG,
                      "malformed \"%s\" is refused", malformed[i]);

        unsigned char *d = NULL;
        size_t dl;
        CHECK(base64url_decode("_-8", 3, &d, &dl) == 0 && dl == 2 && d[0] == 0xff && d[1] == 0xef,
              "base64url uses - and _");
        free(d);
        CHECK(base64url_decode("/+8", 3, &d, &dl) == -EBADMSG, "the standard alphabet is not base64url");
        CHECK(base64url_decode("a", 1, &d, &dl) == -EBADMSG, "a lone character is not base64url");
        base64url_encode("\xff\xef", 2, &s);
        CHECK_STREQ(s, "_-8", "encoding drops the padding");
        free(s);
        return tap_done();
}

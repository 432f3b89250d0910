/* The cluster CA in every form it arrives in, and kubeadm's pins (the upstream vectors of
 * cmd/kubeadm/app/util/pubkeypin/pubkeypin_test.go). */
#include "ca.h"
#include "fileio.h"
#include "tap.h"

#include <mbedtls/base64.h>

#define KUBEADM_PIN "sha256:345959acb2c3b2feb87d281961c893f62a314207ef02599f1cc4a5fb255480b3"

static char *fixture(const char *name, size_t *len) {
        char path[512], *buf = NULL;
        snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
        if (read_file_bounded(path, 1 << 20, &buf, len) < 0)
                abort();
        return buf;
}

static char *b64(const void *d, size_t n) {
        size_t ol = 0;
        mbedtls_base64_encode(NULL, 0, &ol, d, n);
        char *s = malloc(ol + 1);
        mbedtls_base64_encode((unsigned char *) s, ol + 1, &ol, d, n);
        return s;
}

int main(void) {
        char why[256], pin[CA_PIN_MAX];
        size_t len, len2, len3;
        char *pem = fixture("kubeadm-pin-test.crt", &len);
        char *pem2 = fixture("kubeadm-pin-test2.crt", &len2);
        char *ecpem = fixture("ec-ca.crt", &len3);
        KbCA *ca = NULL, *ca2 = NULL, *other = NULL;

        CHECK(ca_parse(pem, len, &ca, why, sizeof why) == 0, "an RSA CA in PEM parses");
        ca_pin(&ca->chain, pin);
        CHECK_STREQ(pin, KUBEADM_PIN, "its pin equals kubeadm's test vector");
        char *upper = strdup(KUBEADM_PIN);
        for (char *p = upper + 7; *p; p++)
                if (*p >= 'a' && *p <= 'f')
                        *p -= 32;
        char *pins_upper[] = { upper, NULL };
        CHECK(ca_check_pins(ca, pins_upper, pin) == 0, "an uppercase pin matches (hex case ignored)");
        CHECK(ca_parse(pem2, len2, &other, why, sizeof why) == 0, "the second upstream certificate parses");
        CHECK(ca_check_pins(other, pins_upper, pin) == -EKEYREJECTED, "it does not match the first one's pin");
        CHECK(strncmp(pin, "sha256:", 7) == 0 && strcmp(pin, KUBEADM_PIN) != 0,
              "a mismatch reports the offered CA's own pin (%s)", pin);
        char *wrong_then_right[] = { "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                                     (char *) KUBEADM_PIN, NULL };
        CHECK(ca_check_pins(ca, wrong_then_right, pin) == 0, "any of several pins may match");
        CHECK(ca_check_pins(ca, NULL, pin) == -EKEYREJECTED, "no pins match nothing");
        CHECK(len == ca->pem_len && memcmp(pem, ca->pem, len) == 0, "the PEM written back is byte-identical");

        size_t expect_pin_len;
        char *expect_pin = fixture("ec-ca.pin", &expect_pin_len);
        expect_pin[strcspn(expect_pin, "\n")] = 0;
        KbCA *ec = NULL;
        CHECK(ca_parse(ecpem, len3, &ec, why, sizeof why) == 0, "a P-256 CA parses");
        ca_pin(&ec->chain, pin);
        CHECK_STREQ(pin, expect_pin, "its pin equals the openssl pipeline's");

        /* a bundle: either certificate's pin is accepted */
        char *bundle = malloc(len + len3 + 1);
        memcpy(bundle, pem, len);
        memcpy(bundle + len, ecpem, len3);
        bundle[len + len3] = 0;
        KbCA *b = NULL;
        char *ec_pin[] = { expect_pin, NULL };
        CHECK(ca_parse(bundle, len + len3, &b, why, sizeof why) == 0 && b->chain.next, "a two-certificate bundle parses");
        KbCA *dup = NULL;
        CHECK(ca_dup(b, &dup) == 0 && ca_equal(dup, b) && dup->chain.next && !dup->chain.next->next &&
                      dup->chain.next->raw.len == b->chain.next->raw.len &&
                      memcmp(dup->chain.next->raw.p, b->chain.next->raw.p, b->chain.next->raw.len) == 0 &&
                      dup->pem != b->pem && dup->chain.raw.p != b->chain.raw.p,
              "a copy holds the same two certificates and PEM, in memory of its own");
        CHECK(ca_check_pins(b, ec_pin, pin) == 0, "the second certificate's pin matches the bundle");
        CHECK_STREQ(pin, expect_pin, "the reported pin is the one that matched");
        CHECK(ca_keep_pinned(b, ec_pin, pin) == 0 && !b->chain.next, "only the pinned certificate is kept");
        CHECK_STREQ(pin, expect_pin, "and its pin is reported");
        CHECK(b->pem_len == len3 && memcmp(b->pem, ecpem, len3) == 0, "its PEM is the pinned certificate alone");
        CHECK(ca_keep_pinned(b, pins_upper, pin) == -EKEYREJECTED && b->pem_len == len3,
              "a pin matching nothing leaves the chain as it was");
        CHECK(dup && dup->chain.next && !ca_equal(dup, b), "the copy keeps both when the original is narrowed");
        ca_free(dup);
        ca_free(b);

        /* inline forms, as on a kernel command line or in metadata */
        char *oneline = strdup(pem);
        for (char *p = oneline; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        CHECK(ca_parse(oneline, strlen(oneline), &ca2, why, sizeof why) == 0 && ca_equal(ca, ca2),
              "PEM with spaces for line breaks parses to the same CA");
        ca2 = ca_free(ca2);
        char *b64pem = b64(pem, len);
        CHECK(ca_parse(b64pem, strlen(b64pem), &ca2, why, sizeof why) == 0 && ca_equal(ca, ca2),
              "base64 of the PEM (certificate-authority-data) parses");
        ca2 = ca_free(ca2);
        char *b64der = b64(ca->chain.raw.p, ca->chain.raw.len);
        CHECK(ca_parse(b64der, strlen(b64der), &ca2, why, sizeof why) == 0 && ca_equal(ca, ca2),
              "base64 of the DER parses");
        ca2 = ca_free(ca2);
        CHECK(ca_parse(ca->chain.raw.p, ca->chain.raw.len, &ca2, why, sizeof why) == 0 && ca_equal(ca, ca2),
              "raw DER parses");
        ca2 = ca_free(ca2);
        CHECK(ca_load_value("/kubeadm-pin-test.crt", FIXTURES, &ca2, why, sizeof why) == 0 && ca_equal(ca, ca2),
              "a path is read under the root");
        ca2 = ca_free(ca2);

        /* bad input */
        CHECK(ca_parse("hello", 5, &ca2, why, sizeof why) == -EBADMSG, "junk is refused: %s", why);
        CHECK(ca_parse("-----BEGIN CERTIFICATE-----\nAAAA\n", 32, &ca2, why, sizeof why) == -EBADMSG &&
                      strstr(why, "END"),
              "a PEM without END is refused: %s", why);
        CHECK(ca_parse("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", 56, &ca2, why, sizeof why) ==
                      -EBADMSG,
              "a PEM with bad base64 is refused: %s", why);
        CHECK(ca_parse("", 0, &ca2, why, sizeof why) == -EBADMSG, "nothing is refused");
        CHECK(ca_load_value("/missing.crt", FIXTURES, &ca2, why, sizeof why) == -EINVAL && strstr(why, "cannot read"),
              "a missing file is refused: %s", why);
        CHECK(ca_load_value("/README.md", FIXTURES, &ca2, why, sizeof why) == -EINVAL &&
                      strstr(why, "README.md"),
              "a file that holds no certificate is refused, naming it: %s", why);

        CHECK(ca_load_value("/dev/null", "/", &ca2, why, sizeof why) == -EINVAL && strstr(why, "not a regular file"),
              "ca-cert /dev/null is not a regular file: %s", why);
        free(upper);
        free(oneline);
        free(b64pem);
        free(b64der);
        free(bundle);
        free(expect_pin);
        free(pem);
        free(pem2);
        free(ecpem);
        ca_free(ca);
        ca_free(other);
        ca_free(ec);
        return tap_done();
}

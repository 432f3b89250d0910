/* The cluster CA: ca-cert values (PEM, with white space for line breaks as on a kernel
 * command line; DER; base64 of either), certificate-authority-data, cluster-info's CA.
 * ca_parse() and ca_load_value() on inline data, then the pins: every certificate's
 * pin matches itself, an unrelated pin matches nothing, and the PEM kubeboot writes
 * (/etc/kubernetes/pki/ca.crt) parses back into the same chain. x509 parsing itself is
 * Debian's mbedTLS, not instrumented for coverage. */
#include "ca.h"
#include "fuzz-main.h"
#include "validate.h"

static void check_chain(const KbCA *ca) {
        char pin[CA_PIN_MAX], why[WHY_MAX];
        char *none[] = { "sha256:0000000000000000000000000000000000000000000000000000000000000000", NULL };
        fuzz_assert(ca->pem && strlen(ca->pem) == ca->pem_len);
        fuzz_assert(ca_check_pins(ca, none, pin) == -EKEYREJECTED);
        fuzz_assert(validate_ca_pin(pin, why, sizeof why) == 0);
        /* every certificate of the chain is pinned by its own pin, in any case */
        for (const mbedtls_x509_crt *c = &ca->chain; c && c->raw.p; c = c->next) {
                char own[CA_PIN_MAX], first[CA_PIN_MAX];
                fuzz_assert(ca_pin(c, own) == 0);
                ascii_strlower(own);
                char *pins[] = { own, NULL };
                fuzz_assert(ca_check_pins(ca, pins, first) == 0 && streq(first, own));
        }
        /* what kubeboot writes reads back as the same chain */
        KbCA *again = NULL;
        fuzz_assert(ca_parse(ca->pem, ca->pem_len, &again, why, sizeof why) == 0);
        fuzz_assert(ca_equal(ca, again));
        ca_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = fuzz_copy(data, size);
        char *str = fuzz_string(data, size);
        char why[WHY_MAX];
        KbCA *ca = NULL;
        if (!buf || !str)
                goto finish;
        int r = ca_parse(buf, size, &ca, why, sizeof why);
        fuzz_assert(r == 0 || r == -EBADMSG || r == -ENOMEM || r == -EIO);
        if (r == 0)
                check_chain(ca);
        ca = ca_free(ca);

        /* a ca-cert value as the configuration holds it: a C string; paths are not read */
        (void) validate_ca_cert_form(str, why, sizeof why);
        if (str[0] != '/' && ca_load_value(str, NULL, &ca, why, sizeof why) == 0)
                check_chain(ca);
finish:
        ca_free(ca);
        free(str);
        free(buf);
        return 0;
}

#include "ca.h"

#include <ctype.h>
#include <mbedtls/base64.h>
#include <mbedtls/error.h>
#include <mbedtls/pem.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "fileio.h"
#include "paths.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"
#define CA_MAX_CERTS 16

KbCA *ca_free(KbCA *ca) {
        if (!ca)
                return NULL;
        mbedtls_x509_crt_free(&ca->chain);
        free(ca->pem);
        free(ca);
        return NULL;
}

static int base64_decode_alloc(const char *s, size_t len, unsigned char **ret, size_t *ret_len) {
        size_t need = 0;
        int r = mbedtls_base64_decode(NULL, 0, &need, (const unsigned char *) s, len);
        if (r != 0 && r != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
                return -EBADMSG;
        unsigned char *buf = malloc(need + 1);
        if (!buf)
                return -ENOMEM;
        if (mbedtls_base64_decode(buf, need + 1, ret_len, (const unsigned char *) s, len) != 0) {
                free(buf);
                return -EBADMSG;
        }
        buf[*ret_len] = 0;
        *ret = buf;
        return 0;
}

/* Decodes every PEM certificate block in text, tolerating any white space in the body. */
static int parse_pem_blocks(const char *text, size_t len, mbedtls_x509_crt *chain, char *why, size_t n) {
        const char *p = text, *end = text + len;
        int count = 0;

        for (;;) {
                const char *b = memmem(p, (size_t) (end - p), PEM_BEGIN, strlen(PEM_BEGIN));
                if (!b)
                        break;
                b += strlen(PEM_BEGIN);
                const char *e = memmem(b, (size_t) (end - b), PEM_END, strlen(PEM_END));
                if (!e)
                        return why_errno(why, n, -EBADMSG, "PEM certificate without its END line");
                if (++count > CA_MAX_CERTS)
                        return why_errno(why, n, -EBADMSG, "more than %d certificates", CA_MAX_CERTS);

                /* the body without white space, for mbedTLS's strict base64 decoder */
                _cleanup_free_ char *body = malloc((size_t) (e - b) + 1);
                if (!body)
                        return -ENOMEM;
                size_t bl = 0;
                for (const char *q = b; q < e; q++)
                        if (!isspace((unsigned char) *q))
                                body[bl++] = *q;
                _cleanup_free_ unsigned char *der = NULL;
                size_t der_len;
                if (base64_decode_alloc(body, bl, &der, &der_len) < 0)
                        return why_errno(why, n, -EBADMSG, "PEM certificate %d: bad base64", count);
                int r = mbedtls_x509_crt_parse_der(chain, der, der_len);
                if (r != 0) {
                        char err[128];
                        mbedtls_strerror(r, err, sizeof err);
                        return why_errno(why, n, -EBADMSG, "certificate %d: %s", count, err);
                }
                p = e + strlen(PEM_END);
        }
        if (count == 0)
                return why_errno(why, n, -EBADMSG, "no PEM certificate found");
        return 0;
}

static int chain_to_pem(KbCA *ca) {
        size_t cap = 0;
        for (const mbedtls_x509_crt *c = &ca->chain; c && c->raw.p; c = c->next)
                cap += c->raw.len * 4 / 3 + c->raw.len / 48 + 128;
        char *pem = malloc(cap + 1);
        if (!pem)
                return -ENOMEM;
        size_t off = 0;
        for (const mbedtls_x509_crt *c = &ca->chain; c && c->raw.p; c = c->next) {
                size_t olen = 0;
                if (mbedtls_pem_write_buffer(PEM_BEGIN "\n", PEM_END "\n", c->raw.p, c->raw.len,
                                             (unsigned char *) pem + off, cap + 1 - off, &olen) != 0) {
                        free(pem);
                        return -EIO;
                }
                off += olen - 1; /* olen counts the NUL */
        }
        pem[off] = 0;
        ca->pem = pem;
        ca->pem_len = off;
        return 0;
}

/* base64 of PEM (as in a kubeconfig's certificate-authority-data) or of DER. */
static int parse_base64(const char *text, size_t len, mbedtls_x509_crt *chain, char *why, size_t n) {
        _cleanup_free_ char *compact = malloc(len + 1);
        _cleanup_free_ unsigned char *dec = NULL;
        size_t cl = 0, dl;

        if (!compact)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++)
                if (!isspace((unsigned char) text[i]))
                        compact[cl++] = text[i];
        int r = base64_decode_alloc(compact, cl, &dec, &dl);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || dl == 0)
                return why_errno(why, n, -EBADMSG, "neither PEM, DER nor base64 of a certificate");
        if (memmem(dec, dl, PEM_BEGIN, strlen(PEM_BEGIN)))
                return parse_pem_blocks((const char *) dec, dl, chain, why, n);
        if (dec[0] == 0x30 && mbedtls_x509_crt_parse_der(chain, dec, dl) == 0)
                return 0;
        return why_errno(why, n, -EBADMSG, "base64 data is not a certificate");
}

int ca_parse(const void *data, size_t len, KbCA **ret, char *why, size_t n) {
        const char *text = data;
        KbCA *ca = calloc(1, sizeof *ca);
        int r;

        if (!ca)
                return -ENOMEM;
        mbedtls_x509_crt_init(&ca->chain);

        if (len > 0 && memmem(text, len, PEM_BEGIN, strlen(PEM_BEGIN)))
                r = parse_pem_blocks(text, len, &ca->chain, why, n);
        else if (len > 0 && (unsigned char) text[0] == 0x30 && mbedtls_x509_crt_parse_der(&ca->chain, data, len) == 0)
                r = 0; /* DER: an ASN.1 SEQUENCE that parses */
        else
                r = parse_base64(text, len, &ca->chain, why, n);
        if (r == 0)
                r = chain_to_pem(ca);
        if (r < 0) {
                ca_free(ca);
                return r;
        }
        *ret = ca;
        return 0;
}

int ca_dup(const KbCA *ca, KbCA **ret) {
        _cleanup_ca_ KbCA *copy = calloc(1, sizeof *copy);
        if (!copy)
                return -ENOMEM;
        mbedtls_x509_crt_init(&copy->chain);
        /* from DER: parsed once already, no PEM or base64 to go through again */
        for (const mbedtls_x509_crt *c = &ca->chain; c && c->raw.p; c = c->next) {
                int r = mbedtls_x509_crt_parse_der(&copy->chain, c->raw.p, c->raw.len);
                if (r != 0)
                        return r == MBEDTLS_ERR_X509_ALLOC_FAILED ? -ENOMEM : -EBADMSG;
        }
        copy->pem = strndup(ca->pem, ca->pem_len);
        if (!copy->pem)
                return -ENOMEM;
        copy->pem_len = ca->pem_len;
        *ret = TAKE_PTR(copy);
        return 0;
}

int ca_load_value(const char *value, const char *root, KbCA **ret, char *why, size_t n) {
        if (value[0] != '/')
                return ca_parse(value, strlen(value), ret, why, n);

        _cleanup_free_ char *path = NULL, *buf = NULL;
        size_t len;
        /* beneath the root, links followed there; then regular files only: a value
         * from metadata may name a FIFO or a device */
        int r = root_resolve(root, value, ROOT_FOLLOW_LAST, &path);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return why_errno(why, n, -EINVAL, "cannot resolve %s beneath %s: %s", value, root ?: "/",
                                 strerror(-r));
        r = read_file_flags(path, KB_CA_MAX, READ_NOFOLLOW | READ_REGULAR_ONLY, &buf, &len);
        if (r == -EFBIG)
                return why_errno(why, n, -EINVAL, "%s is larger than %u bytes", path, KB_CA_MAX);
        if (r == -EINVAL)
                return why_errno(why, n, -EINVAL, "%s is not a regular file", path);
        if (r < 0)
                return why_errno(why, n, -EINVAL, "cannot read %s: %s", path, strerror(-r));
        r = ca_parse(buf, len, ret, why, n);
        if (r == -EBADMSG) {
                char inner[256];
                snprintf(inner, sizeof inner, "%s", why);
                snprintf(why, n, "%s: %s", path, inner);
                return -EINVAL;
        }
        return r;
}

int ca_pin(const mbedtls_x509_crt *crt, char ret[CA_PIN_MAX]) {
        unsigned char h[32];
        /* the distro build has Debian's mbedTLS 2.28, the portable build 3.6 */
#if MBEDTLS_VERSION_MAJOR >= 3
        if (mbedtls_sha256(crt->pk_raw.p, crt->pk_raw.len, h, 0) != 0)
#else
        if (mbedtls_sha256_ret(crt->pk_raw.p, crt->pk_raw.len, h, 0) != 0)
#endif
                return -EIO;
        memcpy(ret, "sha256:", 7);
        for (size_t i = 0; i < sizeof h; i++)
                snprintf(ret + 7 + 2 * i, 3, "%02x", h[i]);
        return 0;
}

static bool pin_listed(char *const *pins, const char *pin) {
        for (char *const *p = pins; p && *p; p++)
                if (strcasecmp(*p, pin) == 0)
                        return true;
        return false;
}

int ca_check_pins(const KbCA *ca, char *const *pins, char ret_pin[CA_PIN_MAX]) {
        char report[CA_PIN_MAX] = ""; /* ret_pin may be one of pins */
        bool match = false;
        for (const mbedtls_x509_crt *c = &ca->chain; c && c->raw.p && !match; c = c->next) {
                char pin[CA_PIN_MAX];
                int r = ca_pin(c, pin);
                if (r < 0)
                        return r;
                match = pin_listed(pins, pin);
                if (!report[0] || match)
                        memcpy(report, pin, CA_PIN_MAX);
        }
        memcpy(ret_pin, report, CA_PIN_MAX);
        return match ? 0 : -EKEYREJECTED;
}

int ca_keep_pinned(KbCA *ca, char *const *pins, char ret_pin[CA_PIN_MAX]) {
        mbedtls_x509_crt kept;
        char first[CA_PIN_MAX] = "", matched[CA_PIN_MAX] = "";
        int r = 0;

        mbedtls_x509_crt_init(&kept);
        for (const mbedtls_x509_crt *c = &ca->chain; c && c->raw.p; c = c->next) {
                char pin[CA_PIN_MAX];
                r = ca_pin(c, pin);
                if (r < 0)
                        goto finish;
                if (!first[0])
                        memcpy(first, pin, CA_PIN_MAX);
                if (!pin_listed(pins, pin))
                        continue;
                if (!matched[0])
                        memcpy(matched, pin, CA_PIN_MAX);
                if (mbedtls_x509_crt_parse_der(&kept, c->raw.p, c->raw.len) != 0) {
                        r = -ENOMEM; /* it parsed once already: only memory can fail */
                        goto finish;
                }
        }
        if (!matched[0]) {
                memcpy(ret_pin, first, CA_PIN_MAX);
                r = -EKEYREJECTED;
                goto finish;
        }
        free(ca->pem);
        ca->pem = NULL;
        mbedtls_x509_crt_free(&ca->chain);
        ca->chain = kept; /* the struct owns its list; kept's head moves with it */
        mbedtls_x509_crt_init(&kept);
        r = chain_to_pem(ca);
        if (r < 0)
                goto finish;
        memcpy(ret_pin, matched, CA_PIN_MAX);
finish:
        mbedtls_x509_crt_free(&kept);
        return r;
}

time_t x509_time_to_epoch(const mbedtls_x509_time *t) {
        struct tm tm = { .tm_year = t->year - 1900, .tm_mon = t->mon - 1, .tm_mday = t->day,
                         .tm_hour = t->hour, .tm_min = t->min, .tm_sec = t->sec };
        return timegm(&tm);
}

bool ca_equal(const KbCA *a, const KbCA *b) {
        return a && b && a->pem_len == b->pem_len && memcmp(a->pem, b->pem, a->pem_len) == 0;
}

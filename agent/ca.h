/* The cluster CA: parsing it (PEM, DER, base64, inline), its kubeadm-style public key
 * pin, and its PEM form for the files kubeboot writes. Crypto is mbedTLS. */
#pragma once

#include <mbedtls/x509_crt.h>
#include <time.h>

#include "util.h"

#define CA_PIN_MAX 72 /* "sha256:" + 64 hex + NUL */

typedef struct KbCA {
        mbedtls_x509_crt chain; /* one or more certificates */
        char *pem;              /* the chain as PEM, NUL-terminated */
        size_t pem_len;
} KbCA;

/* Parses certificates from PEM text (one or more blocks; white space in place of line
 * breaks is accepted, as on a kernel command line), DER, or base64 of either. */
int ca_parse(const void *data, size_t len, KbCA **ret, char *why, size_t n);
/* Loads the CA a `ca-cert` value names: an absolute path (under root), or inline data. */
int ca_load_value(const char *value, const char *root, KbCA **ret, char *why, size_t n);
/* A copy of ca that lives on its own. */
int ca_dup(const KbCA *ca, KbCA **ret);
KbCA *ca_free(KbCA *ca);
static inline void ca_freep(KbCA **ca) {
        ca_free(*ca);
}
#define _cleanup_ca_ _cleanup_(ca_freep)

/* "sha256:<hex>" of the certificate's DER SubjectPublicKeyInfo, as kubeadm prints it. */
int ca_pin(const mbedtls_x509_crt *crt, char ret[CA_PIN_MAX]);
/* 0 if any pin matches any certificate of the chain (hex case ignored), ret_pin the
 * pin that matched; else -EKEYREJECTED, ret_pin the first certificate's pin. */
int ca_check_pins(const KbCA *ca, char *const *pins, char ret_pin[CA_PIN_MAX]);
/* Narrows the chain to the certificates whose pin is in pins, so that a bundle that
 * holds a pinned CA cannot smuggle in others. 0 and ret_pin the first kept one's pin,
 * or -EKEYREJECTED (chain unchanged) and ret_pin the first certificate's pin. */
int ca_keep_pinned(KbCA *ca, char *const *pins, char ret_pin[CA_PIN_MAX]);
/* Seconds since the epoch of an X.509 time (UTC). */
time_t x509_time_to_epoch(const mbedtls_x509_time *t);
/* Same certificates, same order? */
bool ca_equal(const KbCA *a, const KbCA *b);

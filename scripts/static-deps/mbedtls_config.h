/* kubeboot's mbedTLS 3.6 configuration for the portable build (scripts/build-static-deps):
 * one crypto stack for libcurl's TLS and kubeboot's own hashing, X.509 and JWS, trimmed
 * to what talking to a kube-apiserver needs. Passed as MBEDTLS_CONFIG_FILE.
 *
 * What Go's crypto/tls (kube-apiserver) offers, and what we keep of it:
 *   TLS 1.3: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 (ChaCha20 left out: Go
 *            always offers AES-GCM); key shares X25519, P-256, P-384 (Go 1.24+ also
 *            offers X25519MLKEM768, which mbedTLS lacks; it then picks X25519).
 *   TLS 1.2: ECDHE-ECDSA / ECDHE-RSA with AES-GCM (Go's defaults; RSA key exchange
 *            and CBC suites are off by default in Go 1.22+).
 *   Certificates: RSA (PKCS#1 v1.5 signatures, kubeadm's default RSA-2048) and ECDSA
 *   P-256/P-384; TLS 1.3 CertificateVerify with RSA keys is RSA-PSS, hence PKCS1_V21.
 *   Client keys (kubelet's ECDSA P-256, an admin kubeconfig's RSA): PEM, PKCS#1, SEC1,
 *   PKCS#8, unencrypted.
 * Left out: TLS server, DTLS, renegotiation, PSK, CBC, ChaCha20, SHA-224, MD5,
 * DHE, Brainpool, P-521, Curve448, key generation, encrypted keys, the PSA key store.
 */
#ifndef KUBEBOOT_MBEDTLS_CONFIG_H
#define KUBEBOOT_MBEDTLS_CONFIG_H

/* platform */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_AESNI_C
#define MBEDTLS_FS_IO
#define MBEDTLS_ERROR_C
#define MBEDTLS_VERSION_C

/* randomness */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C

/* symmetric */
#define MBEDTLS_AES_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_HKDF_C
/* SHA-1: only to parse certificates signed with it (kubeadm's own pin test vectors, old
 * self-signed cluster CAs: a trust anchor's own signature is never checked); mbedTLS's
 * default verification profile refuses SHA-1 signatures in a chain. */
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C

/* public key */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_OID_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C

/* X.509: certificates, CSRs (kubeboot reads the node's CSR) */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CSR_PARSE_C
/* also what makes the TLS 1.3 client offer rsa_pss_rsae_*: without it no server with an
 * RSA certificate can complete a TLS 1.3 handshake (OpenSSL answers handshake_failure) */
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

/* PSA crypto: TLS 1.3 in mbedTLS 3.6 runs on it (no key store, no drivers) */
#define MBEDTLS_PSA_CRYPTO_C

/* TLS client, 1.2 and 1.3 */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES

#endif

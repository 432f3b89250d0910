/* Detached JWS (RFC 7515 appendix F) as Kubernetes' bootstrap signer writes it into
 * cluster-info: HS256 keyed by the token secret, header {"alg":"HS256","kid":"<id>"}
 * (staging/src/k8s.io/cluster-bootstrap/token/jws/jws.go). */
#pragma once

#include "util.h"

/* base64url without padding, NUL-terminated. */
int base64url_encode(const void *data, size_t len, char **ret);
/* Decodes base64url (padding optional); -EBADMSG if malformed. */
int base64url_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len);

/* The detached signature "header..signature" of content. */
int jws_sign_detached(const char *content, size_t content_len, const char *token_id, const char *secret,
                      char **ret);
/* 0 if jws is a valid detached HS256 signature of content by this token; -EBADMSG if
 * it is malformed or names another algorithm or key; -EKEYREJECTED if the signature
 * does not match (compared in constant time). */
int jws_verify_detached(const char *jws, const char *content, size_t content_len, const char *token_id,
                        const char *secret);

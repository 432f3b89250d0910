/* One TLS handshake for token discovery: the connection that served cluster-info without
 * trust is trusted once the JWS has proved the CA, by verifying the chain it presented
 * (see peer-trust-mbedtls.c for why that is as safe as kubeadm's second fetch). It needs a
 * hook into libcurl's TLS library: the portable build, whose libcurl runs on kubeboot's
 * own mbedTLS, has it; the distro build (Debian's libcurl over OpenSSL) does not
 * (peer-trust-none.c), and discovery fetches cluster-info again, as kubeadm. Used by the
 * HTTP module only. */
#pragma once

#include <curl/curl.h>

#include "ca.h"

typedef struct PeerTrust PeerTrust;

/* NULL on OOM. */
PeerTrust *peer_trust_new(void);
PeerTrust *peer_trust_free(PeerTrust *t);
/* Before each request: sets h's TLS options where they are this module's (an insecure
 * request, or one trusting the adopted CA at its origin) and returns 1; 0 leaves them to
 * the caller; a negative errno fails the request (closed: nothing may go out unverified).
 * *ret_capture: call peer_trust_capture() as the answer's status line arrives. */
int peer_trust_setup(PeerTrust *t, CURL *h, const char *url, bool insecure, const KbCA *ca, bool *ret_capture);
/* Keeps the chain of the connection the answer is arriving on. */
void peer_trust_capture(PeerTrust *t, CURL *h);
/* After a capturing transfer: what was kept stands only if it completed (ok) without a
 * proxy in between. */
void peer_trust_finish(PeerTrust *t, CURL *h, bool ok);
/* Trusts the connection the last insecure answer came over, if the chain it presented
 * verifies against ca for its host. -EOPNOTSUPP where that cannot be done safely (no
 * hook, a proxy, nothing kept), -EKEYREJECTED when the chain does not verify; why says
 * which. */
int peer_trust_adopt(PeerTrust *t, const KbCA *ca, char *why, size_t n);

/* The kubelet's own credentials after TLS bootstrap: /etc/kubernetes/kubelet.conf and
 * the client certificate it points at (kubelet-client-current.pem, cert and key). */
#pragma once

#include <time.h>

#include "ca.h"
#include "kb.h"

typedef struct KubeletCreds {
        char *server;
        KbCA *ca;
        char *pem; /* certificate and key; secret */
        size_t pem_len;
        char *node;      /* from the certificate's CN=system:node:<node> */
        time_t not_before, not_after;
} KubeletCreds;

/* Loads the kubelet's kubeconfig and client certificate under kb's root. -ENOENT while
 * kubelet has not written them yet; -EINVAL (why says what) when they are unusable. */
int kubelet_creds_load(const Kb *kb, KubeletCreds **ret, char *why, size_t n);
KubeletCreds *kubelet_creds_free(KubeletCreds *c);
static inline void kubelet_creds_freep(KubeletCreds **c) {
        kubelet_creds_free(*c);
}
#define _cleanup_kubelet_creds_ _cleanup_(kubelet_creds_freep)
/* Is the certificate valid now? */
bool kubelet_creds_valid_now(const KubeletCreds *c);
/* GET the Node with the kubelet's own credentials: 1 if it exists, 0 if not (404), or a
 * negative errno (what went wrong in detail, n bytes; -EAGAIN for a transient HTTP status).
 * *retry_after_s (if not NULL): the server's Retry-After, or -1. */
int kubelet_creds_get_node(HttpClient *http, const KubeletCreds *c, char *detail, size_t n, long *retry_after_s);

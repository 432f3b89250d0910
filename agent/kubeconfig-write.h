/* The kubelet's bootstrap kubeconfig, as kubeadm writes it (cmd/kubeadm/app/util/kubeconfig:
 * CreateWithToken): cluster "kubernetes", user "tls-bootstrap-token-user". */
#pragma once

#include "ca.h"

/* Renders the bootstrap kubeconfig for server, ca and token into a new buffer that the
 * caller must release with secret_free_n(buf, len + 1). */
int kubeconfig_bootstrap_render(const char *server, const KbCA *ca, const char *token, char **ret, size_t *ret_len);

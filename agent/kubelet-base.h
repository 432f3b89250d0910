/* The cluster's kubelet configuration, as `kubeadm join` starts from it: the ConfigMap
 * kube-system/kubelet-config (data key "kubelet"), readable by kubeadm's token group through
 * the Role kubeadm:kubelet-config (cmd/kubeadm/app/phases/kubelet/config.go). */
#pragma once

#include "api.h"

#define KUBELET_BASE_PATH "/api/v1/namespaces/kube-system/configmaps/kubelet-config"

/* Reads it with auth, retrying transient failures until b's deadline. 0 and *ret the
 * KubeletConfiguration as a tree, or 0 and *ret NULL when there is none or the token may not
 * read it (logged: which base is used); -EBADMSG when it is not a KubeletConfiguration,
 * -ETIMEDOUT past the deadline; failures are logged. */
int kubelet_base_fetch(HttpClient *http, Backoff *b, const char *server, const ApiAuth *auth, json_object **ret);

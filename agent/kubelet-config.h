/* The kubelet's own configuration, as kubeadm lays it out: a KubeletConfiguration
 * (kubelet.config.k8s.io/v1beta1) and kubeadm-flags.env for what has no config field. */
#pragma once

#include "config.h"

/* Renders /var/lib/kubelet/config.yaml from the configuration. Only fields of the
 * upstream v1beta1 types (staging/src/k8s.io/kubelet/config/v1beta1/types.go). */
int kubelet_config_render(const KbConfig *c, char **ret, size_t *ret_len);
/* Renders kubeadm-flags.env: KUBELET_KUBEADM_ARGS="--hostname-override=... --node-ip=...
 * --node-labels=...", flags the kubelet has no config field for. */
int kubelet_flags_render(const KbConfig *c, const char *node_name, char **ret, size_t *ret_len);

/* The kubelet's own configuration, as kubeadm lays it out: a KubeletConfiguration
 * (kubelet.config.k8s.io/v1beta1) and kubeadm-flags.env for what has no config field. */
#pragma once

#include <json-c/json.h>

#include "config.h"

/* The KubeletConfiguration for this node, in layers, each over the one before: kubeboot's
 * built-in defaults; base, the cluster's kube-system/kubelet-config (may be NULL) without its
 * node-specific fields; every key set by a local source; what the join relies on (apiVersion,
 * kind, clientCAFile, rotateCertificates). */
int kubelet_config_build(const KbConfig *c, json_object *base, json_object **ret);
/* Renders /var/lib/kubelet/config.yaml: kubelet_config_build() as YAML, keys sorted. */
int kubelet_config_render(const KbConfig *c, json_object *base, char **ret, size_t *ret_len);
/* Renders kubeadm-flags.env: KUBELET_KUBEADM_ARGS="--hostname-override=... --node-ip=...
 * --node-labels=...", flags the kubelet has no config field for. */
int kubelet_flags_render(const KbConfig *c, const char *node_name, char **ret, size_t *ret_len);

/* The node checks of the preflight phase: what kubeadm's RunJoinNodeChecks checks on a
 * worker (cmd/kubeadm/app/preflight/checks.go), named as kubeadm names them so that
 * `ignore-preflight-errors` takes the same words. Node files are read under --root. */
#pragma once

#include "kb.h"

/* Check names, kubeadm's spelling. */
#define CHECK_CRI "CRI"
#define CHECK_SWAP "Swap"
#define CHECK_IP_FORWARD "FileContent--proc-sys-net-ipv4-ip_forward"
#define CHECK_IP6_FORWARD "FileContent--proc-sys-net-ipv6-conf-default-forwarding"
#define CHECK_PORT_KUBELET "Port-10250"
#define CHECK_KUBELET_VERSION "KubeletVersion"
#define CHECK_HOSTNAME "Hostname"

/* Runs every node check; each failure and warning is logged on one line naming the check,
 * what was found and the fix, and the warnings are kept for `kubeboot status`. Returns
 * -EINVAL (exit 78) if a check failed that ignore-preflight-errors does not name, else 0. */
int node_checks_run(Kb *kb);

/* Does the ignore list (kubeadm's --ignore-preflight-errors: names, case-insensitive, or
 * "all") name this check? */
bool node_check_ignored(char *const *ignore, const char *check);

/* Parses a Kubernetes version ("v1.32.0", "Kubernetes v1.31.4-eks-1", "1.30") into its
 * major and minor numbers; -EINVAL if it is none. */
int kube_version_parse(const char *s, unsigned *ret_major, unsigned *ret_minor);

/* The version skew policy for a kubelet against the apiserver
 * (https://kubernetes.io/releases/version-skew-policy/#kubelet): not newer, and at most
 * three minors older (two before 1.28). 0 if supported, else -ERANGE with why filled. */
int kubelet_skew_check(unsigned kubelet_major, unsigned kubelet_minor, unsigned server_major, unsigned server_minor,
                       char *why, size_t n);

/* What `kubeboot token create` makes sure of in the cluster (DESIGN §6), each step
 * idempotent: the seed guide's RBAC bindings, kube-public/cluster-info and anonymous
 * read access to it, the token's Secret, and the bootstrap signer's signature. */
#pragma once

#include "ca.h"
#include "token-api.h"
#include "token-secret.h"

/* The group new bindings name for a token with these extra groups: the first, else
 * system:bootstrappers. */
const char *token_bind_group(char *const *groups);

/* The ClusterRoleBindings kubeadm makes for its tokens (node-bootstrapper, auto-approval of
 * node client CSRs, kubeadm:get-nodes, with that ClusterRole) for a token with these extra
 * groups, and auto-approval of renewals for system:nodes. An equivalent binding (same
 * ClusterRole, a group the token is in among its subjects) under any name counts; missing
 * ones are created for token_bind_group() under kubeadm's names, or kubeboot: ones where
 * kubeadm's name is taken. */
int token_ensure_bindings(AdminClient *a, char *const *groups);

/* When kube-system/kubelet-config exists (a kubeadm cluster): the Role and RoleBinding
 * kubeadm:kubelet-config that let system:nodes and the token's group read it, unless they
 * exist. */
int token_ensure_kubelet_config_rbac(AdminClient *a, char *const *groups);

/* kube-public/cluster-info publishing server and ca as kubeadm's clusterinfo phase
 * writes it, and the Role/RoleBinding that let anonymous users read it. An existing one
 * is kept when it agrees. Naming another server, it is kept (ret_server gets its
 * server: what nodes are told) unless replace_server; naming another CA it is an error
 * unless replace_ca. */
int token_ensure_cluster_info(AdminClient *a, const char *server, const KbCA *ca, bool replace_server,
                              bool replace_ca, char **ret_server);

/* Creates the token's Secret with POST, never overwriting: on AlreadyExists a fresh
 * token is drawn. The expiry is ttl_s (0: none) from the apiserver's clock. */
int token_create_secret(AdminClient *a, const TokenSpec *spec, unsigned long long ttl_s, char ret[TOKEN_LEN + 1],
                        time_t *ret_expires);

/* Waits up to wait_ms for the bootstrap signer's jws-kubeconfig-<id> in cluster-info,
 * read anonymously as a node reads it, and verifies it. 0 signed; -ETIMEDOUT none
 * came; -EKEYREJECTED one came that does not verify; -EACCES anonymous reads are
 * refused; detail says more. Logs no error: the caller decides what it means. */
int token_wait_signed(AdminClient *a, const char *token, unsigned long long wait_ms, char *detail, size_t n);

/* Deletes kube-system/bootstrap-token-<id>: 0, -ENOENT if there is none (logged). */
int token_delete_secret(AdminClient *a, const char *id);
/* The token Secrets, as a json array owned by *ret_res (wipe it with admin_result_wipe()). */
int token_list_secrets(AdminClient *a, ApiResult *ret_res, json_object **ret_items);

/* Bootstrap tokens as Kubernetes defines them (k8s.io/cluster-bootstrap/token/api and
 * .../token/util) and their Secret exactly as kube-apiserver's bootstrap authenticator
 * and the bootstrap signer read it, written the way kubeadm writes it
 * (cmd/kubeadm/app/apis/bootstraptoken/v1/utils.go: BootstrapTokenToSecret,
 * encodeTokenSecretData). */
#pragma once

#include <json-c/json.h>
#include <time.h>

#include "util.h"

#define TOKEN_ID_LEN 6
#define TOKEN_SECRET_LEN 16
#define TOKEN_LEN (TOKEN_ID_LEN + 1 + TOKEN_SECRET_LEN)
#define TOKEN_SECRET_NAME_PREFIX "bootstrap-token-"
#define TOKEN_SECRET_TYPE "bootstrap.kubernetes.io/token"
#define TOKEN_DESCRIPTION_MAX 1024
/* The label every object kubeboot creates carries (app.kubernetes.io's convention). */
#define TOKEN_MANAGED_BY_KEY "app.kubernetes.io/managed-by"
#define TOKEN_MANAGED_BY_VALUE "kubeboot"
/* Every bootstrap token is in this group (staging/src/k8s.io/cluster-bootstrap/token/api). */
#define TOKEN_DEFAULT_GROUP "system:bootstrappers"
/* The extra group `kubeadm token create` gives its tokens by default, and the group its
 * bindings name (cmd/kubeadm/app/constants NodeBootstrapTokenAuthGroup). */
#define TOKEN_KUBEADM_GROUP "system:bootstrappers:kubeadm:default-node-token"

enum {
        TOKEN_USAGE_AUTHENTICATION = 1 << 0,
        TOKEN_USAGE_SIGNING = 1 << 1,
};

/* What a new token is for; groups NULL for no extra groups. */
typedef struct TokenSpec {
        unsigned usages;
        char **groups;
        const char *description;
        time_t expires; /* 0: never */
} TokenSpec;

/* A fresh token, [a-z0-9]{6}.[a-z0-9]{16}, uniformly drawn from getrandom(). */
int token_generate(char ret[TOKEN_LEN + 1]);
/* A token id, [a-z0-9]{6}? */
bool token_id_valid(const char *s);
/* Parses "authentication,signing" (each at most once, at least one); -EINVAL with why. */
int token_parse_usages(const char *list, unsigned *ret, char *why, size_t n);
/* Parses a comma-separated list of extra groups, each matching upstream's
 * ^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$; -EINVAL with why. */
int token_parse_groups(const char *list, char ***ret, char *why, size_t n);
/* Accepts a description the table and the Secret can carry: printable, bounded. */
int token_validate_description(const char *s, char *why, size_t n);

/* The Secret kube-system/bootstrap-token-<id> for token, labelled as kubeboot's. */
json_object *token_secret_new(const char *token, const TokenSpec *spec);

/* A listed token Secret, without its secret. */
typedef struct TokenInfo {
        char id[TOKEN_ID_LEN + 1];
        char *expiration; /* as stored; NULL: never expires */
        time_t expires;   /* parsed; 0 when NULL or unparseable (then it counts as expired) */
        char *usages;     /* sorted, comma-separated, "" for none */
        char *description;
        char *groups;     /* as stored, NULL for none */
} TokenInfo;

/* Reads a Secret as the bootstrap authenticator does; -EINVAL (with why) for one that
 * is no valid bootstrap token, which kubeadm's list skips with a warning too. */
int token_info_from_secret(json_object *secret, TokenInfo *ret, char *why, size_t n);
void token_info_done(TokenInfo *t);

/* RFC 3339 as Go's time.Parse(time.RFC3339) reads it; -EINVAL otherwise. */
int rfc3339_parse(const char *s, time_t *ret);
/* kubectl's short human duration (apimachinery duration.ShortHumanDuration). */
void short_human_duration(long long seconds, char buf[32]);

/* Overwrites every string in o (a response or request that held a secret) before it is
 * freed: json-c releases its memory without wiping it. */
void json_wipe_strings(json_object *o);

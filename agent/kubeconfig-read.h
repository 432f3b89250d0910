/* Reading kubeconfig files with libyaml, with client-go's rules: the current (or a
 * named) context picks a cluster and a user; without contexts (cluster-info) the
 * first cluster is used, as kubeadm's discovery does. */
#pragma once

#include "api.h"
#include "ca.h"
#include "util.h"

typedef struct Kubeconfig {
        char *context; /* the context used, NULL if the file has none */
        char *cluster_name;
        char *server;
        bool insecure_skip_tls_verify;
        unsigned char *ca_data; /* decoded certificate-authority-data */
        size_t ca_data_len;
        char *ca_file; /* absolute: relative paths are resolved against the file's directory */
        char *token;   /* secret */
        unsigned char *client_cert_data;
        size_t client_cert_data_len;
        char *client_cert_file;
        unsigned char *client_key_data; /* secret */
        size_t client_key_data_len;
        char *client_key_file;
        /* additions for admin kubeconfigs (kubeboot token) */
        char *user_name;   /* the context's user, for messages; NULL without one */
        char *token_file;  /* tokenFile: read when token is empty, as client-go does */
        bool ca_both;      /* certificate-authority and -data both set (client-go refuses) */
        bool cert_both;    /* client-certificate and -data both set */
        bool key_both;     /* client-key and -data both set */
        const char *unsupported_auth; /* "exec" or "auth-provider": a plugin kubeboot does not run */
} Kubeconfig;

/* Parses a kubeconfig held in memory. context NULL means current-context. base_dir
 * resolves relative file references (NULL: leave them). -EINVAL with why on bad input. */
int kubeconfig_parse(const char *buf, size_t len, const char *context, const char *base_dir, Kubeconfig **ret,
                     char *why, size_t n);
/* Reads and parses a file (bounded); -ENOENT if it does not exist. */
int kubeconfig_load(const char *path, const char *context, Kubeconfig **ret, char *why, size_t n);
Kubeconfig *kubeconfig_free(Kubeconfig *k);
static inline void kubeconfig_freep(Kubeconfig **k) {
        kubeconfig_free(*k);
}
#define _cleanup_kubeconfig_ _cleanup_(kubeconfig_freep)

/* Which kubeconfig to read, as kubectl picks it: path when given; else the first
 * existing file of kubeconfig_env ($KUBECONFIG, ':'-separated; kubectl would merge
 * them all, kubeboot reads only that one); else /etc/kubernetes/admin.conf if
 * readable (kubeadm's); else home/.kube/config. -ENOENT with why when none exists. */
int kubeconfig_find(const char *path, const char *kubeconfig_env, const char *home, char **ret, char *why,
                    size_t n);

/* What a kubeconfig's cluster and user amount to, loaded from their data fields or the
 * files those name. */
typedef struct KubeconfigCreds {
        KbCA *ca;        /* NULL when the cluster names no CA */
        char *cert;      /* client certificate PEM, NULL if none */
        size_t cert_len;
        char *key;       /* client key PEM; secret */
        size_t key_len;
        char *token;     /* bearer token; secret */
} KubeconfigCreds;

/* Loads the credentials of k, checked as client-go's validation checks them (data and
 * file both set, a certificate without a key, plugins kubeboot cannot run are errors).
 * -EINVAL with why; -ENOENT (why says which) when a referenced file is missing. */
int kubeconfig_creds_load(const Kubeconfig *k, KubeconfigCreds **ret, char *why, size_t n);
KubeconfigCreds *kubeconfig_creds_free(KubeconfigCreds *c);
static inline void kubeconfig_creds_freep(KubeconfigCreds **c) {
        kubeconfig_creds_free(*c);
}
#define _cleanup_kubeconfig_creds_ _cleanup_(kubeconfig_creds_freep)
/* The ApiAuth for c, borrowing its memory; it trusts ca if not NULL (an explicit CA
 * wins), else c's CA. */
ApiAuth kubeconfig_creds_auth(const KubeconfigCreds *c, const KbCA *ca);

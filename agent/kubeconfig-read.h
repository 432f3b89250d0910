/* Reading kubeconfig files with libyaml, with client-go's rules: the current (or a
 * named) context picks a cluster and a user; without contexts (cluster-info) the
 * first cluster is used, as kubeadm's discovery does. */
#pragma once

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

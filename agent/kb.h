/* The state one kubeboot run carries from phase to phase. */
#pragma once

#include <json-c/json.h>

#include "ca.h"
#include "config.h"
#include "http.h"

/* What the command line asked for; parsed once in main.c, read-only afterwards. */
typedef struct KbOptions {
        const char *root;         /* prefix of every node path; NULL for / */
        const char *cmdline_path; /* the kernel command line to read */
        const char *config_path;  /* one more ini, highest ini precedence; NULL if none */
        char **skip_phases;
        char **args; /* the verb's positional arguments */
        bool json;
        bool force;
        int verbosity;
        /* token: the admin kubeconfig, as kubectl's --kubeconfig/--context */
        const char *kubeconfig;
        const char *context;
        /* token create: the raw values, checked by the verb before any request */
        const char *ttl;
        const char *description;
        const char *groups;
        const char *usages;
        const char *print;
        const char *wait;
        const char *server;
        const char *ca_cert;
} KbOptions;

typedef struct Kb {
        const KbOptions *opt;
        KbConfig cfg;
        KbCA *ca;        /* the trusted cluster CA: from ca-cert after gather, or discovered */
        char *ca_source; /* where the trusted CA came from, for messages */
        json_object *kubelet_base; /* the cluster's kube-system/kubelet-config, if it could be read */
        char *server;    /* cluster-info's server after a verified discovery; NULL: the configured one */
        HttpClient *http; /* shared by the phases, so that connections are reused */
        struct json_object *preflight_warnings; /* the node checks' warnings, for the state records */
} Kb;

void kb_init(Kb *kb, const KbOptions *opt);
void kb_done(Kb *kb);
/* The run's HTTP client, created on first use; NULL on OOM. */
HttpClient *kb_http(Kb *kb);
/* The apiserver to talk to and to write into the bootstrap kubeconfig: cluster-info's
 * server once discovery verified it (as kubeadm), else the configured one. */
const char *kb_server(const Kb *kb);
/* A node path resolved beneath --root (root_resolve()), as a new string in *ret; a
 * final symlink stays a name, replaced or removed, never written through. Logs what
 * is not OOM, naming the path. */
int kb_path(const Kb *kb, const char *path, char **ret);
/* The same, a final symlink followed beneath the root: for reading a node file, or
 * rewriting it in place (the token scrub). */
int kb_path_target(const Kb *kb, const char *path, char **ret);

/* A usage error noticed after option parsing (exit 64, EX_USAGE). */
#define KB_EUSAGE EDOM

/* Exit statuses (sysexits.h) for a negative errno, the one mapping every verb uses. */
int kb_exit_status(int r);

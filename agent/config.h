/* The merged kubeboot configuration: one typed value per key, each remembering the
 * source it came from. Sources produce entries (KbEntries); config_apply() merges a
 * source's entries over what lower-precedence sources set. */
#pragma once

#include <stdbool.h>

#include "util.h"

typedef enum KbSection {
        KB_SECTION_JOIN,
        KB_SECTION_KUBELET,
} KbSection;

typedef enum KbType {
        KB_TYPE_STRING,
        KB_TYPE_SECRET, /* a string that is redacted in output and wiped from memory */
        KB_TYPE_BOOL,
        KB_TYPE_UINT,
        KB_TYPE_DURATION, /* milliseconds */
        KB_TYPE_LIST,     /* comma-separated; repeating the key within one source appends */
        KB_TYPE_ENUM,
} KbType;

/* X(ID, "name", section, type, "default" or NULL, validator or NULL, "one-line description") */
#define KB_KEYS(X)                                                                                               \
        X(TOKEN, "token", KB_SECTION_JOIN, KB_TYPE_SECRET, NULL, validate_token,                                 \
          "bootstrap token, [a-z0-9]{6}.[a-z0-9]{16}")                                                           \
        X(SERVER, "server", KB_SECTION_JOIN, KB_TYPE_STRING, NULL, validate_server_url,                          \
          "apiserver URL, https://HOST:PORT")                                                                    \
        X(CA_CERT_HASH, "ca-cert-hash", KB_SECTION_JOIN, KB_TYPE_LIST, NULL, validate_ca_pin,                    \
          "pin(s) of the cluster CA's public key, sha256:<hex>")                                                 \
        X(CA_CERT, "ca-cert", KB_SECTION_JOIN, KB_TYPE_STRING, NULL, validate_ca_cert_form,                      \
          "the cluster CA: a path, or PEM/base64 inline")                                                        \
        X(UNSAFE_SKIP_CA_VERIFICATION, "unsafe-skip-ca-verification", KB_SECTION_JOIN, KB_TYPE_BOOL, "false",    \
          NULL, "trust token discovery without a CA pin")                                                        \
        X(NODE_NAME, "node-name", KB_SECTION_JOIN, KB_TYPE_STRING, NULL, validate_dns1123_subdomain,             \
          "the Node's name (default: metadata, else the hostname, lowercased)")                                  \
        X(DATASOURCE, "datasource", KB_SECTION_JOIN, KB_TYPE_ENUM, "auto", NULL,                                 \
          "metadata source: auto, none, ec2, gce, azure, openstack, digitalocean, hetzner")                      \
        X(DISCOVERY_TIMEOUT, "discovery-timeout", KB_SECTION_JOIN, KB_TYPE_DURATION, "5m", NULL,                 \
          "deadline for reaching the apiserver and discovering the CA")                                          \
        X(WAIT_TIMEOUT, "wait-timeout", KB_SECTION_JOIN, KB_TYPE_DURATION, "30m", NULL,                          \
          "deadline for the Node to appear after kubelet starts")                                                \
        X(METADATA_TIMEOUT, "metadata-timeout", KB_SECTION_JOIN, KB_TYPE_DURATION, "20s", NULL,                  \
          "deadline for reading the metadata service")                                                           \
        X(METADATA_REQUEST_TIMEOUT, "metadata-request-timeout", KB_SECTION_JOIN, KB_TYPE_DURATION, "2s", NULL,   \
          "deadline for one metadata request")                                                                   \
        X(IGNORE_PREFLIGHT_ERRORS, "ignore-preflight-errors", KB_SECTION_JOIN, KB_TYPE_LIST, NULL,               \
          validate_preflight_check_name, "node checks to downgrade to warnings (kubeadm's names), or all")       \
        X(KUBELET_PATH, "kubelet-path", KB_SECTION_JOIN, KB_TYPE_STRING, NULL, validate_abs_path,                \
          "the kubelet binary (default: /usr/bin/kubelet, else /opt/bin/kubelet)")                               \
        X(MEDIA_TIMEOUT, "media-timeout", KB_SECTION_JOIN, KB_TYPE_DURATION, NULL, NULL,                         \
          "wait this long for a late KUBEBOOT medium when no source gave a token (unset: no wait)")              \
        X(NODE_IP, "node-ip", KB_SECTION_KUBELET, KB_TYPE_LIST, NULL, validate_ip,                               \
          "the node's IP address(es), one per family")                                                           \
        X(PROVIDER_ID, "provider-id", KB_SECTION_KUBELET, KB_TYPE_STRING, NULL, validate_provider_id,            \
          "the cloud provider's ID for this machine")                                                            \
        X(NODE_LABELS, "node-labels", KB_SECTION_KUBELET, KB_TYPE_LIST, NULL, validate_node_label,               \
          "labels to register the Node with, key=value,...")                                                     \
        X(REGISTER_WITH_TAINTS, "register-with-taints", KB_SECTION_KUBELET, KB_TYPE_LIST, NULL, validate_taint,  \
          "taints to register the Node with, key=value:Effect,...")                                              \
        X(MAX_PODS, "max-pods", KB_SECTION_KUBELET, KB_TYPE_UINT, "110", NULL, "pods this node may run")          \
        X(CLUSTER_DNS, "cluster-dns", KB_SECTION_KUBELET, KB_TYPE_LIST, NULL, validate_ip,                       \
          "cluster DNS service IP(s)")                                                                           \
        X(CLUSTER_DOMAIN, "cluster-domain", KB_SECTION_KUBELET, KB_TYPE_STRING, "cluster.local",                 \
          validate_dns1123_subdomain, "the cluster's DNS domain")                                                \
        X(CONTAINER_RUNTIME_ENDPOINT, "container-runtime-endpoint", KB_SECTION_KUBELET, KB_TYPE_STRING,          \
          "unix:///run/containerd/containerd.sock", validate_cri_endpoint, "the CRI socket")                     \
        X(CGROUP_DRIVER, "cgroup-driver", KB_SECTION_KUBELET, KB_TYPE_ENUM, "systemd", NULL,                     \
          "systemd or cgroupfs")                                                                                 \
        X(SERVER_TLS_BOOTSTRAP, "server-tls-bootstrap", KB_SECTION_KUBELET, KB_TYPE_BOOL, "false", NULL,         \
          "serving certificate from a CSR (needs an approver of kubelet-serving CSRs)")                          \
        X(RESOLV_CONF, "resolv-conf", KB_SECTION_KUBELET, KB_TYPE_STRING, NULL, validate_abs_path,               \
          "the kubelet's resolvConf (default: resolved's upstream file behind its stub)")

typedef enum KbKey {
#define X(id, ...) KB_##id,
        KB_KEYS(X)
#undef X
                _KB_KEY_MAX,
} KbKey;

typedef struct KbKeyInfo {
        const char *name;
        KbSection section;
        KbType type;
        const char *def;
        int (*validate)(const char *s, char *why, size_t n);
        const char *const *choices; /* KB_TYPE_ENUM */
        unsigned long min, max;     /* KB_TYPE_UINT */
        const char *description;
} KbKeyInfo;

extern const KbKeyInfo kb_keys[_KB_KEY_MAX];

typedef struct KbValue {
        char *str;            /* STRING, SECRET, ENUM */
        char **list;          /* LIST */
        bool b;               /* BOOL */
        unsigned long long u; /* UINT, DURATION (ms) */
        char *source;         /* where it was set: "FILE:LINE", "cmdline", "default"; NULL if unset */
        char *origin;         /* the source without position, e.g. the file */
} KbValue;

/* Settings of a [datasource.NAME] section, for the datasources to read. */
typedef struct KbDsSetting {
        char *section, *key, *value, *source;
} KbDsSetting;

typedef struct KbConfig {
        KbValue v[_KB_KEY_MAX];
        KbDsSetting *ds;
        size_t n_ds;
        char **token_sources; /* every place a token was read from, overridden ones too */
} KbConfig;

/* One key=value read from a source, with where it was read. */
typedef struct KbEntry {
        char *section; /* NULL for the cmdline */
        char *key;
        char *value;
        unsigned line; /* 0 if none */
} KbEntry;

typedef struct KbEntries {
        char *origin; /* "/etc/kubeboot/kubeboot.ini", "cmdline", "ec2:user-data", ... */
        KbEntry *e;
        size_t n;
} KbEntries;

/* Empties entries, wiping every value (they may hold the token). */
void entries_clear(KbEntries *es);
/* Sets the origin (copied); 0 or -ENOMEM. */
int entries_set_origin(KbEntries *es, const char *origin);
/* Appends a copy of one entry; 0 or -ENOMEM. */
int entries_add(KbEntries *es, const char *section, const char *key, const char *value, unsigned line);

/* Fills in the built-in defaults. 0 or -ENOMEM. */
int config_init(KbConfig *c);
/* Releases everything, wiping secrets. */
void config_done(KbConfig *c);
/* Looks a key up by name ('-' and '_' equivalent); -1 if unknown. */
int config_key_lookup(const char *name);
/* Merges one source's entries over c: each value is validated and logged, naming the
 * source and key, on error (-EINVAL). Unknown keys and sections are warned about. */
int config_apply(KbConfig *c, const KbEntries *es);
/* Sets one value from one source (the core of config_apply). */
int config_set(KbConfig *c, const char *origin, const char *source, const char *section, const char *key,
               const char *value);
/* Is the key set (by a source or a default)? */
static inline bool config_has(const KbConfig *c, KbKey k) {
        return c->v[k].source != NULL;
}
/* The value of a [datasource.NAME] key, or NULL. */
const char *config_ds_get(const KbConfig *c, const char *ds, const char *key, const char **ret_source);
/* The value as text for display: the secret part of a token redacted, lists comma-joined. */
char *config_format_value(const KbConfig *c, KbKey k, bool redact);

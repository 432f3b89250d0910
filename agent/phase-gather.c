/* Phase gather: every configuration source, in precedence order (DESIGN §2). */
#include <sys/stat.h>
#include <sys/utsname.h>

#include "cmdline.h"
#include "datasource.h"
#include "datasources/ds-media.h"
#include "fileio.h"
#include "ini-source.h"
#include "log.h"
#include "paths.h"
#include "phases.h"
#include "secret.h"
#include "validate.h"

#define CMDLINE_PREFIX "kubeboot."

/* A file that carries the token must be readable by root alone. */
static void warn_if_token_exposed(const char *path, const KbEntries *es) {
        struct stat st;
        for (size_t i = 0; i < es->n; i++)
                if (config_key_lookup(es->e[i].key) == KB_TOKEN && stat(path, &st) == 0 && (st.st_mode & 0077))
                        log_key_errno(LOG_WARNING, 0, path, "token",
                                      "file holds the token but is readable by others (mode %04o): chmod 0600 it",
                                      st.st_mode & 07777);
}

static int apply_file(Kb *kb, const char *path, bool must_exist) {
        KbEntries es = {};
        int r = ini_load_file(path, &es);
        if (r == -ENOENT && !must_exist)
                r = 0;
        else if (r == -ENOENT)
                r = log_key_errno(LOG_ERR, -EINVAL, path, NULL, "no such file");
        else if (r >= 0) {
                log_debug("read %zu keys from %s", es.n, path);
                warn_if_token_exposed(path, &es);
                r = config_apply(&kb->cfg, &es);
        }
        entries_clear(&es);
        return r;
}

/* One ini and its drop-in directory, e.g. /etc/kubeboot/kubeboot.ini and its .d directory. */
static int apply_ini_layer(Kb *kb, const char *file, const char *dropin_dir) {
        _cleanup_free_ char *path = NULL, *dir = NULL;
        _cleanup_strv_free_ char **dropins = NULL;
        int ret = 0, r;

        /* each file by the name of what it is beneath the root: a symlinked ini is read,
         * and later scrubbed, where it really lies */
        r = kb_path_target(kb, file, &path);
        if (r >= 0)
                r = apply_file(kb, path, false);
        else if (r == -ENOENT)
                r = 0;
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                ret = r;
        r = kb_path_target(kb, dropin_dir, &dir);
        if (r == -ENOENT)
                return ret;
        if (r < 0)
                return r == -ENOMEM ? r : ret ?: r;
        r = ini_list_dir(dir, &dropins);
        if (r < 0)
                return r;
        for (char **f = dropins; *f; f++) {
                _cleanup_free_ char *node = strdup_printf("%s/%s", dropin_dir, strrchr(*f, '/') + 1), *target = NULL;
                if (!node)
                        return -ENOMEM;
                r = kb_path_target(kb, node, &target);
                if (r >= 0)
                        r = apply_file(kb, target, false);
                else if (r == -ENOENT)
                        r = 0;
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int cmdline_entry(const char *key, const char *value, void *userdata) {
        KbEntries *es = userdata;
        const char *k = startswith(key, CMDLINE_PREFIX);
        if (!k)
                return 0;
        int id = config_key_lookup(k);
        /* a bare boolean switch means true, as for kernel parameters */
        if (!value && id >= 0 && kb_keys[id].type == KB_TYPE_BOOL)
                value = "true";
        return entries_add(es, NULL, k, value ?: "", 0);
}

/* The kernel command line's kubeboot.* entries; applied last, but read first, because
 * it may choose the datasource. */
static int read_cmdline(Kb *kb, KbEntries *es) {
        const char *path = kb->opt->cmdline_path ?: "/proc/cmdline";
        _cleanup_secret_ char *buf = NULL;
        size_t len;

        int r = entries_set_origin(es, "cmdline");
        if (r < 0)
                return r;
        r = read_file_bounded(path, KB_CMDLINE_MAX, &buf, &len);
        if (r == -ENOENT && !kb->opt->cmdline_path)
                return 0; /* no procfs (a build container): no kernel command line */
        if (r == -EFBIG)
                return log_key_errno(LOG_ERR, -EINVAL, "cmdline", NULL, "%s is larger than %u bytes", path,
                                     KB_CMDLINE_MAX);
        if (r < 0)
                return log_key_errno(LOG_ERR, r == -ENOMEM ? r : -EINVAL, "cmdline", NULL, "cannot read %s: %s",
                                     path, strerror(-r));
        return cmdline_parse(buf, len, cmdline_entry, es);
}

/* The last value the cmdline (read, not yet applied) gives key, or NULL. */
static const char *cmdline_value(const KbEntries *cmdline, KbKey key) {
        const char *v = NULL;
        for (size_t i = 0; i < cmdline->n; i++)
                if (config_key_lookup(cmdline->e[i].key) == (int) key)
                        v = cmdline->e[i].value;
        return v;
}

/* datasource= as the cmdline or, below it, the other sources set it. */
static const char *datasource_setting(const Kb *kb, const KbEntries *cmdline) {
        return cmdline_value(cmdline, KB_DATASOURCE) ?: kb->cfg.v[KB_DATASOURCE].str;
}

/* A duration as the cmdline or, below it, the other sources set it. A malformed cmdline
 * value is ignored here: applying the cmdline afterwards reports it. */
static unsigned long long duration_setting(const Kb *kb, const KbEntries *cmdline, KbKey key) {
        const char *v = cmdline_value(cmdline, key);
        unsigned long long ms;
        if (v && parse_duration_ms(v, &ms) >= 0 && ms > 0)
                return ms;
        return kb->cfg.v[key].u;
}

static int apply_result(Kb *kb, DsResult *res) {
        int ret = 0;
        for (size_t i = 0; i < res->n_parts; i++) {
                int r = config_apply(&kb->cfg, &res->parts[i]);
                if (r == -ENOMEM)
                        return r;
                ret = ret ?: r;
        }
        return ret;
}

/* Config media and the metadata service, between the ini files and the cmdline. */
static int apply_datasources(Kb *kb, const KbEntries *cmdline) {
        const char *setting = datasource_setting(kb, cmdline);
        const Datasource *ds = NULL;
        DsDmi dmi;
        int r;

        /* config media (a filesystem labelled KUBEBOOT): above the ini files, below metadata */
        DsResult media = {};
        r = ds_media_read(kb->opt->root, &media);
        if (r >= 0)
                r = apply_result(kb, &media);
        ds_result_done(&media);
        if (r < 0)
                return r; /* -ENOMEM, or a bad value on the medium (logged) */
        setting = datasource_setting(kb, cmdline); /* the medium may have set it (and freed the old) */

        dmi_read(kb->opt->root, &dmi);
        r = datasource_select(setting, &dmi, &ds);
        dmi_done(&dmi);
        if (r < 0)
                return 0; /* only the cmdline can still hold a bad name here: applying it reports it */
        if (!ds) {
                log_debug("no metadata service: datasource=%s%s", setting,
                          streq(setting, "auto") ? " and DMI names no known platform" : "");
                return 0;
        }

        HttpClient *http = kb_http(kb);
        if (!http)
                return log_error_errno(-ENOMEM, "Failed to set up libcurl");
        Backoff deadline;
        backoff_init(&deadline, duration_setting(kb, cmdline, KB_METADATA_TIMEOUT), BACKOFF_BASE_MS, BACKOFF_CAP_MS);
        DsEnv env = {
                .root = kb->opt->root,
                .cfg = &kb->cfg,
                .http = http,
                .backoff = &deadline,
                .request_timeout_ms = (unsigned long) duration_setting(kb, cmdline, KB_METADATA_REQUEST_TIMEOUT),
        };
        DsResult res = {};
        const char *endpoint = ds_endpoint(&env, ds);
        log_info("reading the %s metadata service at %s", ds->name, endpoint);
        r = ds->fetch(&env, endpoint, &res);
        if (r >= 0)
                r = apply_result(kb, &res);
        ds_result_done(&res);
        return r;
}

/* node-name when no source set it: the hostname, lowercased, as kubelet does. */
static int default_node_name(Kb *kb) {
        struct utsname u;
        char why[WHY_MAX];

        if (config_has(&kb->cfg, KB_NODE_NAME))
                return 0;
        if (uname(&u) < 0)
                return log_error_errno(negative_errno(), "Failed to read the hostname: %m");
        ascii_strlower(u.nodename);
        if (validate_dns1123_subdomain(u.nodename, why, sizeof why) < 0)
                return log_key_errno(LOG_ERR, -EINVAL, "hostname", "node-name",
                                     "no node-name set and the hostname is not usable: %s", why);
        return config_set(&kb->cfg, "hostname", "hostname", NULL, "node-name", u.nodename);
}

/* kubeadm sets resolvConf to systemd-resolved's upstream file when resolved is active
 * (cmd/kubeadm/app/componentconfigs/kubelet.go, isServiceActive): else pods with
 * dnsPolicy: Default, CoreDNS among them, get the stub 127.0.0.53, which is this node's
 * loopback, not theirs, and CoreDNS forwards to itself. Decided as the node has it: its
 * /etc/resolv.conf names the stub and the upstream file exists (under --root). */
#define RESOLVED_STUB "127.0.0.53"
#define RESOLVED_UPSTREAM "/run/systemd/resolve/resolv.conf"
#define RESOLV_CONF_MAX (64 * 1024)

static bool names_resolved_stub(const char *text) {
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                l += strspn(l, " \t");
                const char *v = startswith(l, "nameserver");
                if (!v || (*v != ' ' && *v != '\t'))
                        continue;
                v += strspn(v, " \t");
                size_t len = strcspn(v, " \t\r\n#;");
                if (len == strlen(RESOLVED_STUB) && strncmp(v, RESOLVED_STUB, len) == 0)
                        return true;
        }
        return false;
}

static int default_resolv_conf(Kb *kb) {
        if (config_has(&kb->cfg, KB_RESOLV_CONF))
                return 0;
        _cleanup_free_ char *etc = NULL, *upstream = NULL, *text = NULL;
        size_t len;
        /* followed beneath the root: Ubuntu's /etc/resolv.conf is a link to resolved's stub file */
        int r = kb_path_target(kb, "/etc/resolv.conf", &etc);
        if (r >= 0)
                r = kb_path_target(kb, RESOLVED_UPSTREAM, &upstream);
        if (r == -ENOMEM)
                return r;
        if (r < 0) /* cannot tell (logged): kubelet keeps its default */
                return 0;
        r = read_file_bounded(etc, RESOLV_CONF_MAX, &text, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !names_resolved_stub(text) || access(upstream, F_OK) < 0)
                return 0;
        log_info("/etc/resolv.conf names systemd-resolved's stub %s: kubelet gets resolvConf %s, as kubeadm does",
                 RESOLVED_STUB, RESOLVED_UPSTREAM);
        return config_set(&kb->cfg, "systemd-resolved", "systemd-resolved", NULL, "resolv-conf", RESOLVED_UPSTREAM);
}

/* The explicit CA, checked against the pins when both are given. */
static int load_explicit_ca(Kb *kb) {
        const KbValue *v = &kb->cfg.v[KB_CA_CERT];
        char why[WHY_MAX], pin[CA_PIN_MAX];
        KbCA *ca = NULL;

        if (!config_has(&kb->cfg, KB_CA_CERT))
                return 0;
        int r = ca_load_value(v->str, kb->opt->root, &ca, why, sizeof why);
        if (r == -ENOMEM)
                return log_error_errno(r, "Out of memory");
        if (r < 0)
                return log_key_errno(LOG_ERR, -EINVAL, v->source, "ca-cert", "%s", why);

        if (config_has(&kb->cfg, KB_CA_CERT_HASH)) {
                /* as in discovery: with pins, only the pinned certificates are trusted */
                r = ca_keep_pinned(ca, kb->cfg.v[KB_CA_CERT_HASH].list, pin);
                if (r == -ENOMEM) {
                        ca_free(ca);
                        return log_error_errno(r, "Out of memory");
                }
                if (r < 0) {
                        ca_free(ca);
                        return log_key_errno(LOG_ERR, r, kb->cfg.v[KB_CA_CERT_HASH].source, "ca-cert-hash",
                                             "no pin matches the CA from ca-cert (%s), whose pin is %s", v->source,
                                             pin);
                }
        }
        ca_free(kb->ca);
        kb->ca = ca;
        free(kb->ca_source);
        kb->ca_source = strdup_printf("ca-cert from %s", v->source);
        return kb->ca_source ? 0 : -ENOMEM;
}

int gather_sources(Kb *kb) {
        KbEntries cmdline = {};
        int ret, r;

        ret = config_init(&kb->cfg);
        if (ret < 0)
                return ret;

        /* lowest precedence first: each later source overrides what came before */
        r = apply_ini_layer(kb, PATH_VENDOR_INI, PATH_VENDOR_INI_D);
        if (r == -ENOMEM)
                goto finish;
        ret = ret ?: r;
        r = apply_ini_layer(kb, PATH_ADMIN_INI, PATH_ADMIN_INI_D);
        if (r == -ENOMEM)
                goto finish;
        ret = ret ?: r;
        if (kb->opt->config_path) {
                r = apply_file(kb, kb->opt->config_path, true);
                if (r == -ENOMEM)
                        goto finish;
                ret = ret ?: r;
        }
        r = read_cmdline(kb, &cmdline);
        if (r == -ENOMEM)
                goto finish;
        ret = ret ?: r;
        if (ret >= 0) {
                r = apply_datasources(kb, &cmdline);
                if (r == -ENOMEM)
                        goto finish;
                ret = ret ?: r;
        }
        r = config_apply(&kb->cfg, &cmdline);
        if (r == -ENOMEM)
                goto finish;
        ret = ret ?: r;
        if (ret < 0) {
                r = ret; /* every bad value is logged; derived values would only add noise */
                goto finish;
        }

        r = default_node_name(kb);
        if (r >= 0)
                r = default_resolv_conf(kb);
        if (r >= 0)
                r = load_explicit_ca(kb);
finish:
        entries_clear(&cmdline);
        return r;
}

/* node-ip as kubelet parses --node-ip (staging/src/k8s.io/component-helpers/node/util/ips.go
 * ParseNodeIPArgument): a single IP, or a dual-stack pair, one of each family. */
static int check_node_ips(const KbConfig *c) {
        char *const *ips = c->v[KB_NODE_IP].list;
        size_t n = strv_length(ips);
        if (n <= 1)
                return 0;
        if (n == 2 && (strchr(ips[0], ':') != NULL) != (strchr(ips[1], ':') != NULL))
                return 0;
        return log_key_errno(LOG_ERR, -EINVAL, c->v[KB_NODE_IP].source, "node-ip",
                             "%zu addresses: kubelet takes a single IP or a dual-stack pair (one IPv4, one IPv6)", n);
}

int phase_gather(Kb *kb) {
        int r = gather_sources(kb);
        if (r < 0)
                return r;
        /* a KUBEBOOT medium that enumerates late: when nothing gave a token, wait for it (as
         * long as media-timeout says), then gather again, so every source keeps its rank */
        if (!config_has(&kb->cfg, KB_TOKEN) && config_has(&kb->cfg, KB_MEDIA_TIMEOUT)) {
                r = ds_media_wait(kb->opt->root, kb->cfg.v[KB_MEDIA_TIMEOUT].u);
                if (r < 0)
                        return r;
                if (r > 0) {
                        config_done(&kb->cfg);
                        r = gather_sources(kb);
                        if (r < 0)
                                return r;
                }
        }

        static const struct {
                KbKey key;
                const char *example;
        } required[] = {
                { KB_TOKEN, "abcdef.0123456789abcdef" },
                { KB_SERVER, "https://192.0.2.10:6443" },
        };
        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                if (!config_has(&kb->cfg, required[i].key))
                        r = log_key_errno(LOG_ERR, -ENOKEY, "configuration", kb_keys[required[i].key].name,
                                          "not set by any source: put %s=%s in [join] of /etc/kubeboot/kubeboot.ini, "
                                          "or kubeboot.%s=... on the kernel command line",
                                          kb_keys[required[i].key].name, required[i].example,
                                          kb_keys[required[i].key].name);
        if (r < 0)
                return r;
        r = check_node_ips(&kb->cfg);
        if (r < 0)
                return r;

        if (kb->cfg.v[KB_UNSAFE_SKIP_CA_VERIFICATION].b && !config_has(&kb->cfg, KB_CA_CERT_HASH) &&
            !config_has(&kb->cfg, KB_CA_CERT))
                log_key_errno(LOG_WARNING, 0, kb->cfg.v[KB_UNSAFE_SKIP_CA_VERIFICATION].source,
                              "unsafe-skip-ca-verification",
                              "set: the cluster CA will be trusted without a pin (anyone on the path to the "
                              "apiserver who knows the token could impersonate it)");
        log_info("configuration gathered: node %s, server %s", kb->cfg.v[KB_NODE_NAME].str,
                 kb->cfg.v[KB_SERVER].str);
        return 0;
}

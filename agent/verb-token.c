/* `kubeboot token create|list|delete`: the control-plane half (DESIGN §6). With an admin
 * kubeconfig it does what the seed guide has an operator do by hand: the token Secret,
 * the three RBAC bindings, kube-public/cluster-info and the CA pin; then it prints what
 * a node needs. Everything given on the command line is checked before any request. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdarg.h>

#include "fileio.h"
#include "kubeconfig-read.h"
#include "paths.h"
#include "log.h"
#include "secret.h"
#include "token-cluster.h"
#include "token-print.h"
#include "validate.h"
#include "verbs.h"

#define DEFAULT_TTL "24h"
#define DEFAULT_USAGES "authentication,signing"
#define DEFAULT_WAIT "30s"
/* Far enough for anyone; keeps the expiry a four-digit year. */
#define TTL_MAX_S (100ULL * 365 * 24 * 3600)
#define WAIT_MAX_MS (600ULL * 1000)

/* create's options, parsed and checked. */
typedef struct CreateArgs {
        TokenSpec spec;
        unsigned long long ttl_s;
        unsigned long long wait_ms;
        TokenFormat format;
        KbCA *ca; /* --ca-cert */
} CreateArgs;

static void create_args_done(CreateArgs *c) {
        strv_free(c->spec.groups);
        ca_free(c->ca);
        *c = (CreateArgs){};
}

static int usage(const char *fmt, ...) _printf_(1, 2);
static int usage(const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        log_error("%s", msg);
        return -KB_EUSAGE;
}

static int parse_create_args(const KbOptions *o, CreateArgs *c) {
        char why[WHY_MAX];
        unsigned long long ms;

        if (parse_duration_ms(o->ttl ?: DEFAULT_TTL, &ms) < 0 || ms / 1000 > TTL_MAX_S)
                return usage("--ttl: \"%s\" is not a duration like 24h, 90m or 0 (never expires), of at most 100 years",
                             o->ttl);
        c->ttl_s = (ms + 999) / 1000;
        if (token_parse_usages(o->usages ?: DEFAULT_USAGES, &c->spec.usages, why, sizeof why) < 0)
                return usage("--usages: %s", why);
        /* kubeadm token create's default: the group its bindings name */
        int r = token_parse_groups(o->groups ?: TOKEN_KUBEADM_GROUP, &c->spec.groups, why, sizeof why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return usage("--groups: %s", why);
        if (o->description && token_validate_description(o->description, why, sizeof why) < 0)
                return usage("--description: %s", why);
        c->spec.description = o->description;
        c->format = token_format_from_string(o->print ?: "cmdline");
        if (c->format < 0)
                return usage("--print: \"%s\" is none of cmdline, ini, butane, cloud-init", o->print);
        if (parse_duration_ms(o->wait ?: DEFAULT_WAIT, &c->wait_ms) < 0 || c->wait_ms > WAIT_MAX_MS)
                return usage("--wait: \"%s\" is not a duration like 30s (0: do not wait), of at most 10m", o->wait);
        if (o->server && validate_server_url(o->server, why, sizeof why) < 0)
                return usage("--server: %s", why);
        if (o->ca_cert) {
                _cleanup_free_ char *buf = NULL;
                size_t len;
                r = read_file_bounded(o->ca_cert, KB_CA_MAX, &buf, &len);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return log_error_errno(r == -ENOENT ? r : -EINVAL, "--ca-cert: cannot read %s: %s",
                                               o->ca_cert, strerror(-r));
                r = ca_parse(buf, len, &c->ca, why, sizeof why);
                if (r < 0)
                        return log_error_errno(r == -ENOMEM ? r : -EINVAL, "--ca-cert: %s: %s", o->ca_cert, why);
        }
        return 0;
}

/* The admin side: kubeconfig, credentials, trust. */
typedef struct Admin {
        char *path;
        Kubeconfig *kc;
        KubeconfigCreds *creds;
        AdminClient client;
} Admin;

static void admin_done(Admin *a) {
        free(a->path);
        kubeconfig_free(a->kc);
        kubeconfig_creds_free(a->creds);
        *a = (Admin){};
}

/* 0 if url's scheme is https (libcurl's URL parser decides), -EPROTONOSUPPORT if not. */
static int require_https(const char *url) {
        CURLU *u = curl_url();
        char *scheme = NULL;
        if (!u)
                return -ENOMEM;
        int r = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
                                curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
                                strcasecmp(scheme, "https") == 0
                        ? 0
                        : -EPROTONOSUPPORT;
        curl_free(scheme);
        curl_url_cleanup(u);
        return r;
}

/* Loads the kubeconfig kubectl would use and sets up the client; ca (--ca-cert) is
 * trusted when the kubeconfig names no CA of its own. */
static int admin_open(Kb *kb, const KbCA *ca, Admin *a) {
        const KbOptions *o = kb->opt;
        char why[512];

        int r = kubeconfig_find(o->kubeconfig, getenv("KUBECONFIG"), getenv("HOME"), &a->path, why, sizeof why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return log_error_errno(r, "no kubeconfig: %s (pass --kubeconfig=FILE)", why);
        r = kubeconfig_load(a->path, o->context, &a->kc, why, sizeof why);
        if (r == -ENOENT)
                return log_error_errno(r, "kubeconfig %s does not exist", a->path);
        if (r < 0)
                return log_error_errno(r == -ENOMEM ? r : -EINVAL, "kubeconfig %s: %s", a->path, why);
        /* before any request: admin credentials go over TLS or not at all */
        r = require_https(a->kc->server);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return log_error_errno(-EINVAL, "kubeconfig %s: the server %s is not https://: kubeboot sends admin "
                                                "credentials only over TLS",
                                       a->path, a->kc->server);
        r = kubeconfig_creds_load(a->kc, &a->creds, why, sizeof why);
        if (r < 0)
                return log_error_errno(r == -ENOMEM ? r : -EINVAL, "kubeconfig %s: %s", a->path, why);
        if (!a->creds->ca && !ca)
                return log_error_errno(-EINVAL,
                                       "kubeconfig %s names no certificate-authority for cluster \"%s\"%s: pass "
                                       "--ca-cert=FILE with the cluster CA",
                                       a->path, a->kc->cluster_name ?: "",
                                       a->kc->insecure_skip_tls_verify ? " (it skips TLS verification, which "
                                                                         "kubeboot does not)"
                                                                       : "");
        HttpClient *http = kb_http(kb);
        if (!http)
                return log_error_errno(-ENOMEM, "Failed to set up libcurl");
        a->client = (AdminClient){
                .http = http,
                .server = a->kc->server,
                .kubeconfig = a->path,
                .auth = kubeconfig_creds_auth(a->creds, a->creds->ca ? NULL : ca),
        };
        log_debug("using kubeconfig %s, context %s, server %s", a->path, a->kc->context ?: "(none)", a->kc->server);
        return 0;
}

/* Nodes reach the server they are told: a loopback address (an admin.kubeconfig used
 * on the control plane, as the seed guide's) reaches nothing from a node. */
static void warn_if_loopback(const char *server) {
        CURLU *u = curl_url();
        char *host = NULL;
        if (u && curl_url_set(u, CURLUPART_URL, server, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
                struct in_addr a4;
                bool loop = streq(host, "localhost") || streq(host, "[::1]") ||
                            (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127);
                if (loop)
                        log_warning("nodes are told the server %s, a loopback address: pass --server=https://"
                                    "<address nodes reach>:6443 unless the nodes run on this machine",
                                    server);
        }
        curl_free(host);
        curl_url_cleanup(u);
}

/* Writes the material with write(2): stdio's buffer would keep a copy of the token. */
static int print_secret(const char *s) {
        if (fflush(stdout) != 0)
                return negative_errno();
        for (size_t len = strlen(s); len > 0;) {
                ssize_t k = write(STDOUT_FILENO, s, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(negative_errno(), "Failed to write to stdout: %m");
                }
                s += k;
                len -= (size_t) k;
        }
        return 0;
}

/* Says what the bootstrap signer's verdict means; true if the node needs the CA itself. */
static bool judge_signature(int r, const char *id, unsigned long long wait_ms, const char *detail) {
        switch (r) {
        case 0:
                log_info("the bootstrap signer signed kube-public/cluster-info for token %s: nodes can discover "
                         "the CA with the pin",
                         id);
                return false;
        case -EACCES:
                log_warning("anonymous users may not read kube-public/cluster-info (%s): token discovery cannot "
                            "work (is the apiserver run with --anonymous-auth=false?); the material includes the "
                            "CA (ca-cert) instead",
                            detail);
                return true;
        case -EKEYREJECTED:
                log_warning("kube-public/cluster-info carries a signature for token %s that does not verify "
                            "after %llus; the material includes the CA (ca-cert)",
                            id, wait_ms / 1000);
                return true;
        default:
                log_warning("no signature for token %s in kube-public/cluster-info after %llus (%s): "
                            "kube-controller-manager runs without the bootstrap signer; add "
                            "bootstrapsigner,tokencleaner to its --controllers (e.g. "
                            "--controllers=*,bootstrapsigner,tokencleaner). Until then nodes need the CA: the "
                            "material includes it (ca-cert)",
                            id, wait_ms / 1000, detail);
                return true;
        }
}

static int token_create(Kb *kb) {
        const KbOptions *o = kb->opt;
        _cleanup_(create_args_done) CreateArgs args = {};
        _cleanup_(admin_done) Admin admin = {};
        _cleanup_free_ char *server = NULL;
        _cleanup_secret_ char *material = NULL;
        char token[TOKEN_LEN + 1] = "", id[TOKEN_ID_LEN + 1], pin[CA_PIN_MAX], why[WHY_MAX], detail[640] = "";
        time_t expires = 0;
        int r;

        r = parse_create_args(o, &args);
        if (r < 0)
                return r;
        r = admin_open(kb, args.ca, &admin);
        if (r < 0)
                return r;
        const KbCA *ca = args.ca ?: admin.creds->ca;
        const char *want_server = o->server ?: admin.kc->server;
        if (!o->server && validate_server_url(want_server, why, sizeof why) < 0)
                return log_error_errno(-EINVAL, "the server of kubeconfig %s cannot be given to nodes: %s; pass "
                                                "--server=https://HOST:PORT",
                                       admin.path, why);
        r = ca_pin(&ca->chain, pin);
        if (r < 0)
                return log_error_errno(r, "Failed to compute the CA pin: %m");

        AdminClient *a = &admin.client;
        r = token_ensure_bindings(a, args.spec.groups);
        if (r < 0)
                return r;
        r = token_ensure_kubelet_config_rbac(a, args.spec.groups);
        if (r < 0)
                return r;
        r = token_ensure_cluster_info(a, want_server, ca, o->server != NULL, args.ca != NULL, &server);
        if (r < 0)
                return r;
        warn_if_loopback(server);
        r = token_create_secret(a, &args.spec, args.ttl_s, token, &expires);
        if (r < 0)
                return r;
        memcpy(id, token, TOKEN_ID_LEN);
        id[TOKEN_ID_LEN] = 0;

        char exp[32] = "never";
        if (expires)
                rfc3339_format(expires, exp);
        log_info("created bootstrap token %s.**************** (Secret kube-system/" TOKEN_SECRET_NAME_PREFIX
                 "%s), expires: %s",
                 id, id, exp);

        bool need_ca = false;
        if (!(args.spec.usages & TOKEN_USAGE_SIGNING)) {
                log_warning("the token is not for signing (--usages): the bootstrap signer never signs "
                            "cluster-info for it, so the material includes the CA (ca-cert)");
                need_ca = true;
        } else if (args.wait_ms > 0) {
                log_info("waiting up to %llus for the bootstrap signer to sign kube-public/cluster-info",
                         args.wait_ms / 1000);
                r = token_wait_signed(a, token, args.wait_ms, detail, sizeof detail);
                if (r == -ENOMEM)
                        goto finish;
                need_ca = judge_signature(r, id, args.wait_ms, detail);
        }
        log_info("server %s, CA pin %s", server, pin);

        JoinMaterial m = { .token = token, .server = server, .pin = pin, .ca = need_ca ? ca : NULL, .expires = expires };
        r = token_material_render(args.format, &m, &material);
        if (r < 0)
                goto finish;
        r = print_secret(material);
finish:
        secret_wipe(token, sizeof token);
        return r;
}

static int token_list(Kb *kb) {
        _cleanup_(admin_done) Admin admin = {};
        ApiResult res = { .retry_after_s = -1 };
        json_object *items = NULL;

        int r = admin_open(kb, NULL, &admin);
        if (r < 0)
                return r;
        r = token_list_secrets(&admin.client, &res, &items);
        if (r >= 0) {
                if (json_object_array_length(items) == 0 && !kb->opt->json)
                        log_info("no bootstrap tokens");
                r = token_print_list(stdout, items, admin_now(&admin.client), kb->opt->json);
        }
        /* the list carries every token's secret */
        admin_result_wipe(&res);
        return r;
}

/* The id of an id or a whole token (kubeadm takes both); a whole token's secret is
 * blanked in argv, where ps would show it. */
static int id_of_arg(char *arg, char ret[TOKEN_ID_LEN + 1]) {
        char why[WHY_MAX];
        if (token_id_valid(arg)) {
                memcpy(ret, arg, TOKEN_ID_LEN + 1);
                return 0;
        }
        if (validate_token(arg, why, sizeof why) < 0)
                return usage("token delete: an argument is neither a token id ([a-z0-9]{6}) nor a token");
        memcpy(ret, arg, TOKEN_ID_LEN);
        ret[TOKEN_ID_LEN] = 0;
        memset(arg + TOKEN_ID_LEN + 1, '*', TOKEN_SECRET_LEN);
        log_warning("token delete: pass the token id %s alone; the whole token was visible to other users in the "
                    "process list",
                    ret);
        return 0;
}

static int token_delete(Kb *kb) {
        _cleanup_(admin_done) Admin admin = {};
        char **ids = kb->opt->args + 1;
        size_t n = strv_length(ids);

        if (n == 0)
                return usage("token delete: name the token id(s) to delete");
        char (*parsed)[TOKEN_ID_LEN + 1] = calloc(n, sizeof *parsed);
        if (!parsed)
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = id_of_arg(ids[i], parsed[i]);
        if (r >= 0)
                r = admin_open(kb, NULL, &admin);
        /* like kubeadm: in order, stopping at the first failure */
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = token_delete_secret(&admin.client, parsed[i]);
                if (r >= 0)
                        printf("bootstrap token \"%s\" deleted\n", parsed[i]);
        }
        free(parsed);
        return r;
}

static bool create_options_given(const KbOptions *o) {
        return o->ttl || o->description || o->groups || o->usages || o->print || o->wait || o->server || o->ca_cert;
}

int verb_token(Kb *kb) {
        const KbOptions *o = kb->opt;
        const char *sub = o->args[0];

        if (!sub)
                return usage("token: name a subcommand: create, list or delete");
        if (!streq(sub, "create") && create_options_given(o))
                return usage("--ttl, --description, --groups, --usages, --print, --wait, --server and --ca-cert are "
                             "options of token create");
        if (o->json && !streq(sub, "list"))
                return usage("--json is an option of token list");
        /* not quoted: it might be a token */
        if (!streq(sub, "delete") && o->args[1])
                return usage("token %s takes no arguments", sub);
        if (streq(sub, "create"))
                return token_create(kb);
        if (streq(sub, "list"))
                return token_list(kb);
        if (streq(sub, "delete"))
                return token_delete(kb);
        return usage("token: no subcommand \"%s\" (create, list, delete)", sub);
}

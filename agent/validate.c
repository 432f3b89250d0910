#include "validate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>

static bool all_in(const char *s, size_t len, const char *set) {
        for (size_t i = 0; i < len; i++)
                if (!s[i] || !strchr(set, s[i]))
                        return false;
        return true;
}

#define LOWER_ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"
#define ALNUM LOWER_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define HEX "0123456789abcdefABCDEF"

int validate_token(const char *s, char *why, size_t n) {
        /* Never quote the value: it is the secret. */
        if (strlen(s) != 23 || s[6] != '.' || !all_in(s, 6, LOWER_ALNUM) || !all_in(s + 7, 16, LOWER_ALNUM))
                return why_invalid(why, n, "not a bootstrap token (expected [a-z0-9]{6}.[a-z0-9]{16})");
        return 0;
}

int validate_server_url(const char *s, char *why, size_t n) {
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
        int r = 0;

        if (!u)
                return -ENOMEM;
        CURLUcode uc = curl_url_set(u, CURLUPART_URL, s, CURLU_NON_SUPPORT_SCHEME);
        if (uc == CURLUE_BAD_PORT_NUMBER) {
                r = why_invalid(why, n, "\"%s\" has an invalid port", s);
                goto cleanup;
        }
        if (uc != CURLUE_OK) {
                r = why_invalid(why, n, "\"%s\" is not a URL (expected https://HOST:PORT)", s);
                goto cleanup;
        }
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        if (!scheme || strcasecmp(scheme, "https") != 0) {
                r = why_invalid(why, n, "\"%s\" is not an https URL (the apiserver is only reached over TLS)", s);
                goto cleanup;
        }
        if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || isempty(host)) {
                r = why_invalid(why, n, "\"%s\" has no host", s);
                goto cleanup;
        }
        if (curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
            curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
            curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK) {
                r = why_invalid(why, n, "\"%s\" carries user info, a query or a fragment", s);
                goto cleanup;
        }
        if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && !isempty(path) && !streq(path, "/")) {
                r = why_invalid(why, n, "\"%s\" has a path (expected https://HOST:PORT)", s);
                goto cleanup;
        }
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
                unsigned long p;
                if (parse_uint(port, 1, 65535, &p) < 0) {
                        r = why_invalid(why, n, "\"%s\" has an invalid port", s);
                        goto cleanup;
                }
        }
        if (host[0] != '[') {
                char hw[WHY_MAX];
                struct in_addr a4;
                if (inet_pton(AF_INET, host, &a4) != 1 && validate_dns1123_subdomain(host, hw, sizeof hw) < 0) {
                        r = why_invalid(why, n, "\"%s\": host is neither an IP address nor a DNS name", s);
                        goto cleanup;
                }
        }
cleanup:
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_free(path);
        curl_free(extra);
        curl_url_cleanup(u);
        return r;
}

int validate_ca_pin(const char *s, char *why, size_t n) {
        /* kubeadm's pubkeypin lowercases the format before comparing: SHA256: is fine */
        const char *hex = strncasecmp(s, "sha256:", 7) == 0 ? s + 7 : NULL;
        if (!hex)
                return why_invalid(why, n, "\"%s\" is not a CA pin (expected sha256:<64 hex digits>)", s);
        if (strlen(hex) != 64 || !all_in(hex, 64, HEX))
                return why_invalid(why, n, "\"%s\": a sha256 pin has exactly 64 hex digits", s);
        return 0;
}

/* One DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
static bool dns1123_label(const char *s, size_t len) {
        if (len == 0 || len > 63)
                return false;
        if (!all_in(s, len, LOWER_ALNUM "-"))
                return false;
        return s[0] != '-' && s[len - 1] != '-';
}

int validate_dns1123_subdomain(const char *s, char *why, size_t n) {
        size_t len = strlen(s);
        if (len == 0 || len > 253)
                return why_invalid(why, n, "must be 1 to 253 characters, not %zu", len);
        for (const char *p = s;;) {
                size_t l = strcspn(p, ".");
                if (!dns1123_label(p, l))
                        return why_invalid(why, n,
                                    "\"%s\" is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', "
                                    "each part starting and ending with a letter or digit)",
                                    s);
                if (!p[l])
                        break;
                p += l + 1;
        }
        return 0;
}

int validate_ip(const char *s, char *why, size_t n) {
        unsigned char buf[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
                return 0;
        return why_invalid(why, n, "\"%s\" is not an IP address", s);
}

/* apimachinery's qualifiedNameFmt: ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63. */
static bool qualified_name_part(const char *s, size_t len) {
        if (len == 0 || len > 63)
                return false;
        if (!all_in(s, len, ALNUM "-_."))
                return false;
        return isalnum((unsigned char) s[0]) && isalnum((unsigned char) s[len - 1]);
}

int validate_qualified_name(const char *s, char *why, size_t n) {
        const char *slash = strchr(s, '/');
        const char *name = slash ? slash + 1 : s;
        if (slash) {
                _cleanup_free_ char *prefix = strndup(s, (size_t) (slash - s));
                char w[WHY_MAX];
                if (!prefix)
                        return -ENOMEM;
                if (validate_dns1123_subdomain(prefix, w, sizeof w) < 0)
                        return why_invalid(why, n, "\"%s\": prefix must be a DNS-1123 subdomain", s);
        }
        if (!qualified_name_part(name, strlen(name)))
                return why_invalid(why, n,
                            "\"%s\": name must be 1 to 63 of [A-Za-z0-9_.-], starting and ending alphanumeric", s);
        return 0;
}

int validate_label_value(const char *s, char *why, size_t n) {
        if (*s && !qualified_name_part(s, strlen(s)))
                return why_invalid(why, n,
                            "value \"%s\" must be empty or 1 to 63 of [A-Za-z0-9_.-], starting and ending "
                            "alphanumeric",
                            s);
        return 0;
}

/* kubelet refuses --node-labels in kubernetes.io/k8s.io namespaces unless they are in its
 * allowed set (staging/src/k8s.io/kubelet/pkg/apis/well_known_labels.go, IsKubeletLabel;
 * cmd/kubelet/app/server.go). */
static bool kubelet_label_allowed(const char *key) {
        static const char *const allowed[] = {
                "kubernetes.io/hostname",
                "topology.kubernetes.io/zone",
                "topology.kubernetes.io/region",
                "failure-domain.beta.kubernetes.io/zone",
                "failure-domain.beta.kubernetes.io/region",
                "beta.kubernetes.io/instance-type",
                "node.kubernetes.io/instance-type",
                "kubernetes.io/os",
                "kubernetes.io/arch",
                "beta.kubernetes.io/os",
                "beta.kubernetes.io/arch",
        };
        static const char *const allowed_ns[] = { "kubelet.kubernetes.io", "node.kubernetes.io" };
        const char *slash = strchr(key, '/');
        if (!slash)
                return true;
        size_t nl = (size_t) (slash - key);
        char ns[254];
        if (nl >= sizeof ns)
                return true; /* too long to be one of ours; the prefix check reports it */
        memcpy(ns, key, nl);
        ns[nl] = 0;

        bool restricted = false;
        for (const char *const *d = (const char *const[]){ "kubernetes.io", "k8s.io", NULL }; *d; d++) {
                size_t dl = strlen(*d);
                if (streq(ns, *d) || (nl > dl && ns[nl - dl - 1] == '.' && streq(ns + nl - dl, *d)))
                        restricted = true;
        }
        if (!restricted)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                if (streq(key, allowed[i]))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(allowed_ns); i++) {
                size_t al = strlen(allowed_ns[i]);
                if (streq(ns, allowed_ns[i]) ||
                    (nl > al && ns[nl - al - 1] == '.' && streq(ns + nl - al, allowed_ns[i])))
                        return true;
        }
        return false;
}

int validate_node_label(const char *s, char *why, size_t n) {
        const char *eq = strchr(s, '=');
        if (!eq)
                return why_invalid(why, n, "label \"%s\" is not key=value", s);
        _cleanup_free_ char *key = strndup(s, (size_t) (eq - s));
        if (!key)
                return -ENOMEM;
        int r = validate_qualified_name(key, why, n);
        if (r < 0)
                return r;
        r = validate_label_value(eq + 1, why, n);
        if (r < 0)
                return r;
        if (!kubelet_label_allowed(key))
                return why_invalid(why, n,
                            "label \"%s\": kubelet refuses kubernetes.io/k8s.io labels outside its allowed set "
                            "(use the node.kubernetes.io/ or kubelet.kubernetes.io/ prefix, or set roles with "
                            "kubectl after the join)",
                            key);
        return 0;
}

int validate_taint(const char *s, char *why, size_t n) {
        /* pkg/util/taints/taints.go parseTaint: key[=value]:effect */
        const char *colon = strrchr(s, ':');
        if (!colon)
                return why_invalid(why, n, "taint \"%s\" is not key[=value]:Effect", s);
        const char *effect = colon + 1;
        if (!streq(effect, "NoSchedule") && !streq(effect, "PreferNoSchedule") && !streq(effect, "NoExecute"))
                return why_invalid(why, n, "taint \"%s\": effect must be NoSchedule, PreferNoSchedule or NoExecute", s);
        _cleanup_free_ char *kv = strndup(s, (size_t) (colon - s));
        if (!kv)
                return -ENOMEM;
        char *eq = strchr(kv, '=');
        if (eq)
                *eq = 0;
        int r = validate_qualified_name(kv, why, n);
        if (r < 0)
                return r;
        return eq ? validate_label_value(eq + 1, why, n) : 0;
}

int validate_provider_id(const char *s, char *why, size_t n) {
        const char *sep = strstr(s, "://");
        if (!sep || sep == s)
                return why_invalid(why, n, "\"%s\" is not a provider ID (expected <provider>://<id>)", s);
        for (const char *p = s; *p; p++)
                if (!isgraph((unsigned char) *p))
                        return why_invalid(why, n, "provider ID contains white space or control characters");
        if (strlen(s) > 1024)
                return why_invalid(why, n, "provider ID is longer than 1024 characters");
        return 0;
}

int validate_cri_endpoint(const char *s, char *why, size_t n) {
        const char *path = startswith(s, "unix://");
        if (!path || path[0] != '/' || path[1] == 0)
                return why_invalid(why, n, "\"%s\" is not a CRI endpoint (expected unix:///path/to/socket)", s);
        for (const char *p = path; *p; p++)
                if (!isgraph((unsigned char) *p))
                        return why_invalid(why, n, "\"%s\" contains white space or control characters", s);
        return 0;
}

int validate_abs_path(const char *s, char *why, size_t n) {
        if (s[0] != '/' || s[1] == 0 || strlen(s) > 4096)
                return why_invalid(why, n, "\"%s\" is not an absolute path to a file", s);
        for (const char *p = s; *p; p++)
                if (!isgraph((unsigned char) *p))
                        return why_invalid(why, n, "\"%s\" contains white space or control characters", s);
        return 0;
}

int validate_ca_cert_form(const char *s, char *why, size_t n) {
        if (s[0] == '/' || startswith(s, "-----BEGIN "))
                return 0;
        size_t len = strlen(s);
        if (len >= 16 && all_in(s, len, ALNUM "+/="))
                return 0;
        return why_invalid(why, n, "not an absolute path, a PEM certificate, or base64 of one");
}

int validate_preflight_check_name(const char *s, char *why, size_t n) {
        if (!*s || strlen(s) > 128)
                return why_invalid(why, n, "\"%s\" is not a preflight check name", s);
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("-_.", *p))
                        return why_invalid(why, n, "\"%s\" is not a preflight check name (as kubeadm names them: "
                                                   "CRI, Swap, Port-10250, ...)", s);
        return 0;
}

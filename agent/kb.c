#include "kb.h"

#include <json-c/json.h>
#include <sysexits.h>

#include "log.h"
#include "paths.h"

void kb_init(Kb *kb, const KbOptions *opt) {
        *kb = (Kb){ .opt = opt };
}

void kb_done(Kb *kb) {
        config_done(&kb->cfg);
        ca_free(kb->ca);
        free(kb->ca_source);
        free(kb->server);
        json_object_put(kb->kubelet_base);
        http_client_free(kb->http);
        json_object_put(kb->preflight_warnings);
        *kb = (Kb){};
}

HttpClient *kb_http(Kb *kb) {
        if (!kb->http)
                kb->http = http_client_new();
        return kb->http;
}

const char *kb_server(const Kb *kb) {
        return kb->server ?: kb->cfg.v[KB_SERVER].str;
}

static int resolve(const Kb *kb, const char *path, unsigned flags, char **ret) {
        const char *root = kb->opt->root;
        static bool warned;
        int r = root_resolve(root, path, flags, ret);
        if (r > 0 && !warned && !isempty(root) && !streq(root, "/")) {
                log_warning("openat2() is not available: paths under --root=%s are joined, and a symbolic link "
                            "in it may lead out of it",
                            root);
                warned = true;
        }
        if (r >= 0 || r == -ENOMEM || r == -ENOENT) /* -ENOENT: a final symlink to nothing, read as missing */
                return r < 0 ? r : 0;
        if (isempty(root) || streq(root, "/")) {
                /* this system's own paths cannot lead out of it: what fails here (no
                 * procfs, a loop) fails the same way where the path is used */
                *ret = strdup(path);
                return *ret ? 0 : -ENOMEM;
        }
        if (r == -ENOMEDIUM)
                return log_error_errno(r, "Failed to resolve %s beneath %s: /proc is not mounted, and kubeboot reads "
                                          "the resolved name there",
                                       path, root);
        if (r == -ENOLINK)
                return log_error_errno(r, "Failed to resolve %s beneath %s: a symbolic link on the way points "
                                          "to nothing inside the root",
                                       path, root);
        return log_error_errno(r, "Failed to resolve %s beneath %s: %m", path, root);
}

int kb_path(const Kb *kb, const char *path, char **ret) {
        return resolve(kb, path, 0, ret);
}

int kb_path_target(const Kb *kb, const char *path, char **ret) {
        return resolve(kb, path, ROOT_FOLLOW_LAST, ret);
}

int kb_exit_status(int r) {
        switch (-r) {
        case 0:
                return EX_OK;
        case KB_EUSAGE:
                return EX_USAGE;
        /* the configuration, or what the cluster said about it, is wrong: fix and retry */
        case EINVAL:
        case ENOKEY:
        case EKEYREJECTED:
        case EKEYEXPIRED:
        case EBADMSG:
        case EACCES:
        case EPERM:
        case ENOENT:
                return EX_CONFIG;
        /* something stayed unreachable or unready past its deadline */
        case ETIMEDOUT:
        case ECONNREFUSED:
        case EHOSTUNREACH:
        case ENETUNREACH:
        case EAGAIN:
        case ECONNRESET:
        /* a service answered more than kubeboot reads (the body cap): unusable, not a bug here */
        case EFBIG:
        /* no libsystemd on this host: systemd, the service asked for, is not there */
        case ELIBACC:
                return EX_UNAVAILABLE;
        /* a node file could not be written: disk full, read-only, in the way */
        case ENOSPC:
        case EROFS:
        case EDQUOT:
        case ENOTDIR:
        case ENOLINK: /* a symlink in the root leads nowhere inside it */
        case EISDIR:
        case EEXIST:
                return EX_CANTCREAT;
        default:
                return EX_SOFTWARE;
        }
}

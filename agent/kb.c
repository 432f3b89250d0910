#include "kb.h"

#include <json-c/json.h>
#include <sysexits.h>

#include "paths.h"

void kb_init(Kb *kb, const KbOptions *opt) {
        *kb = (Kb){ .opt = opt };
}

void kb_done(Kb *kb) {
        config_done(&kb->cfg);
        ca_free(kb->ca);
        free(kb->ca_source);
        http_client_free(kb->http);
        json_object_put(kb->preflight_warnings);
        *kb = (Kb){};
}

HttpClient *kb_http(Kb *kb) {
        if (!kb->http)
                kb->http = http_client_new();
        return kb->http;
}

char *kb_path(const Kb *kb, const char *path) {
        return root_path(kb->opt->root, path);
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
                return EX_UNAVAILABLE;
        /* a node file could not be written: disk full, read-only, in the way */
        case ENOSPC:
        case EROFS:
        case EDQUOT:
        case ENOTDIR:
        case EISDIR:
        case EEXIST:
                return EX_CANTCREAT;
        default:
                return EX_SOFTWARE;
        }
}

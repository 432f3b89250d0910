#include "state.h"

#include <time.h>

#include "fileio.h"
#include "log.h"
#include "paths.h"

static int write_json(Kb *kb, const char *file, json_object *o) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        int r = kb_path(kb, PATH_STATE_DIR, &dir);
        if (r < 0)
                return r;
        r = mkdir_parents(dir, 0755);
        if (r < 0)
                return r;
        r = kb_path(kb, file, &path); /* now that its directory exists */
        if (r < 0)
                return r;
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *withnl = strdup_printf("%s\n", text);
        if (!withnl)
                return -ENOMEM;
        return write_file_atomic(path, withnl, strlen(withnl), 0644);
}

static int read_json(const Kb *kb, const char *file, json_object **ret) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        size_t len;
        int r = kb_path_target(kb, file, &path);
        if (r < 0)
                return r;
        r = read_file_flags(path, 64 * 1024, READ_NOFOLLOW, &buf, &len);
        if (r < 0)
                return r;
        json_object *o = json_tokener_parse(buf);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                /* an older or hand-made stamp: joined all the same */
                o = json_object_new_object();
        }
        *ret = o;
        return 0;
}

int state_write_joined(Kb *kb, const char *node, const char *how) {
        char now[32];
        rfc3339_format(time(NULL), now);
        json_object *o = json_object_new_object(), *sources = json_object_new_object();
        json_object_object_add(o, "node", json_object_new_string(node));
        json_object_object_add(o, "joined", json_object_new_string(now));
        json_object_object_add(o, "how", json_object_new_string(how));
        json_object_object_add(o, "version", json_object_new_string(KUBEBOOT_VERSION));
        /* the server the node's kubeconfigs name: cluster-info's after a discovery */
        const char *server = kb_server(kb);
        if (server)
                json_object_object_add(o, "server", json_object_new_string(server));
        for (KbKey k = 0; k < _KB_KEY_MAX; k++)
                if (kb->cfg.v[k].source && !streq(kb->cfg.v[k].source, "default"))
                        json_object_object_add(sources, kb_keys[k].name, json_object_new_string(kb->cfg.v[k].source));
        json_object_object_add(o, "sources", sources);
        if (kb->ca_source)
                json_object_object_add(o, "ca", json_object_new_string(kb->ca_source));
        if (kb->preflight_warnings)
                json_object_object_add(o, "preflightWarnings", json_object_get(kb->preflight_warnings));
        int r = write_json(kb, PATH_JOINED_STAMP, o);
        json_object_put(o);
        return r;
}

int state_read_joined(const Kb *kb, json_object **ret) {
        return read_json(kb, PATH_JOINED_STAMP, ret);
}

int state_write_failure(Kb *kb, const char *phase, int exit_status, const char *message) {
        char now[32];
        rfc3339_format(time(NULL), now);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "time", json_object_new_string(now));
        json_object_object_add(o, "phase", json_object_new_string(phase ?: ""));
        json_object_object_add(o, "exit", json_object_new_int(exit_status));
        json_object_object_add(o, "message", json_object_new_string(message ?: ""));
        if (kb->preflight_warnings)
                json_object_object_add(o, "preflightWarnings", json_object_get(kb->preflight_warnings));
        int r = write_json(kb, PATH_LAST_FAILURE, o);
        json_object_put(o);
        return r;
}

int state_read_failure(const Kb *kb, json_object **ret) {
        return read_json(kb, PATH_LAST_FAILURE, ret);
}

int state_clear_failure(Kb *kb) {
        _cleanup_free_ char *path = NULL;
        int r = kb_path(kb, PATH_LAST_FAILURE, &path);
        return r < 0 ? r : unlink_durable(path);
}

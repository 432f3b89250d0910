/* `kubeboot status [--json]`: joined or not, as which node, since when, from which
 * sources, the kubelet certificate's expiry, and the last failure. */
#include <time.h>

#include "kubelet-creds.h"
#include "log.h"
#include "state.h"
#include "verbs.h"

static const char *jstr(json_object *o, const char *key) {
        json_object *v;
        return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

/* Stored text (a failure quoting a server, a hand-edited stamp) as it may reach a
 * terminal: escaped, bounded. */
#define SHOWN_MAX 1024
static const char *shown(const char *s, char buf[SHOWN_MAX * 4]) {
        return s ? text_escape(s, SHOWN_MAX, buf, SHOWN_MAX * 4) : NULL;
}

int verb_status(Kb *kb) {
        json_object *joined = NULL, *failure = NULL;
        _cleanup_kubelet_creds_ KubeletCreds *creds = NULL;
        char why[256], not_after[32] = "";
        int r;

        r = state_read_joined(kb, &joined);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to read the joined stamp: %m");
        r = state_read_failure(kb, &failure);
        if (r < 0 && r != -ENOENT) {
                json_object_put(joined);
                return log_error_errno(r, "Failed to read the last failure: %m");
        }
        /* what the preflight of the join (or of the failed attempt) warned about */
        json_object *wlist = json_object_object_get(joined ?: failure, "preflightWarnings");
        if (wlist && !json_object_is_type(wlist, json_type_array))
                wlist = NULL;
        r = kubelet_creds_load(kb, &creds, why, sizeof why);
        if (r == -ENOMEM) {
                json_object_put(joined);
                json_object_put(failure);
                return r;
        }
        if (creds)
                rfc3339_format(creds->not_after, not_after);

        if (kb->opt->json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "joined", json_object_new_boolean(joined != NULL));
                json_object_object_add(o, "stamp", joined ? json_object_get(joined) : NULL);
                if (creds) {
                        json_object *c = json_object_new_object();
                        json_object_object_add(c, "node", json_object_new_string(creds->node));
                        json_object_object_add(c, "notAfter", json_object_new_string(not_after));
                        json_object_object_add(c, "valid", json_object_new_boolean(kubelet_creds_valid_now(creds)));
                        json_object_object_add(o, "kubeletCertificate", c);
                } else
                        json_object_object_add(o, "kubeletCertificate", NULL);
                json_object_object_add(o, "lastFailure", failure ? json_object_get(failure) : NULL);
                json_object_object_add(o, "preflightWarnings", wlist ? json_object_get(wlist) : json_object_new_array());
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else {
                char b1[SHOWN_MAX * 4], b2[SHOWN_MAX * 4], b3[SHOWN_MAX * 4], b4[SHOWN_MAX * 4];
                if (joined) {
                        printf("joined:       yes, as Node %s since %s (%s)\n", shown(jstr(joined, "node"), b1) ?: "?",
                               shown(jstr(joined, "joined"), b2) ?: "?", shown(jstr(joined, "how"), b3) ?: "?");
                        if (jstr(joined, "server"))
                                printf("server:       %s\n", shown(jstr(joined, "server"), b1));
                        json_object *sources;
                        if (json_object_object_get_ex(joined, "sources", &sources)) {
                                printf("sources:     ");
                                json_object_object_foreach(sources, k, v)
                                        printf(" %s=%s", shown(k, b1) ?: "", shown(json_object_get_string(v), b2) ?: "");
                                printf("\n");
                        }
                } else
                        printf("joined:       no\n");
                if (creds)
                        printf("kubelet cert: Node %s, expires %s%s\n", creds->node, not_after,
                               kubelet_creds_valid_now(creds) ? "" : " (NOT valid now)");
                else
                        printf("kubelet cert: none\n");
                if (failure)
                        printf("last failure: %s in phase %s (exit %d): %s\n", shown(jstr(failure, "time"), b1) ?: "?",
                               shown(jstr(failure, "phase"), b2) ?: "?",
                               json_object_get_int(json_object_object_get(failure, "exit")),
                               shown(jstr(failure, "message"), b4) ?: "");
                else
                        printf("last failure: none\n");
                for (size_t i = 0; wlist && i < json_object_array_length(wlist); i++) {
                        json_object *w = json_object_array_get_idx(wlist, i);
                        printf("%s %s: %s\n", i == 0 ? "preflight:   " : "             ", jstr(w, "check") ?: "?",
                               jstr(w, "message") ?: "");
                }
        }
        json_object_put(joined);
        json_object_put(failure);
        return 0;
}

/* `kubeboot join`: the first-boot agent. */
#include <sys/stat.h>
#include <sysexits.h>

#include "kubelet-creds.h"
#include "log.h"
#include "notify.h"
#include "paths.h"
#include "phases.h"
#include "state.h"
#include "verbs.h"

/* A kubelet that already holds a valid node certificate is joined: kubeadm did it, or a
 * join of ours was interrupted after kubelet bootstrapped. Only the local part of finish
 * runs (it removes a leftover bootstrap kubeconfig, if there is one, and stamps). */
static int already_joined(Kb *kb) {
        _cleanup_kubelet_creds_ KubeletCreds *creds = NULL;
        char why[256];
        int r = kubelet_creds_load(kb, &creds, why, sizeof why);
        if (r < 0 || !kubelet_creds_valid_now(creds))
                return 0;
        log_info("kubelet already holds a valid certificate for Node %s: this node is joined", creds->node);
        /* for the token's locations only; a config that no longer gathers does not matter now */
        int saved = log_get_max_level();
        log_setup(LOG_CRIT);
        (void) gather_sources(kb);
        log_setup(saved);
        /* the stamp names the server kubelet talks to, which may be cluster-info's rather than the configured one */
        if (creds->server && !kb->server)
                kb->server = strdup(creds->server); /* on ENOMEM the configured one is named */
        r = finish_commit(kb, creds->node, "found joined");
        return r < 0 ? r : 1;
}

int verb_join(Kb *kb) {
        _cleanup_free_ char *stamp = NULL;
        struct stat st;
        int r;

        r = kb_path_target(kb, PATH_JOINED_STAMP, &stamp);
        if (r == -ENOMEM)
                return log_error_errno(r, "Out of memory");
        if (r < 0 && r != -ENOENT)
                return r;
        /* a joined node is left alone: kubeboot's work there is done */
        if (r >= 0 && stat(stamp, &st) == 0) {
                log_info("this node has already joined (%s exists); nothing to do", stamp);
                notify_ready();
                return 0;
        }
        r = already_joined(kb);
        if (r != 0) {
                notify_ready();
                return r < 0 ? r : 0;
        }

        r = phases_run(kb, kb->opt->skip_phases);
        if (r < 0) {
                int status = kb_exit_status(r);
                const char *phase = log_get_phase();
                (void) state_write_failure(kb, phase, status, log_last_error());
                notify_failure(r, log_last_error());
                log_set_phase(NULL);
                return r;
        }
        notify_ready();
        log_info("join done");
        return 0;
}

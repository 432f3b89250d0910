#include "kubelet-watch.h"

#include <signal.h>
#include <sys/wait.h>

#include "log.h"

#define KUBELET_UNIT "kubelet.service"

/* "status 1", "signal SEGV": how the main process last ended. */
static void describe_exit(const BusServiceState *s, char *buf, size_t n) {
        if (s->exec_main_code == CLD_EXITED)
                snprintf(buf, n, "status %d", s->exec_main_status);
        else if (s->exec_main_code == CLD_KILLED || s->exec_main_code == CLD_DUMPED)
                snprintf(buf, n, "signal %s%s", sigabbrev_np(s->exec_main_status) ?: "?",
                         s->exec_main_code == CLD_DUMPED ? ", core dumped" : "");
        else
                snprintf(buf, n, "result %s", s->result ?: "unknown");
}

KubeletHealth kubelet_health_judge(const BusServiceState *s, unsigned restarts, char *msg, size_t n) {
        char how[64];
        describe_exit(s, how, sizeof how);
        if (streq_ptr(s->active, "failed")) {
                /* systemd will not restart it (no Restart=, or its start limit was hit) */
                snprintf(msg, n, "kubelet.service failed (%s, %s, %u restart%s): journalctl -u kubelet", s->result ?: "?",
                         how, restarts, restarts == 1 ? "" : "s");
                return KUBELET_GAVE_UP;
        }
        if (restarts == 0)
                return KUBELET_FINE;
        snprintf(msg, n, "kubelet keeps exiting (%s, %u restart%s): journalctl -u kubelet", how, restarts,
                 restarts == 1 ? "" : "s");
        return restarts >= KUBELET_RESTARTS_MAX ? KUBELET_GAVE_UP : KUBELET_FLAPPING;
}

void kubelet_watch_init(KubeletWatch *w, const Kb *kb) {
        *w = (KubeletWatch){};
        if (!isempty(kb->opt->root) && !streq(kb->opt->root, "/"))
                return; /* that root's kubelet is not this systemd's */
        int r = bus_connect(&w->bus);
        if (r < 0) {
                log_debug("cannot reach systemd, not watching %s: %s", KUBELET_UNIT, bus_strerror(r));
                w->bus = NULL;
        }
}

KubeletHealth kubelet_watch_poll(KubeletWatch *w, char *msg, size_t n) {
        BusServiceState s = {};
        if (!w->bus)
                return KUBELET_FINE;
        int r = bus_service_state(w->bus, KUBELET_UNIT, &s);
        if (r < 0) {
                log_debug_errno(r, "cannot read the state of %s: %m", KUBELET_UNIT);
                return KUBELET_FINE;
        }
        /* restarts during this wait only: the count may hold restarts from before kubeboot
         * wrote the files; an explicit (re)start may reset it */
        if (!w->have_base || s.n_restarts < w->base) {
                w->base = w->have_base ? 0 : s.n_restarts;
                w->have_base = true;
        }
        KubeletHealth h = kubelet_health_judge(&s, s.n_restarts - w->base, msg, n);
        bus_service_state_clear(&s);
        return h;
}

void kubelet_watch_done(KubeletWatch *w) {
        w->bus = bus_close(w->bus);
}

/* Watching kubelet.service during the wait phase: a kubelet that will not run (bad flags,
 * no runtime, a config it refuses) is reported within a minute and ends the wait, instead
 * of waiting out wait-timeout while systemd restarts it. Read through systemd's D-Bus
 * properties (ActiveState, Result, NRestarts, ExecMainCode/ExecMainStatus). */
#pragma once

#include "bus.h"
#include "kb.h"

/* Automatic restarts seen during the wait before giving up: with the kubelet packages'
 * RestartSec=10 (kubernetes/release, kubelet.service) that is about a minute. */
#define KUBELET_RESTARTS_MAX 5

typedef enum KubeletHealth {
        KUBELET_FINE,     /* running, or nothing to tell */
        KUBELET_FLAPPING, /* exited and being restarted: worth saying */
        KUBELET_GAVE_UP,  /* will not run: end the wait */
} KubeletHealth;

/* Judges a kubelet.service state, restarts counted since the watch began; for anything
 * but KUBELET_FINE, msg says what happened and where to look. */
KubeletHealth kubelet_health_judge(const BusServiceState *s, unsigned restarts, char *msg, size_t n);

typedef struct KubeletWatch {
        sd_bus *bus; /* NULL: nothing to watch (--root, or no systemd) */
        bool have_base;
        uint32_t base; /* NRestarts when the watch began */
} KubeletWatch;

/* Begins watching this system's kubelet.service; without --root only, and quietly not at
 * all when systemd cannot be reached (the wait then runs as before). */
void kubelet_watch_init(KubeletWatch *w, const Kb *kb);
/* One look at kubelet.service (a few D-Bus calls). */
KubeletHealth kubelet_watch_poll(KubeletWatch *w, char *msg, size_t n);
/* Ends the watch; safe to call twice. */
void kubelet_watch_done(KubeletWatch *w);

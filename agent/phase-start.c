/* Phase start: kubelet started (or restarted, if it was crash-looping on missing files)
 * through systemd's D-Bus API, following the job to its result. */
#include "bus.h"
#include "log.h"
#include "notify.h"
#include "phases.h"

#define KUBELET_UNIT "kubelet.service"
#define START_JOB_TIMEOUT_MS 90000ULL

int phase_start(Kb *kb) {
        _cleanup_free_ char *active = NULL, *sub = NULL, *result = NULL;
        sd_bus *bus = NULL;
        int r;

        if (!isempty(kb->opt->root) && !streq(kb->opt->root, "/")) {
                /* this system's systemd does not run the kubelet of another root */
                log_notice("--root=%s: not starting kubelet; whoever runs that root's kubelet starts it",
                           kb->opt->root);
                return 0;
        }
        r = bus_connect(&bus);
        if (r < 0)
                return log_error_errno(-EHOSTUNREACH, "cannot reach systemd to start kubelet: %s", bus_strerror(r));

        r = bus_unit_exists(bus, KUBELET_UNIT);
        if (r == 0) {
                r = log_error_errno(-ENOENT, "%s does not exist: install the kubelet package in this image",
                                    KUBELET_UNIT);
                goto finish;
        }
        if (r > 0)
                r = bus_unit_state(bus, KUBELET_UNIT, &active, &sub);
        if (r < 0) {
                r = log_error_errno(r, "cannot read the state of %s: %m", KUBELET_UNIT);
                goto finish;
        }
        /* Running already: systemd started it when READY=1 let it past our Before=. Anything
         * else (inactive, failed, waiting to auto-restart after failing on missing files)
         * gets a restart, which starts it now with the files in place. */
        if (streq(active, "active") && streq(sub, "running")) {
                progress("kubelet is running");
                r = 0;
                goto finish;
        }
        progress("starting %s (it was %s/%s)", KUBELET_UNIT, active, sub);
        r = bus_unit_job(bus, "RestartUnit", KUBELET_UNIT, START_JOB_TIMEOUT_MS, &result);
        if (r == -ETIMEDOUT)
                r = log_error_errno(r, "starting %s took longer than %llus", KUBELET_UNIT, START_JOB_TIMEOUT_MS / 1000);
        else if (r < 0)
                r = log_error_errno(-EIO, "starting %s failed (%s): see journalctl -u %s", KUBELET_UNIT,
                                    result ?: strerror(-r), KUBELET_UNIT);
        else
                progress("%s started", KUBELET_UNIT);
finish:
        bus_close(bus);
        return r;
}

/* systemd's D-Bus API (sd-bus), for the few things kubeboot asks of the service manager:
 * start/stop a unit and follow its job, read a unit's state, enable/disable unit files. */
#pragma once

#include "sd.h"
#include "util.h"

/* Connects to systemd: its private socket when root (works before dbus-daemon runs),
 * else the system bus; -ELIBACC when libsystemd cannot be loaded. */
int bus_connect(sd_bus **ret);
/* Flushes and closes bus (NULL is fine); returns NULL. */
sd_bus *bus_close(sd_bus *bus);
/* What bus_connect()'s error r means, for a message: dlerror()'s text for -ELIBACC. */
const char *bus_strerror(int r);
/* ActiveState and SubState of a unit ("inactive"/"dead" for unknown ones). */
int bus_unit_state(sd_bus *bus, const char *unit, char **ret_active, char **ret_sub);
/* Does systemd know this unit (has a unit file or is loaded)? */
int bus_unit_exists(sd_bus *bus, const char *unit);
/* Runs a Manager method ("StartUnit", "RestartUnit", "StopUnit") with mode "replace" and
 * waits up to timeout_ms for the job; returns 0 if the job's result is "done", else
 * -EIO with the result in ret_result (e.g. "failed", "dependency"). */
int bus_unit_job(sd_bus *bus, const char *method, const char *unit, unsigned long long timeout_ms,
                 char **ret_result);
/* Enables or disables a unit file (persistently) and reloads systemd. */
int bus_unit_file_set_enabled(sd_bus *bus, const char *unit, bool enable);

/* What systemd says about a service and its main process: the unit's ActiveState and
 * SubState, the service's Result, NRestarts (automatic restarts), ExecMainCode (CLD_EXITED,
 * CLD_KILLED, CLD_DUMPED; 0 if it never ran) and ExecMainStatus (exit status or signal). */
typedef struct BusServiceState {
        char *active, *sub, *result;
        uint32_t n_restarts;
        int32_t exec_main_code, exec_main_status;
} BusServiceState;
/* Reads those properties (org.freedesktop.systemd1.Unit and .Service) of unit. */
int bus_service_state(sd_bus *bus, const char *unit, BusServiceState *ret);
/* Frees the strings of s; s may be reused. */
void bus_service_state_clear(BusServiceState *s);

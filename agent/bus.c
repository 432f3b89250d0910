#include "bus.h"

#include <stdarg.h>
#include <time.h>

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SYSTEMD_PRIVATE_SOCKET "unix:path=/run/systemd/private"

sd_bus *bus_close(sd_bus *bus) {
        /* a bus exists only once libsystemd is loaded */
        return bus ? sdlib()->sd_bus_flush_close_unref(bus) : NULL;
}

static void busp(sd_bus **b) {
        bus_close(*b);
}

int bus_connect(sd_bus **ret) {
        const SdLib *sd = sdlib();
        int r;
        if (!sd)
                return -ELIBACC;
        if (geteuid() == 0) {
                _cleanup_(busp) sd_bus *b = NULL;
                if ((r = sd->sd_bus_new(&b)) < 0)
                        return r;
                if ((r = sd->sd_bus_set_address(b, SYSTEMD_PRIVATE_SOCKET)) < 0)
                        return r;
                if (sd->sd_bus_start(b) >= 0) {
                        *ret = TAKE_PTR(b);
                        return 0;
                }
        }
        return sd->sd_bus_open_system(ret);
}

const char *bus_strerror(int r) {
        return r == -ELIBACC ? sdlib_error() : strerror(-r);
}

/* sd_bus_call_method() on systemd's Manager, which is variadic and so cannot be looked up:
 * the same message built with sd_bus_message_appendv(). err and reply may be NULL. */
static int manager_call(sd_bus *bus, const char *method, sd_bus_error *err, sd_bus_message **reply,
                        const char *types, ...) {
        const SdLib *sd = sdlib();
        sd_bus_message *m = NULL;
        int r = sd->sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, method);
        if (r < 0)
                return r;
        if (types) {
                va_list ap;
                va_start(ap, types);
                r = sd->sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd->sd_bus_call(bus, m, 0, err, reply);
        sd->sd_bus_message_unref(m);
        return r;
}

static int unit_path(sd_bus *bus, const char *unit, char **ret) {
        const SdLib *sd = sdlib();
        sd_bus_error err = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path;
        /* LoadUnit (not GetUnit): also answers for units that are not loaded yet */
        int r = manager_call(bus, "LoadUnit", &err, &reply, "s", unit);
        sd->sd_bus_error_free(&err);
        if (r < 0)
                return r;
        r = sd->sd_bus_message_read_basic(reply, 'o', &path);
        if (r >= 0)
                *ret = strdup(path);
        sd->sd_bus_message_unref(reply);
        return r < 0 ? r : (*ret ? 0 : -ENOMEM);
}

static int unit_property(sd_bus *bus, const char *path, const char *prop, char **ret) {
        const SdLib *sd = sdlib();
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = sd->sd_bus_get_property_string(bus, SD_DEST, path, SD_UNIT, prop, &err, ret);
        sd->sd_bus_error_free(&err);
        return r;
}

int bus_unit_state(sd_bus *bus, const char *unit, char **ret_active, char **ret_sub) {
        _cleanup_free_ char *path = NULL;
        int r = unit_path(bus, unit, &path);
        if (r < 0)
                return r;
        if ((r = unit_property(bus, path, "ActiveState", ret_active)) < 0)
                return r;
        if (ret_sub && (r = unit_property(bus, path, "SubState", ret_sub)) < 0) {
                free(*ret_active);
                *ret_active = NULL;
                return r;
        }
        return 0;
}

int bus_unit_exists(sd_bus *bus, const char *unit) {
        _cleanup_free_ char *path = NULL, *load = NULL;
        int r = unit_path(bus, unit, &path);
        if (r < 0)
                return r;
        r = unit_property(bus, path, "LoadState", &load);
        if (r < 0)
                return r;
        return !streq(load, "not-found");
}

typedef struct JobWait {
        const char *job;
        char *result;
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *err) {
        const SdLib *sd = sdlib();
        JobWait *w = userdata;
        uint32_t id;
        const char *path, *unit, *result;
        (void) err;
        /* (uoss): one basic value at a time, as sd_bus_message_read() would */
        if (sd->sd_bus_message_read_basic(m, 'u', &id) < 0 || sd->sd_bus_message_read_basic(m, 'o', &path) < 0 ||
            sd->sd_bus_message_read_basic(m, 's', &unit) < 0 || sd->sd_bus_message_read_basic(m, 's', &result) < 0)
                return 0;
        if (w->job && streq(path, w->job) && !w->result)
                w->result = strdup(result);
        return 0;
}

int bus_unit_job(sd_bus *bus, const char *method, const char *unit, unsigned long long timeout_ms,
                 char **ret_result) {
        const SdLib *sd = sdlib();
        sd_bus_slot *slot = NULL;
        sd_bus_message *reply = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        JobWait w = {};
        const char *job;
        int r;

        /* subscribe before asking, so that a fast job's end is not missed */
        r = sd->sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return r;
        (void) manager_call(bus, "Subscribe", NULL, NULL, NULL);
        r = manager_call(bus, method, &err, &reply, "ss", unit, "replace");
        if (r < 0) {
                if (ret_result)
                        *ret_result = strdup(err.message ?: err.name ?: "error");
                sd->sd_bus_error_free(&err);
                goto finish;
        }
        r = sd->sd_bus_message_read_basic(reply, 'o', &job);
        if (r < 0)
                goto finish;
        w.job = job;

        unsigned long long deadline = now_ms() + timeout_ms;
        while (!w.result) {
                r = sd->sd_bus_process(bus, NULL);
                if (r < 0)
                        goto finish;
                if (r > 0)
                        continue;
                unsigned long long now = now_ms();
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        goto finish;
                }
                r = sd->sd_bus_wait(bus, (uint64_t) (deadline - now) * 1000ULL);
                if (r < 0)
                        goto finish;
        }
        r = streq(w.result, "done") ? 0 : -EIO;
        if (ret_result)
                *ret_result = TAKE_PTR(w.result);
finish:
        free(w.result);
        sd->sd_bus_message_unref(reply);
        sd->sd_bus_slot_unref(slot);
        return r;
}

int bus_unit_file_set_enabled(sd_bus *bus, const char *unit, bool enable) {
        /* (as files, runtime, force) and (as files, runtime): an array is its length, then its items */
        int r = enable ? manager_call(bus, "EnableUnitFiles", NULL, NULL, "asbb", 1U, unit, 0, 1)
                       : manager_call(bus, "DisableUnitFiles", NULL, NULL, "asb", 1U, unit, 0);
        if (r < 0)
                return r;
        return manager_call(bus, "Reload", NULL, NULL, NULL);
}

#define SD_SERVICE "org.freedesktop.systemd1.Service"

static int service_property_trivial(sd_bus *bus, const char *path, const char *prop, char type, void *ret) {
        const SdLib *sd = sdlib();
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = sd->sd_bus_get_property_trivial(bus, SD_DEST, path, SD_SERVICE, prop, &err, type, ret);
        sd->sd_bus_error_free(&err);
        return r;
}

int bus_service_state(sd_bus *bus, const char *unit, BusServiceState *ret) {
        const SdLib *sd = sdlib();
        _cleanup_free_ char *path = NULL;
        BusServiceState s = {};
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = unit_path(bus, unit, &path);
        if (r < 0)
                return r;
        if ((r = unit_property(bus, path, "ActiveState", &s.active)) < 0 ||
            (r = unit_property(bus, path, "SubState", &s.sub)) < 0)
                goto fail;
        r = sd->sd_bus_get_property_string(bus, SD_DEST, path, SD_SERVICE, "Result", &err, &s.result);
        sd->sd_bus_error_free(&err);
        if (r < 0 || (r = service_property_trivial(bus, path, "NRestarts", 'u', &s.n_restarts)) < 0 ||
            (r = service_property_trivial(bus, path, "ExecMainCode", 'i', &s.exec_main_code)) < 0 ||
            (r = service_property_trivial(bus, path, "ExecMainStatus", 'i', &s.exec_main_status)) < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        bus_service_state_clear(&s);
        return r;
}

void bus_service_state_clear(BusServiceState *s) {
        free(s->active);
        free(s->sub);
        free(s->result);
        s->active = s->sub = s->result = NULL;
}

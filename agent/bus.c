#include "bus.h"

#include <time.h>

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SYSTEMD_PRIVATE_SOCKET "unix:path=/run/systemd/private"

static void busp(sd_bus **b) {
        sd_bus_flush_close_unref(*b);
}

int bus_connect(sd_bus **ret) {
        int r;
        if (geteuid() == 0) {
                _cleanup_(busp) sd_bus *b = NULL;
                if ((r = sd_bus_new(&b)) < 0)
                        return r;
                if ((r = sd_bus_set_address(b, SYSTEMD_PRIVATE_SOCKET)) < 0)
                        return r;
                if (sd_bus_start(b) >= 0) {
                        *ret = TAKE_PTR(b);
                        return 0;
                }
        }
        return sd_bus_open_system(ret);
}

static int unit_path(sd_bus *bus, const char *unit, char **ret) {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path;
        /* LoadUnit (not GetUnit): also answers for units that are not loaded yet */
        int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit", &err, &reply, "s", unit);
        sd_bus_error_free(&err);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                *ret = strdup(path);
        sd_bus_message_unref(reply);
        return r < 0 ? r : (*ret ? 0 : -ENOMEM);
}

static int unit_property(sd_bus *bus, const char *path, const char *prop, char **ret) {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_string(bus, SD_DEST, path, SD_UNIT, prop, &err, ret);
        sd_bus_error_free(&err);
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
        JobWait *w = userdata;
        uint32_t id;
        const char *path, *unit, *result;
        (void) err;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && streq(path, w->job) && !w->result)
                w->result = strdup(result);
        return 0;
}

int bus_unit_job(sd_bus *bus, const char *method, const char *unit, unsigned long long timeout_ms,
                 char **ret_result) {
        sd_bus_slot *slot = NULL;
        sd_bus_message *reply = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        JobWait w = {};
        const char *job;
        int r;

        /* subscribe before asking, so that a fast job's end is not missed */
        r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return r;
        (void) sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, NULL);
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, method, &err, &reply, "ss", unit, "replace");
        if (r < 0) {
                if (ret_result)
                        *ret_result = strdup(err.message ?: err.name ?: "error");
                sd_bus_error_free(&err);
                goto finish;
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                goto finish;
        w.job = job;

        unsigned long long deadline = now_ms() + timeout_ms;
        while (!w.result) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        goto finish;
                if (r > 0)
                        continue;
                unsigned long long now = now_ms();
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        goto finish;
                }
                r = sd_bus_wait(bus, (uint64_t) (deadline - now) * 1000ULL);
                if (r < 0)
                        goto finish;
        }
        r = streq(w.result, "done") ? 0 : -EIO;
        if (ret_result)
                *ret_result = TAKE_PTR(w.result);
finish:
        free(w.result);
        sd_bus_message_unref(reply);
        sd_bus_slot_unref(slot);
        return r;
}

int bus_unit_file_set_enabled(sd_bus *bus, const char *unit, bool enable) {
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                               enable ? "EnableUnitFiles" : "DisableUnitFiles");
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(m, (char *[]){ (char *) unit, NULL });
        if (r >= 0)
                r = enable ? sd_bus_message_append(m, "bb", 0, 1) : sd_bus_message_append(m, "b", 0);
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &err, &reply);
        sd_bus_error_free(&err);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        if (r < 0)
                return r;
        return sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Reload", NULL, NULL, NULL);
}

#define SD_SERVICE "org.freedesktop.systemd1.Service"

static int service_property_trivial(sd_bus *bus, const char *path, const char *prop, char type, void *ret) {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_trivial(bus, SD_DEST, path, SD_SERVICE, prop, &err, type, ret);
        sd_bus_error_free(&err);
        return r;
}

int bus_service_state(sd_bus *bus, const char *unit, BusServiceState *ret) {
        _cleanup_free_ char *path = NULL;
        BusServiceState s = {};
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = unit_path(bus, unit, &path);
        if (r < 0)
                return r;
        if ((r = unit_property(bus, path, "ActiveState", &s.active)) < 0 ||
            (r = unit_property(bus, path, "SubState", &s.sub)) < 0)
                goto fail;
        r = sd_bus_get_property_string(bus, SD_DEST, path, SD_SERVICE, "Result", &err, &s.result);
        sd_bus_error_free(&err);
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

#include "notify.h"

#include <stdarg.h>
#include <systemd/sd-daemon.h>

#include "log.h"

static bool ready;

void progress(const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        log_info("%s", msg);
        (void) sd_notifyf(0, "STATUS=%s", msg);
}

void notify_ready(void) {
        if (ready)
                return;
        ready = true;
        (void) sd_notify(0, "READY=1");
}

bool notify_was_ready(void) {
        return ready;
}

void notify_failure(int r, const char *what) {
        (void) sd_notifyf(0, "STATUS=failed: %s\nERRNO=%i", what, r < 0 ? -r : r);
}

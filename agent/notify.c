#include "notify.h"

#include <stdarg.h>
#include <systemd/sd-daemon.h>

#include "log.h"

static bool ready;

void progress(const char *fmt, ...) {
        char msg[512], safe[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        log_info("%s", msg);
        /* a newline in STATUS= would start another assignment (READY=1, MAINPID=...) */
        (void) sd_notifyf(0, "STATUS=%s", text_escape(msg, sizeof msg, safe, sizeof safe));
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
        char safe[512];
        (void) sd_notifyf(0, "STATUS=failed: %s\nERRNO=%i", text_escape(what, sizeof safe, safe, sizeof safe),
                          r < 0 ? -r : r);
}

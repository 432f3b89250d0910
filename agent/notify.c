#include "notify.h"

#include <stdarg.h>

#include "log.h"
#include "sd.h"

static bool ready;

/* sd_notify(), loading libsystemd only when there is someone to tell: without
 * NOTIFY_SOCKET it would do nothing anyway. Without libsystemd it does nothing either. */
static void notify(const char *state) {
        static bool said;
        if (!getenv("NOTIFY_SOCKET"))
                return;
        const SdLib *sd = sdlib();
        if (sd)
                (void) sd->sd_notify(0, state);
        else if (!said) {
                said = true;
                log_debug("not notifying systemd: %s", sdlib_error());
        }
}

void progress(const char *fmt, ...) {
        char msg[512], safe[512], state[sizeof "STATUS=" + sizeof safe];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        log_info("%s", msg);
        /* a newline in STATUS= would start another assignment (READY=1, MAINPID=...) */
        snprintf(state, sizeof state, "STATUS=%s", text_escape(msg, sizeof msg, safe, sizeof safe));
        notify(state);
}

void notify_ready(void) {
        if (ready)
                return;
        ready = true;
        notify("READY=1");
}

bool notify_was_ready(void) {
        return ready;
}

void notify_failure(int r, const char *what) {
        char safe[512], state[sizeof "STATUS=failed: \nERRNO=" + sizeof safe + 12];
        snprintf(state, sizeof state, "STATUS=failed: %s\nERRNO=%i", text_escape(what, sizeof safe, safe, sizeof safe),
                 r < 0 ? -r : r);
        notify(state);
}

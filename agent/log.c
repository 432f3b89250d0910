#include "log.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

/* Process-wide logging state, set once at start (not configuration). */
static int max_level = LOG_INFO;
static bool to_journal;
static const char *current_phase;
static char last_error[2400];

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        struct stat st;
        unsigned long long dev, ino;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(int level) {
        max_level = level;
        to_journal = stderr_is_journal();
}

void log_set_phase(const char *phase) {
        current_phase = phase;
}

const char *log_get_phase(void) {
        return current_phase;
}

const char *log_last_error(void) {
        return last_error;
}

int log_get_max_level(void) {
        return max_level;
}

int log_internal(int level, int error, const char *source, const char *key, const char *fmt, ...) {
        int e = error < 0 ? -error : error;
        char msg[2048], line[2400], safe[2400];
        va_list ap;

        if (level > max_level && level > LOG_ERR)
                return -e;

        errno = e; /* for %m */
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        if (source && key)
                snprintf(line, sizeof line, "%s: %s: %s", source, key, msg);
        else if (source)
                snprintf(line, sizeof line, "%s: %s", source, msg);
        else
                snprintf(line, sizeof line, "%s", msg);

        /* a message may carry a server's text: a newline or an escape sequence there must
         * not start a journal field, an sd_notify assignment or a terminal command */
        text_escape(line, sizeof line, safe, sizeof safe);

        if (level <= LOG_ERR)
                snprintf(last_error, sizeof last_error, "%s", safe);
        if (level > max_level)
                return -e;

        if (to_journal) {
                sd_journal_send("MESSAGE=%s", safe, "PRIORITY=%i", level, "SYSLOG_IDENTIFIER=kubeboot",
                                "KUBEBOOT_PHASE=%s", current_phase ?: "", "KUBEBOOT_SOURCE=%s", source ?: "",
                                "KUBEBOOT_KEY=%s", key ?: "", e ? "ERRNO=%i" : NULL, e, NULL);
        } else {
                const char *tag = level <= LOG_ERR ? "error: " : level == LOG_WARNING ? "warning: " : "";
                if (current_phase)
                        fprintf(stderr, "kubeboot[%s]: %s%s\n", current_phase, tag, safe);
                else
                        fprintf(stderr, "kubeboot: %s%s\n", tag, safe);
        }
        return -e;
}

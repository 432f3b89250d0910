#include "log.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "sd.h"

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

/* One "NAME=value" field of a journal entry, formatted into buf (cut at n bytes). */
static struct iovec journal_field(char *buf, size_t n, const char *fmt, ...) _printf_(3, 4);
static struct iovec journal_field(char *buf, size_t n, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int len = vsnprintf(buf, n, fmt, ap);
        va_end(ap);
        return (struct iovec){ buf, len < 0 ? 0 : (size_t) len >= n ? n - 1 : (size_t) len };
}

/* The message with kubeboot's fields, as sd_journal_send() would send it (that one is
 * variadic and cannot be looked up). False when libsystemd cannot be loaded: the caller
 * writes to stderr, which is the journal's stream anyway, without the fields. */
static bool journal_send(int level, const char *msg, const char *source, const char *key, int e) {
        const SdLib *sd = sdlib();
        if (!sd)
                return false;
        char m[16 + 2400], prio[32], phase[128], src[512], k[128], err[32];
        struct iovec iov[] = {
                journal_field(m, sizeof m, "MESSAGE=%s", msg),
                journal_field(prio, sizeof prio, "PRIORITY=%i", level),
                { (char *) "SYSLOG_IDENTIFIER=kubeboot", strlen("SYSLOG_IDENTIFIER=kubeboot") },
                journal_field(phase, sizeof phase, "KUBEBOOT_PHASE=%s", current_phase ?: ""),
                journal_field(src, sizeof src, "KUBEBOOT_SOURCE=%s", source ?: ""),
                journal_field(k, sizeof k, "KUBEBOOT_KEY=%s", key ?: ""),
                journal_field(err, sizeof err, "ERRNO=%i", e),
        };
        (void) sd->sd_journal_sendv(iov, e ? ELEMENTSOF(iov) : ELEMENTSOF(iov) - 1);
        return true;
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

        if (to_journal && !journal_send(level, safe, source, key, e))
                to_journal = false;
        if (!to_journal) {
                const char *tag = level <= LOG_ERR ? "error: " : level == LOG_WARNING ? "warning: " : "";
                if (current_phase)
                        fprintf(stderr, "kubeboot[%s]: %s%s\n", current_phase, tag, safe);
                else
                        fprintf(stderr, "kubeboot: %s%s\n", tag, safe);
        }
        return -e;
}

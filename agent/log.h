/* Logging: to the journal with structured fields when stderr is the journal,
 * else one line per message on stderr. Library-ish modules log at debug only;
 * the caller that knows the context logs once. */
#pragma once

#include <syslog.h>

#include "util.h"

/* Picks the journal or stderr and the maximum level shown (LOG_INFO, or LOG_DEBUG with -v). */
void log_setup(int max_level);
/* The phase named in every following message (KUBEBOOT_PHASE=); NULL for none. */
void log_set_phase(const char *phase);
const char *log_get_phase(void);
int log_get_max_level(void);

/* The text of the last message logged at LOG_ERR or worse ("" if none): what a failed
 * run leaves behind for `kubeboot status`. */
const char *log_last_error(void);

/* Logs fmt at level; when error is nonzero, %m in fmt renders it. Returns error
 * as a negative errno (or 0), so callers can `return log_error_errno(r, ...)`. */
int log_internal(int level, int error, const char *source, const char *key, const char *fmt, ...)
        _printf_(5, 6);

#define log_debug(...) log_internal(LOG_DEBUG, 0, NULL, NULL, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, NULL, NULL, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, NULL, NULL, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, NULL, NULL, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, NULL, NULL, __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), NULL, NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), NULL, NULL, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), NULL, NULL, __VA_ARGS__)
/* A message about one configuration key from one source: "SOURCE: KEY: message". */
#define log_key_errno(level, e, source, key, ...) log_internal((level), (e), (source), (key), __VA_ARGS__)

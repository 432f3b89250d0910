/* Telling systemd (and the operator) how the join is going: STATUS= at every step,
 * READY=1 once the kubelet's files are written. Outside systemd these are no-ops, and
 * the same words are logged (stderr in a terminal, the journal under systemd). */
#pragma once

#include "util.h"

/* Logs msg at info and sets it as the unit's STATUS=. Never pass a secret. */
void progress(const char *fmt, ...) _printf_(1, 2);
/* READY=1, once per process. */
void notify_ready(void);
bool notify_was_ready(void);
/* STATUS= and ERRNO= of a failure, before exiting. */
void notify_failure(int r, const char *what);

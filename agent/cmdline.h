/* The kernel command line, split by the kernel's own rules (lib/cmdline.c next_arg):
 * parameters separated by white space, double quotes around spaces, no escapes. */
#pragma once

#include "util.h"

/* Called for each parameter; value is NULL for a bare word. Return <0 to stop. */
typedef int (*cmdline_cb)(const char *key, const char *value, void *userdata);

/* Splits the n bytes at s into parameters and calls cb for each, in order, up to a
 * lone "--" (what follows is init's argv, not kernel parameters). Embedded NULs end the
 * line. Returns 0, or the first negative value cb returned, or -ENOMEM. */
int cmdline_parse(const char *s, size_t n, cmdline_cb cb, void *userdata);

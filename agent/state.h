/* What kubeboot leaves on the node about itself (/var/lib/kubeboot): the joined stamp,
 * whose presence switches the unit off, and the last failure, for `kubeboot status`. */
#pragma once

#include <json-c/json.h>

#include "kb.h"

/* Writes the stamp (JSON: node, time, server, sources, preflight warnings), atomically and last. */
int state_write_joined(Kb *kb, const char *node, const char *how);
/* The stamp's JSON, or NULL with -ENOENT if this node has not joined. */
int state_read_joined(const Kb *kb, json_object **ret);
/* Records a failed join: phase, exit status, the message that said what to fix, and the
 * preflight warnings so far. */
int state_write_failure(Kb *kb, const char *phase, int exit_status, const char *message);
int state_read_failure(const Kb *kb, json_object **ret);
int state_clear_failure(Kb *kb);

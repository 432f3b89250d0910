/* The subcommands; each returns 0 or a negative errno (already logged). */
#pragma once

#include "kb.h"

int verb_join(Kb *kb);
int verb_config(Kb *kb);
int verb_status(Kb *kb);
int verb_reset(Kb *kb);
int verb_token(Kb *kb);

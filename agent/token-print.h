/* What `kubeboot token` prints: the join material for a node in the form asked for, and
 * the table of tokens (kubeadm's columns, the secret never shown). */
#pragma once

#include <json-c/json.h>
#include <time.h>

#include "ca.h"
#include "token-secret.h"

typedef enum TokenFormat {
        TOKEN_FORMAT_CMDLINE,
        TOKEN_FORMAT_INI,
        TOKEN_FORMAT_BUTANE,
        TOKEN_FORMAT_CLOUD_INIT,
        _TOKEN_FORMAT_MAX,
        _TOKEN_FORMAT_INVALID = -EINVAL,
} TokenFormat;

/* "cmdline", "ini", "butane", "cloud-init" */
TokenFormat token_format_from_string(const char *s);

/* Where the butane and cloud-init snippets put the files. */
#define TOKEN_NODE_INI "/etc/kubeboot/kubeboot.ini"
#define TOKEN_NODE_CA "/etc/kubeboot/ca.crt"

typedef struct JoinMaterial {
        const char *token; /* secret */
        const char *server;
        const char *pin;
        const KbCA *ca;    /* non-NULL: the node must be given the CA (no usable discovery) */
        time_t expires;    /* 0: never */
} JoinMaterial;

/* Renders m as format into a new buffer (a secret: release with secret_free()). */
int token_material_render(TokenFormat format, const JoinMaterial *m, char **ret);

/* Prints the tokens of a list of Secrets: a table, or with json an array of objects.
 * now is the apiserver's clock (TTLs are counted by it). Unusable Secrets are warned
 * about and skipped, as kubeadm does. */
int token_print_list(FILE *f, json_object *items, time_t now, bool json);

/* Reading a YAML document into a json-c tree, with YAML 1.1 plain-scalar typing (what
 * sigs.k8s.io/yaml does before Kubernetes decodes a config file), bounded in depth and size. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* Parses one YAML document; *ret is its tree (NULL for an empty document). -EBADMSG with
 * why saying what when it is not YAML or exceeds the bounds, -ENOMEM. */
int yaml_to_json(const char *text, size_t len, json_object **ret, char *why, size_t n);

#include "yaml-in.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "util.h"
#include "yaml-out.h"

/* A KubeletConfiguration nests 4 deep; aliases could make a small document a huge tree. */
#define YAML_IN_MAX_DEPTH 32
#define YAML_IN_MAX_NODES 20000

typedef struct Conv {
        yaml_document_t *doc;
        unsigned nodes;
} Conv;

/* A plain scalar as sigs.k8s.io/yaml (go-yaml v2, YAML 1.1 resolution) types it. */
static json_object *plain_scalar(const char *s) {
        static const char *const yes[] = { "true", "yes", "on", "y" }, *const no[] = { "false", "no", "off", "n" };
        if (!*s || streq(s, "~") || strcasecmp(s, "null") == 0)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return json_object_new_boolean(1);
                if (strcasecmp(s, no[i]) == 0)
                        return json_object_new_boolean(0);
        }
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (*end == 0 && errno == 0)
                return json_object_new_int64(i);
        double d = strtod(s, &end);
        if (*end == 0 && yaml_plain_is_ambiguous(s))
                return json_object_new_double(d);
        return json_object_new_string(s);
}

static int convert(Conv *c, yaml_node_t *node, unsigned depth, json_object **ret, char *why, size_t n) {
        if (!node)
                return why_invalid(why, n, "a dangling node"), -EBADMSG;
        if (depth > YAML_IN_MAX_DEPTH || ++c->nodes > YAML_IN_MAX_NODES)
                return why_invalid(why, n, "nested deeper than %d or more than %d nodes", YAML_IN_MAX_DEPTH,
                                   YAML_IN_MAX_NODES),
                       -EBADMSG;
        switch (node->type) {
        case YAML_SCALAR_NODE: {
                const char *s = (const char *) node->data.scalar.value;
                if (strlen(s) != node->data.scalar.length)
                        return why_invalid(why, n, "a scalar with a NUL byte"), -EBADMSG;
                if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
                        *ret = plain_scalar(s);
                else
                        *ret = json_object_new_string(s);
                return 0;
        }
        case YAML_SEQUENCE_NODE: {
                json_object *a = json_object_new_array();
                if (!a)
                        return -ENOMEM;
                for (yaml_node_item_t *i = node->data.sequence.items.start; i < node->data.sequence.items.top; i++) {
                        json_object *v = NULL;
                        int r = convert(c, yaml_document_get_node(c->doc, *i), depth + 1, &v, why, n);
                        if (r < 0) {
                                json_object_put(a);
                                return r;
                        }
                        json_object_array_add(a, v);
                }
                *ret = a;
                return 0;
        }
        case YAML_MAPPING_NODE: {
                json_object *o = json_object_new_object();
                if (!o)
                        return -ENOMEM;
                for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
                        json_object *v = NULL;
                        if (!k || k->type != YAML_SCALAR_NODE) {
                                json_object_put(o);
                                return why_invalid(why, n, "a mapping key that is not a string"), -EBADMSG;
                        }
                        const char *key = (const char *) k->data.scalar.value;
                        if (json_object_object_get_ex(o, key, NULL)) {
                                /* Kubernetes' strict decoding refuses duplicate fields too */
                                json_object_put(o);
                                return why_invalid(why, n, "the key \"%s\" appears twice", key), -EBADMSG;
                        }
                        int r = convert(c, yaml_document_get_node(c->doc, p->value), depth + 1, &v, why, n);
                        if (r < 0) {
                                json_object_put(o);
                                return r;
                        }
                        json_object_object_add(o, key, v);
                }
                *ret = o;
                return 0;
        }
        default:
                return why_invalid(why, n, "an empty node"), -EBADMSG;
        }
}

int yaml_to_json(const char *text, size_t len, json_object **ret, char *why, size_t n) {
        yaml_parser_t parser;
        yaml_document_t doc;
        int r;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
        if (!yaml_parser_load(&parser, &doc)) {
                r = why_invalid(why, n, "not YAML: %s at line %zu", parser.problem ?: "error",
                                parser.problem_mark.line + 1);
                yaml_parser_delete(&parser);
                return r == -EINVAL ? -EBADMSG : r;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        json_object *o = NULL;
        Conv c = { .doc = &doc };
        r = root ? convert(&c, root, 0, &o, why, n) : 0;
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        if (r < 0)
                return r == -EINVAL ? -EBADMSG : r;
        *ret = o;
        return 0;
}

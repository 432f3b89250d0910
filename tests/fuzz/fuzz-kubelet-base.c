/* The cluster's kube-system/kubelet-config (issue 12): YAML from the apiserver, read with
 * the bootstrap token. As preflight and write use it: parsed into a tree by yaml_to_json()
 * (bounded depth and size, aliases included), layered into this node's KubeletConfiguration
 * by kubelet_config_build() and rendered as YAML. Whatever the input, the rendered file
 * must keep kubeboot's own fields (checked: a layering bug would let the cluster's
 * clientCAFile through). */
#include "fuzz-main.h"
#include "kubelet-config.h"
#include "yaml-in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static KbConfig cfg;
        static bool ready;
        json_object *base = NULL, *out = NULL;
        char why[256], *yaml = NULL;
        size_t len;

        if (!ready) {
                if (config_init(&cfg) < 0)
                        return 0;
                ready = true;
        }
        char *text = fuzz_copy(data, size);
        if (!text)
                return 0;
        if (yaml_to_json(text, size, &base, why, sizeof why) < 0 || !json_object_is_type(base, json_type_object))
                goto finish;
        if (kubelet_config_build(&cfg, base, &out) < 0)
                goto finish;
        json_object *ca = json_object_object_get(json_object_object_get(json_object_object_get(out, "authentication"),
                                                                        "x509"),
                                                 "clientCAFile");
        fuzz_assert(ca && strcmp(json_object_get_string(ca), "/etc/kubernetes/pki/ca.crt") == 0);
        fuzz_assert(!json_object_object_get(out, "staticPodPath"));
        if (kubelet_config_render(&cfg, base, &yaml, &len) == 0)
                free(yaml);
finish:
        json_object_put(out);
        json_object_put(base);
        free(text);
        return 0;
}

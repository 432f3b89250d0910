/* The files kubeboot writes, byte for byte (golden files in fixtures/expected/), and the
 * YAML quoting rule that keeps strings strings. */
#include "ca.h"
#include "config.h"
#include "fileio.h"
#include "kubeconfig-write.h"
#include "kubelet-config.h"
#include "log.h"
#include "secret.h"
#include "tap.h"
#include "yaml-in.h"
#include "yaml-out.h"

static char *fixture(const char *name, size_t *len) {
        char path[512], *buf = NULL;
        snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
        if (read_file_bounded(path, 1 << 20, &buf, len) < 0) {
                printf("# cannot read %s\n", path);
                return strdup("");
        }
        return buf;
}

static void check_golden(const char *got, const char *name) {
        size_t len;
        char *want = fixture(name, &len);
        CHECK(strcmp(got, want) == 0, "%s matches its golden file", name);
        if (strcmp(got, want) != 0)
                printf("# --- got ---\n%s# --- expected ---\n%s", got, want);
        free(want);
}

static void set(KbConfig *c, const char *key, const char *value) {
        if (config_set(c, "test", "test", NULL, key, value) < 0)
                abort();
}

int main(void) {
        size_t len;
        char why[256];
        char *pem = fixture("ec-ca.crt", &len);
        KbCA *ca = NULL;
        char *out = NULL;
        size_t out_len;

        log_setup(LOG_WARNING);
        if (ca_parse(pem, len, &ca, why, sizeof why) < 0)
                abort();

        CHECK(kubeconfig_bootstrap_render("https://192.168.50.10:6443", ca, "abcdef.0123456789abcdef", &out,
                                          &out_len) == 0,
              "the bootstrap kubeconfig renders");
        check_golden(out, "expected/bootstrap-kubelet.conf");
        CHECK(strlen(out) == out_len, "its length is reported");
        CHECK(strstr(out, "xxxxxx") == NULL, "no placeholder is left in it");
        secret_free_n(out, out_len + 1);
        CHECK(kubeconfig_bootstrap_render("https://x:1", ca, "short", &out, &out_len) == -EINVAL,
              "a token of the wrong length is refused");

        KbConfig c;
        config_init(&c);
        CHECK(kubelet_config_render(&c, NULL, &out, &out_len) == 0, "the default KubeletConfiguration renders");
        check_golden(out, "expected/config-defaults.yaml");
        free(out);
        CHECK(kubelet_flags_render(&c, "worker-3", &out, &out_len) == 0, "default flags render");
        CHECK_STREQ(out, "KUBELET_KUBEADM_ARGS=\"--hostname-override=worker-3\"\n", "only the node name by default");
        free(out);

        set(&c, "cluster-dns", "10.96.0.10,fd00::a");
        set(&c, "cluster-domain", "k8s.example");
        set(&c, "max-pods", "250");
        set(&c, "provider-id", "aws:///eu-west-1a/i-0123456789abcdef0");
        set(&c, "register-with-taints", "dedicated=gpu:NoSchedule,spot:PreferNoSchedule");
        set(&c, "cgroup-driver", "cgroupfs");
        set(&c, "container-runtime-endpoint", "unix:///var/run/crio/crio.sock");
        set(&c, "node-ip", "10.0.0.5,fd00::5");
        set(&c, "node-labels", "a=b,node.kubernetes.io/pool=gpu");
        set(&c, "server-tls-bootstrap", "true");
        set(&c, "resolv-conf", "/run/systemd/resolve/resolv.conf");
        CHECK(kubelet_config_render(&c, NULL, &out, &out_len) == 0, "a full KubeletConfiguration renders");
        check_golden(out, "expected/config-full.yaml");
        free(out);
        {
                /* the cluster's kubelet-config as the base: local keys win, node-specific fields go */
                static const char base_yaml[] = "apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                                "kind: KubeletConfiguration\n"
                                                "authentication:\n  x509:\n    clientCAFile: /cp/ca.crt\n"
                                                "  webhook:\n    cacheTTL: 2m0s\n"
                                                "containerRuntimeEndpoint: \"\"\n"
                                                "evictionHard:\n  memory.available: 300Mi\n"
                                                "imageGCHighThresholdPercent: 85\n"
                                                "cpuCFSQuota: yes\n"
                                                "staticPodPath: /etc/kubernetes/manifests\n"
                                                "maxPods: 150\nserverTLSBootstrap: true\n"
                                                "rotateCertificates: false\n"
                                                "logging:\n  options:\n    json:\n      infoBufferSize: \"0\"\n";
                json_object *base = NULL, *o = NULL;
                CHECK(yaml_to_json(base_yaml, strlen(base_yaml), &base, why, sizeof why) == 0, "the base parses");
                KbConfig d;
                config_init(&d);
                set(&d, "max-pods", "90");
                CHECK(kubelet_config_build(&d, base, &o) == 0, "a KubeletConfiguration builds on the base");
                json_object *authn = json_object_object_get(o, "authentication");
                CHECK_STREQ(json_object_get_string(json_object_object_get(json_object_object_get(authn, "x509"),
                                                                         "clientCAFile")),
                            "/etc/kubernetes/pki/ca.crt", "clientCAFile stays this node's");
                CHECK_STREQ(json_object_get_string(json_object_object_get(json_object_object_get(authn, "webhook"),
                                                                         "cacheTTL")),
                            "2m0s", "the base's nested fields merge in");
                CHECK(json_object_get_int(json_object_object_get(o, "maxPods")) == 90, "a local key wins");
                CHECK(json_object_get_boolean(json_object_object_get(o, "serverTLSBootstrap")),
                      "serverTLSBootstrap from the base when not set locally");
                CHECK(json_object_get_boolean(json_object_object_get(o, "rotateCertificates")),
                      "rotateCertificates stays true");
                CHECK(json_object_get_boolean(json_object_object_get(o, "cpuCFSQuota")), "YAML 1.1 yes is true");
                CHECK(json_object_get_int(json_object_object_get(o, "imageGCHighThresholdPercent")) == 85,
                      "integers stay integers");
                CHECK(!json_object_object_get(o, "staticPodPath"), "staticPodPath is not taken");
                CHECK_STREQ(json_object_get_string(json_object_object_get(o, "containerRuntimeEndpoint")),
                            "unix:///run/containerd/containerd.sock", "an empty base value counts as unset");
                json_object_put(o);
                CHECK(kubelet_config_render(&d, base, &out, &out_len) == 0 && strstr(out, "infoBufferSize: \"0\"") &&
                              strstr(out, "maxPods: 90\n"),
                      "rendered: a quoted number stays a string");
                free(out);
                json_object_put(base);
                config_done(&d);
                static const char deep[] = "a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n";
                base = NULL;
                CHECK(yaml_to_json(deep, strlen(deep), &base, why, sizeof why) == -EBADMSG && !base,
                      "too deep a document is refused");
                static const char dup[] = "a: 1\na: 2\n";
                CHECK(yaml_to_json(dup, strlen(dup), &base, why, sizeof why) == -EBADMSG, "a duplicate key is refused");
        }
        CHECK(kubelet_flags_render(&c, "worker-3", &out, &out_len) == 0, "full flags render");
        CHECK_STREQ(out,
                    "KUBELET_KUBEADM_ARGS=\"--hostname-override=worker-3 --node-ip=10.0.0.5,fd00::5 "
                    "--node-labels=a=b,node.kubernetes.io/pool=gpu\"\n",
                    "flags carry what has no config field");
        free(out);
        config_done(&c);

        static const char *const ambiguous[] = { "",    "true", "False", "yes", "off", "~",    "null", "110",
                                                 "0x1F", "1e3", "-1.5", ".inf", "1:20", "0o17", "1_000" };
        for (size_t i = 0; i < sizeof ambiguous / sizeof *ambiguous; i++)
                CHECK(yaml_plain_is_ambiguous(ambiguous[i]), "\"%s\" would not read back as a string", ambiguous[i]);
        static const char *const plain[] = { "0s", "10.96.0.10", "fd00::10", "systemd", "cluster.local",
                                             "unix:///run/containerd/containerd.sock", "abcdef.0123456789abcdef" };
        for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
                CHECK(!yaml_plain_is_ambiguous(plain[i]), "\"%s\" stays a plain string", plain[i]);

        YamlOut y;
        yo_begin(&y, false);
        yo_map_begin(&y);
        yo_kv_str(&y, "a", "true");
        yo_kv_str(&y, "b", "110");
        yo_kv_str(&y, "c", "x: y");
        yo_map_end(&y);
        yo_end(&y, &out, &out_len);
        yo_done(&y);
        CHECK_STREQ(out, "a: \"true\"\nb: \"110\"\nc: 'x: y'\n", "ambiguous strings are quoted");
        free(out);

        ca_free(ca);
        free(pem);
        return tap_done();
}

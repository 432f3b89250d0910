/* Reading kubeconfigs with client-go's rules. */
#include "ca.h"
#include "fileio.h"
#include "kubeconfig-read.h"
#include "kubeconfig-write.h"
#include "secret.h"
#include "tap.h"

static int parse(const char *text, const char *ctx, Kubeconfig **k, char *why) {
        *k = NULL;
        return kubeconfig_parse(text, strlen(text), ctx, "/base", k, why, 256);
}

int main(void) {
        char why[256];
        Kubeconfig *k = NULL;
        char path[512], *pem = NULL;
        size_t len;
        snprintf(path, sizeof path, "%s/ec-ca.crt", FIXTURES);
        read_file_bounded(path, 1 << 20, &pem, &len);
        KbCA *ca = NULL;
        ca_parse(pem, len, &ca, why, sizeof why);

        char *boot = NULL;
        size_t boot_len;
        kubeconfig_bootstrap_render("https://10.0.0.1:6443", ca, "abcdef.0123456789abcdef", &boot, &boot_len);
        CHECK(parse(boot, NULL, &k, why) == 0, "our own bootstrap kubeconfig reads back");
        CHECK_STREQ(k->server, "https://10.0.0.1:6443", "server");
        CHECK_STREQ(k->token, "abcdef.0123456789abcdef", "token");
        CHECK_STREQ(k->context, "tls-bootstrap-token-user@kubernetes", "current context");
        CHECK(k->ca_data_len == ca->pem_len && memcmp(k->ca_data, ca->pem, ca->pem_len) == 0,
              "certificate-authority-data decodes to the CA");
        k = kubeconfig_free(k);
        secret_free_n(boot, boot_len + 1);

        /* cluster-info as kubeadm publishes it: a cluster and nothing else */
        const char *ci = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: aGVsbG8=\n"
                         "    server: https://lb:6443\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\n"
                         "kind: Config\npreferences: {}\nusers: null\n";
        CHECK(parse(ci, NULL, &k, why) == 0 && streq(k->server, "https://lb:6443") && k->ca_data_len == 5 &&
                      !k->token && !k->context,
              "cluster-info's kubeconfig: the first cluster, no user");
        k = kubeconfig_free(k);

        const char *multi =
                "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"current-context\":\"b\","
                "\"clusters\":[{\"name\":\"c1\",\"cluster\":{\"server\":\"https://one:1\",\"certificate-authority\":\"ca.crt\"}},"
                "{\"name\":\"c2\",\"cluster\":{\"server\":\"https://two:2\",\"insecure-skip-tls-verify\":true}}],"
                "\"contexts\":[{\"name\":\"a\",\"context\":{\"cluster\":\"c1\",\"user\":\"u1\"}},"
                "{\"name\":\"b\",\"context\":{\"cluster\":\"c2\",\"user\":\"u2\"}}],"
                "\"users\":[{\"name\":\"u1\",\"user\":{\"client-certificate\":\"/abs/c.pem\",\"client-key\":\"k.pem\"}},"
                "{\"name\":\"u2\",\"user\":{\"client-certificate-data\":\"Y2VydA==\",\"client-key-data\":\"a2V5\"}}]}";
        CHECK(parse(multi, NULL, &k, why) == 0 && streq(k->server, "https://two:2") && k->insecure_skip_tls_verify &&
                      k->client_cert_data_len == 4 && memcmp(k->client_key_data, "key", 3) == 0,
              "JSON kubeconfig: current-context picks cluster and user, data fields decode");
        k = kubeconfig_free(k);
        CHECK(parse(multi, "a", &k, why) == 0 && streq(k->server, "https://one:1") &&
                      streq(k->ca_file, "/base/ca.crt") && streq(k->client_cert_file, "/abs/c.pem") &&
                      streq(k->client_key_file, "/base/k.pem"),
              "a named context; relative paths resolve against the file's directory");
        k = kubeconfig_free(k);

        CHECK(parse(multi, "zzz", &k, why) == -EINVAL && strstr(why, "context \"zzz\" not found"), "%s", why);
        CHECK(parse("a: [1, 2", NULL, &k, why) == -EINVAL && strstr(why, "not YAML"), "%s", why);
        CHECK(parse("- 1\n- 2\n", NULL, &k, why) == -EINVAL && strstr(why, "not a mapping"), "%s", why);
        CHECK(parse("clusters: []\n", NULL, &k, why) == -EINVAL && strstr(why, "no cluster"), "%s", why);
        CHECK(parse("clusters:\n- name: x\n  cluster:\n    certificate-authority-data: '!!'\n    server: https://a:1\n",
                    NULL, &k, why) == -EINVAL &&
                      strstr(why, "base64"),
              "%s", why);
        CHECK(parse("clusters:\n- name: x\n  cluster: {}\n", NULL, &k, why) == -EINVAL && strstr(why, "no server"),
              "%s", why);
        CHECK(parse("current-context: a\ncontexts:\n- name: a\n  context: {cluster: x, user: y}\n"
                    "clusters:\n- name: x\n  cluster: {server: 'https://a:1'}\n",
                    NULL, &k, why) == -EINVAL &&
                      strstr(why, "user \"y\""),
              "%s", why);
        /* aliases are resolved by reference: a "billion laughs" document stays small */
        CHECK(parse("a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nclusters: [*c]\n",
                    NULL, &k, why) == -EINVAL,
              "an alias bomb is refused without expanding it");
        free(pem);
        ca_free(ca);
        return tap_done();
}

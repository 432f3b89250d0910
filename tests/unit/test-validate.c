/* Every validator accepts what Kubernetes accepts and refuses the rest, with a reason. */
#include "tap.h"
#include "validate.h"

typedef int (*validator)(const char *s, char *why, size_t n);

static void ok(validator v, const char *name, const char *s) {
        char why[WHY_MAX] = "";
        int r = v(s, why, sizeof why);
        CHECK(r == 0, "%s accepts \"%s\"", name, s);
        if (r != 0)
                printf("#   reason: %s\n", why);
}

static void bad(validator v, const char *name, const char *s, const char *reason_part) {
        char why[WHY_MAX] = "";
        int r = v(s, why, sizeof why);
        CHECK(r == -EINVAL && strstr(why, reason_part), "%s refuses \"%s\" (%s)", name, s, reason_part);
        if (!(r == -EINVAL && strstr(why, reason_part)))
                printf("#   r=%d reason: %s\n", r, why);
}

#define OK(f, s) ok(f, #f, s)
#define BAD(f, s, part) bad(f, #f, s, part)

int main(void) {
        OK(validate_token, "abcdef.0123456789abcdef");
        OK(validate_token, "07401b.f395accd246ae52d");
        BAD(validate_token, "ABCDEF.0123456789abcdef", "not a bootstrap token");
        BAD(validate_token, "abcdef0123456789abcdef", "not a bootstrap token");
        BAD(validate_token, "abcdef.0123456789abcde", "not a bootstrap token");
        BAD(validate_token, "abcdef.0123456789abcdef0", "not a bootstrap token");
        BAD(validate_token, "abc-ef.0123456789abcdef", "not a bootstrap token");
        {
                char why[WHY_MAX] = "";
                validate_token("zzzzzz.secretsecretsecr", why, sizeof why);
                CHECK(!strstr(why, "secretsecretsecr"), "the token reason never quotes the value");
        }

        OK(validate_server_url, "https://192.168.50.10:6443");
        OK(validate_server_url, "https://api.example.com:6443");
        OK(validate_server_url, "https://api.example.com");
        OK(validate_server_url, "https://[fd00::1]:6443");
        OK(validate_server_url, "https://127.0.0.1:6443/");
        BAD(validate_server_url, "http://192.168.50.10:6443", "not an https URL");
        BAD(validate_server_url, "192.168.50.10:6443", "https");
        BAD(validate_server_url, "https://:6443", "");
        BAD(validate_server_url, "https://10.0.0.1:99999", "port");
        BAD(validate_server_url, "https://10.0.0.1:0", "port");
        BAD(validate_server_url, "https://user:pw@10.0.0.1:6443", "user info");
        BAD(validate_server_url, "https://10.0.0.1:6443/api", "path");
        BAD(validate_server_url, "https://10.0.0.1:6443?x=1", "query");
        BAD(validate_server_url, "https://bad_host:6443", "host");
        BAD(validate_server_url, "", "");

        OK(validate_ca_pin, "sha256:d24400130f656e5ccbe6c4b3acbee8a0c420554e34c428a4d6e49545577e53fc");
        OK(validate_ca_pin, "sha256:D24400130F656E5CCBE6C4B3ACBEE8A0C420554E34C428A4D6E49545577E53FC");
        /* kubeadm's pubkeypin lowercases the format: SHA256: is a pin too */
        OK(validate_ca_pin, "SHA256:d24400130f656e5ccbe6c4b3acbee8a0c420554e34c428a4d6e49545577e53fc");
        BAD(validate_ca_pin, "d24400130f656e5ccbe6c4b3acbee8a0c420554e34c428a4d6e49545577e53fc", "sha256:");
        BAD(validate_ca_pin, "sha1:d24400130f656e5ccbe6c4b3acbee8a0c420554e", "sha256:");
        BAD(validate_ca_pin, "sha256:d24400130f656e5ccbe6c4b3acbee8a0c420554e34c428a4d6e49545577e53f", "64 hex");
        BAD(validate_ca_pin, "sha256:g24400130f656e5ccbe6c4b3acbee8a0c420554e34c428a4d6e49545577e53fc", "64 hex");

        OK(validate_dns1123_subdomain, "worker-3");
        OK(validate_dns1123_subdomain, "ip-10-0-0-5.ec2.internal");
        OK(validate_dns1123_subdomain, "a");
        BAD(validate_dns1123_subdomain, "Worker-3", "DNS-1123");
        BAD(validate_dns1123_subdomain, "-worker", "DNS-1123");
        BAD(validate_dns1123_subdomain, "worker-", "DNS-1123");
        BAD(validate_dns1123_subdomain, "a..b", "DNS-1123");
        BAD(validate_dns1123_subdomain, "worker_3", "DNS-1123");
        BAD(validate_dns1123_subdomain, "", "1 to 253");
        {
                char longname[300];
                memset(longname, 'a', sizeof longname - 1);
                longname[sizeof longname - 1] = 0;
                BAD(validate_dns1123_subdomain, longname, "1 to 253");
                char label64[80] = "";
                memset(label64, 'b', 64);
                BAD(validate_dns1123_subdomain, label64, "DNS-1123");
        }

        OK(validate_ip, "10.0.0.5");
        OK(validate_ip, "fd00::5");
        BAD(validate_ip, "10.0.0.256", "not an IP");
        BAD(validate_ip, "host", "not an IP");

        OK(validate_node_label, "a=b");
        OK(validate_node_label, "node.kubernetes.io/pool=gpu");
        OK(validate_node_label, "pool.node.kubernetes.io/x=y");
        OK(validate_node_label, "kubelet.kubernetes.io/foo=");
        OK(validate_node_label, "topology.kubernetes.io/zone=eu-1a");
        OK(validate_node_label, "example.com/team=infra_1");
        BAD(validate_node_label, "noequals", "key=value");
        BAD(validate_node_label, "node-role.kubernetes.io/worker=", "kubelet refuses");
        BAD(validate_node_label, "kubernetes.io/role=worker", "kubelet refuses");
        BAD(validate_node_label, "foo.k8s.io/x=y", "kubelet refuses");
        BAD(validate_node_label, "node-restriction.kubernetes.io/x=y", "kubelet refuses");
        BAD(validate_node_label, "a=b c", "value");
        BAD(validate_node_label, "a=-b", "value");
        BAD(validate_node_label, "Bad_Prefix/x=y", "prefix");
        BAD(validate_node_label, "/x=y", "prefix");
        BAD(validate_node_label, "=y", "name");

        OK(validate_taint, "dedicated=gpu:NoSchedule");
        OK(validate_taint, "dedicated:NoExecute");
        OK(validate_taint, "example.com/x=y:PreferNoSchedule");
        BAD(validate_taint, "dedicated=gpu", "key[=value]:Effect");
        BAD(validate_taint, "dedicated=gpu:NoWay", "effect");
        BAD(validate_taint, "=gpu:NoSchedule", "name");
        BAD(validate_taint, "a=b c:NoSchedule", "value");

        OK(validate_provider_id, "aws:///us-east-1a/i-0123456789abcdef0");
        OK(validate_provider_id, "gce://proj/zone/name");
        BAD(validate_provider_id, "i-0123", "provider");
        BAD(validate_provider_id, "aws:///a b", "white space");

        OK(validate_cri_endpoint, "unix:///run/containerd/containerd.sock");
        BAD(validate_cri_endpoint, "/run/containerd/containerd.sock", "unix:///");
        BAD(validate_cri_endpoint, "tcp://1.2.3.4:1", "unix:///");
        BAD(validate_cri_endpoint, "unix:///a b", "white space");

        OK(validate_ca_cert_form, "/etc/kubernetes/pki/ca.crt");
        OK(validate_ca_cert_form, "-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----");
        OK(validate_ca_cert_form, "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t");
        BAD(validate_ca_cert_form, "ca.crt", "absolute path");
        return tap_done();
}

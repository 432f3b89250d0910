/* The metadata parsers and the helpers around them, without I/O: what each platform's
 * document yields, and what malformed ones do (warned about, skipped, never fatal). */
#include "../unit/tap.h"
#include "ds-parse.h"
#include "log.h"

/* tap.h's CHECK evaluates its condition twice: parsers (which add to m) run once here */
#define OK(expr, ...)                      \
        do {                               \
                bool ok_ = (expr);         \
                CHECK(ok_, __VA_ARGS__); \
        } while (0)

static DsMeta m;

static void reset(void) {
        ds_meta_done(&m);
}

static const char *tag(const char *key) {
        for (size_t i = 0; i < m.tags.n; i++)
                if (streq(m.tags.e[i].key, key))
                        return m.tags.e[i].value;
        return NULL;
}

#define PARSE(fn, doc) fn("test", doc, strlen(doc), &m)
#define PARSE_X(fn, doc, x) fn("test", doc, strlen(doc), x, &m)

static void test_ec2(void) {
        const char *doc = "{\"instanceId\": \"i-0abc\", \"availabilityZone\": \"us-east-1a\", \"privateIp\": \"10.0.0.1\"}";
        OK(PARSE(ds_parse_ec2_identity, doc) == 0, "ec2: identity document parses");
        CHECK_STREQ(m.provider_id, "aws:///us-east-1a/i-0abc", "ec2: provider ID aws:///<az>/<id>");
        CHECK_STREQ(m.node_ip, "10.0.0.1", "ec2: node IP from privateIp");
        reset();
        OK(PARSE(ds_parse_ec2_identity, "{\"instanceId\": \"i-0abc\"") == -EINVAL, "ec2: truncated JSON: -EINVAL");
        OK(PARSE(ds_parse_ec2_identity, "{} trailing") == -EINVAL, "ec2: trailing data after the JSON: -EINVAL");
        OK(PARSE(ds_parse_ec2_identity, "[1]") == -EINVAL, "ec2: not an object: -EINVAL");
        OK(PARSE(ds_parse_ec2_identity, "{\"instanceId\": 7}") == 0 && !m.provider_id,
              "ec2: missing zone: no provider ID, no failure");
        reset();
        OK(PARSE(ds_parse_ec2_hostname, "ip-1-2-3-4.ec2.internal ip-1-2-3-4.corp\n") == 0, "ec2: local-hostname");
        CHECK_STREQ(m.node_name, "ip-1-2-3-4.ec2.internal", "ec2: the first of several host names");
        reset();
        OK(ds_parse_ec2_hostname("test", "a\0b", 3, &m) == -EINVAL, "ec2: a NUL in local-hostname: -EINVAL");
}

static void test_gce(void) {
        const char *doc = "{\"name\": \"w1\", \"hostname\": \"w1.zone.c.p.internal\", "
                          "\"zone\": \"projects/1/zones/europe-west3-b\", \"networkInterfaces\": [{\"ip\": \"10.1.0.2\"}], "
                          "\"attributes\": {\"kubeboot-token\": \"abcdef.0123456789abcdef\", \"ssh-keys\": \"x\", "
                          "\"kubeboot-max-pods\": 12}}";
        OK(PARSE_X(ds_parse_gce_instance, doc, "proj") == 0, "gce: instance parses");
        CHECK_STREQ(m.provider_id, "gce://proj/europe-west3-b/w1", "gce: provider ID gce://<project>/<zone>/<name>");
        CHECK_STREQ(m.node_name, "w1", "gce: node named after the instance");
        CHECK_STREQ(m.node_ip, "10.1.0.2", "gce: node IP of the first interface");
        CHECK_STREQ(tag("kubeboot-token"), "abcdef.0123456789abcdef", "gce: kubeboot-token attribute kept");
        OK(m.tags.n == 1, "gce: other attributes and non-string ones left out");
        reset();
        OK(PARSE_X(ds_parse_gce_instance, "{\"hostname\": \"vm-9.z.c.p.internal\", \"zone\": \"z\"}", NULL) == 0 &&
                      streq_ptr(m.node_name, "vm-9") && !m.provider_id,
              "gce: no name: the hostname's first label; no project: no provider ID");
        reset();
        OK(PARSE_X(ds_parse_gce_instance, "{\"a\":\"\\u0000\"", "p") == -EINVAL, "gce: truncated JSON: -EINVAL");
        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        OK(ds_parse_gce_instance("test", deep, sizeof deep, "p", &m) == -EINVAL, "gce: nesting past the limit: -EINVAL");
}

static void test_azure(void) {
        /* base64 of "[join]\nserver = https://192.0.2.1:6443\n" */
        const char *doc = "{\"compute\": {\"subscriptionId\": \"s1\", \"resourceGroupName\": \"RG-One\", \"name\": \"vm1\", "
                          "\"vmScaleSetName\": \"\", \"osProfile\": {\"computerName\": \"VM1\"}, "
                          "\"tagsList\": [{\"name\": \"kubeboot-token\", \"value\": \"abcdef.0123456789abcdef\"}, "
                          "{\"name\": \"env\", \"value\": \"x\"}, {\"name\": 5}], "
                          "\"userData\": \"W2pvaW5dCnNlcnZlciA9IGh0dHBzOi8vMTkyLjAuMi4xOjY0NDMK\"}, "
                          "\"network\": {\"interface\": [{\"ipv4\": {\"ipAddress\": [{\"privateIpAddress\": \"10.0.0.4\"}]}}]}}";
        OK(PARSE(ds_parse_azure_instance, doc) == 0, "azure: instance parses");
        CHECK_STREQ(m.provider_id,
                    "azure:///subscriptions/s1/resourceGroups/rg-one/providers/Microsoft.Compute/virtualMachines/vm1",
                    "azure: VM provider ID, resource group lowercased");
        CHECK_STREQ(m.node_name, "VM1", "azure: node name from the computer name (lowercased when emitted)");
        CHECK_STREQ(m.node_ip, "10.0.0.4", "azure: node IP");
        CHECK_STREQ(tag("kubeboot-token"), "abcdef.0123456789abcdef", "azure: kubeboot- tag kept");
        OK(m.tags.n == 1, "azure: other tags left out");
        OK(m.user_data && strstr(m.user_data, "server = https://192.0.2.1:6443"), "azure: userData decoded");
        reset();
        const char *vmss = "{\"compute\": {\"subscriptionId\": \"s\", \"resourceGroupName\": \"g\", \"name\": \"pool_12\", "
                           "\"vmScaleSetName\": \"pool\", \"userData\": \"%%%\"}}";
        OK(PARSE(ds_parse_azure_instance, vmss) == 0, "azure: bad userData is not fatal");
        CHECK_STREQ(m.provider_id,
                    "azure:///subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/pool/"
                    "virtualMachines/12",
                    "azure: scale set VM provider ID");
        OK(!m.user_data, "azure: malformed base64 userData skipped");
        reset();
        const char *flex = "{\"compute\": {\"subscriptionId\": \"s\", \"resourceGroupName\": \"g\", \"name\": \"flex-vm\", "
                           "\"vmScaleSetName\": \"flex\"}}";
        OK(PARSE(ds_parse_azure_instance, flex) == 0 && m.provider_id &&
                      strstr(m.provider_id, "/virtualMachines/flex-vm") && !strstr(m.provider_id, "ScaleSets"),
              "azure: a flexible scale set VM keeps the VM form");
        reset();
}

static void test_openstack(void) {
        const char *doc = "{\"uuid\": \"u-1\", \"hostname\": \"node-3.novalocal\", \"name\": \"Node 3\", "
                          "\"meta\": {\"kubeboot-server\": \"https://192.0.2.1:6443\", \"kubeboot-x\": {}}}";
        OK(PARSE(ds_parse_openstack_meta, doc) == 0, "openstack: meta_data.json parses");
        CHECK_STREQ(m.provider_id, "openstack:///u-1", "openstack: provider ID openstack:///<uuid>");
        CHECK_STREQ(m.node_name, "node-3", "openstack: node name, the hostname's first label");
        CHECK_STREQ(tag("kubeboot-server"), "https://192.0.2.1:6443", "openstack: kubeboot- meta kept");
        OK(m.tags.n == 1, "openstack: a non-string meta value skipped");
        OK(PARSE_X(ds_parse_openstack_ipv4, "{\"local-ipv4\": \"10.9.8.7\"}", true) == 0 &&
                      streq_ptr(m.node_ip, "10.9.8.7"),
              "openstack: node IP from the config drive's ec2 meta-data.json");
        OK(PARSE_X(ds_parse_openstack_ipv4, "10.9.8.6\n", false) == 0 && streq_ptr(m.node_ip, "10.9.8.6"),
              "openstack: node IP from the service's local-ipv4");
        reset();
}

static void test_digitalocean(void) {
        const char *doc = "{\"droplet_id\": 2756294, \"hostname\": \"w5\", \"user_data\": \"[join]\\n\", \"interfaces\": "
                          "{\"public\": [{\"ipv4\": {\"ip_address\": \"203.0.113.5\"}}], "
                          "\"private\": [{\"ipv4\": {\"ip_address\": \"10.1.1.5\"}}]}}";
        OK(PARSE(ds_parse_digitalocean, doc) == 0, "digitalocean: v1.json parses");
        CHECK_STREQ(m.provider_id, "digitalocean://2756294", "digitalocean: provider ID from the numeric droplet_id");
        CHECK_STREQ(m.node_ip, "10.1.1.5", "digitalocean: the private address first");
        OK(m.user_data && streq(m.user_data, "[join]\n"), "digitalocean: user_data kept");
        reset();
}

static void test_hetzner(void) {
        const char *doc = "hostname: w9\ninstance-id: 4242\npublic-ipv4: 198.51.100.9\nlocal-ipv4: ''\n"
                          "public-keys:\n- ssh-ed25519 AAAA\nnetwork-config:\n  config:\n  - name: eth0\n    hostname: nope\n"
                          "vendor_data: \"x\"\n";
        OK(PARSE(ds_parse_hetzner_metadata, doc) == 0, "hetzner: metadata YAML parses");
        CHECK_STREQ(m.node_name, "w9", "hetzner: node name (nested keys of the same name ignored)");
        CHECK_STREQ(m.provider_id, "hcloud://4242", "hetzner: provider ID hcloud://<id>");
        CHECK_STREQ(m.node_ip, "198.51.100.9", "hetzner: public IPv4");
        OK(PARSE(ds_parse_hetzner_networks, "- ip: 10.0.0.2\n  alias_ips: [10.0.0.3]\n- ip: 10.0.1.2\n") == 0 &&
                      streq_ptr(m.node_ip, "10.0.0.2"),
              "hetzner: the first private network's IP");
        reset();
        OK(PARSE(ds_parse_hetzner_metadata, "hostname: [oops\n") == -EINVAL, "hetzner: malformed YAML: -EINVAL");
        OK(PARSE(ds_parse_hetzner_metadata, "instance-id: 12ab\nhostname: h\n") == 0 && !m.provider_id,
              "hetzner: a non-numeric instance-id is not used");
        reset();
        OK(PARSE(ds_parse_hetzner_networks, "- [a, b]\n- - ip\n  - 10.0.0.5\n") == 0 && !m.node_ip,
              "hetzner: nested sequences are not mistaken for mappings");
        reset();
}

static void test_user_data(void) {
        DsResult out = {};
        const char *ini = "[join]\ntoken = abcdef.0123456789abcdef\n";
        OK(ds_add_user_data(&out, "t:ud", ini, strlen(ini)) == 0 && out.n_parts == 1 && out.parts[0].n == 1 &&
                      out.parts[0].e[0].line == 2,
              "user-data: an ini document becomes one part, lines kept");
        ds_result_done(&out);
        const char *cc = "#cloud-config\nruncmd: [ls]\n";
        OK(ds_add_user_data(&out, "t:ud", cc, strlen(cc)) == 0 && out.n_parts == 0,
              "user-data: a cloud-config document is skipped");
        const char *bad = "[join]\nnot an ini line\n";
        OK(ds_add_user_data(&out, "t:ud", bad, strlen(bad)) == 0 && out.n_parts == 0,
              "user-data: a malformed ini is skipped (warned), not fatal");
        OK(ds_add_user_data(&out, "t:ud", "  \n", 3) == 0 && out.n_parts == 0, "user-data: blank: nothing");
        ds_result_done(&out);

        DsMeta t = { .node_name = strdup("Worker_1"), .node_ip = strdup("not-an-ip"),
                     .provider_id = strdup("aws:///z/i-1") };
        entries_add(&t.tags, NULL, "kubeboot-token", "abcdef.0123456789abcdef", 0);
        OK(ds_meta_emit(&t, "src", "src:facts", "tag", "src:ud", &out) == 0 && out.n_parts == 2,
              "emit: facts and one part per tag");
        OK(out.parts[0].n == 1 && streq(out.parts[0].e[0].key, "provider-id"),
              "emit: facts that do not validate are left out");
        CHECK_STREQ(out.parts[1].origin, "src:tag kubeboot-token", "emit: a tag's origin names it");
        CHECK_STREQ(out.parts[1].e[0].key, "token", "emit: the tag's key without the prefix");
        ds_result_done(&out);
        ds_meta_done(&t);

        char *dec = NULL;
        size_t dl = 0;
        OK(ds_base64_decode("aGVsbG8=", 8, &dec, &dl) == 0 && dl == 5 && memcmp(dec, "hello", 5) == 0,
              "base64 decodes");
        free(dec);
        OK(ds_base64_decode("a*b=", 4, &dec, &dl) == -EINVAL, "base64: a bad character: -EINVAL");
}

int main(void) {
        log_setup(LOG_CRIT); /* the warnings are expected */
        test_ec2();
        test_gce();
        test_azure();
        test_openstack();
        test_digitalocean();
        test_hetzner();
        test_user_data();
        return tap_done();
}

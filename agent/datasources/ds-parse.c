#include "ds-parse.h"

#include <ctype.h>
#include <mbedtls/base64.h>

#include "log.h"
#include "secret.h"

#define _cleanup_json_ _cleanup_(ds_json_putp)
static inline void ds_json_putp(json_object **o) {
        ds_json_put(*o);
}

/* A JSON document that must be an object. */
static int parse_object(const char *source, const char *buf, size_t len, json_object **ret) {
        json_object *o = NULL;
        int r = ds_json_parse(source, buf, len, &o);
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object)) {
                ds_json_put(o);
                return log_key_errno(LOG_WARNING, -EINVAL, source, NULL, "not a JSON object");
        }
        *ret = o;
        return 0;
}

static bool has_nul(const char *buf, size_t len) {
        return memchr(buf, 0, len) != NULL;
}

int ds_base64_decode(const char *s, size_t len, char **ret, size_t *ret_len) {
        size_t need = 0;
        int k = mbedtls_base64_decode(NULL, 0, &need, (const unsigned char *) s, len);
        if (k == MBEDTLS_ERR_BASE64_INVALID_CHARACTER)
                return -EINVAL;
        char *out = malloc(need + 1);
        if (!out)
                return -ENOMEM;
        size_t olen = 0;
        k = mbedtls_base64_decode((unsigned char *) out, need, &olen, (const unsigned char *) s, len);
        if (k != 0) {
                secret_free_n(out, need + 1);
                return -EINVAL;
        }
        out[olen] = 0;
        *ret = out;
        *ret_len = olen;
        return 0;
}

/* "projects/123/zones/us-central1-a" → "us-central1-a" */
static const char *last_segment(const char *s) {
        const char *slash = strrchr(s, '/');
        return slash ? slash + 1 : s;
}

/* ---- EC2 ---- */

int ds_parse_ec2_identity(const char *source, const char *buf, size_t len, DsMeta *m) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *id = NULL, *az = NULL;
        int r = parse_object(source, buf, len, &o);
        if (r < 0)
                return r;
        if ((r = ds_json_take(o, "instanceId", source, true, &id)) < 0 ||
            (r = ds_json_take(o, "availabilityZone", source, true, &az)) < 0 ||
            (r = ds_json_take(o, "privateIp", source, true, &m->node_ip)) < 0)
                return r;
        if (id && az) {
                free(m->provider_id);
                m->provider_id = strdup_printf("aws:///%s/%s", az, id);
                if (!m->provider_id)
                        return -ENOMEM;
        }
        return 0;
}

/* The first white-space-separated word of a plain-text answer ("" if none); a NUL in it
 * is refused. */
static int first_word_of(const char *source, const char *buf, size_t len, char **ret) {
        if (has_nul(buf, len))
                return log_key_errno(LOG_WARNING, -EINVAL, source, NULL, "contains a NUL character");
        _cleanup_free_ char *copy = strndup(buf, len);
        if (!copy)
                return -ENOMEM;
        *ret = ds_first_word(copy);
        return *ret ? 0 : -ENOMEM;
}

int ds_parse_ec2_hostname(const char *source, const char *buf, size_t len, DsMeta *m) {
        /* with several DHCP domain names it lists several names: the first is the node's */
        _cleanup_free_ char *w = NULL;
        int r = first_word_of(source, buf, len, &w);
        if (r < 0)
                return r;
        if (!*w)
                return log_key_errno(LOG_WARNING, -EINVAL, source, NULL, "empty");
        return ds_meta_set(&m->node_name, w);
}

/* The kubeboot-<key> entries of a JSON object of strings (GCE attributes, OpenStack
 * meta) as tags; anything else in it is warned about and skipped. */
static int add_tags_from_object(DsMeta *m, const char *source, json_object *o, const char *field) {
        json_object *obj = ds_json_at(o, field);
        if (!obj)
                return 0;
        if (!json_object_is_type(obj, json_type_object)) {
                log_key_errno(LOG_WARNING, 0, source, field, "not an object: ignored");
                return 0;
        }
        json_object_object_foreach(obj, k, v) {
                if (!startswith(k, DS_TAG_PREFIX))
                        continue;
                /* a string with an embedded NUL is not one we can use */
                if (!json_object_is_type(v, json_type_string) ||
                    strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v)) {
                        log_key_errno(LOG_WARNING, 0, source, k, "not a string: ignored");
                        continue;
                }
                int r = ds_meta_add_tag(m, source, k, json_object_get_string(v));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- GCE ---- */

/* Does text have a line "[join]" (leading and trailing blanks aside)? */
static bool has_join_section(const char *text) {
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                l += strspn(l, " \t");
                if (startswith(l, "[join]")) {
                        const char *rest = l + strlen("[join]");
                        rest += strspn(rest, " \t\r");
                        if (*rest == '\n' || *rest == 0)
                                return true;
                }
        }
        return false;
}

/* Users of cloud-init images put boot data in the instance attribute user-data (cloud-init's
 * GCE datasource reads instance/attributes/user-data, base64 when the attribute
 * user-data-encoding says "base64"). When it holds a kubeboot ini (a [join] section), it is
 * read, below the kubeboot-* attributes; anything else is cloud-init's. */
static int gce_user_data(DsMeta *m, const char *source, json_object *o) {
        json_object *ud = ds_json_at(o, "attributes.user-data");
        _cleanup_free_ unsigned char *decoded = NULL;
        size_t cap = 0;
        if (!ud)
                return 0;
        if (!json_object_is_type(ud, json_type_string) ||
            strlen(json_object_get_string(ud)) != (size_t) json_object_get_string_len(ud)) {
                log_key_errno(LOG_WARNING, 0, source, "user-data", "not a string: ignored");
                return 0;
        }
        const char *text = json_object_get_string(ud);
        size_t len = (size_t) json_object_get_string_len(ud);
        json_object *enc = ds_json_at(o, "attributes.user-data-encoding");
        if (enc && json_object_is_type(enc, json_type_string) && streq(json_object_get_string(enc), "base64")) {
                const unsigned char *in = (const unsigned char *) text;
                bool ok = mbedtls_base64_decode(NULL, 0, &cap, in, len) == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL;
                if (ok && !(decoded = malloc(cap + 1)))
                        return -ENOMEM;
                if (!ok || mbedtls_base64_decode(decoded, cap + 1, &len, in, len) != 0) {
                        if (decoded)
                                secret_wipe(decoded, cap);
                        log_key_errno(LOG_WARNING, 0, source, "user-data",
                                      "user-data-encoding is base64, but the value is not: ignored");
                        return 0;
                }
                decoded[len] = 0;
                text = (const char *) decoded;
        }
        int r = 0;
        if (memchr(text, 0, len) || !has_join_section(text))
                log_debug("%s: the user-data attribute holds no [join] section: left to cloud-init", source);
        else if ((r = ds_meta_set_user_data(m, text, len)) >= 0)
                m->user_data_below_tags = true;
        if (decoded)
                secret_wipe(decoded, cap);
        return r;
}

int ds_parse_gce_instance(const char *source, const char *buf, size_t len, const char *project, DsMeta *m) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *name = NULL, *hostname = NULL, *zone = NULL;
        int r = parse_object(source, buf, len, &o);
        if (r < 0)
                return r;
        if ((r = ds_json_take(o, "name", source, false, &name)) < 0 ||
            (r = ds_json_take(o, "hostname", source, !name, &hostname)) < 0 ||
            (r = ds_json_take(o, "zone", source, true, &zone)) < 0 ||
            (r = ds_json_take(o, "networkInterfaces.0.ip", source, true, &m->node_ip)) < 0)
                return r;
        if (!name && hostname) /* "vm-1.us-central1-a.c.project.internal": the instance is vm-1 */
                name = strndup(hostname, strcspn(hostname, "."));
        if (hostname && !name)
                return -ENOMEM;
        /* GCE's cloud provider names a node after its instance */
        if ((r = ds_meta_set(&m->node_name, name)) < 0)
                return r;
        if (name && zone && project) {
                free(m->provider_id);
                m->provider_id = strdup_printf("gce://%s/%s/%s", project, last_segment(zone), name);
                if (!m->provider_id)
                        return -ENOMEM;
        }

        if ((r = add_tags_from_object(m, source, o, "attributes")) < 0)
                return r;
        return gce_user_data(m, source, o);
}

/* ---- Azure ---- */

/* The text of the first element named name (with or without a namespace prefix), between
 * its start and end tags; NULL if absent. *ret_len is its length. */
static const char *xml_element_text(const char *buf, size_t len, const char *name, size_t *ret_len) {
        const char *end = buf + len;
        size_t nl = strlen(name);
        for (const char *p = memchr(buf, '<', len); p && p < end; p = memchr(p + 1, '<', (size_t) (end - p - 1))) {
                const char *q = p + 1, *tag = q;
                while (q < end && *q != '>' && *q != ' ' && *q != '/' && *q != '\t' && *q != '\r' && *q != '\n')
                        q++;
                const char *colon = memchr(tag, ':', (size_t) (q - tag));
                const char *local = colon ? colon + 1 : tag;
                if ((size_t) (q - local) != nl || memcmp(local, name, nl) != 0 || *tag == '/')
                        continue;
                const char *gt = memchr(q, '>', (size_t) (end - q));
                if (!gt)
                        return NULL;
                if (gt[-1] == '/') { /* <ns1:CustomData/> */
                        *ret_len = 0;
                        return gt;
                }
                const char *text = gt + 1, *close = memchr(text, '<', (size_t) (end - text));
                if (!close)
                        return NULL;
                *ret_len = (size_t) (close - text);
                return text;
        }
        return NULL;
}

int ds_parse_azure_ovf_env(const char *source, const char *buf, size_t len, DsMeta *m) {
        size_t tlen = 0;
        const char *text = xml_element_text(buf, len, "CustomData", &tlen);
        if (!text || tlen == 0)
                return 0;
        /* base64, possibly wrapped: keep the alphabet only */
        _cleanup_free_ unsigned char *b64 = malloc(tlen + 1), *raw = NULL;
        size_t n = 0, rawlen = 0, rawcap = 0;
        if (!b64)
                return -ENOMEM;
        for (size_t i = 0; i < tlen; i++)
                if (!isspace((unsigned char) text[i]))
                        b64[n++] = (unsigned char) text[i];
        int e = mbedtls_base64_decode(NULL, 0, &rawcap, b64, n);
        if (e == 0) /* nothing but white space */
                return 0;
        if (e != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
                goto bad;
        raw = malloc(rawcap + 1);
        if (!raw)
                return -ENOMEM;
        if (mbedtls_base64_decode(raw, rawcap + 1, &rawlen, b64, n) != 0)
                goto bad;
        int r = ds_meta_set_user_data(m, (const char *) raw, rawlen);
        secret_wipe(raw, rawcap);
        secret_wipe(b64, n);
        return r;
bad:
        if (raw)
                secret_wipe(raw, rawcap);
        secret_wipe(b64, n);
        return log_key_errno(LOG_WARNING, -EINVAL, source, "CustomData", "not base64: ignored");
}

/* The ID the Azure cloud provider gives a node: a VM, or a VM of a uniform scale set
 * (whose VM names are <scale set>_<instance id>). It lowercases the resource group. */
static int azure_provider_id(const char *sub, const char *rg, const char *name, const char *vmss, char **ret) {
        _cleanup_free_ char *rgl = strdup(rg);
        if (!rgl)
                return -ENOMEM;
        ascii_strlower(rgl);
        const char *inst = vmss && *vmss ? startswith(name, vmss) : NULL;
        if (inst && inst[0] == '_' && inst[1] && strspn(inst + 1, "0123456789") == strlen(inst + 1))
                *ret = strdup_printf("azure:///subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
                                     "virtualMachineScaleSets/%s/virtualMachines/%s",
                                     sub, rgl, vmss, inst + 1);
        else
                *ret = strdup_printf(
                        "azure:///subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s",
                        sub, rgl, name);
        return *ret ? 0 : -ENOMEM;
}

int ds_parse_azure_instance(const char *source, const char *buf, size_t len, DsMeta *m) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *sub = NULL, *rg = NULL, *name = NULL, *vmss = NULL, *computer = NULL;
        int r = parse_object(source, buf, len, &o);
        if (r < 0)
                return r;
        if ((r = ds_json_take(o, "compute.subscriptionId", source, true, &sub)) < 0 ||
            (r = ds_json_take(o, "compute.resourceGroupName", source, true, &rg)) < 0 ||
            (r = ds_json_take(o, "compute.name", source, true, &name)) < 0 ||
            (r = ds_json_take(o, "compute.vmScaleSetName", source, false, &vmss)) < 0 ||
            (r = ds_json_take(o, "compute.osProfile.computerName", source, false, &computer)) < 0 ||
            (r = ds_json_take(o, "network.interface.0.ipv4.ipAddress.0.privateIpAddress", source, true,
                              &m->node_ip)) < 0)
                return r;
        /* kubelet's default name is the hostname, which is the computer name (a scale set's
         * VM names are not host names) */
        if ((r = ds_meta_set(&m->node_name, computer ?: name)) < 0)
                return r;
        if (sub && rg && name) {
                free(m->provider_id);
                m->provider_id = NULL;
                if ((r = azure_provider_id(sub, rg, name, vmss, &m->provider_id)) < 0)
                        return r;
        }

        json_object *tags = ds_json_at(o, "compute.tagsList");
        if (tags && !json_object_is_type(tags, json_type_array))
                log_key_errno(LOG_WARNING, 0, source, "compute.tagsList", "not an array: ignored");
        else
                for (size_t i = 0; tags && i < json_object_array_length(tags); i++) {
                        json_object *t = json_object_array_get_idx(tags, i);
                        _cleanup_free_ char *tn = NULL;
                        _cleanup_secret_ char *tv = NULL;
                        if ((r = ds_json_take(t, "name", source, false, &tn)) < 0 ||
                            (r = ds_json_take(t, "value", source, false, &tv)) < 0)
                                return r;
                        if (!tn || !startswith(tn, DS_TAG_PREFIX))
                                continue;
                        if ((r = ds_meta_add_tag(m, source, tn, tv ?: "")) < 0)
                                return r;
                }

        json_object *ud = ds_json_at(o, "compute.userData");
        if (ud && !json_object_is_type(ud, json_type_string))
                log_key_errno(LOG_WARNING, 0, source, "compute.userData", "not a string: ignored");
        else if (ud && json_object_get_string_len(ud) > 0) {
                char *dec = NULL;
                size_t dl = 0;
                r = ds_base64_decode(json_object_get_string(ud), (size_t) json_object_get_string_len(ud), &dec, &dl);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        log_key_errno(LOG_WARNING, 0, source, "compute.userData", "not valid base64: ignored");
                else if (dl > DS_USER_DATA_MAX)
                        log_key_errno(LOG_WARNING, 0, source, "compute.userData",
                                      "larger than %u bytes: rejected", DS_USER_DATA_MAX);
                else
                        r = ds_meta_set_user_data(m, dec, dl);
                secret_free_n(dec, dl + 1);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* ---- OpenStack ---- */

int ds_parse_openstack_meta(const char *source, const char *buf, size_t len, DsMeta *m) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *uuid = NULL, *hostname = NULL;
        int r = parse_object(source, buf, len, &o);
        if (r < 0)
                return r;
        if ((r = ds_json_take(o, "uuid", source, true, &uuid)) < 0 ||
            (r = ds_json_take(o, "hostname", source, true, &hostname)) < 0)
                return r;
        if (hostname) {
                /* nova appends a domain (".novalocal"); the node is the host's first label */
                hostname[strcspn(hostname, ".")] = 0;
                if ((r = ds_meta_set(&m->node_name, hostname)) < 0)
                        return r;
        }
        if (uuid) {
                free(m->provider_id);
                m->provider_id = strdup_printf("openstack:///%s", uuid);
                if (!m->provider_id)
                        return -ENOMEM;
        }
        return add_tags_from_object(m, source, o, "meta");
}

int ds_parse_openstack_ipv4(const char *source, const char *buf, size_t len, bool json, DsMeta *m) {
        if (json) {
                _cleanup_json_ json_object *o = NULL;
                int r = parse_object(source, buf, len, &o);
                if (r < 0)
                        return r;
                return ds_json_take(o, "local-ipv4", source, true, &m->node_ip);
        }
        _cleanup_free_ char *w = NULL;
        int r = first_word_of(source, buf, len, &w);
        if (r < 0)
                return r;
        return *w ? ds_meta_set(&m->node_ip, w) : 0;
}

/* ---- DigitalOcean ---- */

int ds_parse_digitalocean(const char *source, const char *buf, size_t len, DsMeta *m) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *id = NULL;
        int r = parse_object(source, buf, len, &o);
        if (r < 0)
                return r;
        if ((r = ds_json_take(o, "droplet_id", source, true, &id)) < 0 ||
            (r = ds_json_take(o, "hostname", source, true, &m->node_name)) < 0 ||
            (r = ds_json_take(o, "interfaces.public.0.ipv4.ip_address", source, false, &m->node_ip)) < 0 ||
            /* the VPC address when there is one: node traffic stays inside the VPC */
            (r = ds_json_take(o, "interfaces.private.0.ipv4.ip_address", source, false, &m->node_ip)) < 0)
                return r;
        if (!m->node_ip)
                log_key_errno(LOG_WARNING, 0, source, "interfaces", "no IPv4 address");
        if (id) {
                free(m->provider_id);
                m->provider_id = strdup_printf("digitalocean://%s", id);
                if (!m->provider_id)
                        return -ENOMEM;
        }
        json_object *ud = ds_json_at(o, "user_data");
        if (ud && json_object_is_type(ud, json_type_string) && json_object_get_string_len(ud) > 0) {
                if ((size_t) json_object_get_string_len(ud) > DS_USER_DATA_MAX)
                        log_key_errno(LOG_WARNING, 0, source, "user_data", "larger than %u bytes: rejected",
                                      DS_USER_DATA_MAX);
                else if ((r = ds_meta_set_user_data(m, json_object_get_string(ud),
                                                    (size_t) json_object_get_string_len(ud))) < 0)
                        return r;
        } else if (ud && !json_object_is_type(ud, json_type_string) && !json_object_is_type(ud, json_type_null))
                log_key_errno(LOG_WARNING, 0, source, "user_data", "not a string: ignored");
        return 0;
}

/* ---- Hetzner ---- */

typedef struct HetznerCtx {
        DsMeta *m;
        const char *source;
        char *id;
        bool ip_set;
} HetznerCtx;

static int hetzner_metadata_cb(void *userdata, long index, const char *key, const char *value) {
        HetznerCtx *c = userdata;
        if (index >= 0 || !*value)
                return 0;
        if (streq(key, "hostname"))
                return ds_meta_set(&c->m->node_name, value);
        if (streq(key, "public-ipv4"))
                return ds_meta_set(&c->m->node_ip, value);
        if (streq(key, "instance-id")) {
                if (strspn(value, "0123456789") != strlen(value)) {
                        log_key_errno(LOG_WARNING, 0, c->source, key, "\"%s\" is not a server ID: ignored", value);
                        return 0;
                }
                return ds_meta_set(&c->id, value);
        }
        return 0;
}

int ds_parse_hetzner_metadata(const char *source, const char *buf, size_t len, DsMeta *m) {
        HetznerCtx c = { .m = m, .source = source };
        int r = ds_yaml_scalars(source, buf, len, hetzner_metadata_cb, &c);
        if (r >= 0 && c.id) {
                free(m->provider_id);
                m->provider_id = strdup_printf("hcloud://%s", c.id);
                if (!m->provider_id)
                        r = -ENOMEM;
        }
        if (r >= 0 && !c.id)
                log_key_errno(LOG_WARNING, 0, source, "instance-id", "missing");
        free(c.id);
        return r;
}

static int hetzner_networks_cb(void *userdata, long index, const char *key, const char *value) {
        HetznerCtx *c = userdata;
        if (index < 0 || c->ip_set || !streq(key, "ip") || !*value)
                return 0;
        c->ip_set = true;
        return ds_meta_set(&c->m->node_ip, value);
}

int ds_parse_hetzner_networks(const char *source, const char *buf, size_t len, DsMeta *m) {
        HetznerCtx c = { .m = m, .source = source };
        return ds_yaml_scalars(source, buf, len, hetzner_networks_cb, &c);
}

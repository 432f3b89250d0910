/* Parsers of what metadata services and config drives answer, apart from the I/O so that
 * fuzz targets (tests/datasources/fuzz-*.c) call them directly. Each takes the document
 * and the source name used in messages ("azure:instance"), fills what it found into a
 * DsMeta, warns (naming source and key) about parts it skips, and returns 0, -EINVAL for
 * a document it cannot use at all (warned about), or -ENOMEM. */
#pragma once

#include "ds-util.h"

/* EC2 /latest/dynamic/instance-identity/document: provider ID aws:///<az>/<id>, node IP. */
int ds_parse_ec2_identity(const char *source, const char *buf, size_t len, DsMeta *m);
/* EC2 /latest/meta-data/local-hostname: the node name (first name if several). */
int ds_parse_ec2_hostname(const char *source, const char *buf, size_t len, DsMeta *m);
/* GCE /computeMetadata/v1/instance/?recursive=true, with the project ID fetched apart:
 * node name, node IP, provider ID gce://<project>/<zone>/<name>, kubeboot-* attributes, and the
 * user-data attribute when it is a kubeboot ini ([join] section). */
int ds_parse_gce_instance(const char *source, const char *buf, size_t len, const char *project, DsMeta *m);
/* Azure /metadata/instance: node name, node IP, provider ID (VM or scale set VM), tags,
 * base64 userData. */
int ds_parse_azure_instance(const char *source, const char *buf, size_t len, DsMeta *m);
/* Azure ovf-env.xml (the provisioning medium): the base64 text of the CustomData element
 * (any namespace prefix; cloud-init's doc/sources/azure) decoded into the user-data. No
 * element, or an empty one: 0 and nothing set; undecodable: a warning and -EINVAL. */
int ds_parse_azure_ovf_env(const char *source, const char *buf, size_t len, DsMeta *m);
/* OpenStack openstack/latest/meta_data.json: node name, provider ID openstack:///<uuid>,
 * kubeboot-* meta entries. */
int ds_parse_openstack_meta(const char *source, const char *buf, size_t len, DsMeta *m);
/* The node IP from OpenStack's EC2-compatible metadata: a config drive's
 * ec2/latest/meta-data.json (json true) or the service's plain local-ipv4 (json false). */
int ds_parse_openstack_ipv4(const char *source, const char *buf, size_t len, bool json, DsMeta *m);
/* DigitalOcean /metadata/v1.json: node name, node IP (private, else public), provider ID
 * digitalocean://<droplet_id>, user_data. */
int ds_parse_digitalocean(const char *source, const char *buf, size_t len, DsMeta *m);
/* Hetzner /hetzner/v1/metadata (YAML): node name, public IPv4, provider ID hcloud://<id>. */
int ds_parse_hetzner_metadata(const char *source, const char *buf, size_t len, DsMeta *m);
/* Hetzner /hetzner/v1/metadata/private-networks (YAML): the first private IP becomes the
 * node IP. */
int ds_parse_hetzner_networks(const char *source, const char *buf, size_t len, DsMeta *m);
/* Standard base64 (white space allowed) into a new buffer, a secret; -EINVAL if malformed. */
int ds_base64_decode(const char *s, size_t len, char **ret, size_t *ret_len);

/* Syntax checks for configuration values, each as Kubernetes (or the kubelet) defines
 * it. Every check returns 0, or -EINVAL with a reason (without the value) in `why`. */
#pragma once

#include "util.h"

#define WHY_MAX 256

/* Bootstrap token, [a-z0-9]{6}.[a-z0-9]{16} (k8s.io/cluster-bootstrap/token/api). */
int validate_token(const char *s, char *why, size_t n);
/* An https URL with a host, an optional port, and no user, query, fragment or path. */
int validate_server_url(const char *s, char *why, size_t n);
/* A CA pin as kubeadm prints it: sha256:<64 hex digits>, any case. */
int validate_ca_pin(const char *s, char *why, size_t n);
/* A DNS-1123 subdomain (node names, cluster domain). */
int validate_dns1123_subdomain(const char *s, char *why, size_t n);
/* An IPv4 or IPv6 address. */
int validate_ip(const char *s, char *why, size_t n);
/* One node label key=value, also refusing kubernetes.io/k8s.io keys that kubelet refuses. */
int validate_node_label(const char *s, char *why, size_t n);
/* One taint key[=value]:Effect, as kubelet's --register-with-taints parses it. */
int validate_taint(const char *s, char *why, size_t n);
/* A provider ID: <scheme>://<rest>, printable, no white space. */
int validate_provider_id(const char *s, char *why, size_t n);
/* A CRI endpoint: unix:///absolute/path. */
int validate_cri_endpoint(const char *s, char *why, size_t n);
/* An absolute file path (not "/", at most 4096 bytes) without white space or control characters. */
int validate_abs_path(const char *s, char *why, size_t n);
/* An absolute file path, a PEM certificate, or base64 of one (form only; contents are
 * parsed when the CA is loaded). */
int validate_ca_cert_form(const char *s, char *why, size_t n);
/* A label-style qualified name: [prefix/]name (apimachinery IsQualifiedName). */
int validate_qualified_name(const char *s, char *why, size_t n);
/* A label value: empty, or <=63 of [A-Za-z0-9_.-] starting and ending alphanumeric. */
int validate_label_value(const char *s, char *why, size_t n);
/* A preflight check's name as kubeadm spells them (letters, digits, '-', '_', '.'), or all. */
int validate_preflight_check_name(const char *s, char *why, size_t n);

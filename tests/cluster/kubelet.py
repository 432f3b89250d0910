#!/usr/bin/python3
"""Stand-in kubelet for kubeboot's tests.

Does with kubeboot's files what the real kubelet (1.29-1.32) does: parses the real flags
(as the kubeadm drop-in passes them), strictly loads the KubeletConfiguration, TLS-bootstraps
a client certificate through a CertificateSigningRequest, writes /var/lib/kubelet/pki and
--kubeconfig like kubelet, registers its Node, optionally requests a serving certificate, and
then idles like a service until SIGTERM. It runs no pods.

Modelled on:
  cmd/kubelet/app/server.go, cmd/kubelet/app/options/options.go (flags, ValidateKubeletFlags)
  pkg/kubelet/kubeletconfig/util/codec/codec.go, pkg/kubelet/apis/config/validation/validation.go
  staging/src/k8s.io/kubelet/config/v1beta1/types.go + defaults.go (fields and defaults)
  pkg/kubelet/certificate/bootstrap/bootstrap.go (LoadClientConfig, LoadClientCert,
      writeKubeconfigFromBootstrapping, isClientConfigStillValid, digestedName)
  pkg/kubelet/certificate/kubelet.go + k8s.io/client-go/util/certificate/certificate_manager.go
      (client/serving certificate managers, DefaultKubelet*GetUsages)
  k8s.io/client-go/util/certificate/csr/csr.go (RequestCertificate, WaitForCertificate)
  k8s.io/client-go/util/certificate/certificate_store.go (kubelet-client-<ts>.pem + current link)
  k8s.io/client-go/tools/clientcmd (kubeconfig loading rules)
  pkg/kubelet/kubelet_node_status.go (initialNode, registerWithAPIServer)
  staging/src/k8s.io/kubelet/pkg/apis/well_known_labels.go (IsKubeletLabel)

Test-only additions (never passed by kubeboot): --standin-exit-after-register,
--standin-root=DIR (prefix every absolute path the stand-in reads or writes; files it writes
still name the unprefixed paths, as on the node), --standin-timeout=SECONDS.
Environment: KUBELET_STANDIN_TIMEOUT (default 60), KUBELET_STANDIN_LIFETIME (default 900),
KUBELET_STANDIN_LENIENT=1 (accept what only the stand-in refuses), KUBELET_STANDIN_ROOT.

Needs /usr/bin/python3 with python3-yaml and python3-cryptography (but `--version`, which
needs nothing, as the real kubelet, a static Go binary). Self-contained: copy this one file
to /usr/bin/kubelet.
"""
import sys

VERSION = "v1.32.0"
# `kubelet --version` before anything is imported: kubeboot's KubeletVersion check runs it in
# kubeboot.service's sandbox, where (in the sysext test) OpenSSL is out of sight; the real
# kubelet needs no shared library for it either.
if __name__ == "__main__" and sys.argv[1:] in (["--version"], ["--version=true"]):
    sys.stdout.write("Kubernetes %s\n" % VERSION)
    sys.exit(0)

import base64  # noqa: E402
import datetime
import hashlib
import http.client
import ipaddress
import json
import os
import platform
import random
import re
import signal
import socket
import ssl
import tempfile
import threading
import time
import urllib.parse  # noqa: E402

import yaml  # noqa: E402
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

STOP = threading.Event()


# ---------------------------------------------------------------------- logging (klog-ish)

def _klog(sev, msg, **kv):
    now = datetime.datetime.now()
    head = "%s%s %s %7d kubelet.py] " % (sev, now.strftime("%m%d"), now.strftime("%H:%M:%S.%f"),
                                         os.getpid())
    parts = [json.dumps(msg)]
    for k, v in kv.items():
        parts.append("%s=%s" % (k, json.dumps(v if isinstance(v, (int, float, bool)) else str(v))))
    sys.stderr.write(head + " ".join(parts) + "\n")
    sys.stderr.flush()


def info(msg, **kv):
    _klog("I", msg, **kv)


def warn(msg, **kv):
    _klog("W", msg, **kv)


def error(msg, **kv):
    _klog("E", msg, **kv)


class KubeletError(Exception):
    pass


def fail(err):
    # k8s.io/component-base/cli/run.go: klog.ErrorS(err, "command failed"); exit 1
    error("command failed", err=err)
    sys.exit(1)


# ---------------------------------------------------------------------- flags

B, STR, INT, DUR, MAP, LIST, FLT = "bool", "string", "int", "duration", "map", "list", "float"
CONFIG_FLAG_DEPRECATION = ("This parameter should be set via the config file specified by the "
                           "Kubelet's --config flag. See https://kubernetes.io/docs/tasks/"
                           "administer-cluster/kubelet-config-file/ for more information.")

# KubeletFlags + ContainerRuntimeOptions + global flags (options.go, container_runtime.go)
FLAGS = {
    "config": STR, "config-dir": STR, "kubeconfig": STR, "bootstrap-kubeconfig": STR,
    "hostname-override": STR, "node-ip": STR, "cert-dir": STR, "cloud-provider": STR,
    "root-dir": STR, "seccomp-default": B, "node-labels": MAP, "lock-file": STR,
    "exit-on-lock-contention": B, "cloud-config": STR,
    "image-credential-provider-config": STR, "image-credential-provider-bin-dir": STR,
    "runtime-cgroups": STR, "pod-infra-container-image": STR,
    "help": B, "version": STR,
    # logging (k8s.io/component-base/logs/api/v1)
    "v": INT, "vmodule": STR, "log-flush-frequency": DUR, "logging-format": STR,
    "log-json-split-stream": B, "log-json-info-buffer-size": STR, "log-text-split-stream": B,
    "log-text-info-buffer-size": STR,
    # deprecated KubeletFlags still registered
    "minimum-container-ttl-duration": DUR, "maximum-dead-containers-per-container": INT,
    "maximum-dead-containers": INT, "register-schedulable": B,
    "experimental-allocatable-ignore-eviction": B,
}
DEPRECATED_FLAGS = {
    "pod-infra-container-image": "will be removed in 1.35. Image garbage collector will get "
                                 "sandbox image information from CRI.",
    "minimum-container-ttl-duration": "Use --eviction-hard or --eviction-soft instead. Will be "
                                      "removed in a future version.",
    "maximum-dead-containers-per-container": "Use --eviction-hard or --eviction-soft instead. "
                                             "Will be removed in a future version.",
    "maximum-dead-containers": "Use --eviction-hard or --eviction-soft instead. Will be removed "
                               "in a future version.",
    "register-schedulable": "will be removed in a future version",
    "cloud-config": "will be removed in 1.25 or later, in favor of removing cloud provider code "
                    "from Kubelet.",
    "experimental-allocatable-ignore-eviction": "will be removed in 1.25 or later.",
}
# AddKubeletConfigFlags: flag -> (config field, type). All deprecated but provider-id/v/vmodule.
CONFIG_FLAGS = {
    "enable-server": ("enableServer", B), "fail-swap-on": ("failSwapOn", B),
    "pod-manifest-path": ("staticPodPath", STR), "sync-frequency": ("syncFrequency", DUR),
    "file-check-frequency": ("fileCheckFrequency", DUR),
    "http-check-frequency": ("httpCheckFrequency", DUR), "manifest-url": ("staticPodURL", STR),
    "manifest-url-header": ("staticPodURLHeader", STR), "address": ("address", STR),
    "port": ("port", INT), "read-only-port": ("readOnlyPort", INT),
    "container-runtime-endpoint": ("containerRuntimeEndpoint", STR),
    "image-service-endpoint": ("imageServiceEndpoint", STR),
    "anonymous-auth": ("authentication.anonymous.enabled", B),
    "authentication-token-webhook": ("authentication.webhook.enabled", B),
    "authentication-token-webhook-cache-ttl": ("authentication.webhook.cacheTTL", DUR),
    "client-ca-file": ("authentication.x509.clientCAFile", STR),
    "authorization-mode": ("authorization.mode", STR),
    "authorization-webhook-cache-authorized-ttl": ("authorization.webhook.cacheAuthorizedTTL", DUR),
    "authorization-webhook-cache-unauthorized-ttl": ("authorization.webhook.cacheUnauthorizedTTL",
                                                     DUR),
    "tls-cert-file": ("tlsCertFile", STR), "tls-private-key-file": ("tlsPrivateKeyFile", STR),
    "rotate-server-certificates": ("serverTLSBootstrap", B),
    "tls-cipher-suites": ("tlsCipherSuites", LIST), "tls-min-version": ("tlsMinVersion", STR),
    "rotate-certificates": ("rotateCertificates", B), "registry-qps": ("registryPullQPS", INT),
    "registry-burst": ("registryBurst", INT), "event-qps": ("eventRecordQPS", INT),
    "event-burst": ("eventBurst", INT), "enable-debugging-handlers": ("enableDebuggingHandlers", B),
    "contention-profiling": ("enableContentionProfiling", B), "healthz-port": ("healthzPort", INT),
    "healthz-bind-address": ("healthzBindAddress", STR), "oom-score-adj": ("oomScoreAdj", INT),
    "cluster-domain": ("clusterDomain", STR), "volume-plugin-dir": ("volumePluginDir", STR),
    "cluster-dns": ("clusterDNS", LIST),
    "streaming-connection-idle-timeout": ("streamingConnectionIdleTimeout", DUR),
    "node-status-update-frequency": ("nodeStatusUpdateFrequency", DUR),
    "minimum-image-ttl-duration": ("imageMinimumGCAge", DUR),
    "image-gc-high-threshold": ("imageGCHighThresholdPercent", INT),
    "image-gc-low-threshold": ("imageGCLowThresholdPercent", INT),
    "volume-stats-agg-period": ("volumeStatsAggPeriod", DUR),
    "feature-gates": ("featureGates", MAP), "kubelet-cgroups": ("kubeletCgroups", STR),
    "system-cgroups": ("systemCgroups", STR), "provider-id": ("providerID", STR),
    "cgroups-per-qos": ("cgroupsPerQOS", B), "cgroup-driver": ("cgroupDriver", STR),
    "cgroup-root": ("cgroupRoot", STR), "cpu-manager-policy": ("cpuManagerPolicy", STR),
    "cpu-manager-policy-options": ("cpuManagerPolicyOptions", MAP),
    "cpu-manager-reconcile-period": ("cpuManagerReconcilePeriod", DUR),
    "qos-reserved": ("qosReserved", MAP), "topology-manager-policy": ("topologyManagerPolicy", STR),
    "runtime-request-timeout": ("runtimeRequestTimeout", DUR), "hairpin-mode": ("hairpinMode", STR),
    "max-pods": ("maxPods", INT), "pod-cidr": ("podCIDR", STR), "pod-max-pids": ("podPidsLimit", INT),
    "resolv-conf": ("resolvConf", STR), "runonce": ("runOnce", B), "cpu-cfs-quota": ("cpuCFSQuota", B),
    "cpu-cfs-quota-period": ("cpuCFSQuotaPeriod", DUR),
    "enable-controller-attach-detach": ("enableControllerAttachDetach", B),
    "make-iptables-util-chains": ("makeIPTablesUtilChains", B),
    "iptables-masquerade-bit": ("iptablesMasqueradeBit", INT),
    "iptables-drop-bit": ("iptablesDropBit", INT),
    "container-log-max-size": ("containerLogMaxSize", STR),
    "container-log-max-files": ("containerLogMaxFiles", INT),
    "allowed-unsafe-sysctls": ("allowedUnsafeSysctls", LIST),
    "node-status-max-images": ("nodeStatusMaxImages", INT),
    "kernel-memcg-notification": ("kernelMemcgNotification", B),
    "local-storage-capacity-isolation": ("localStorageCapacityIsolation", B),
    "max-open-files": ("maxOpenFiles", INT), "kube-api-content-type": ("contentType", STR),
    "kube-api-qps": ("kubeAPIQPS", INT), "kube-api-burst": ("kubeAPIBurst", INT),
    "serialize-image-pulls": ("serializeImagePulls", B), "eviction-hard": ("evictionHard", STR),
    "eviction-soft": ("evictionSoft", STR), "eviction-soft-grace-period": ("evictionSoftGracePeriod",
                                                                         MAP),
    "eviction-pressure-transition-period": ("evictionPressureTransitionPeriod", DUR),
    "eviction-max-pod-grace-period": ("evictionMaxPodGracePeriod", INT),
    "eviction-minimum-reclaim": ("evictionMinimumReclaim", MAP), "pods-per-core": ("podsPerCore", INT),
    "protect-kernel-defaults": ("protectKernelDefaults", B), "reserved-cpus": ("reservedSystemCPUs", STR),
    "topology-manager-scope": ("topologyManagerScope", STR),
    "topology-manager-policy-options": ("topologyManagerPolicyOptions", MAP),
    "system-reserved": ("systemReserved", MAP), "kube-reserved": ("kubeReserved", MAP),
    "enforce-node-allocatable": ("enforceNodeAllocatable", LIST),
    "system-reserved-cgroup": ("systemReservedCgroup", STR),
    "kube-reserved-cgroup": ("kubeReservedCgroup", STR),
    "memory-manager-policy": ("memoryManagerPolicy", STR), "reserved-memory": ("reservedMemory", STR),
    "register-node": ("registerNode", B), "register-with-taints": ("registerWithTaints", STR),
}
NOT_DEPRECATED = {"provider-id"}
# What the stand-in models; other real flags are accepted with a warning.
MODELLED = {"config", "kubeconfig", "bootstrap-kubeconfig", "hostname-override", "node-ip",
            "cert-dir", "root-dir", "node-labels", "container-runtime-endpoint",
            "pod-infra-container-image", "cloud-provider", "provider-id", "max-pods",
            "register-with-taints", "register-node", "rotate-certificates",
            "rotate-server-certificates", "cluster-dns", "cluster-domain", "cgroup-driver",
            "v", "help", "version", "node-status-update-frequency"}
STANDIN_FLAGS = {"standin-exit-after-register": B, "standin-root": STR, "standin-timeout": STR}
SHORTHANDS = {"v": "v", "h": "help"}


def _parse_bool(s):
    # strconv.ParseBool
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError('strconv.ParseBool: parsing "%s": invalid syntax' % s)


_DUR_RE = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")
_DUR_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def parse_duration(s):
    """time.ParseDuration -> seconds."""
    orig = s
    if not isinstance(s, str) or not s:
        raise ValueError('time: invalid duration "%s"' % orig)
    sign = 1
    if s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(s):
        m = _DUR_RE.match(s, pos)
        if not m:
            if re.match(r"[0-9.]+$", s[pos:]):
                raise ValueError('time: missing unit in duration "%s"' % orig)
            raise ValueError('time: invalid duration "%s"' % orig)
        total += float(m.group(1)) * _DUR_UNITS[m.group(2)]
        pos = m.end()
    return sign * total


def _convert_flag(name, typ, value):
    try:
        if typ == B:
            return _parse_bool(value)
        if typ == INT:
            try:
                return int(value, 10)
            except ValueError:
                raise ValueError('strconv.ParseInt: parsing "%s": invalid syntax' % value)
        if typ == DUR:
            return parse_duration(value)
        if typ == LIST:
            return [v for v in value.split(",") if v != ""]
        if typ == MAP:
            out = {}
            for kv in value.split(","):
                if not kv:
                    continue
                if "=" not in kv:
                    raise ValueError("malformed pair, expect string=string")
                k, v = kv.split("=", 1)
                out[k.strip()] = v.strip()
            return out
        return value
    except ValueError as exc:
        raise KubeletError('invalid argument "%s" for "--%s" flag: %s' % (value, name, exc))


def parse_flags(argv):
    """pflag semantics: --f=v, --f v, bool --f / --f=false, -v N; unknown -> error."""
    known = {}
    for n, t in FLAGS.items():
        known[n] = t
    for n, (_, t) in CONFIG_FLAGS.items():
        known[n] = t
    known.update(STANDIN_FLAGS)
    values, order, args = {}, [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            args.extend(argv[i:])
            break
        if not a.startswith("-") or a == "-":
            args.append(a)
            continue
        if a.startswith("--"):
            body = a[2:]
        else:
            body = a[1:]
            short = body.split("=", 1)[0]
            if short not in SHORTHANDS:
                raise KubeletError("unknown shorthand flag: '%s' in %s" % (short[:1], a))
            body = SHORTHANDS[short] + body[len(short):]
        name, eq, value = body.partition("=")
        if name not in known:
            raise KubeletError("unknown flag: --%s" % name)
        typ = known[name]
        if not eq:
            if typ == B:
                value = "true"
            elif name == "version":
                value = "true"
            else:
                if i >= len(argv):
                    raise KubeletError("flag needs an argument: --%s" % name)
                value = argv[i]
                i += 1
        conv = _convert_flag(name, typ, value)
        if typ == MAP and name in values:
            values[name].update(conv)
        elif typ == LIST and name in values:
            values[name] += conv
        else:
            values[name] = conv
        order.append(name)
    return values, order, args


# ---------------------------------------------------------------------- KubeletConfiguration

DURATION = "duration"
_MAPSS, _MAPSB, _LSTR = "map[string]string", "map[string]bool", "[]string"
TAINT = {"key": "string", "value": "string", "effect": "string", "timeAdded": "string"}
# staging/src/k8s.io/kubelet/config/v1beta1/types.go (union of 1.29 .. 1.34 fields)
KUBELET_CONFIG_SCHEMA = {
    "apiVersion": "string", "kind": "string",
    "enableServer": "bool", "staticPodPath": "string", "podLogsDir": "string",
    "syncFrequency": DURATION, "fileCheckFrequency": DURATION, "httpCheckFrequency": DURATION,
    "staticPodURL": "string", "staticPodURLHeader": "map[string][]string", "address": "string",
    "port": "int32", "readOnlyPort": "int32", "tlsCertFile": "string",
    "tlsPrivateKeyFile": "string", "tlsCipherSuites": _LSTR, "tlsMinVersion": "string",
    "rotateCertificates": "bool", "serverTLSBootstrap": "bool",
    "authentication": {"x509": {"clientCAFile": "string"},
                       "webhook": {"enabled": "bool", "cacheTTL": DURATION},
                       "anonymous": {"enabled": "bool"}},
    "authorization": {"mode": "string",
                      "webhook": {"cacheAuthorizedTTL": DURATION, "cacheUnauthorizedTTL": DURATION}},
    "registryPullQPS": "int32", "registryBurst": "int32",
    "imagePullCredentialsVerificationPolicy": "string",
    "preloadedImagesVerificationAllowlist": _LSTR,
    "eventRecordQPS": "int32", "eventBurst": "int32", "enableDebuggingHandlers": "bool",
    "enableContentionProfiling": "bool", "healthzPort": "int32", "healthzBindAddress": "string",
    "oomScoreAdj": "int32", "clusterDomain": "string", "clusterDNS": _LSTR,
    "streamingConnectionIdleTimeout": DURATION, "nodeStatusUpdateFrequency": DURATION,
    "nodeStatusReportFrequency": DURATION, "nodeLeaseDurationSeconds": "int32",
    "imageMinimumGCAge": DURATION, "imageMaximumGCAge": DURATION,
    "imageGCHighThresholdPercent": "int32", "imageGCLowThresholdPercent": "int32",
    "volumeStatsAggPeriod": DURATION, "kubeletCgroups": "string", "systemCgroups": "string",
    "cgroupRoot": "string", "cgroupsPerQOS": "bool", "cgroupDriver": "string",
    "cpuManagerPolicy": "string", "singleProcessOOMKill": "bool",
    "cpuManagerPolicyOptions": _MAPSS, "cpuManagerReconcilePeriod": DURATION,
    "memoryManagerPolicy": "string", "topologyManagerPolicy": "string",
    "topologyManagerScope": "string", "topologyManagerPolicyOptions": _MAPSS,
    "qosReserved": _MAPSS, "runtimeRequestTimeout": DURATION, "hairpinMode": "string",
    "maxPods": "int32", "podCIDR": "string", "podPidsLimit": "int64", "resolvConf": "string",
    "runOnce": "bool", "cpuCFSQuota": "bool", "cpuCFSQuotaPeriod": DURATION,
    "nodeStatusMaxImages": "int32", "maxOpenFiles": "int64", "contentType": "string",
    "kubeAPIQPS": "int32", "kubeAPIBurst": "int32", "serializeImagePulls": "bool",
    "maxParallelImagePulls": "int32", "evictionHard": _MAPSS, "evictionSoft": _MAPSS,
    "evictionSoftGracePeriod": _MAPSS, "evictionPressureTransitionPeriod": DURATION,
    "evictionMaxPodGracePeriod": "int32", "evictionMinimumReclaim": _MAPSS,
    "mergeDefaultEvictionSettings": "bool",
    "podsPerCore": "int32", "enableControllerAttachDetach": "bool",
    "protectKernelDefaults": "bool", "makeIPTablesUtilChains": "bool",
    "iptablesMasqueradeBit": "int32", "iptablesDropBit": "int32", "featureGates": _MAPSB,
    "failSwapOn": "bool", "memorySwap": {"swapBehavior": "string"},
    "containerLogMaxSize": "string", "containerLogMaxFiles": "int32",
    "containerLogMaxWorkers": "int32", "containerLogMonitorInterval": DURATION,
    "configMapAndSecretChangeDetectionStrategy": "string", "systemReserved": _MAPSS,
    "kubeReserved": _MAPSS, "reservedSystemCPUs": "string",
    "showHiddenMetricsForVersion": "string", "systemReservedCgroup": "string",
    "kubeReservedCgroup": "string", "enforceNodeAllocatable": _LSTR,
    "allowedUnsafeSysctls": _LSTR, "volumePluginDir": "string", "providerID": "string",
    "kernelMemcgNotification": "bool",
    "logging": {"format": "string", "flushFrequency": "duration|int", "verbosity": "int32",
                "vmodule": [{"filePattern": "string", "verbosity": "int32"}],
                "options": {"json": {"splitStream": "bool", "infoBufferSize": "string|int"},
                            "text": {"splitStream": "bool", "infoBufferSize": "string|int"}}},
    "enableSystemLogHandler": "bool", "enableSystemLogQuery": "bool",
    "shutdownGracePeriod": DURATION, "shutdownGracePeriodCriticalPods": DURATION,
    "shutdownGracePeriodByPodPriority": [{"priority": "int32",
                                          "shutdownGracePeriodSeconds": "int64"}],
    "crashLoopBackOff": {"maxContainerRestartPeriod": DURATION},
    "reservedMemory": [{"numaNode": "int32", "limits": _MAPSS}],
    "enableProfilingHandler": "bool", "enableDebugFlagsHandler": "bool", "seccompDefault": "bool",
    "memoryThrottlingFactor": "float64", "registerWithTaints": [TAINT], "registerNode": "bool",
    "tracing": {"endpoint": "string", "samplingRatePerMillion": "int32"},
    "localStorageCapacityIsolation": "bool", "containerRuntimeEndpoint": "string",
    "imageServiceEndpoint": "string", "failCgroupV1": "bool",
    "userNamespaces": {"idsPerPod": "int64"},
}

# v1beta1 defaults.go (the ones validation looks at)
CONFIG_DEFAULTS = {
    "port": 10250, "readOnlyPort": 0, "healthzPort": 10248, "imageGCHighThresholdPercent": 85,
    "imageGCLowThresholdPercent": 80, "maxPods": 110, "podsPerCore": 0,
    "hairpinMode": "promiscuous-bridge", "topologyManagerPolicy": "none",
    "topologyManagerScope": "container", "cgroupDriver": "cgroupfs",
    "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock",
    "nodeLeaseDurationSeconds": 40, "oomScoreAdj": -999, "registryPullQPS": 5, "registryBurst": 10,
    "eventRecordQPS": 50, "eventBurst": 100, "kubeAPIQPS": 50, "kubeAPIBurst": 100,
    "iptablesMasqueradeBit": 14, "iptablesDropBit": 15, "containerLogMaxWorkers": 1,
    "containerLogMonitorInterval": "10s", "podLogsDir": "/var/log/pods", "nodeStatusMaxImages": 50,
    "maxOpenFiles": 1000000, "cgroupsPerQOS": True, "enforceNodeAllocatable": ["pods"],
    "registerNode": True, "rotateCertificates": False, "serverTLSBootstrap": False,
    "nodeStatusUpdateFrequency": "10s", "serializeImagePulls": True,
}

INT_RANGES = {"int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1)}


class _StrictLoader(yaml.SafeLoader):
    """sigs.k8s.io/yaml strict: duplicate keys are errors."""


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for k_node, _ in node.value:
        k = loader.construct_object(k_node, deep=deep)
        if k in seen:
            raise yaml.constructor.ConstructorError(
                None, None, 'line %d: key "%s" already set in map' % (k_node.start_mark.line + 1, k),
                k_node.start_mark)
        seen[k] = True
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _go_type(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def check_against_schema(obj, schema, path, unknown, type_errors):
    """Strict decoding: collect unknown fields and JSON type errors like encoding/json."""
    for k, v in obj.items():
        p = "%s.%s" % (path, k) if path else k
        if k not in schema:
            unknown.append(p)
            continue
        want = schema[k]
        _check_value(v, want, p, unknown, type_errors)


def _check_value(v, want, p, unknown, type_errors):
    if v is None:
        return
    field = "KubeletConfiguration." + p
    if isinstance(want, dict):
        if not isinstance(v, dict):
            type_errors.append("json: cannot unmarshal %s into Go struct field %s of type struct"
                               % (_go_type(v), field))
            return
        check_against_schema(v, want, p, unknown, type_errors)
        return
    if isinstance(want, list):
        if not isinstance(v, list):
            type_errors.append("json: cannot unmarshal %s into Go struct field %s of type []struct"
                               % (_go_type(v), field))
            return
        for i, item in enumerate(v):
            _check_value(item, want[0], p, unknown, type_errors)
        return
    kinds = want.split("|")
    ok = False
    for kind in kinds:
        if kind == "bool":
            ok = isinstance(v, bool)
        elif kind in ("int32", "int64", "int"):
            ok = isinstance(v, int) and not isinstance(v, bool)
            if ok and kind in INT_RANGES and not INT_RANGES[kind][0] <= v <= INT_RANGES[kind][1]:
                type_errors.append("json: cannot unmarshal number %s into Go struct field %s of type "
                                   "%s" % (v, field, kind))
                return
        elif kind == "float64":
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        elif kind == "string":
            ok = isinstance(v, str)
        elif kind == "duration":
            ok = isinstance(v, str)
            if ok:
                try:
                    parse_duration(v)
                except ValueError as exc:
                    type_errors.append(str(exc))
                    return
        elif kind == _LSTR:
            ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
        elif kind == _MAPSS:
            ok = isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
        elif kind == _MAPSB:
            ok = isinstance(v, dict) and all(isinstance(x, bool) for x in v.values())
        elif kind == "map[string][]string":
            ok = isinstance(v, dict) and all(isinstance(x, list) for x in v.values())
        if ok:
            return
    shown = {"duration": "string"}.get(kinds[0], kinds[0])
    type_errors.append("json: cannot unmarshal %s into Go struct field %s of type %s"
                       % (_go_type(v), field, shown))


def load_kubelet_config(path, lenient):
    """codec.go DecodeKubeletConfiguration + the stand-in's strictness."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise KubeletError("failed to load kubelet config file, path: %s, error: failed to load "
                           "Kubelet config file %s, error failed to read kubelet config file "
                           "\"%s\", error: %s" % (path, path, path, exc.strerror and
                                                  "open %s: %s" % (path, exc.strerror.lower())))
    pre = "failed to load kubelet config file, path: %s, error: " % path
    try:
        obj = yaml.load(data, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        msg = getattr(exc, "problem", None) or str(exc)
        raise KubeletError(pre + "failed to decode: yaml: %s" % msg)
    if obj is None:
        obj = {}
    if not isinstance(obj, dict):
        raise KubeletError(pre + "failed to decode: json: cannot unmarshal %s into Go value of type "
                           "struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind "
                           "string \"json:\\\"kind,omitempty\\\"\" }" % _go_type(obj))
    kind = obj.get("kind")
    av = obj.get("apiVersion")
    if not kind:
        raise KubeletError(pre + "failed to decode: Object 'Kind' is missing in '%s'"
                           % data.decode(errors="replace").strip()[:200])
    if av != "kubelet.config.k8s.io/v1beta1" or kind != "KubeletConfiguration":
        raise KubeletError(pre + 'failed to decode: no kind "%s" is registered for version "%s" in '
                           'scheme "pkg/kubelet/apis/config/scheme/scheme.go:33"' % (kind, av))
    unknown, type_errors = [], []
    check_against_schema(obj, KUBELET_CONFIG_SCHEMA, "", unknown, type_errors)
    if type_errors:
        raise KubeletError(pre + "failed to decode: " + type_errors[0])
    if unknown:
        strict = "strict decoding error: " + ", ".join('unknown field "%s"' % u for u in unknown)
        if lenient:
            # what the real kubelet does for v1beta1
            info("Using lenient decoding as strict decoding failed", err=strict)
        else:
            raise KubeletError(pre + strict + " (the real kubelet only logs \"Using lenient "
                               "decoding as strict decoding failed\" for v1beta1 and ignores the "
                               "field; the stand-in refuses it, KUBELET_STANDIN_LENIENT=1 accepts it)")
    return obj


def _get(cfg, dotted):
    cur = cfg
    for p in dotted.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def _set(cfg, dotted, value):
    parts = dotted.split(".")
    cur = cfg
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value


def parse_taint_flag(spec):
    # utilflag.RegisterWithTaintsVar: key=value:effect, comma separated
    out = []
    for t in spec.split(","):
        if not t:
            continue
        kv, _, effect = t.rpartition(":")
        if not kv:
            raise KubeletError("invalid taint spec: %s" % t)
        k, _, v = kv.partition("=")
        out.append({"key": k, "value": v, "effect": effect})
    return out


def effective_config(cfg, flags):
    """Defaults, then the file, then command-line flags (flags win, as in kubelet)."""
    eff = json.loads(json.dumps(CONFIG_DEFAULTS))
    for k, v in (cfg or {}).items():
        if k not in ("apiVersion", "kind") and v is not None:
            eff[k] = v
    for name, value in flags.items():
        if name in CONFIG_FLAGS:
            field, typ = CONFIG_FLAGS[name]
            if name == "register-with-taints":
                value = parse_taint_flag(value)
            elif name == "feature-gates":
                value = {k: _parse_bool(v) for k, v in value.items()}
            _set(eff, field, value)
    return eff


def _valid_taint(t):
    key_ok = bool(t.get("key")) and re.fullmatch(
        r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", t.get("key", "")) is not None
    val = t.get("value") or ""
    val_ok = len(val) <= 63 and re.fullmatch(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", val)
    eff_ok = t.get("effect") in ("NoSchedule", "PreferNoSchedule", "NoExecute")
    return key_ok and val_ok and eff_ok


def validate_config(c, lenient):
    """pkg/kubelet/apis/config/validation/validation.go (subset), plus stand-in checks."""
    errs = []

    def chk(cond, msg):
        if cond:
            errs.append("invalid configuration: " + msg)

    chk(c.get("nodeLeaseDurationSeconds", 40) <= 0, "nodeLeaseDurationSeconds must be greater than 0")
    chk(not c.get("cgroupsPerQOS", True) and c.get("enforceNodeAllocatable"),
        "enforceNodeAllocatable (--enforce-node-allocatable) is not supported unless cgroupsPerQOS "
        "(--cgroups-per-qos) is set to true")
    chk(c.get("systemCgroups") and not c.get("cgroupRoot"),
        "systemCgroups (--system-cgroups) was specified and cgroupRoot (--cgroup-root) was not "
        "specified")
    for f, flag in (("eventBurst", "event-burst"), ("eventRecordQPS", "event-qps"),
                    ("kubeAPIBurst", "kube-api-burst"), ("kubeAPIQPS", "kube-api-qps"),
                    ("maxOpenFiles", "max-open-files"), ("maxPods", "max-pods"),
                    ("podsPerCore", "pods-per-core"), ("registryBurst", "registry-burst"),
                    ("registryPullQPS", "registry-qps")):
        v = c.get(f, 0)
        chk(isinstance(v, int) and v < 0, "%s (--%s) %s must not be a negative number" % (f, flag, v))
    hp = c.get("healthzPort", 10248)
    chk(hp != 0 and not 1 <= hp <= 65535,
        "healthzPort (--healthz-port) %s must be between 1 and 65535, inclusive" % hp)
    for f, flag in (("imageGCHighThresholdPercent", "image-gc-high-threshold"),
                    ("imageGCLowThresholdPercent", "image-gc-low-threshold")):
        v = c.get(f)
        chk(not 0 <= v <= 100, "%s (--%s) %s must be between 0 and 100, inclusive" % (f, flag, v))
    chk(c["imageGCLowThresholdPercent"] >= c["imageGCHighThresholdPercent"],
        "imageGCLowThresholdPercent (--image-gc-low-threshold) %s must be less than "
        "imageGCHighThresholdPercent (--image-gc-high-threshold) %s"
        % (c["imageGCLowThresholdPercent"], c["imageGCHighThresholdPercent"]))
    for f, flag in (("iptablesDropBit", "iptables-drop-bit"),
                    ("iptablesMasqueradeBit", "iptables-masquerade-bit")):
        v = c.get(f)
        chk(not 0 <= v <= 31, "%s (--%s) %s must be between 0 and 31, inclusive" % (f, flag, v))
    chk(c.get("nodeStatusMaxImages", 50) < -1,
        "nodeStatusMaxImages (--node-status-max-images) %s must be -1 or greater"
        % c.get("nodeStatusMaxImages"))
    v = c.get("oomScoreAdj", -999)
    chk(not -1000 <= v <= 1000, "oomScoreAdj (--oom-score-adj) %s must be between -1000 and 1000, "
        "inclusive" % v)
    v = c.get("port", 10250)
    chk(not 1 <= v <= 65535, "port (--port) %s must be between 1 and 65535, inclusive" % v)
    v = c.get("readOnlyPort", 0)
    chk(v != 0 and not 1 <= v <= 65535,
        "readOnlyPort (--read-only-port) %s must be between 0 and 65535, inclusive" % v)
    mp = c.get("maxParallelImagePulls")
    chk(mp is not None and mp < 1, "maxParallelImagePulls %s must be a positive number" % mp)
    chk(c.get("serializeImagePulls", True) and mp is not None and mp > 1,
        "maxParallelImagePulls cannot be larger than 1 unless SerializeImagePulls "
        "(--serialize-image-pulls) is set to false")
    gates = c.get("featureGates") or {}
    chk(c.get("serverTLSBootstrap") and gates.get("RotateKubeletServerCertificate") is False,
        "serverTLSBootstrap %s requires feature gate RotateKubeletServerCertificate"
        % str(c.get("serverTLSBootstrap")).lower())
    for t in c.get("registerWithTaints") or []:
        if not _valid_taint(t):
            errs.append("invalid taint: %s" % json.dumps(t))
        if t.get("timeAdded"):
            errs.append("invalid configuration: taint.TimeAdded is not nil")
    pol = c.get("topologyManagerPolicy")
    chk(pol not in ("none", "best-effort", "restricted", "single-numa-node"),
        'topologyManagerPolicy (--topology-manager-policy) "%s" must be one of: ["none" '
        '"best-effort" "restricted" "single-numa-node"]' % pol)
    sc = c.get("topologyManagerScope")
    chk(sc not in ("container", "pod"), 'topologyManagerScope (--topology-manager-scope) "%s" must '
        'be one of: "container", or "pod"' % sc)
    for val in c.get("enforceNodeAllocatable") or []:
        if val == "pods":
            continue
        if val == "system-reserved":
            chk(not c.get("systemReservedCgroup"), 'systemReservedCgroup (--system-reserved-cgroup) '
                'must be specified when "system-reserved" contained in enforceNodeAllocatable '
                '(--enforce-node-allocatable)')
        elif val == "kube-reserved":
            chk(not c.get("kubeReservedCgroup"), 'kubeReservedCgroup (--kube-reserved-cgroup) must '
                'be specified when "kube-reserved" contained in enforceNodeAllocatable '
                '(--enforce-node-allocatable)')
        elif val == "none":
            chk(len(c["enforceNodeAllocatable"]) > 1, 'enforceNodeAllocatable '
                '(--enforce-node-allocatable) may not contain additional enforcements when "none" '
                'is specified')
        else:
            errs.append('invalid configuration: option "%s" specified for enforceNodeAllocatable '
                        '(--enforce-node-allocatable). Valid options are "pods", "system-reserved", '
                        '"kube-reserved", or "none"' % val)
    hm = c.get("hairpinMode")
    chk(hm not in ("none", "hairpin-veth", "promiscuous-bridge"),
        'option "%s" specified for hairpinMode (--hairpin-mode). Valid options are "none", '
        '"hairpin-veth" or "promiscuous-bridge"' % hm)
    mtf = c.get("memoryThrottlingFactor")
    chk(mtf is not None and not 0 < mtf <= 1.0, "memoryThrottlingFactor %s must be greater than 0 "
        "and less than or equal to 1.0" % mtf)
    chk(c.get("containerRuntimeEndpoint") == "",
        "the containerRuntimeEndpoint was not specified or empty")
    chk(c.get("containerLogMaxWorkers", 1) < 1,
        "containerLogMaxWorkers must be greater than or equal to 1")
    try:
        chk(parse_duration(c.get("containerLogMonitorInterval", "10s")) < 3,
            "containerLogMonitorInterval must be a positive time duration greater than or equal to 3s")
    except ValueError:
        pass
    pld = c.get("podLogsDir", "/var/log/pods")
    chk(not pld.startswith("/"), 'pod logs path "%s" must be absolute path' % pld)
    sgp = parse_duration(c.get("shutdownGracePeriod", "0s") or "0s")
    sgc = parse_duration(c.get("shutdownGracePeriodCriticalPods", "0s") or "0s")
    chk(sgc > sgp, "shutdownGracePeriodCriticalPods %s must be <= shutdownGracePeriod %s"
        % (c.get("shutdownGracePeriodCriticalPods"), c.get("shutdownGracePeriod")))
    chk(sgp < 0 or 0 < sgp < 1, "shutdownGracePeriod %s must be either zero or otherwise >= 1 sec"
        % c.get("shutdownGracePeriod"))
    am_ = _get(c, "authorization.mode")
    chk(am_ not in (None, "", "AlwaysAllow", "Webhook"),
        'authorization.mode "%s": valid values are AlwaysAllow and Webhook' % am_)
    # ---- checks the real kubelet does elsewhere or not at all (see README) ----
    stand_in = []
    cd = c.get("cgroupDriver")
    if cd not in ("cgroupfs", "systemd"):
        stand_in.append('cgroupDriver "%s" must be "cgroupfs" or "systemd" (the real kubelet fails '
                        'later, in the container manager)' % cd)
    for ip in c.get("clusterDNS") or []:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            stand_in.append('clusterDNS entry "%s" is not an IP address (the real kubelet only logs '
                            '"Invalid clusterDNS IP")' % ip)
    if stand_in and lenient:
        for s in stand_in:
            warn("stand-in check ignored (KUBELET_STANDIN_LENIENT=1)", err=s)
        stand_in = []
    errs += ["invalid configuration (kubelet stand-in): " + s for s in stand_in]
    if errs:
        return errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"
    return None


# ---------------------------------------------------------------------- node labels

KUBELET_LABELS = sorted([
    "kubernetes.io/hostname", "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type", "kubernetes.io/os",
    "kubernetes.io/arch", "beta.kubernetes.io/os", "beta.kubernetes.io/arch"])
KUBELET_LABEL_NAMESPACES = ["kubelet.kubernetes.io", "node.kubernetes.io"]
_QNAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"


def label_namespace(k):
    return k.split("/", 1)[0] if "/" in k else ""


def is_kubelet_label(k):
    if k in KUBELET_LABELS:
        return True
    ns = label_namespace(k)
    return any(ns == a or ns.endswith("." + a) for a in KUBELET_LABEL_NAMESPACES)


def is_kubernetes_label(k):
    ns = label_namespace(k)
    return ns in ("kubernetes.io", "k8s.io") or ns.endswith(".kubernetes.io") or ns.endswith(".k8s.io")


def _qualified_name_errors(k):
    parts = k.split("/")
    if len(parts) > 2:
        return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
                "must start and end with an alphanumeric character"]
    errs = []
    if len(parts) == 2:
        if not parts[0] or len(parts[0]) > 253 or not re.fullmatch(_SUBDOMAIN, parts[0]):
            errs.append("prefix part a lowercase RFC 1123 subdomain must consist of lower case "
                        "alphanumeric characters, '-' or '.', and must start and end with an "
                        "alphanumeric character")
    name = parts[-1]
    if not name or len(name) > 63 or not re.fullmatch(_QNAME, name):
        errs.append("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                    "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
                    "or '123-abc', regex used for validation is '%s')" % _QNAME)
    return errs


def validate_node_labels(labels):
    """options.go ValidateKubeletFlags."""
    unknown = sorted(k for k in labels if is_kubernetes_label(k) and not is_kubelet_label(k))
    if unknown:
        return ("unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [%s]\n"
                "--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix "
                "(%s) or be in the specifically allowed set (%s)"
                % (" ".join(unknown), ", ".join(KUBELET_LABEL_NAMESPACES), ", ".join(KUBELET_LABELS)))
    bad = []
    for k, v in labels.items():
        errs = _qualified_name_errors(k)
        if errs:
            bad.append("'%s' - %s" % (k, ", ".join(errs)))
        if len(v) > 63 or not re.fullmatch(r"(" + _QNAME + r")?", v):
            bad.append("'%s' - a valid label must be an empty string or consist of alphanumeric "
                       "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                       "character" % v)
    if bad:
        return "invalid node labels: %s" % "; ".join(bad)
    return None


# ---------------------------------------------------------------------- paths

class Paths:
    """Maps node paths (what the files say) to host paths (where the stand-in reads/writes)."""

    def __init__(self, root):
        self.root = root.rstrip("/") if root else ""

    def host(self, p):
        """Host path for a node path; a final symlink with an absolute target (like
        kubelet-client-current.pem) is followed inside the root."""
        if not self.root or not p.startswith("/"):
            return p
        hp = self.root + p
        for _ in range(8):
            if not os.path.islink(hp):
                break
            target = os.readlink(hp)
            hp = self.root + target if target.startswith("/") else \
                os.path.join(os.path.dirname(hp), target)
        return hp

    def host_nofollow(self, p):
        return self.root + p if self.root and p.startswith("/") else p

    def node(self, hostpath):
        if self.root and hostpath.startswith(self.root + "/"):
            return hostpath[len(self.root):]
        return hostpath


# ---------------------------------------------------------------------- kubeconfig (client-go)

class RestConfig:
    def __init__(self):
        self.server = ""
        self.tls_server_name = None
        self.insecure = False
        self.ca_file = None          # node path
        self.ca_data = None          # bytes
        self.token = None
        self.cert_file = None        # node path
        self.key_file = None
        self.cert_data = None
        self.key_data = None


def _named(lst, what):
    out = {}
    for item in lst or []:
        if isinstance(item, dict) and "name" in item:
            out[item["name"]] = item.get(what) or {}
    return out


def load_kubeconfig(path, paths):
    """clientcmd: load, pick current-context, resolve relative paths against the file's dir,
    validate (ConfirmUsable), build a rest config."""
    hp = paths.host(path)
    with open(hp, "rb") as f:
        raw = f.read()
    try:
        cfg = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        raise KubeletError("error loading config file \"%s\": %s" % (path, exc))
    if not isinstance(cfg, dict):
        raise KubeletError("error loading config file \"%s\": couldn't get version/kind; json parse "
                           "error" % path)
    base = os.path.dirname(path)

    def resolve(p):
        if not p:
            return p
        return p if p.startswith("/") else os.path.normpath(os.path.join(base, p))

    clusters = _named(cfg.get("clusters"), "cluster")
    users = _named(cfg.get("users"), "user")
    contexts = _named(cfg.get("contexts"), "context")
    cur = cfg.get("current-context") or ""
    errs = []
    if not cur:
        raise KubeletError("invalid configuration: no configuration has been provided, try setting "
                           "KUBERNETES_MASTER environment variable")
    ctx = contexts.get(cur)
    if ctx is None:
        errs.append("context was not found for specified context: %s" % cur)
        ctx = {}
    cname, uname = ctx.get("cluster", ""), ctx.get("user", "")
    cluster = clusters.get(cname, {})
    if cname and cname not in clusters:
        errs.append('cluster "%s" not found' % cname)
    user = users.get(uname, {})
    if not cluster.get("server"):
        errs.append("cluster has no server defined")
    rc = RestConfig()
    rc.server = cluster.get("server", "")
    rc.tls_server_name = cluster.get("tls-server-name")
    rc.insecure = bool(cluster.get("insecure-skip-tls-verify"))
    if cluster.get("certificate-authority-data"):
        try:
            rc.ca_data = base64.b64decode(cluster["certificate-authority-data"])
        except Exception:
            errs.append("illegal base64 data in certificate-authority-data")
    if cluster.get("certificate-authority"):
        if rc.ca_data:
            errs.append("certificate-authority-data and certificate-authority are both specified "
                        "for %s. certificate-authority-data will override." % cname)
        rc.ca_file = resolve(cluster["certificate-authority"])
        if not os.path.exists(paths.host(rc.ca_file)):
            errs.append("unable to read certificate-authority %s for %s due to open %s: no such "
                        "file or directory" % (rc.ca_file, cname, rc.ca_file))
    if rc.insecure and (rc.ca_data or rc.ca_file):
        errs.append("specifying a root certificates file with the insecure flag is not allowed")
    if user.get("exec") or user.get("auth-provider"):
        errs.append("the kubelet stand-in does not support exec/auth-provider credentials")
    rc.token = user.get("token") or None
    if not rc.token and user.get("tokenFile"):
        try:
            with open(paths.host(resolve(user["tokenFile"]))) as f:
                rc.token = f.read().strip()
        except OSError as exc:
            errs.append("unable to read tokenFile %s: %s" % (user["tokenFile"], exc))
    if user.get("client-certificate-data"):
        rc.cert_data = base64.b64decode(user["client-certificate-data"])
    if user.get("client-key-data"):
        rc.key_data = base64.b64decode(user["client-key-data"])
    if user.get("client-certificate"):
        if rc.cert_data:
            errs.append("client-cert-data and client-cert are both specified for %s. "
                        "client-cert-data will override." % uname)
        rc.cert_file = resolve(user["client-certificate"])
    if user.get("client-key"):
        if rc.key_data:
            errs.append("client-key-data and client-key are both specified for %s; client-key-data "
                        "will override" % uname)
        rc.key_file = resolve(user["client-key"])
    if user.get("username") or user.get("password"):
        errs.append("basic authentication is not supported by the kubelet stand-in")
    if errs:
        raise KubeletError("invalid configuration: " + (errs[0] if len(errs) == 1 else
                                                         "[" + ", ".join(errs) + "]"))
    return rc


def write_kubeconfig(hostpath, rc, pem_node_path):
    """bootstrap.go writeKubeconfigFromBootstrapping + clientcmd.WriteToFile (0600)."""
    cluster = {"server": rc.server}
    if rc.insecure:
        cluster["insecure-skip-tls-verify"] = True
    if rc.ca_file:
        cluster["certificate-authority"] = rc.ca_file
    elif rc.ca_data:
        cluster["certificate-authority-data"] = base64.b64encode(rc.ca_data).decode()
    if rc.tls_server_name:
        cluster["tls-server-name"] = rc.tls_server_name
    cfg = {"apiVersion": "v1",
           "clusters": [{"cluster": cluster, "name": "default-cluster"}],
           "contexts": [{"context": {"cluster": "default-cluster", "namespace": "default",
                                     "user": "default-auth"}, "name": "default-context"}],
           "current-context": "default-context", "kind": "Config", "preferences": {},
           "users": [{"name": "default-auth",
                      "user": {"client-certificate": pem_node_path, "client-key": pem_node_path}}]}
    atomic_write(hostpath, yaml.safe_dump(cfg, default_flow_style=False).encode(), 0o600)


def atomic_write(path, data, mode):
    d = os.path.dirname(path) or "."
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---------------------------------------------------------------------- HTTP client

class ApiError(Exception):
    def __init__(self, code, status, body):
        self.code = code
        self.status = status if isinstance(status, dict) else {}
        self.body = body
        msg = self.status.get("message") or (body.decode(errors="replace").strip() if body else "")
        reason = self.status.get("reason")
        # client-go: well-formed Status -> its message; otherwise a generic description
        if not self.status:
            if code == 401:
                msg = "Unauthorized"
            elif code == 404:
                msg = "the server could not find the requested resource"
            elif code == 429:
                msg = "the server has received too many requests and has asked us to try again later"
        super().__init__(msg)
        self.reason = reason


class Client:
    """A minimal client-go: one TLS config, JSON in/out, retries on 429/5xx with Retry-After."""

    def __init__(self, rc, paths, user_agent="kubelet/" + VERSION + " (linux/amd64) kubernetes/standin"):
        self.rc = rc
        self.paths = paths
        self.ua = user_agent
        u = urllib.parse.urlsplit(rc.server if "://" in rc.server else "https://" + rc.server)
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.prefix = u.path.rstrip("/")
        self._tmp = []
        self.ctx = self._ssl_context() if self.scheme == "https" else None

    def _data_file(self, data):
        fd, p = tempfile.mkstemp(prefix="kubelet-standin-")
        os.write(fd, data)
        os.close(fd)
        self._tmp.append(p)
        return p

    def close(self):
        for p in self._tmp:
            try:
                os.unlink(p)
            except OSError:
                pass
        self._tmp = []

    def _ssl_context(self):
        rc = self.rc
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if rc.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif rc.ca_data:
            ctx.load_verify_locations(cadata=rc.ca_data.decode())
        elif rc.ca_file:
            ctx.load_verify_locations(cafile=self.paths.host(rc.ca_file))
        else:
            ctx.load_default_certs()
        cert = self._data_file(rc.cert_data) if rc.cert_data else (
            self.paths.host(rc.cert_file) if rc.cert_file else None)
        key = self._data_file(rc.key_data) if rc.key_data else (
            self.paths.host(rc.key_file) if rc.key_file else None)
        if cert:
            ctx.load_cert_chain(cert, key or cert)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def _conn(self, timeout):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                               timeout=timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, ctype="application/json", timeout=15, retries=10):
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        for attempt in range(retries + 1):
            conn = self._conn(timeout)
            try:
                headers = {"Accept": "application/json, */*", "User-Agent": self.ua}
                if self.rc.token:
                    headers["Authorization"] = "Bearer " + self.rc.token
                if data is not None:
                    headers["Content-Type"] = ctype
                conn.request(method, self.prefix + path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                ra = resp.getheader("Retry-After")
            finally:
                conn.close()
            if resp.status in (429, 500, 502, 503, 504) and ra and attempt < retries:
                # client-go request.go checkWait: honour Retry-After (capped)
                try:
                    wait = min(max(int(ra), 0), 10)
                except ValueError:
                    wait = 1
                warn("Got a Retry-After response", delay="%ds" % wait, attempt=attempt + 1,
                     url=path, status=resp.status)
                if STOP.wait(wait):
                    raise KubeletError("terminated")
                continue
            try:
                obj = json.loads(raw) if raw else {}
            except ValueError:
                obj = None
            if resp.status >= 400:
                raise ApiError(resp.status, obj if isinstance(obj, dict) and
                               obj.get("kind") == "Status" else None, raw)
            return obj
        raise KubeletError("retries exhausted")

    def watch(self, path, handler, timeout):
        """Stream watch events; handler(event) returns True to stop. Returns True if stopped."""
        conn = self._conn(timeout + 5)
        try:
            headers = {"Accept": "application/json", "User-Agent": self.ua}
            if self.rc.token:
                headers["Authorization"] = "Bearer " + self.rc.token
            conn.request("GET", self.prefix + path, headers=headers)
            resp = conn.getresponse()
            if resp.status >= 400:
                raw = resp.read()
                try:
                    obj = json.loads(raw)
                except ValueError:
                    obj = None
                raise ApiError(resp.status, obj if isinstance(obj, dict) else None, raw)
            while not STOP.is_set():
                line = resp.readline()
                if not line:
                    return False
                line = line.strip()
                if not line:
                    continue
                if handler(json.loads(line)):
                    return True
            return False
        finally:
            conn.close()


# ---------------------------------------------------------------------- certificates

def pem_certs(data):
    out = []
    for block in re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", data, re.S):
        out.append(x509.load_pem_x509_certificate(block))
    return out


def cert_still_valid(pem_path):
    """isClientConfigStillValid: every cert must not be past NotAfter (NotBefore is not checked)."""
    try:
        with open(pem_path, "rb") as f:
            data = f.read()
        certs = pem_certs(data)
        if not certs or b"PRIVATE KEY-----" not in data:
            return False
        now = datetime.datetime.utcnow()
        return all(now <= c.not_valid_after for c in certs)
    except (OSError, ValueError):
        return False


def kubeconfig_still_valid(kubeconfig, paths):
    hp = paths.host(kubeconfig)
    if not os.path.exists(hp):
        return False
    try:
        rc = load_kubeconfig(kubeconfig, paths)
    except (KubeletError, OSError) as exc:
        warn("unable to read existing bootstrap client config", path=kubeconfig, err=exc)
        return False
    if rc.cert_data:
        try:
            certs = pem_certs(rc.cert_data)
        except ValueError:
            return False
        now = datetime.datetime.utcnow()
        return bool(certs) and all(now <= c.not_valid_after for c in certs)
    if rc.cert_file:
        if not os.path.exists(paths.host(rc.cert_file)):
            return False
        if not cert_still_valid(paths.host(rc.cert_file)):
            warn("part of the existing bootstrap client certificate is expired", path=kubeconfig)
            return False
        return True
    return False


def make_csr(key, cn, orgs, dns=(), ips=()):
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs] +
        [x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def client_usages(key):
    # certificate_manager.go DefaultKubeletClientGetUsages
    if isinstance(key, rsa.RSAPrivateKey):
        return ["digital signature", "key encipherment", "client auth"]
    return ["digital signature", "client auth"]


def serving_usages(key):
    # certificate_manager.go DefaultKubeletServingGetUsages
    if isinstance(key, rsa.RSAPrivateKey):
        return ["digital signature", "key encipherment", "server auth"]
    return ["digital signature", "server auth"]


def digested_name(key, cn, orgs, usages):
    """bootstrap.go digestedName: sha512/256 over base64url(raw) + '|' pieces."""
    h = hashlib.new("sha512_256")

    def enc(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=")

    def write(data):
        h.update(enc(data))
        h.update(b"|")

    write(key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo))
    write(cn.encode())
    for o in orgs:
        write(o.encode())
    for u in usages:
        write(u.encode())
    return "node-csr-" + enc(h.digest()).decode()


def key_pem(key):
    # keyutil.MarshalPrivateKeyToPEM: EC -> "EC PRIVATE KEY", RSA -> "RSA PRIVATE KEY"
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


class FileStore:
    """certificate_store.go: <prefix>-<2006-01-02-15-04-05>.pem (cert(s) then key, 0600) and the
    <prefix>-current.pem symlink swapped via <prefix>-updated.pem."""

    def __init__(self, prefix, cert_dir_node, paths):
        self.prefix = prefix
        self.dir_node = cert_dir_node
        self.paths = paths

    def current_node_path(self):
        return os.path.join(self.dir_node, "%s-current.pem" % self.prefix)

    def current_host_path(self):
        return self.paths.host_nofollow(self.current_node_path())

    def update(self, cert_pem, key_bytes):
        hdir = self.paths.host(self.dir_node)
        os.makedirs(hdir, mode=0o755, exist_ok=True)
        ts = time.strftime("%Y-%m-%d-%H-%M-%S")
        name = "%s-%s.pem" % (self.prefix, ts)
        node_file = os.path.join(self.dir_node, name)
        host_file = self.paths.host(node_file)
        certs = pem_certs(cert_pem)
        if not certs:
            raise KubeletError("no cert/key data found")
        data = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs) + key_bytes
        fd = os.open(host_file, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        cur = self.current_host_path()
        if os.path.lexists(cur) and not os.path.islink(cur):
            raise KubeletError('expected "%s" to be a symlink but it is a file' % cur)
        upd = self.paths.host_nofollow(os.path.join(self.dir_node, "%s-updated.pem" % self.prefix))
        if os.path.lexists(upd):
            os.unlink(upd)
        os.symlink(node_file, upd)      # the link names the node path, like on the node
        os.replace(upd, cur)
        return node_file


# ---------------------------------------------------------------------- the kubelet

class Kubelet:
    def __init__(self, flags, cfg, paths, timeout):
        self.flags = flags
        self.cfg = cfg
        self.paths = paths
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        host = (flags.get("hostname-override") or socket.gethostname()).strip().lower()
        if not host:
            raise KubeletError("failed to run Kubelet: empty hostname is invalid")
        self.hostname = host
        self.node_name = host
        self.cert_dir = flags.get("cert-dir") or (
            os.path.join(flags["root-dir"], "pki") if flags.get("root-dir") else "/var/lib/kubelet/pki")
        self.node_ips = []
        if flags.get("node-ip"):
            for ip in flags["node-ip"].split(","):
                try:
                    self.node_ips.append(str(ipaddress.ip_address(ip.strip())))
                except ValueError:
                    raise KubeletError('failed to run Kubelet: bad --node-ip "%s": could not parse "%s"'
                                       % (flags["node-ip"], ip))
        self.client = None

    def left(self):
        return self.deadline - time.monotonic()

    def _sleep(self, s):
        if STOP.wait(max(0.0, min(s, self.left()))):
            raise SystemExit(0)

    # -- client certificate ------------------------------------------------
    def bootstrap(self):
        kubeconfig = self.flags.get("kubeconfig")
        bootstrap = self.flags.get("bootstrap-kubeconfig")
        if not kubeconfig:
            raise KubeletError("failed to run Kubelet: the stand-in needs --kubeconfig (standalone "
                               "mode is not modelled)")
        store = FileStore("kubelet-client", self.cert_dir, self.paths)
        if not bootstrap:
            info("No bootstrap kubeconfig, using --kubeconfig as is", path=kubeconfig)
            return
        if kubeconfig_still_valid(kubeconfig, self.paths):
            info("Kubeconfig exists and is valid, skipping bootstrap", path=kubeconfig)
            return
        try:
            brc = load_kubeconfig(bootstrap, self.paths)
        except OSError as exc:
            raise KubeletError("failed to run Kubelet: unable to load bootstrap kubeconfig: stat "
                               "%s: %s" % (bootstrap, exc.strerror.lower()))
        except KubeletError as exc:
            raise KubeletError("failed to run Kubelet: unable to load bootstrap kubeconfig: %s" % exc)
        bclient = Client(brc, self.paths)
        try:
            if self.cfg.get("rotateCertificates"):
                self._bootstrap_rotating(kubeconfig, brc, bclient, store)
            else:
                self._bootstrap_legacy(kubeconfig, brc, bclient, store)
        finally:
            bclient.close()

    def _bootstrap_rotating(self, kubeconfig, brc, bclient, store):
        """bootstrap.LoadClientConfig + the client certificate manager (rotateCertificates)."""
        # kubeconfig first, pointing at the (not yet existing) current pem
        write_kubeconfig(self.paths.host(kubeconfig), brc, store.current_node_path())
        info("Use the bootstrap credentials to request a cert, and set kubeconfig to point to the "
             "certificate dir")
        info("Client rotation is on, will bootstrap in background")
        if cert_still_valid(self.paths.host(store.current_node_path())):
            info("Loading cert/key pair from a previous rotation", path=store.current_node_path())
            return
        key = ec.generate_private_key(ec.SECP256R1())
        usages = client_usages(key)
        cn = "system:node:" + self.node_name
        delay = 1.0
        while True:
            try:
                name, uid = self._request_cert(bclient, key, cn, ["system:nodes"], usages,
                                               "kubernetes.io/kube-apiserver-client-kubelet", None)
                info("Waiting for client certificate to be issued", csr=name)
                cert = self._wait_for_certificate(bclient, name, uid)
                node_file = store.update(cert, key_pem(key))
                info("Certificate rotation detected, shutting down client connections to start "
                     "using new credentials")
                info("Rotating certificates", file=node_file)
                return
            except (ApiError, OSError, KubeletError, ssl.SSLError, http.client.HTTPException) as exc:
                # the certificate manager logs and retries with backoff (a denied CSR included)
                error("Failed while requesting a signed certificate from the control plane",
                      err=_cm_error(exc), logger="kubernetes.io/kube-apiserver-client-kubelet")
                if self.left() <= 0:
                    raise KubeletError("failed to run Kubelet: timed out waiting for the client "
                                       "certificate (last error: %s)" % _cm_error(exc))
                self._sleep(delay)
                delay = min(delay * 2, 8.0)

    def _bootstrap_legacy(self, kubeconfig, brc, bclient, store):
        """bootstrap.LoadClientCert (rotateCertificates off)."""
        info("Using bootstrap kubeconfig to generate TLS client cert, key and kubeconfig file")
        tmp_key = self.paths.host(os.path.join(self.cert_dir, "kubelet-client.key.tmp"))
        key = None
        if os.path.exists(tmp_key):
            try:
                with open(tmp_key, "rb") as f:
                    key = serialization.load_pem_private_key(f.read(), password=None)
            except ValueError:
                key = None
        if key is None:
            key = ec.generate_private_key(ec.SECP256R1())
            atomic_write(tmp_key, key_pem(key), 0o600)
        self._wait_for_server(bclient)
        usages = client_usages(key)
        cn = "system:node:" + self.node_name
        name = digested_name(key, cn, ["system:nodes"], usages)
        try:
            name, uid = self._request_cert(bclient, key, cn, ["system:nodes"], usages,
                                           "kubernetes.io/kube-apiserver-client-kubelet", name)
        except (ApiError, OSError, ssl.SSLError, http.client.HTTPException) as exc:
            raise KubeletError("failed to run Kubelet: cannot create certificate signing request: %s"
                               % exc)
        try:
            cert = self._wait_for_certificate(bclient, name, uid)
        except (ApiError, OSError, KubeletError, ssl.SSLError, http.client.HTTPException) as exc:
            raise KubeletError("failed to run Kubelet: %s" % exc)
        node_file = store.update(cert, key_pem(key))
        try:
            os.unlink(tmp_key)
        except OSError:
            pass
        write_kubeconfig(self.paths.host(kubeconfig), brc, store.current_node_path())
        info("Wrote client certificate and kubeconfig", file=node_file, kubeconfig=kubeconfig)

    def _wait_for_server(self, client):
        # bootstrap.go waitForServer: GET /healthz until it answers, at most 1 minute
        end = time.monotonic() + min(60, max(self.left(), 0))
        while time.monotonic() < end:
            try:
                client.request("GET", "/healthz", timeout=1, retries=0)
                return
            except Exception as exc:
                info("Failed to connect to apiserver", err=exc)
                self._sleep(2 * (1 + 0.2 * random.random()))

    def _request_cert(self, client, key, cn, orgs, usages, signer, name, dns=(), ips=()):
        """csr.go RequestCertificate."""
        pem = make_csr(key, cn, orgs, dns, ips)
        meta = {"name": name} if name else {"generateName": "csr-"}
        body = {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1",
                "metadata": meta,
                "spec": {"request": base64.b64encode(pem).decode(), "usages": usages,
                         "signerName": signer}}
        try:
            out = client.request("POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests",
                                 body)
        except ApiError as exc:
            if exc.code == 409 and name:
                info("csr for this node already exists, reusing")
                out = client.request("GET", "/apis/certificates.k8s.io/v1/"
                                     "certificatesigningrequests/" + name)
                spec = out.get("spec") or {}
                if spec.get("signerName") != signer or sorted(spec.get("usages") or []) != \
                        sorted(usages):
                    raise KubeletError("retrieved csr is not compatible")
                info("csr for this node is still valid")
            else:
                raise
        return out["metadata"]["name"], out["metadata"]["uid"]

    def _wait_for_certificate(self, client, name, uid):
        """csr.go WaitForCertificate: list with metadata.name field selector, then watch."""
        base = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
        fs = urllib.parse.quote("metadata.name=" + name)
        result = {}

        def handle(obj, etype):
            if etype == "DELETED":
                raise KubeletError('csr "%s" was deleted' % name)
            if etype not in ("ADDED", "MODIFIED"):
                return False
            if obj["metadata"].get("uid") != uid:
                raise KubeletError('csr "%s" changed UIDs' % name)
            approved = False
            for c in (obj.get("status") or {}).get("conditions") or []:
                if c.get("type") == "Denied":
                    raise KubeletError("certificate signing request is denied, reason: %s, message: "
                                       "%s" % (c.get("reason", ""), c.get("message", "")))
                if c.get("type") == "Failed":
                    raise KubeletError("certificate signing request failed, reason: %s, message: %s"
                                       % (c.get("reason", ""), c.get("message", "")))
                if c.get("type") == "Approved":
                    approved = True
            if approved:
                cert = (obj.get("status") or {}).get("certificate")
                if cert:
                    info("certificate signing request is issued", csr=name)
                    result["cert"] = base64.b64decode(cert)
                    return True
                info("certificate signing request is approved, waiting to be issued", csr=name)
            return False

        while True:
            if self.left() <= 0:
                raise KubeletError("timed out waiting for the condition on certificatesigningrequests"
                                   "/%s" % name)
            lst = client.request("GET", "%s?fieldSelector=%s" % (base, fs))
            for item in lst.get("items") or []:
                if handle(item, "MODIFIED"):
                    return result["cert"]
            rv = lst["metadata"]["resourceVersion"]
            wt = int(max(1, min(self.left(), 300)))
            try:
                stopped = client.watch("%s?fieldSelector=%s&resourceVersion=%s&watch=true&"
                                       "timeoutSeconds=%d&allowWatchBookmarks=true" % (base, fs, rv, wt),
                                       lambda ev: ev.get("type") == "ERROR" or
                                       handle(ev.get("object") or {}, ev.get("type")), wt)
            except (socket.timeout, OSError, http.client.HTTPException) as exc:
                warn("watch of certificate signing request ended", err=exc)
                stopped = False
            if STOP.is_set():
                raise SystemExit(0)
            if stopped and "cert" in result:
                return result["cert"]

    # -- node registration -----------------------------------------------------
    def node_client(self):
        rc = load_kubeconfig(self.flags["kubeconfig"], self.paths)
        return Client(rc, self.paths)

    def initial_node(self):
        """kubelet_node_status.go initialNode (+ the setters that fill the first status)."""
        arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
                "s390x": "s390x"}.get(platform.machine(), platform.machine())
        labels = {"kubernetes.io/hostname": self.hostname, "kubernetes.io/os": "linux",
                  "kubernetes.io/arch": arch, "beta.kubernetes.io/os": "linux",
                  "beta.kubernetes.io/arch": arch}
        labels.update(self.flags.get("node-labels") or {})
        spec = {}
        taints = [dict(t) for t in self.cfg.get("registerWithTaints") or []]
        if self.flags.get("cloud-provider") == "external":
            taints.append({"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true",
                           "effect": "NoSchedule"})
        if taints:
            spec["taints"] = taints
        if self.cfg.get("providerID"):
            spec["providerID"] = self.cfg["providerID"]
        if self.flags.get("register-schedulable") is False:
            spec["unschedulable"] = True
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.node_name, "labels": labels,
                             "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach":
                                             "true"}},
                "spec": spec, "status": self.node_status(arch)}

    def node_status(self, arch):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        pods = str(self.cfg.get("maxPods", 110))
        cap = {"cpu": str(os.cpu_count() or 1), "memory": "%dKi" % _mem_kib(),
               "ephemeral-storage": "10Gi", "pods": pods, "hugepages-2Mi": "0"}
        addrs = [{"type": "InternalIP", "address": ip} for ip in self.node_ips]
        addrs.append({"type": "Hostname", "address": self.hostname})

        def cond(t, status, reason, msg):
            return {"type": t, "status": status, "lastHeartbeatTime": now,
                    "lastTransitionTime": now, "reason": reason, "message": msg}

        return {"capacity": cap, "allocatable": dict(cap),
                "conditions": [
                    cond("MemoryPressure", "False", "KubeletHasSufficientMemory",
                         "kubelet has sufficient memory available"),
                    cond("DiskPressure", "False", "KubeletHasNoDiskPressure",
                         "kubelet has no disk pressure"),
                    cond("PIDPressure", "False", "KubeletHasSufficientPID",
                         "kubelet has sufficient PID available"),
                    cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")],
                "addresses": addrs,
                "daemonEndpoints": {"kubeletEndpoint": {"Port": int(self.cfg.get("port", 10250))}},
                "nodeInfo": {"machineID": _read("/etc/machine-id"), "systemUUID": "",
                             "bootID": _read("/proc/sys/kernel/random/boot_id"),
                             "kernelVersion": platform.release(),
                             "osImage": _os_image(), "containerRuntimeVersion": "standin://0.0.0",
                             "kubeletVersion": VERSION, "kubeProxyVersion": "",
                             "operatingSystem": "linux", "architecture": arch}}

    def register(self):
        """registerWithAPIServer: create; if it exists, reconcile default labels and status."""
        if not self.node_ips:
            warn("Failed to set some node status fields", err="can't get ip address of node %s. "
                 "error: the stand-in does not look up default routes; pass --node-ip" %
                 self.node_name, node=self.node_name)
        node = self.initial_node()
        delay = 0.1
        while True:
            client = None
            try:
                client = self.node_client()
                info("Attempting to register node", node=self.node_name)
                try:
                    client.request("POST", "/api/v1/nodes", node)
                    info("Successfully registered node", node=self.node_name)
                    return client
                except ApiError as exc:
                    if exc.code != 409:
                        raise
                client.request("GET", "/api/v1/nodes/" + self.node_name)   # existing Node
                labels = {k: node["metadata"]["labels"][k] for k in
                          ("kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch",
                           "beta.kubernetes.io/os", "beta.kubernetes.io/arch")}
                patch = {"metadata": {"labels": labels}, "status": node["status"]}
                client.request("PATCH", "/api/v1/nodes/%s/status" % self.node_name, patch,
                               ctype="application/strategic-merge-patch+json")
                info("Node was previously registered", node=self.node_name)
                return client
            except (ApiError, OSError, KubeletError, ssl.SSLError, http.client.HTTPException) as exc:
                if client:
                    client.close()
                error("Unable to register node with API server", err=exc, node=self.node_name)
                if self.left() <= 0:
                    raise KubeletError("failed to run Kubelet: unable to register node %s with the "
                                       "API server: %s" % (self.node_name, exc))
                self._sleep(delay)
                delay = min(delay * 2, 7.0)

    def renew_lease(self, client):
        """pkg/kubelet/nodelease + component-helpers/apimachinery/lease/controller.go: get or create
        kube-node-lease/<node> owned by the Node, then renew spec.renewTime."""
        base = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
        now = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        try:
            try:
                lease = client.request("GET", "%s/%s" % (base, self.node_name), retries=0)
            except ApiError as exc:
                if exc.code != 404:
                    raise
                node = client.request("GET", "/api/v1/nodes/" + self.node_name, retries=0)
                lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                         "metadata": {"name": self.node_name, "namespace": "kube-node-lease",
                                      "ownerReferences": [{"apiVersion": "v1", "kind": "Node",
                                                           "name": self.node_name,
                                                           "uid": node["metadata"]["uid"]}]},
                         "spec": {"holderIdentity": self.node_name,
                                  "leaseDurationSeconds": int(self.cfg.get(
                                      "nodeLeaseDurationSeconds", 40)), "renewTime": now}}
                client.request("POST", base, lease, retries=0)
                return True
            lease.setdefault("spec", {})["renewTime"] = now
            client.request("PUT", "%s/%s" % (base, self.node_name), lease, retries=0)
            return True
        except (ApiError, OSError, ssl.SSLError, http.client.HTTPException) as exc:
            error("Failed to update lease", err=exc)
            return False

    def request_serving_cert(self, client):
        """serverTLSBootstrap: the serving certificate manager's CSR (stays pending until approved)."""
        ips = list(self.node_ips)
        dns = [self.hostname] if not _is_ip(self.hostname) else []
        if not ips:
            warn("no serving certificate available for the kubelet (no node IP to request one for)")
            return None
        key = ec.generate_private_key(ec.SECP256R1())
        try:
            name, uid = self._request_cert(client, key, "system:node:" + self.node_name,
                                           ["system:nodes"], serving_usages(key),
                                           "kubernetes.io/kubelet-serving", None, dns, ips)
        except (ApiError, OSError, KubeletError) as exc:
            error("Failed while requesting a signed certificate from the control plane",
                  err=_cm_error(exc), logger="kubernetes.io/kubelet-serving")
            return None
        info("Waiting for serving certificate to be approved", csr=name)
        return key, name, uid

    def wait_serving_cert(self, client, key, name, uid):
        store = FileStore("kubelet-server", self.cert_dir, self.paths)
        try:
            cert = self._wait_for_certificate(client, name, uid)
        except (ApiError, OSError, KubeletError) as exc:
            warn("serving certificate not issued", csr=name, err=exc)
            return
        store.update(cert, key_pem(key))
        info("Serving certificate issued", file=store.current_node_path())


def _cm_error(exc):
    if isinstance(exc, ApiError):
        return "cannot create certificate signing request: %s" % exc
    return str(exc)


def _is_ip(s):
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def _read(p):
    try:
        with open(p) as f:
            return f.read().strip()
    except OSError:
        return ""


def _os_image():
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return "Linux"


def _mem_kib():
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 1024 * 1024


# ---------------------------------------------------------------------- main

def main(argv):
    signal.signal(signal.SIGTERM, lambda *a: STOP.set())
    signal.signal(signal.SIGINT, lambda *a: STOP.set())
    try:
        flags, order, args = parse_flags(argv)
    except KubeletError as exc:
        fail("failed to parse kubelet flag: %s" % exc)
    if args:
        fail("unknown command %s" % args[0])
    if flags.get("help"):
        sys.stdout.write("kubelet (stand-in) %s: see %s\n" % (VERSION, __file__))
        return 0
    if flags.get("version") not in (None, "false"):
        sys.stdout.write("Kubernetes %s\n" % VERSION)
        return 0
    for name in dict.fromkeys(order):
        if name in DEPRECATED_FLAGS:
            sys.stderr.write("Flag --%s has been deprecated, %s\n" % (name, DEPRECATED_FLAGS[name]))
        elif name in CONFIG_FLAGS and name not in NOT_DEPRECATED:
            sys.stderr.write("Flag --%s has been deprecated, %s\n" % (name, CONFIG_FLAG_DEPRECATION))
        if name not in MODELLED and name not in STANDIN_FLAGS:
            warn("flag accepted but not modelled by the kubelet stand-in", flag="--" + name)
    lenient = os.environ.get("KUBELET_STANDIN_LENIENT") == "1"
    paths = Paths(flags.get("standin-root") or os.environ.get("KUBELET_STANDIN_ROOT", ""))
    try:
        timeout = float(flags.get("standin-timeout") or os.environ.get("KUBELET_STANDIN_TIMEOUT", 60))
        lifetime = float(os.environ.get("KUBELET_STANDIN_LIFETIME", 900))
    except ValueError:
        fail("KUBELET_STANDIN_TIMEOUT / KUBELET_STANDIN_LIFETIME must be numbers")

    err = validate_node_labels(flags.get("node-labels") or {})
    if err:
        fail("failed to validate kubelet flags: %s" % err)
    cfg_file = {}
    if flags.get("config"):
        try:
            cfg_file = load_kubelet_config(paths.host(flags["config"]), lenient)
        except KubeletError as exc:
            fail(str(exc).replace(paths.host(flags["config"]), flags["config"]))
    if flags.get("config-dir"):
        warn("--config-dir drop-ins are not modelled by the kubelet stand-in")
    cfg = effective_config(cfg_file, flags)
    err = validate_config(cfg, lenient)
    if err:
        fail("failed to validate kubelet configuration, error: %s, path: %s"
             % (err, flags.get("config", "")))
    info("kubelet version", kubeletVersion=VERSION + " (stand-in)")
    check_resolv_conf(cfg, paths)
    try:
        kl = Kubelet(flags, cfg, paths, timeout)
        info("Starting kubelet", node=kl.node_name, config=flags.get("config", ""),
             rotateCertificates=bool(cfg.get("rotateCertificates")),
             serverTLSBootstrap=bool(cfg.get("serverTLSBootstrap")))
        kl.bootstrap()
        client = None
        if cfg.get("registerNode", True):
            client = kl.register()
            kl.renew_lease(client)
        pending = None
        if cfg.get("serverTLSBootstrap"):
            if client is None:
                client = kl.node_client()
            pending = kl.request_serving_cert(client)
    except KubeletError as exc:
        fail(str(exc))
    if flags.get("standin-exit-after-register"):
        info("--standin-exit-after-register: exiting")
        return 0
    if pending and client:
        kl.deadline = time.monotonic() + lifetime
        threading.Thread(target=kl.wait_serving_cert, args=(client,) + pending,
                         daemon=True).start()
    info("kubelet stand-in running; SIGTERM stops it", lifetime="%ds" % lifetime)
    end = time.monotonic() + lifetime
    # the node lease is renewed every 10 s (a quarter of nodeLeaseDurationSeconds)
    interval = max(1.0, int(cfg.get("nodeLeaseDurationSeconds", 40)) / 4.0)
    while not STOP.wait(max(0.0, min(interval, end - time.monotonic()))):
        if time.monotonic() >= end:
            break
        if client is not None:
            kl.renew_lease(client)
    info("kubelet stand-in stopping")
    return 0


LOOPBACK_NAMESERVER = re.compile(r"^\s*nameserver\s+(127\.\S+|::1)\s*$", re.M)


def check_resolv_conf(cfg, paths):
    """The file pods with dnsPolicy: Default get (pkg/kubelet/network/dns/dns.go): kubelet
    logs "Could not open resolv conf file." when it is missing and goes on (pods then fail to
    start). Stand-in only: a loopback nameserver in it (systemd-resolved's stub 127.0.0.53)
    is reported, since CoreDNS, which uses dnsPolicy: Default, would forward to itself."""
    path = cfg.get("resolvConf", "/etc/resolv.conf")
    if not path:
        return
    try:
        with open(paths.host(path)) as f:
            text = f.read()
    except OSError as exc:
        error("Could not open resolv conf file.", err=str(exc).replace(paths.host(path), path))
        return
    m = LOOPBACK_NAMESERVER.search(text)
    if m:
        warn("stand-in: resolvConf names a loopback nameserver; pods with dnsPolicy: Default (CoreDNS) "
             "would get it", resolvConf=path, nameserver=m.group(1))


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(0)

#!/usr/bin/python3
"""Cluster double for kubeboot's tests: a fake kube-apiserver with the
kube-controller-manager controllers a node join relies on.

Python API:
    from double import ClusterDouble
    with ClusterDouble(workdir) as c:
        tok = c.add_bootstrap_token()
        c.install_seed_rbac(); c.publish_cluster_info()
        ...

CLI:
    double.py serve --workdir DIR [--bind 127.0.0.1] [--port 6443] [--extra-san X ...]
                    [--token ID.SECRET ...] [--seed-rbac] [--cluster-info] [--lifetime 600]
    double.py wait-node --workdir DIR --name NODE [--timeout 60]

See README.md beside this file.
"""

import argparse
import base64
import copy
import datetime
import http.server
import json
import os
import shutil
import tempfile
import secrets as _secrets
import signal
import socketserver
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True   # keep the source tree clean of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import yaml  # noqa: E402

import apimachinery as am  # noqa: E402
import auth  # noqa: E402
import pki  # noqa: E402
from apiserver import ApiServer  # noqa: E402
from controllers import ControllerManager, jws_detached_signature  # noqa: E402
from faults import Faults  # noqa: E402
from store import Store  # noqa: E402

__all__ = ["ClusterDouble", "jws_detached_signature"]

_TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
RBAC_GROUP = "rbac.authorization.k8s.io"


def _b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def kubeconfig_dict(server, ca_pem, user, cluster="kubernetes", context=None, token=None,
                    cert_pem=None, key_pem=None):
    """A kubeconfig like kubeadm writes (CA embedded)."""
    context = context or "%s@%s" % (user, cluster)
    u = {}
    if token:
        u["token"] = token
    if cert_pem:
        u["client-certificate-data"] = _b64(cert_pem)
    if key_pem:
        u["client-key-data"] = _b64(key_pem)
    return {"apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": cluster, "cluster": {"certificate-authority-data": _b64(ca_pem),
                                                       "server": server}}],
            "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
            "current-context": context, "preferences": {},
            "users": [{"name": user, "user": u}]}


def write_private(path, text):
    """Write a file 0600 atomically."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def cluster_info_kubeconfig(server, ca_pem):
    """The kubeconfig kubeadm puts in kube-public/cluster-info: server + CA only, the cluster
    named "" (cmd/kubeadm/app/phases/bootstraptoken/clusterinfo/clusterinfo.go), serialized
    like clientcmd.Write does (nil slices as null)."""
    return ("apiVersion: v1\n"
            "clusters:\n"
            "- cluster:\n"
            "    certificate-authority-data: %s\n"
            "    server: %s\n"
            "  name: \"\"\n"
            "contexts: null\n"
            "current-context: \"\"\n"
            "kind: Config\n"
            "preferences: {}\n"
            "users: null\n" % (_b64(ca_pem), server))


class ClusterDouble:
    def __init__(self, workdir=None, host="127.0.0.1", port=0, extra_sans=(), key_type="rsa",
                 verbose=None, sans=None, **fault_overrides):
        # sans: the serving certificate's SANs exactly (default: loopback, localhost, the
        # kubernetes service names, host and extra_sans)
        # workdir None: a temporary one, removed by stop() (keys and certs live there)
        self._own_workdir = workdir is None
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="kb-double-")
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.host = host
        self._port = port
        self.extra_sans = list(extra_sans)
        self.sans = None if sans is None else list(sans)
        self.key_type = key_type
        self.verbose = (os.environ.get("CLUSTER_DOUBLE_DEBUG") == "1") if verbose is None else verbose
        self.store = None
        self.api = None
        self.faults = Faults(on_change=self._faults_changed, **fault_overrides)
        self.controllers = None
        self._control = None
        self._alt_ca_pem = None
        self._started = False
        self._lock = threading.RLock()
        self._timers = []   # delayed steps of a control plane still coming up

    # ------------------------------------------------------------ lifecycle
    def _log(self, msg):
        if self.verbose:
            sys.stderr.write("cluster-double: %s\n" % msg)

    def clock(self):
        return time.time() + float(self.faults.clock_skew_seconds or 0)

    def start(self):
        if self._started:
            return self
        pkidir = os.path.join(self.workdir, "pki")
        self.ca_cert_path, self.ca_key_path = pki.mint_ca(pkidir, key_type=self.key_type)
        sans = ["127.0.0.1", "::1", "localhost", "kubernetes", "kubernetes.default",
                "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]
        for s in [self.host] + self.extra_sans:
            if s and s not in sans and s not in ("0.0.0.0", "::"):
                sans.append(s)
        if self.sans is not None:
            sans = self.sans
        self.serving_cert_path, self.serving_key_path = pki.mint_serving_cert(
            pkidir, self.ca_cert_path, self.ca_key_path, sans, key_type=self.key_type)
        with open(self.ca_cert_path) as f:
            self.ca_pem = f.read()
        self._ca_cert = pki.load_cert(self.ca_cert_path)
        self._ca_key = pki.load_key(self.ca_key_path)
        self.ca_pin = pki.spki_pin(self._ca_cert)

        self.store = Store(self.clock)
        self._preload()
        authn = auth.Authenticator(self.store, self.clock, self._log,
                                   lag=lambda: self.faults.token_auth_lag_seconds)
        self.authz = auth.Authorizer(self.store)
        self.api = ApiServer(self.store, self.faults, self.clock, authn, self.authz,
                             self.ca_cert_path, self.serving_cert_path, self.serving_key_path,
                             self.host, self._port, log=self._log)
        self.api.cluster_info_hook = self._cluster_info_hook
        self.controllers = ControllerManager(self.store, self.authz, self.faults, self.clock,
                                             self._ca_cert, self._ca_key, log=self._log)
        self.api.start()
        self.controllers.start()
        self.admin_kubeconfig_path = self.make_client_kubeconfig(
            os.path.join(self.workdir, "admin.conf"), "kubernetes-admin", ["system:masters"],
            _name="admin")
        self._started = True
        self._log("serving at %s" % self.url)
        return self

    def stop(self):
        if not self._started:
            return
        self._started = False
        for t in self._timers:
            t.cancel()
            t.join()
        self._timers = []
        if self._control:
            self._control.shutdown()
            self._control.server_close()
            self._control = None
        self.controllers.stop()
        self.api.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def _faults_changed(self, keys=()):
        if "cluster_info_alt_ca_after" in keys and self.api is not None:
            self.api.reset_cluster_info_count()   # "the Nth GET" counts from when it was set
        if self.store is not None:
            with self.store.changed:
                self.store.changed.notify_all()

    def _preload(self):
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.store.create(("", "namespaces"), "", {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
            # kube-controller-manager's root-ca-cert-publisher
            self.store.create(("", "configmaps"), ns, {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "kube-root-ca.crt",
                             "annotations": {"kubernetes.io/description": "Contains a CA bundle "
                                             "that can be used to verify the kube-apiserver when "
                                             "using internal endpoints such as the internal "
                                             "service IP or kubernetes.default.svc. No other "
                                             "usage is guaranteed across distributions of "
                                             "Kubernetes clusters."}},
                "data": {"ca.crt": self.ca_pem}})
        for role in auth.bootstrap_cluster_roles():
            self.store.create((RBAC_GROUP, "clusterroles"), "", role)
        for b in auth.bootstrap_cluster_role_bindings():
            self.store.create((RBAC_GROUP, "clusterrolebindings"), "", b)

    # ------------------------------------------------------------ properties
    @property
    def url(self):
        return self.api.url

    @property
    def port(self):
        return self.api.port

    @property
    def requests(self):
        return self.api.requests()

    # ------------------------------------------------------------ kubeconfigs
    def make_client_kubeconfig(self, path, user_cn, groups=(), _name=None):
        """Mint a client certificate (CN=user_cn, O=groups) and write a kubeconfig using it."""
        safe = _name or "client-" + "".join(c if c.isalnum() else "-" for c in user_cn)[:40] + \
            "-" + _secrets.token_hex(3)
        crt, key = pki.mint_client_cert(os.path.join(self.workdir, "clients"), safe,
                                        self.ca_cert_path, self.ca_key_path, user_cn, groups)
        with open(crt) as f:
            cert_pem = f.read()
        with open(key) as f:
            key_pem = f.read()
        cfg = kubeconfig_dict(self.url, self.ca_pem, user_cn, cert_pem=cert_pem, key_pem=key_pem)
        write_private(path, yaml.safe_dump(cfg, default_flow_style=False))
        return path

    def make_token_kubeconfig(self, path, token, server=None, user=None):
        """A bootstrap kubeconfig as kubeadm's TLS bootstrap writes it (token user, CA embedded)."""
        cfg = kubeconfig_dict(server or self.url, self.ca_pem, user or "tls-bootstrap-token-user",
                              token=token)
        write_private(path, yaml.safe_dump(cfg, default_flow_style=False))
        return path

    # ------------------------------------------------------------ tokens
    def add_bootstrap_token(self, token=None, *, expiration=None,
                            usages=("authentication", "signing"), extra_groups=(),
                            description=None):
        """Create kube-system/bootstrap-token-<id> exactly like kubeadm's
        BootstrapTokenToSecret/encodeTokenSecretData. expiration: datetime (naive = UTC),
        RFC3339 string, or a number of seconds from now; None = no expiry. Returns the token."""
        if token is None:
            token = "".join(_secrets.choice(_TOKEN_CHARS) for _ in range(6)) + "." + \
                "".join(_secrets.choice(_TOKEN_CHARS) for _ in range(16))
        if not auth.TOKEN_RE.match(token):
            raise ValueError("token %r does not match %s" % (token, auth.TOKEN_RE.pattern))
        tid, tsecret = token.split(".")
        data = {"token-id": tid, "token-secret": tsecret}
        if description:
            data["description"] = description
        if expiration is not None:
            if isinstance(expiration, datetime.datetime):
                if expiration.tzinfo is None:
                    expiration = expiration.replace(tzinfo=datetime.timezone.utc)
                data["expiration"] = expiration.astimezone(datetime.timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%SZ")
            elif isinstance(expiration, (int, float)):
                data["expiration"] = am.rfc3339(self.clock() + expiration)
            else:
                data["expiration"] = str(expiration)
        for u in usages:
            data["usage-bootstrap-" + u] = "true"
        if extra_groups:
            data["auth-extra-groups"] = ",".join(extra_groups)
        secret = {"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": "bootstrap-token-" + tid, "namespace": "kube-system"},
                  "type": auth.BOOTSTRAP_SECRET_TYPE,
                  "data": {k: _b64(v) for k, v in data.items()}}
        self.store.create(("", "secrets"), "kube-system", secret)
        return token

    def delete_bootstrap_token(self, token_id):
        if "." in token_id:
            token_id = token_id.split(".")[0]
        self.store.delete(("", "secrets"), "kube-system", "bootstrap-token-" + token_id)

    # ------------------------------------------------------------ RBAC / cluster-info
    def install_seed_rbac(self, node_bootstrapper=True, auto_approve_nodeclient=True,
                          auto_approve_selfnodeclient=True, group="system:bootstrappers"):
        """The ClusterRoleBindings of the TLS-bootstrapping guide; idempotent."""
        want = {"node_bootstrapper": (node_bootstrapper, group),
                "auto_approve_nodeclient": (auto_approve_nodeclient, group),
                "auto_approve_selfnodeclient": (auto_approve_selfnodeclient, auth.NODES_GROUP)}
        for key, (on, grp) in want.items():
            if not on:
                continue
            name, role = auth.SEED_BINDINGS[key]
            b = auth.cluster_role_binding(name, role, [grp])
            try:
                self.store.create((RBAC_GROUP, "clusterrolebindings"), "", b)
            except am.ApiError as err:
                if err.code != 409:
                    raise

    def remove_seed_rbac(self):
        for name, _ in auth.SEED_BINDINGS.values():
            try:
                self.store.delete((RBAC_GROUP, "clusterrolebindings"), "", name)
            except am.ApiError:
                pass

    # ------------------------------------------------------------ a cluster made by kubeadm
    KUBEADM_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token"
    # the KubeletConfiguration `kubeadm init` (1.31) uploads: componentconfigs/kubelet.go
    # Default() marshalled, zero values included (containerRuntimeEndpoint: "", 0s durations)
    KUBEADM_KUBELET_CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: ""
cpuManagerReconcilePeriod: 0s
crashLoopBackOff: {}
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
memorySwap: {}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
resolvConf: /run/systemd/resolve/resolv.conf
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
"""

    def publish_kubelet_config(self, kubelet_yaml=None, rbac=True):
        """kube-system/kubelet-config (data key "kubelet") and, with rbac, the Role/RoleBinding
        kubeadm:kubelet-config letting system:nodes and kubeadm's token group get it, as
        cmd/kubeadm/app/phases/kubelet/config.go (CreateConfigMap, createConfigMapRBACRules)."""
        cm = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "kubelet-config", "namespace": "kube-system"},
              "data": {"kubelet": kubelet_yaml if kubelet_yaml is not None else self.KUBEADM_KUBELET_CONFIG}}
        objs = [(("", "configmaps"), cm)]
        if rbac:
            objs += self._configmap_role("kube-system", "kubeadm:kubelet-config", "kubelet-config",
                                         [auth.NODES_GROUP, self.KUBEADM_TOKEN_GROUP])
        self._create_all("kube-system", objs)

    @staticmethod
    def _configmap_role(ns, name, cm, groups):
        role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": name, "namespace": ns},
                "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"],
                           "resourceNames": [cm]}]}
        binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": name, "namespace": ns},
                   "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": name},
                   "subjects": [{"kind": "Group", "apiGroup": RBAC_GROUP, "name": g} for g in groups]}
        return [((RBAC_GROUP, "roles"), role), ((RBAC_GROUP, "rolebindings"), binding)]

    def seed_kubeadm(self, kubelet_yaml=None):
        """What `kubeadm init` leaves for joining nodes: its bootstrap-token bindings for the
        group system:bootstrappers:kubeadm:default-node-token and renewals for system:nodes
        (cmd/kubeadm/app/phases/bootstraptoken/node/tlsbootstrap.go), the kubeadm:get-nodes
        ClusterRole and binding (AllowBootstrapTokensToGetNodes), kubelet-config and its Role
        (phases/kubelet/config.go), kubeadm-config and kubeadm:nodes-kubeadm-config
        (phases/uploadconfig), cluster-info and its Role (clusterinfo.go). Returns a token as
        `kubeadm token create` makes it (auth-extra-groups = that group)."""
        g = self.KUBEADM_TOKEN_GROUP
        crbs = [auth.cluster_role_binding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", [g]),
                auth.cluster_role_binding("kubeadm:node-autoapprove-bootstrap",
                                          "system:certificates.k8s.io:certificatesigningrequests:nodeclient", [g]),
                auth.cluster_role_binding("kubeadm:node-autoapprove-certificate-rotation",
                                          "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                                          [auth.NODES_GROUP]),
                auth.cluster_role_binding("kubeadm:get-nodes", "kubeadm:get-nodes", [g])]
        get_nodes = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                     "metadata": {"name": "kubeadm:get-nodes"},
                     "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}]}
        self._create_all("", [((RBAC_GROUP, "clusterroles"), get_nodes)] +
                         [((RBAC_GROUP, "clusterrolebindings"), b) for b in crbs])
        kubeadm_config = {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
                          "data": {"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta4\n"
                                   "kind: ClusterConfiguration\nkubernetesVersion: v1.31.0\n"}}
        self._create_all("kube-system", [(("", "configmaps"), kubeadm_config)] +
                         self._configmap_role("kube-system", "kubeadm:nodes-kubeadm-config", "kubeadm-config",
                                              [g, auth.NODES_GROUP]))
        self.publish_kubelet_config(kubelet_yaml)
        self.publish_cluster_info()
        return self.add_bootstrap_token(extra_groups=(g,), description="kubeadm-style token")

    def add_node(self, name, ready=True):
        """A Node as a running kubelet keeps it: Ready True (or False)."""
        now = am.rfc3339(self.clock())
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                "spec": {},
                "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                           "reason": "KubeletReady" if ready else "KubeletNotReady",
                                           "message": "kubelet is posting ready status",
                                           "lastHeartbeatTime": now, "lastTransitionTime": now}]}}
        self.store.create(("", "nodes"), "", node)
        return node

    def later(self, seconds, fn):
        """Runs fn after seconds on a timer that stop() cancels."""
        t = threading.Timer(seconds, fn)
        t.daemon = True
        with self._lock:
            self._timers.append(t)
        t.start()
        return t

    def publish_cluster_info(self, server=None, rbac_after=0):
        """kube-public/cluster-info + the Role/RoleBinding letting system:anonymous get it,
        like kubeadm's bootstrap-token phase (clusterinfo.go CreateBootstrapConfigMapIfNotExists,
        CreateClusterInfoRBACRules).

        rbac_after > 0: a control plane still coming up. `kubeadm init` creates the Role last
        (cmd/kubeadm/app/cmd/phases/init/bootstraptoken.go runs CreateClusterInfoRBACRules
        after the ConfigMap); until then RBAC, which runs before routing, answers an anonymous
        GET of cluster-info with 403 Forbidden (a Status naming system:anonymous)."""
        kc = cluster_info_kubeconfig(server or self.url, self.ca_pem)
        cm = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "cluster-info", "namespace": "kube-public"},
              "data": {"kubeconfig": kc}}
        old = self.store.peek("configmaps", "kube-public", "cluster-info")
        if old is None:
            self.store.create(("", "configmaps"), "kube-public", cm)
        else:
            old.setdefault("data", {})["kubeconfig"] = kc
            self.store.update(("", "configmaps"), "kube-public", old, check_rv=False)
        name = "kubeadm:bootstrap-signer-clusterinfo"
        role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": name, "namespace": "kube-public"},
                "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"],
                           "resourceNames": ["cluster-info"]}]}
        binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": name, "namespace": "kube-public"},
                   "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": name},
                   "subjects": [{"kind": "User", "apiGroup": RBAC_GROUP, "name": auth.ANONYMOUS}]}
        self._create_all("kube-public", (((RBAC_GROUP, "roles"), role), ((RBAC_GROUP, "rolebindings"), binding)),
                         after=rbac_after)
        return kc

    def _create_all(self, ns, objs, after=0):
        """Creates each (group-resource, obj) unless it exists; after > 0: that much later."""
        def create():
            for gr, obj in objs:
                try:
                    self.store.create(gr, ns, copy.deepcopy(obj))
                except am.ApiError as err:
                    if err.code != 409:
                        raise
        if after and after > 0:
            self.later(after, create)
        else:
            create()

    def _cluster_info_hook(self, obj, nth):
        after = self.faults.cluster_info_alt_ca_after
        if after is None or nth < int(after):
            return obj
        with self._lock:
            if self._alt_ca_pem is None:
                crt, _ = pki.mint_ca(os.path.join(self.workdir, "pki-mitm"), key_type=self.key_type)
                with open(crt) as f:
                    self._alt_ca_pem = f.read()
        data = dict(obj.get("data") or {})
        kc = yaml.safe_load(data.get("kubeconfig") or "{}") or {}
        server = ((kc.get("clusters") or [{}])[0].get("cluster") or {}).get("server", self.url)
        data["kubeconfig"] = cluster_info_kubeconfig(server, self._alt_ca_pem)
        obj["data"] = data   # the jws-kubeconfig-* signatures stay: they no longer verify
        return obj

    # ------------------------------------------------------------ snapshots
    def _objs(self, resource, ns=None):
        objs, _ = self.store.list(resource, ns)
        return objs

    def nodes(self):
        return self._objs("nodes")

    def node(self, name):
        return self.store.peek("nodes", "", name)

    def csrs(self):
        return self._objs("certificatesigningrequests")

    def csr(self, name):
        return self.store.peek("certificatesigningrequests", "", name)

    def secrets(self, ns="kube-system"):
        return self._objs("secrets", ns)

    def configmap(self, ns, name):
        return self.store.peek("configmaps", ns, name)

    def configmaps(self, ns=None):
        return self._objs("configmaps", ns)

    def objects(self, resource, ns=None):
        return self._objs(resource, ns)

    # ------------------------------------------------------------ CSR decisions
    def _decide(self, name, ctype, reason, message):
        csr = self.store.get(("certificates.k8s.io", "certificatesigningrequests"), "", name)
        now = am.rfc3339(self.clock())
        st = csr.setdefault("status", {}) or {}
        csr["status"] = st
        st.setdefault("conditions", []).append({
            "type": ctype, "status": "True", "reason": reason, "message": message,
            "lastUpdateTime": now, "lastTransitionTime": now})
        return self.store.update(("certificates.k8s.io", "certificatesigningrequests"), "", csr)

    def approve_csr(self, name, message="This CSR was approved by the cluster double"):
        return self._decide(name, "Approved", "KubectlApprove", message)

    def deny_csr(self, name, message="This CSR was denied by the cluster double"):
        return self._decide(name, "Denied", "KubectlDeny", message)

    # ------------------------------------------------------------ waiting
    def wait_for(self, predicate, timeout=10.0):
        """Wait (on store changes, no polling loop) until predicate() is truthy; returns its value
        or None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.store.current_rv()
            v = predicate()
            if v:
                return v
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.store.wait_for_change(seen, min(left, 1.0))

    def wait_node(self, name, timeout=30.0):
        return self.wait_for(lambda: self.node(name), timeout)

    # ------------------------------------------------------------ control endpoint
    def state(self):
        return {"url": self.url, "nodes": self.nodes(), "csrs": self.csrs(),
                "secrets": self.secrets("kube-system"), "configmaps": self.configmaps(),
                "clusterrolebindings": self._objs("clusterrolebindings"),
                "requests": self.requests, "faults": self.faults.as_dict()}

    def serve_control(self, host="127.0.0.1", port=0):
        double = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30

            def log_message(self, *a):
                pass

            def _reply(self, code, obj):
                body = (json.dumps(obj, indent=1, default=str) + "\n").encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                return json.loads(raw) if raw.strip() else {}

            def do_GET(self):
                p = urllib.parse.urlsplit(self.path).path
                if p == "/state":
                    return self._reply(200, double.state())
                if p == "/requests":
                    return self._reply(200, double.requests)
                if p.startswith("/nodes/"):
                    n = double.node(p[len("/nodes/"):])
                    return self._reply(200 if n else 404, n or {"error": "not found"})
                return self._reply(404, {"error": "unknown path %s" % p})

            def do_DELETE(self):
                p = urllib.parse.urlsplit(self.path).path
                try:
                    if p.startswith("/token/"):
                        double.delete_bootstrap_token(p[len("/token/"):])
                        return self._reply(200, {"deleted": p[len("/token/"):]})
                except am.ApiError as err:
                    return self._reply(err.code, err.status())
                return self._reply(404, {"error": "unknown path %s" % p})

            def do_POST(self):
                p = urllib.parse.urlsplit(self.path).path
                try:
                    body = self._body()
                    if p == "/token":
                        kw = dict(body)
                        if "ttl_seconds" in kw:
                            kw["expiration"] = float(kw.pop("ttl_seconds"))
                        for k in ("usages", "extra_groups"):
                            if k in kw:
                                kw[k] = tuple(kw[k])
                        return self._reply(200, {"token": double.add_bootstrap_token(**kw)})
                    if p == "/faults":
                        double.faults.update(body)
                        return self._reply(200, double.faults.as_dict())
                    if p.startswith("/approve/"):
                        return self._reply(200, double.approve_csr(p[len("/approve/"):]))
                    if p.startswith("/deny/"):
                        return self._reply(200, double.deny_csr(p[len("/deny/"):]))
                    if p == "/seed-rbac":
                        double.install_seed_rbac(**body)
                        return self._reply(200, {"ok": True})
                    if p == "/cluster-info":
                        return self._reply(200, {"kubeconfig": double.publish_cluster_info(
                            body.get("server"))})
                except am.ApiError as err:
                    return self._reply(err.code, err.status())
                except (KeyError, TypeError, ValueError) as exc:
                    return self._reply(400, {"error": str(exc)})
                return self._reply(404, {"error": "unknown path %s" % p})

        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._control = S((host, port), H)
        threading.Thread(target=self._control.serve_forever, kwargs={"poll_interval": 0.2},
                         name="control", daemon=True).start()
        return "http://%s:%d" % (host, self._control.server_address[1])


# ------------------------------------------------------------------ CLI

def _serve(args):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    c = ClusterDouble(args.workdir, host=args.bind, port=args.port, extra_sans=args.extra_san,
                      key_type=args.key_type, verbose=args.verbose)
    c.start()
    try:
        for t in args.token or []:
            c.add_bootstrap_token(t)
        if args.seed_rbac:
            c.install_seed_rbac()
        if args.cluster_info:
            c.publish_cluster_info(args.cluster_info_server)
        control = c.serve_control()
        info = {"url": c.url, "ca_cert": c.ca_cert_path, "ca_pin": c.ca_pin,
                "admin_kubeconfig": c.admin_kubeconfig_path, "control_url": control,
                "pid": os.getpid()}
        path = os.path.join(c.workdir, "double.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(info, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
        sys.stderr.write("cluster-double: serving %s (control %s), lifetime %ss\n"
                         % (c.url, control, args.lifetime))
        stop.wait(args.lifetime)
    finally:
        c.stop()
        try:
            os.unlink(os.path.join(c.workdir, "double.json"))
        except OSError:
            pass
    return 0


def _wait_node(args):
    path = os.path.join(os.path.abspath(args.workdir), "double.json")
    deadline = time.monotonic() + args.timeout
    delay = 0.1
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                control = json.load(f)["control_url"]
            url = "%s/nodes/%s" % (control, urllib.parse.quote(args.name))
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    print(args.name)
                    return 0
        except urllib.error.HTTPError as err:
            if err.code != 404:
                sys.stderr.write("wait-node: %s\n" % err)
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 1.0)
    sys.stderr.write("wait-node: node %s did not appear within %ss\n" % (args.name, args.timeout))
    return 1


def main(argv=None):
    ap = argparse.ArgumentParser(prog="double.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the cluster double")
    s.add_argument("--workdir", required=True)
    s.add_argument("--bind", default="127.0.0.1")
    s.add_argument("--port", type=int, default=6443)
    s.add_argument("--extra-san", action="append", default=[])
    s.add_argument("--token", action="append", help="bootstrap token ID.SECRET to create")
    s.add_argument("--seed-rbac", action="store_true")
    s.add_argument("--cluster-info", action="store_true")
    s.add_argument("--cluster-info-server", default=None,
                   help="server URL to publish in cluster-info (default: the double's URL)")
    s.add_argument("--lifetime", type=float, default=600)
    s.add_argument("--key-type", choices=("rsa", "ec"), default="rsa")
    s.add_argument("--verbose", action="store_true")
    w = sub.add_parser("wait-node", help="exit 0 once the Node exists")
    w.add_argument("--workdir", required=True)
    w.add_argument("--name", required=True)
    w.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args(argv)
    if args.cmd == "serve":
        return _serve(args)
    return _wait_node(args)


if __name__ == "__main__":
    sys.exit(main())

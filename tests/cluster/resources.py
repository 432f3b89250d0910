"""The API surface the double serves: group/versions, resources, kinds, verbs,
short names, supported field selectors, and server-side table columns.

Discovery documents follow the classic (non-aggregated) format of
staging/src/k8s.io/apiserver/pkg/endpoints/discovery/{legacy,group,version}.go;
kubectl 1.32 asks for aggregated discovery (apidiscovery.k8s.io/v2) first and
falls back to these when the response Content-Type is plain application/json.
"""

from apimachinery import human_duration, parse_rfc3339

ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
STATUS = ["get", "patch", "update"]


class Resource:
    def __init__(self, group, version, name, kind, namespaced, verbs, short=(), singular=None,
                 subresources=None, fields=("metadata.name", "metadata.namespace"), categories=()):
        self.group = group
        self.version = version
        self.name = name
        self.kind = kind
        self.namespaced = namespaced
        self.verbs = verbs
        self.short = list(short)
        self.singular = singular or kind.lower()
        self.subresources = subresources or {}
        self.fields = set(fields)
        self.categories = list(categories)

    @property
    def api_version(self):
        return self.version if not self.group else "%s/%s" % (self.group, self.version)

    @property
    def gr(self):
        return (self.group, self.name)


RESOURCES = [
    Resource("", "v1", "namespaces", "Namespace", False,
             ["create", "delete", "get", "list", "patch", "update", "watch"], ["ns"],
             subresources={"status": STATUS, "finalize": ["update"]},
             fields=("metadata.name", "status.phase")),
    Resource("", "v1", "nodes", "Node", False, ALL, ["no"], subresources={"status": STATUS},
             fields=("metadata.name", "spec.unschedulable")),
    # pkg/registry/core/secret/strategy.go SelectableFields: metadata.*, type
    Resource("", "v1", "secrets", "Secret", True, ALL,
             fields=("metadata.name", "metadata.namespace", "type")),
    Resource("", "v1", "configmaps", "ConfigMap", True, ALL, ["cm"]),
    # pods and events exist so that kubectl describe node works; the double runs no pods
    # (pkg/registry/core/pod/strategy.go, pkg/registry/core/event/strategy.go selectable fields)
    Resource("", "v1", "pods", "Pod", True, ALL, ["po"], subresources={"status": STATUS},
             fields=("metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
                     "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
                     "status.phase", "status.podIP", "status.nominatedNodeName")),
    Resource("", "v1", "events", "Event", True, ALL, ["ev"],
             fields=("metadata.name", "metadata.namespace", "involvedObject.kind",
                     "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                     "involvedObject.apiVersion", "involvedObject.resourceVersion",
                     "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type")),
    # the node heartbeat Lease kubelets keep in kube-node-lease
    Resource("coordination.k8s.io", "v1", "leases", "Lease", True, ALL),
    Resource("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest",
             False, ALL, ["csr"], subresources={"approval": STATUS, "status": STATUS},
             fields=("metadata.name", "spec.signerName")),
    Resource("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False,
             ["create"]),
    Resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
             False, ["create"]),
    Resource("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False,
             ["create"]),
    Resource("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
             False, ["create"]),
    Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, ALL),
    Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding",
             False, ALL),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "Role", True, ALL),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, ALL),
]

# group -> preferred version (and the only one served)
GROUPS = {}
for _r in RESOURCES:
    GROUPS.setdefault(_r.group, _r.version)


def find(group, version, name):
    for r in RESOURCES:
        if r.group == group and r.version == version and r.name == name:
            return r
    return None


def by_name(name):
    for r in RESOURCES:
        if r.name == name:
            return r
    raise KeyError(name)


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": server_address}]}


def _group_entry(group):
    gv = {"groupVersion": "%s/%s" % (group, GROUPS[group]), "version": GROUPS[group]}
    return {"name": group, "versions": [gv], "preferredVersion": gv}


def api_group_list(hidden=()):
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_entry(g) for g in GROUPS if g and g not in hidden]}


def api_group(group):
    d = _group_entry(group)
    d.update({"kind": "APIGroup", "apiVersion": "v1"})
    return d


def api_resource_list(group, version, hidden=()):
    out = []
    for r in RESOURCES:
        if r.group != group or r.version != version or r.name in hidden:
            continue
        e = {"name": r.name, "singularName": r.singular, "namespaced": r.namespaced,
             "kind": r.kind, "verbs": list(r.verbs)}
        if r.short:
            e["shortNames"] = list(r.short)
        if r.categories:
            e["categories"] = list(r.categories)
        out.append(e)
        for sub, verbs in r.subresources.items():
            out.append({"name": "%s/%s" % (r.name, sub), "singularName": "",
                        "namespaced": r.namespaced, "kind": r.kind, "verbs": list(verbs)})
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": version if not group else "%s/%s" % (group, version),
            "resources": out}


# ------------------------------------------------------------------ tables
# Server-side printing (pkg/printers/internalversion/printers.go); resources
# without a printer get the default "Name / Created At" table
# (staging/src/k8s.io/apiserver/pkg/registry/rest/table.go).

def _age(obj, now):
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    try:
        return human_duration(now - parse_rfc3339(ts))
    except ValueError:
        return "<unknown>"


def _col(name, typ="string", fmt="", desc="", priority=0):
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": priority}


def _node_row(o, now):
    st = o.get("status") or {}
    ready = "Unknown"
    for c in st.get("conditions") or []:
        if c.get("type") == "Ready":
            ready = "Ready" if c.get("status") == "True" else "NotReady"
    if (o.get("spec") or {}).get("unschedulable"):
        ready += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in ((o.get("metadata") or {}).get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/"))
    info = st.get("nodeInfo") or {}
    addr = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    return [o["metadata"]["name"], ready, ",".join(roles) or "<none>", _age(o, now),
            info.get("kubeletVersion", ""), addr.get("InternalIP", "<none>"),
            addr.get("ExternalIP", "<none>"), info.get("osImage", "<unknown>"),
            info.get("kernelVersion", "<unknown>"), info.get("containerRuntimeVersion", "<unknown>")]


def _csr_row(o, now):
    conds = [c.get("type") for c in (o.get("status") or {}).get("conditions") or []]
    cond = ",".join(conds) if conds else "Pending"
    if (o.get("status") or {}).get("certificate") and "Approved" in conds:
        cond += ",Issued"
    spec = o.get("spec") or {}
    dur = "<none>"
    if spec.get("expirationSeconds"):
        dur = human_duration(spec["expirationSeconds"])
    return [o["metadata"]["name"], _age(o, now), spec.get("signerName", ""),
            spec.get("username", ""), dur, cond]


TABLES = {
    "nodes": ([_col("Name", fmt="name"), _col("Status"), _col("Roles"), _col("Age"),
               _col("Version"), _col("Internal-IP", priority=1), _col("External-IP", priority=1),
               _col("OS-Image", priority=1), _col("Kernel-Version", priority=1),
               _col("Container-Runtime", priority=1)], _node_row),
    "certificatesigningrequests": ([_col("Name", fmt="name"), _col("Age"), _col("SignerName"),
                                    _col("Requestor"), _col("RequestedDuration"),
                                    _col("Condition")], _csr_row),
    "secrets": ([_col("Name", fmt="name"), _col("Type"), _col("Data", "integer"), _col("Age")],
                lambda o, now: [o["metadata"]["name"], o.get("type", ""),
                                len(o.get("data") or {}), _age(o, now)]),
    "configmaps": ([_col("Name", fmt="name"), _col("Data", "integer"), _col("Age")],
                   lambda o, now: [o["metadata"]["name"],
                                   len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                                   _age(o, now)]),
    "namespaces": ([_col("Name", fmt="name"), _col("Status"), _col("Age")],
                   lambda o, now: [o["metadata"]["name"],
                                   (o.get("status") or {}).get("phase", ""), _age(o, now)]),
    "clusterrolebindings": ([_col("Name", fmt="name"), _col("Role"), _col("Age")],
                            lambda o, now: [o["metadata"]["name"],
                                            "%s/%s" % (o["roleRef"]["kind"], o["roleRef"]["name"]),
                                            _age(o, now)]),
    "rolebindings": ([_col("Name", fmt="name"), _col("Role"), _col("Age")],
                     lambda o, now: [o["metadata"]["name"],
                                     "%s/%s" % (o["roleRef"]["kind"], o["roleRef"]["name"]),
                                     _age(o, now)]),
}


def table(resource, objs, list_rv, include_object, now):
    cols, rowf = TABLES.get(resource.name, (
        [_col("Name", fmt="name", desc="Name must be unique within a namespace."),
         _col("Created At", "date", desc="CreationTimestamp is a timestamp ...")],
        lambda o, now: [o["metadata"]["name"], o["metadata"].get("creationTimestamp")]))
    rows = []
    for o in objs:
        row = {"cells": rowf(o, now)}
        if include_object == "Object":
            row["object"] = o
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": o.get("metadata", {})}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": list_rv}, "columnDefinitions": cols, "rows": rows}

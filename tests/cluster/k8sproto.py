"""Decode the Kubernetes protobuf wire format for the request bodies real clients send.

kubectl 1.32 encodes typed-client request bodies (auth whoami, auth can-i, create secret,
certificate approve, ...) as application/vnd.kubernetes.protobuf. The envelope is
staging/src/k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go: the magic
"k8s\\x00" followed by a runtime.Unknown {typeMeta{apiVersion=1,kind=2}=1, raw=2,
contentEncoding=3, contentType=4}. Field numbers below come from the generated.proto files
of k8s.io/api (authorization/v1, authentication/v1, certificates/v1, core/v1, rbac/v1) and
k8s.io/apimachinery/pkg/apis/meta/v1. Only decoding: the double always answers JSON, which
client-go accepts whatever it asked for.
"""

import base64
import time

MAGIC = b"k8s\x00"

S, B, I, BOOL, TIME = "string", "bytes", "int", "bool", "time"

SCHEMAS = {
    "Time": {1: ("seconds", I, False), 2: ("nanos", I, False)},
    "ObjectMeta": {1: ("name", S, False), 2: ("generateName", S, False), 3: ("namespace", S, False),
                   5: ("uid", S, False), 6: ("resourceVersion", S, False),
                   7: ("generation", I, False), 8: ("creationTimestamp", TIME, False),
                   11: ("labels", "map:string", False), 12: ("annotations", "map:string", False),
                   14: ("finalizers", S, True)},
    "ExtraValue": {1: ("items", S, True)},
    # authorization.k8s.io/v1
    "ResourceAttributes": {1: ("namespace", S, False), 2: ("verb", S, False), 3: ("group", S, False),
                           4: ("version", S, False), 5: ("resource", S, False),
                           6: ("subresource", S, False), 7: ("name", S, False)},
    "NonResourceAttributes": {1: ("path", S, False), 2: ("verb", S, False)},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", False),
                                    2: ("nonResourceAttributes", "NonResourceAttributes", False)},
    "SubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", False),
                                2: ("nonResourceAttributes", "NonResourceAttributes", False),
                                3: ("user", S, False), 4: ("groups", S, True),
                                5: ("extra", "map:ExtraValue", False), 6: ("uid", S, False)},
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta", False),
                                2: ("spec", "SelfSubjectAccessReviewSpec", False)},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", S, False)},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta", False),
                               2: ("spec", "SelfSubjectRulesReviewSpec", False)},
    "SubjectAccessReview": {1: ("metadata", "ObjectMeta", False),
                            2: ("spec", "SubjectAccessReviewSpec", False)},
    # authentication.k8s.io/v1
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta", False)},
    # certificates.k8s.io/v1
    "CertificateSigningRequestSpec": {1: ("request", B, False), 7: ("signerName", S, False),
                                      8: ("expirationSeconds", I, False), 5: ("usages", S, True),
                                      2: ("username", S, False), 3: ("uid", S, False),
                                      4: ("groups", S, True), 6: ("extra", "map:ExtraValue", False)},
    "CertificateSigningRequestCondition": {1: ("type", S, False), 6: ("status", S, False),
                                           2: ("reason", S, False), 3: ("message", S, False),
                                           4: ("lastUpdateTime", TIME, False),
                                           5: ("lastTransitionTime", TIME, False)},
    "CertificateSigningRequestStatus": {1: ("conditions", "CertificateSigningRequestCondition", True),
                                        2: ("certificate", B, False)},
    "CertificateSigningRequest": {1: ("metadata", "ObjectMeta", False),
                                  2: ("spec", "CertificateSigningRequestSpec", False),
                                  3: ("status", "CertificateSigningRequestStatus", False)},
    # core/v1
    "Secret": {1: ("metadata", "ObjectMeta", False), 2: ("data", "map:bytes", False),
               3: ("type", S, False), 4: ("stringData", "map:string", False),
               5: ("immutable", BOOL, False)},
    "ConfigMap": {1: ("metadata", "ObjectMeta", False), 2: ("data", "map:string", False),
                  3: ("binaryData", "map:bytes", False), 4: ("immutable", BOOL, False)},
    "NamespaceSpec": {1: ("finalizers", S, True)},
    "Namespace": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "NamespaceSpec", False)},
    # rbac.authorization.k8s.io/v1
    "PolicyRule": {1: ("verbs", S, True), 2: ("apiGroups", S, True), 3: ("resources", S, True),
                   4: ("resourceNames", S, True), 5: ("nonResourceURLs", S, True)},
    "Subject": {1: ("kind", S, False), 2: ("apiGroup", S, False), 3: ("name", S, False),
                4: ("namespace", S, False)},
    "RoleRef": {1: ("apiGroup", S, False), 2: ("kind", S, False), 3: ("name", S, False)},
    "ClusterRole": {1: ("metadata", "ObjectMeta", False), 2: ("rules", "PolicyRule", True)},
    "Role": {1: ("metadata", "ObjectMeta", False), 2: ("rules", "PolicyRule", True)},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta", False), 2: ("subjects", "Subject", True),
                           3: ("roleRef", "RoleRef", False)},
    "RoleBinding": {1: ("metadata", "ObjectMeta", False), 2: ("subjects", "Subject", True),
                    3: ("roleRef", "RoleRef", False)},
}


class ProtoError(ValueError):
    pass


def _varint(buf, i):
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ProtoError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ProtoError("varint too long")


def fields(buf):
    """Yield (field_number, wire_type, value) of one message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        fno, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ProtoError("truncated length-delimited field")
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ProtoError("unsupported wire type %d" % wt)
        yield fno, wt, v


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _scalar(typ, wt, v):
    if typ == S:
        return v.decode("utf-8")
    if typ == B:
        return base64.b64encode(v).decode()
    if typ == I:
        return _signed(v)
    if typ == BOOL:
        return bool(v)
    raise ProtoError("bad scalar type %s" % typ)


def decode_message(name, buf):
    schema = SCHEMAS[name]
    out = {}
    for fno, wt, v in fields(buf):
        if fno not in schema:
            continue   # unknown fields are dropped like the real decoder's unknown-field handling
        jname, typ, repeated = schema[fno]
        if typ == TIME:
            t = decode_message("Time", v)
            val = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t.get("seconds", 0)))
        elif typ.startswith("map:"):
            kv = {f: val for f, _, val in fields(v)}
            key = kv.get(1, b"").decode("utf-8")
            vt = typ[4:]
            raw = kv.get(2, b"")
            if vt == "string":
                mv = raw.decode("utf-8")
            elif vt == "bytes":
                mv = base64.b64encode(raw).decode()
            else:
                mv = decode_message(vt, raw).get("items", [])
            out.setdefault(jname, {})[key] = mv
            continue
        elif typ in SCHEMAS:
            val = decode_message(typ, v)
        else:
            val = _scalar(typ, wt, v)
        if repeated:
            out.setdefault(jname, []).append(val)
        else:
            out[jname] = val
    return out


def decode(body):
    """Kubernetes protobuf envelope -> (apiVersion, kind, JSON-like dict)."""
    if not body.startswith(MAGIC):
        raise ProtoError("provided data does not appear to be a protobuf message, expected prefix "
                         "[107 56 115 0]")
    unknown = {f: v for f, _, v in fields(body[len(MAGIC):])}
    tm = {f: v for f, _, v in fields(unknown.get(1, b""))}
    api_version = tm.get(1, b"").decode()
    kind = tm.get(2, b"").decode()
    if kind not in SCHEMAS:
        raise ProtoError("the cluster double cannot decode protobuf for kind %r" % kind)
    obj = decode_message(kind, unknown.get(2, b""))
    out = {"kind": kind, "apiVersion": api_version}
    out.update(obj)
    return out


# -- encoding (used by the selftest to prove the decoder against a known message) -----------

def _enc_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _enc_field(fno, payload):
    return _enc_varint((fno << 3) | 2) + _enc_varint(len(payload)) + payload


def encode_simple(api_version, kind, fields_bytes):
    tm = _enc_field(1, api_version.encode()) + _enc_field(2, kind.encode())
    return MAGIC + _enc_field(1, tm) + _enc_field(2, fields_bytes)

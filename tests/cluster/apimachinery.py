"""Small pieces of k8s.io/apimachinery the double needs: Status errors,
name/label validation, label and field selectors, merge patches, time format.

Error shapes follow staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go
(NewNotFound, NewAlreadyExists, NewForbidden, NewUnauthorized, NewInvalid,
NewConflict, NewMethodNotSupported, NewBadRequest, NewTooManyRequests, ...).
"""

import copy
import re
import time

# ---------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answered as a metav1.Status (or, with text=..., as plain text
    like the Go http.Error paths of the real apiserver)."""

    def __init__(self, code, reason, message, details=None, headers=None, text=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.text = text

    def status(self):
        # field order of metav1.Status as the Go JSON serializer writes it
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": self.message}
        if self.reason:
            st["reason"] = self.reason
        if self.details is not None:
            st["details"] = self.details
        st["code"] = self.code
        return st


def group_resource_string(group, resource):
    # schema.GroupResource.String()
    return resource if not group else "%s.%s" % (resource, group)


def _details(group, resource, name):
    d = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    if resource:
        d["kind"] = resource
    return d


def not_found(group, resource, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (group_resource_string(group, resource), name),
                    _details(group, resource, name))


def already_exists(group, resource, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists'
                    % (group_resource_string(group, resource), name), _details(group, resource, name))


def conflict(group, resource, name, msg):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (group_resource_string(group, resource), name, msg),
                    _details(group, resource, name))


def forbidden(group, resource, name, err):
    # errors.go NewForbidden
    if not group and not resource:
        msg = "forbidden: %s" % err
    elif not name:
        msg = "%s is forbidden: %s" % (group_resource_string(group, resource), err)
    else:
        msg = '%s "%s" is forbidden: %s' % (group_resource_string(group, resource), name, err)
    return ApiError(403, "Forbidden", msg, _details(group, resource, name))


def unauthorized():
    # staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go
    # (filters/authentication.go answers NewUnauthorized("Unauthorized"))
    return ApiError(401, "Unauthorized", "Unauthorized")


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


def method_not_supported(group, resource, action):
    return ApiError(405, "MethodNotAllowed", '%s is not supported on resources of kind "%s"'
                    % (action, group_resource_string(group, resource)),
                    {"group": group, "kind": resource} if group else {"kind": resource})


def invalid(group, kind, name, causes):
    """errors.go NewInvalid: causes = [(field, detail_message)]; kind is the Kind."""
    parts = ["%s: %s" % (f, m) for f, m in causes]
    if len(parts) == 1:
        agg = parts[0]
    else:
        agg = "[" + ", ".join(parts) + "]"
    msg = '%s "%s" is invalid: %s' % (group_resource_string(group, kind), name, agg)
    details = {"name": name, "kind": kind,
               "causes": [{"reason": "FieldValueInvalid" if "Invalid value" in m else
                           ("FieldValueRequired" if "Required value" in m else
                            ("FieldValueNotSupported" if "Unsupported value" in m else
                             "FieldValueForbidden" if "Forbidden" in m else "FieldValueInvalid")),
                           "message": m, "field": f} for f, m in causes]}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", msg, details)


def internal_error(msg):
    return ApiError(500, "InternalError", "Internal error occurred: %s" % msg,
                    {"causes": [{"message": msg}]})


def service_unavailable(msg):
    return ApiError(503, "ServiceUnavailable", msg)


def timeout_error(msg):
    return ApiError(504, "Timeout", msg)


def gone(msg):
    return ApiError(410, "Expired", msg)


def page_not_found():
    # Unknown paths fall through to net/http's NotFound handler: plain text.
    # staging/src/k8s.io/apiserver/pkg/util/notfoundhandler/not_found_handler.go
    return ApiError(404, "NotFound", "404 page not found", text="404 page not found\n")


def too_many_requests_text(retry_after):
    # staging/src/k8s.io/apiserver/pkg/server/filters/maxinflight.go tooManyRequests():
    # http.Error(w, "Too many requests, please try again later.", 429) + Retry-After.
    return ApiError(429, "TooManyRequests", "Too many requests, please try again later.",
                    headers={"Retry-After": str(retry_after)},
                    text="Too many requests, please try again later.\n")


def too_many_requests_status(retry_after):
    # errors.go NewTooManyRequests(message, retryAfterSeconds)
    return ApiError(429, "TooManyRequests", "Too many requests, please try again later.",
                    {"retryAfterSeconds": int(retry_after)},
                    headers={"Retry-After": str(retry_after)})


# ---------------------------------------------------------------- time

def rfc3339(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def parse_rfc3339(s):
    """time.Parse(time.RFC3339, s) -> epoch seconds; ValueError if unparseable."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                     r"([Zz]|[+-]\d{2}:\d{2})", s or "")
    if not m:
        raise ValueError("cannot parse %r as RFC3339" % s)
    import calendar
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    frac = float(m.group(7)) if m.group(7) else 0.0
    ts = calendar.timegm((y, mo, d, h, mi, se, 0, 0, 0)) + frac
    tz = m.group(8)
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        ts -= sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    return ts


def human_duration(seconds):
    # k8s.io/apimachinery/pkg/util/duration HumanDuration (enough of it for tables)
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 60 * 2:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 60 * 3:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    d = h // 24
    if h < 24 * 8:
        return "%dd%dh" % (d, h % 24) if h % 24 else "%dd" % d
    if h < 24 * 365 * 2:
        return "%dd" % d
    return "%dy%dd" % (d // 365, d % 365)


# ---------------------------------------------------------------- validation
# staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go

DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + r")*"
_QNAME_CHAR = r"[A-Za-z0-9]"
_QNAME_EXT = r"[-A-Za-z0-9_.]"
QUALIFIED_NAME = "(" + _QNAME_CHAR + _QNAME_EXT + "*)?" + _QNAME_CHAR
LABEL_VALUE = "((" + _QNAME_CHAR + _QNAME_EXT + "*)?" + _QNAME_CHAR + ")?"


def is_dns1123_subdomain(v):
    errs = []
    if len(v) > 253:
        errs.append("must be no more than 253 characters")
    if not re.fullmatch(DNS1123_SUBDOMAIN, v):
        errs.append("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                    "characters, '-' or '.', and must start and end with an alphanumeric character "
                    "(e.g. 'example.com', regex used for validation is '%s')" % DNS1123_SUBDOMAIN)
    return errs


def is_dns1123_label(v):
    errs = []
    if len(v) > 63:
        errs.append("must be no more than 63 characters")
    if not re.fullmatch(DNS1123_LABEL, v):
        errs.append("a lowercase RFC 1123 label must consist of lower case alphanumeric "
                    "characters or '-', and must start and end with an alphanumeric character "
                    "(e.g. 'my-name',  or '123-abc', regex used for validation is '%s')" % DNS1123_LABEL)
    return errs


def is_path_segment_name(v):
    # apimachinery/pkg/api/validation/path/name.go
    if v in (".", ".."):
        return ['may not be \'%s\'' % v]
    for bad in ("/", "%"):
        if bad in v:
            return ["may not contain '%s'" % bad]
    return []


def is_qualified_name(v):
    errs = []
    parts = v.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + e for e in is_dns1123_subdomain(prefix))
    else:
        return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
                "must start and end with an alphanumeric character (e.g. 'MyName',  or "
                "'my.name',  or '123-abc', regex used for validation is '%s') with an optional "
                "DNS subdomain prefix and '/' (e.g. 'example.com/MyName')" % QUALIFIED_NAME]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if name and not re.fullmatch(QUALIFIED_NAME, name):
        errs.append("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                    "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
                    "or '123-abc', regex used for validation is '%s')" % QUALIFIED_NAME)
    return errs


def is_valid_label_value(v):
    errs = []
    if len(v) > 63:
        errs.append("must be no more than 63 characters")
    if not re.fullmatch(LABEL_VALUE, v):
        errs.append("a valid label must be an empty string or consist of alphanumeric characters, "
                    "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                    "'MyValue',  or 'my_value',  or '12345', regex used for validation is '%s')"
                    % LABEL_VALUE)
    return errs


def validate_object_meta(meta, name_validator, path="metadata"):
    """Returns [(field, message)] like apimachinery ValidateObjectMeta (subset)."""
    causes = []
    name = meta.get("name", "")
    if not name and not meta.get("generateName"):
        causes.append(("%s.name" % path, "Required value: name or generateName is required"))
    elif name:
        for e in name_validator(name):
            causes.append(("%s.name" % path, 'Invalid value: "%s": %s' % (name, e)))
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        causes.append(("%s.labels" % path, "Invalid value: labels must be a map"))
    else:
        for k, v in labels.items():
            for e in is_qualified_name(k):
                causes.append(("%s.labels" % path, 'Invalid value: "%s": %s' % (k, e)))
            if not isinstance(v, str):
                causes.append(("%s.labels" % path, 'Invalid value: %r: must be a string' % (v,)))
                continue
            for e in is_valid_label_value(v):
                causes.append(("%s.labels" % path, 'Invalid value: "%s": %s' % (v, e)))
    ann = meta.get("annotations") or {}
    if isinstance(ann, dict):
        for k in ann:
            for e in is_qualified_name(k.lower()):
                causes.append(("%s.annotations" % path, 'Invalid value: "%s": %s' % (k, e)))
    return causes


# ---------------------------------------------------------------- selectors

def parse_label_selector(s):
    """Subset of labels.Parse: k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b)."""
    reqs = []
    if not s:
        return reqs
    # split on commas not inside parentheses
    depth, cur, parts = 0, "", []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for p in parts:
        p = p.strip()
        if not p:
            raise ValueError("found '', expected: identifier")
        m = re.fullmatch(r"(\S+)\s+(in|notin)\s+\(([^)]*)\)", p)
        if m:
            vals = {v.strip() for v in m.group(3).split(",") if v.strip()}
            reqs.append((m.group(1), m.group(2), vals))
            continue
        for op in ("!=", "==", "="):
            if op in p:
                k, v = p.split(op, 1)
                reqs.append((k.strip(), "!=" if op == "!=" else "=", {v.strip()}))
                break
        else:
            if p.startswith("!"):
                reqs.append((p[1:].strip(), "!", set()))
            else:
                reqs.append((p, "exists", set()))
    return reqs


def label_selector_matches(reqs, labels):
    labels = labels or {}
    for k, op, vals in reqs:
        has = k in labels
        if op == "=" and not (has and labels[k] in vals):
            return False
        if op == "!=" and has and labels[k] in vals:
            return False
        if op == "in" and not (has and labels[k] in vals):
            return False
        if op == "notin" and has and labels[k] in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!" and has:
            return False
    return True


def parse_field_selector(s):
    """fields.ParseSelector subset: a=b, a==b, a!=b, comma separated."""
    reqs = []
    if not s:
        return reqs
    for p in s.split(","):
        p = p.strip()
        if not p:
            continue
        for op in ("!=", "==", "="):
            if op in p:
                k, v = p.split(op, 1)
                reqs.append((k.strip(), "!=" if op == "!=" else "=", v.strip()))
                break
        else:
            raise ValueError("invalid selector: '%s'; can't understand '%s'" % (s, p))
    return reqs


def field_value(obj, field):
    cur = obj
    for part in field.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def field_selector_matches(reqs, obj):
    for k, op, v in reqs:
        actual = field_value(obj, k)
        if op == "=" and actual != v:
            return False
        if op == "!=" and actual == v:
            return False
    return True


def field_selector_exact_name(reqs):
    for k, op, v in reqs:
        if k == "metadata.name" and op == "=":
            return v
    return None


# ---------------------------------------------------------------- patches

def json_merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = json_merge_patch(out.get(k), v)
    return out


# patchMergeKey of the list fields the double's clients patch
# (k8s.io/api/core/v1/types.go: NodeStatus.Conditions, NodeStatus.Addresses
# `patchStrategy:"merge" patchMergeKey:"type"`).
SMP_MERGE_KEYS = {"conditions": "type", "addresses": "type", "subjects": None}


def strategic_merge_patch(target, patch, key=None):
    """A subset of strategic merge patch: maps merge, lists with a known merge key
    merge by that key, other lists replace, null deletes, $patch: replace/delete honoured."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    out = dict(target)
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and SMP_MERGE_KEYS.get(k) and isinstance(out.get(k), list):
            mk = SMP_MERGE_KEYS[k]
            merged = [copy.deepcopy(x) for x in out[k]]
            for item in v:
                if not isinstance(item, dict) or mk not in item:
                    merged.append(copy.deepcopy(item))
                    continue
                idx = next((i for i, x in enumerate(merged)
                            if isinstance(x, dict) and x.get(mk) == item[mk]), None)
                if item.get("$patch") == "delete":
                    if idx is not None:
                        merged.pop(idx)
                elif idx is None:
                    merged.append({a: b for a, b in item.items() if not a.startswith("$")})
                else:
                    merged[idx] = strategic_merge_patch(merged[idx], item)
            out[k] = merged
        elif isinstance(v, dict):
            out[k] = strategic_merge_patch(out.get(k), v, k)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError("invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(target, ops):
    """RFC 6902 (add, remove, replace, test, move, copy)."""
    doc = copy.deepcopy(target)
    if not isinstance(ops, list):
        raise ValueError("json patch must be a list of operations")

    def resolve(parts):
        cur = doc
        for p in parts[:-1]:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur, parts[-1]

    def get(parts):
        cur = doc
        for p in parts:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur

    for op in ops:
        kind = op.get("op")
        parts = _pointer(op.get("path", ""))
        try:
            if kind in ("add", "replace"):
                parent, last = resolve(parts)
                val = copy.deepcopy(op.get("value"))
                if isinstance(parent, list):
                    if last == "-":
                        parent.append(val)
                    elif kind == "add":
                        parent.insert(int(last), val)
                    else:
                        parent[int(last)] = val
                else:
                    if kind == "replace" and last not in parent:
                        raise ValueError("replace operation does not apply: doc is missing key: %s"
                                         % op.get("path"))
                    parent[last] = val
            elif kind == "remove":
                parent, last = resolve(parts)
                if isinstance(parent, list):
                    parent.pop(int(last))
                else:
                    del parent[last]
            elif kind == "test":
                if get(parts) != op.get("value"):
                    raise ValueError("testing value %s failed" % op.get("path"))
            elif kind in ("move", "copy"):
                val = copy.deepcopy(get(_pointer(op.get("from", ""))))
                if kind == "move":
                    fparent, flast = resolve(_pointer(op["from"]))
                    if isinstance(fparent, list):
                        fparent.pop(int(flast))
                    else:
                        del fparent[flast]
                parent, last = resolve(parts)
                if isinstance(parent, list):
                    parent.insert(len(parent) if last == "-" else int(last), val)
                else:
                    parent[last] = val
            else:
                raise ValueError("Unexpected kind: %s" % kind)
        except (KeyError, IndexError, TypeError) as exc:
            raise ValueError("%s operation does not apply: %s" % (kind, exc)) from exc
    return doc

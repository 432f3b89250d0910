"""A fake kube-apiserver: real TLS, the real handler-chain order, JSON only.

Handler chain order (staging/src/k8s.io/apiserver/pkg/server/config.go
DefaultBuildHandlerChain): authentication -> max-in-flight / priority&fairness
-> authorization -> (routing, admission, storage). Request attributes come from
staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go.
"""

import base64
import binascii
import copy
import http.server
import json
import re
import socket
import socketserver
import ssl
import threading
import time
import urllib.parse
import uuid

import yaml

import apimachinery as am
import auth
import k8sproto
import pki
import resources as R

MAX_BODY = 3 * 1024 * 1024          # apiserver's max JSON request body (3 MB)
MAX_WATCH_SECONDS = 600
NAMESPACE_SUBRESOURCES = {"status", "finalize"}


class RequestInfo:
    def __init__(self):
        self.resource_request = False
        self.path = ""
        self.verb = ""
        self.api_prefix = ""
        self.group = ""
        self.version = ""
        self.namespace = ""
        self.resource = ""
        self.subresource = ""
        self.name = ""
        self.parts = []


def request_info(method, path, query):
    """requestinfo.go NewRequestInfo."""
    ri = RequestInfo()
    ri.path = path
    ri.verb = method.lower()
    parts = [p for p in path.strip("/").split("/")] if path.strip("/") else []
    if len(parts) < 2 or parts[0] not in ("api", "apis"):
        return ri
    ri.api_prefix = parts[0]
    cur = parts[1:]
    if ri.api_prefix == "apis":
        if len(cur) < 2:
            return ri
        ri.group = cur[0]
        cur = cur[1:]
    ri.version = cur[0]
    cur = cur[1:]
    if not cur:
        return ri
    ri.resource_request = True
    ri.verb = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
               "DELETE": "delete"}.get(method, "")
    if cur[0] == "watch":   # legacy /watch/ prefix
        ri.verb = "watch"
        cur = cur[1:]
    if cur and cur[0] == "namespaces":
        if len(cur) > 1:
            ri.namespace = cur[1]
            if len(cur) > 2 and cur[2] not in NAMESPACE_SUBRESOURCES:
                cur = cur[2:]
    ri.parts = cur
    if len(cur) >= 3:
        ri.subresource = cur[2]
    if len(cur) >= 2:
        ri.name = cur[1]
    if cur:
        ri.resource = cur[0]
    if not ri.name and ri.verb == "get":
        ri.verb = "watch" if query.get("watch", [""])[0] in ("1", "true") else "list"
    if ri.verb in ("list", "watch"):
        try:
            reqs = am.parse_field_selector(query.get("fieldSelector", [""])[0])
        except ValueError:
            reqs = []
        name = am.field_selector_exact_name(reqs)
        if name and not am.is_path_segment_name(name):
            ri.name = name
    if not ri.name and ri.verb == "delete":
        ri.verb = "deletecollection"
    return ri


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60                     # idle keep-alive connections are closed after this

    def setup(self):
        raw = self.request
        raw.settimeout(10)
        self.conn_id = self.server.next_conn_id()
        self.request = self.server.sslctx.wrap_socket(raw, server_side=True)
        self.server.track(self.request, True)
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.track(self.request, False)

    def log_message(self, fmt, *args):   # quiet; the double keeps its own request log
        pass

    def version_string(self):
        return ""

    def send_response(self, code, message=None):
        # like send_response but without a Server header and with a (skewable) Date header
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string(self.server.api.clock()))

    def _dispatch(self):
        self.server.api.handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class _TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, sslctx, api, family):
        self.address_family = family
        self.sslctx = sslctx
        self.api = api
        self._conns = set()
        self._conns_lock = threading.Lock()
        self._conn_seq = 0
        super().__init__(addr, _Handler)

    def next_conn_id(self):
        """A number per accepted connection, in each request's log entry ("conn"): how many
        TLS handshakes a client made, and which requests shared one."""
        with self._conns_lock:
            self._conn_seq += 1
            return self._conn_seq

    def get_request(self):
        # kube-apiserver (Go's net/http) sets TCP_NODELAY; without it Python's two TLS records
        # per answer wait for the client's delayed ACK, 40 ms a request
        sock, addr = super().get_request()
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return sock, addr

    def track(self, sock, add):
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(sock)

    def close_all(self):
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass   # TLS handshake failures, resets: not interesting here


class ApiServer:
    def __init__(self, store, faults, clock, authn, authz, ca_cert_path, serving_cert, serving_key,
                 host, port, log=None):
        self.store = store
        self.faults = faults
        self.clock = clock
        self.authn = authn
        self.authz = authz
        self.log = log or (lambda msg: None)
        self.stopping = threading.Event()
        self.version_info = {
            "major": "1", "minor": "32", "gitVersion": "v1.32.0-clusterdouble",
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3", "compiler": "gc",
            "platform": "linux/amd64"}
        self.cluster_info_hook = None     # callable(obj, nth_get) -> obj
        self._cluster_info_gets = 0
        self._requests = []
        self._req_lock = threading.Lock()
        self._inflight = 0
        self._recent = []
        self._rl_lock = threading.Lock()

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(serving_cert, serving_key)
        ctx.load_verify_locations(ca_cert_path)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.httpd = _TLSServer((host, port), ctx, self, family)
        self.port = self.httpd.server_address[1]
        self.host = host
        self._thread = None

    # -- lifecycle ------------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="apiserver", daemon=True)
        self._thread.start()

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.close_all()
        self.httpd.server_close()
        with self.store.changed:
            self.store.changed.notify_all()
        if self._thread:
            self._thread.join(timeout=5)

    @property
    def url(self):
        h = "[%s]" % self.host if ":" in self.host else self.host
        return "https://%s:%d" % (h, self.port)

    def reset_cluster_info_count(self):
        with self._req_lock:
            self._cluster_info_gets = 0

    # -- request log ----------------------------------------------------------
    def requests(self):
        with self._req_lock:
            return [dict(r) for r in self._requests]

    def _log_request(self, h):
        """Append the request to the log once. Called before the answer's first byte is
        written, so a client that has read its answer finds its request logged (a test
        reads the log as soon as kubeboot exits); the finally in handle() catches the
        requests that never get an answer (resets, broken pipes)."""
        if getattr(h, "_logged", False):
            return
        h._logged = True
        with self._req_lock:
            self._requests.append(h._entry)

    # -- the handler chain ------------------------------------------------------
    def handle(self, h):
        start = time.time()      # wall clock, not the (skewable) cluster clock
        split = urllib.parse.urlsplit(h.path)
        path = split.path or "/"
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        entry = {"method": h.command, "path": path, "query": split.query, "user": None,
                 "groups": [], "status": None, "time": start, "verb": None,
                 "tls": h.connection.version() if hasattr(h.connection, "version") else None,
                 "conn": getattr(h, "conn_id", None)}
        h._entry = entry
        h._logged = False    # the handler object lives as long as a keep-alive connection
        try:
            body = self._read_body(h)
        except am.ApiError as err:
            self._send_error(h, err)
            h.close_connection = True
            self._log_request(h)
            return
        try:
            if self.faults.applies_to(path):
                if self.faults.reset_fraction and self.faults.roll() < self.faults.reset_fraction:
                    entry["status"] = 0
                    self._reset(h)
                    return
                stall = self.faults.stall_seconds
                if stall:
                    self.stopping.wait(min(float(stall), 300))
                if self.faults.fail_fraction and self.faults.roll() < self.faults.fail_fraction:
                    raise self._injected_failure(int(self.faults.fail_status))
            user = self.authn.authenticate(h.connection.getpeercert(), h.headers.get("Authorization"))
            if user is None:
                raise am.unauthorized()
            entry["user"] = user.name
            entry["groups"] = list(user.groups)
            ri = request_info(h.command, path, query)
            entry["verb"] = ri.verb
            h._user = user
            h._ri = ri
            long_running = ri.verb == "watch"
            self._admit_rate(user, long_running)
            try:
                self._authorize(user, ri, query)
                self._route(h, ri, query, body)
            finally:
                if not long_running:
                    with self._rl_lock:
                        self._inflight -= 1
        except am.ApiError as err:
            self._send_error(h, err)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            h.close_connection = True
        except Exception as exc:   # a bug in the double: answer 500 and say so
            import traceback
            traceback.print_exc()
            self._send_error(h, am.internal_error("cluster double bug: %r" % exc))
        finally:
            if entry["status"] is None:
                entry["status"] = getattr(h, "_status", None)
            self._log_request(h)

    def _reset(self, h):
        h.close_connection = True
        try:
            import struct
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
        except OSError:
            pass

    def _injected_failure(self, code):
        if code == 429:
            return self._too_many()
        reasons = {500: am.internal_error("injected fault"),
                   503: am.service_unavailable("injected fault: the server is currently unable "
                                               "to handle the request"),
                   504: am.timeout_error("injected fault: the server was unable to return a "
                                         "response in the time allotted")}
        if code in reasons:
            return reasons[code]
        return am.ApiError(code, "InternalError", "injected fault (HTTP %d)" % code)

    def _too_many(self):
        ra = self.faults.retry_after_seconds
        if self.faults.rate_limit_body == "status":
            return am.too_many_requests_status(ra)
        return am.too_many_requests_text(ra)

    def _admit_rate(self, user, long_running):
        """maxinflight.go / priority-and-fairness.go: watches are not counted, system:masters
        is exempt, over the limit -> 429 with Retry-After."""
        limit = self.faults.rate_limit
        with self._rl_lock:
            if not long_running:
                self._inflight += 1
            if not limit or long_running:
                return
            if self.faults.rate_limit_exempt_masters and auth.SYSTEM_MASTERS in user.groups:
                return
            now = time.monotonic()
            self._recent = [t for t in self._recent if now - t < 1.0]
            if self._inflight > int(limit) or len(self._recent) >= int(limit):
                self._inflight -= 1
                raise self._too_many()
            self._recent.append(now)

    def _authorize(self, user, ri, query):
        try:
            fsel = am.parse_field_selector(query.get("fieldSelector", [""])[0])
        except ValueError:
            fsel = []
        attrs = auth.Attributes(user, ri.verb, ri.resource_request, ri.group, ri.version,
                                ri.resource, ri.subresource, ri.namespace, ri.name, ri.path,
                                field_selector=fsel)
        if not ri.resource_request:
            attrs.verb = ri.verb  # http verb lower-cased: get, post, put, ...
        allowed, reason = self.authz.authorize(attrs)
        if allowed:
            return
        msg = auth.forbidden_message(attrs)
        if reason:
            msg = "%s: %s" % (msg, reason)
        if ri.resource_request:
            raise am.forbidden(ri.group, ri.resource, ri.name, msg)
        raise am.forbidden("", "", "", msg)

    # -- I/O --------------------------------------------------------------------
    def _read_body(self, h):
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                line = h.rfile.readline(64)
                size = int(line.strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    h.rfile.readline(64)
                    break
                data += h.rfile.read(size)
                h.rfile.readline(64)
                if len(data) > MAX_BODY:
                    raise am.ApiError(413, "RequestEntityTooLarge", "limit is 3145728")
            return data
        n = int(h.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise am.ApiError(413, "RequestEntityTooLarge", "limit is 3145728")
        return h.rfile.read(n) if n else b""

    def _send(self, h, code, body, ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = (json.dumps(body, separators=(",", ":")) + "\n").encode()
        elif isinstance(body, str):
            body = body.encode()
        h._status = code
        h._entry["status"] = code
        self._log_request(h)
        h.send_response(code)
        h.send_header("Audit-Id", str(uuid.uuid4()))
        h.send_header("Cache-Control", "no-cache, private")
        h.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if self.faults.close_paths and re.search(self.faults.close_paths, h._entry["path"]):
            # the server ends the connection after this answer: an HTTP/1.1 load balancer in
            # front of the apiservers, an apiserver restarting, or its idle timeout; for HTTP/2
            # kube-apiserver does it on purpose at random (--goaway-chance,
            # staging/src/k8s.io/apiserver/pkg/server/filters/goaway.go)
            h.send_header("Connection", "close")
            h.close_connection = True
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _send_error(self, h, err):
        try:
            if err.text is not None:
                self._send(h, err.code, err.text, "text/plain; charset=utf-8",
                           dict(err.headers, **{"X-Content-Type-Options": "nosniff"}))
            else:
                self._send(h, err.code, err.status(), headers=err.headers)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            h.close_connection = True

    def _decode(self, h, body):
        ctype = (h.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if not body:
            raise am.bad_request("the body of the request was in an unknown format - accepted "
                                 "media types include: application/json, application/yaml, "
                                 "application/vnd.kubernetes.protobuf")
        if ctype in ("application/json", "application/merge-patch+json",
                     "application/strategic-merge-patch+json", "application/json-patch+json"):
            try:
                return json.loads(body)
            except ValueError as exc:
                raise am.bad_request("json: cannot unmarshal request body: %s" % exc)
        if ctype == "application/vnd.kubernetes.protobuf":
            try:
                return k8sproto.decode(body)
            except (k8sproto.ProtoError, UnicodeDecodeError, KeyError) as exc:
                raise am.bad_request("failed to decode protobuf body: %s" % exc)
        if ctype in ("application/yaml", "application/apply-patch+yaml"):
            try:
                return yaml.safe_load(body)
            except yaml.YAMLError as exc:
                raise am.bad_request("error converting YAML to JSON: %s" % exc)
        raise am.ApiError(415, "UnsupportedMediaType",
                          'the body of the request was in an unknown format - accepted media '
                          'types include: application/json, application/yaml, '
                          'application/vnd.kubernetes.protobuf (got "%s")' % ctype)

    def _check_accept(self, h):
        acc = h.headers.get("Accept") or "*/*"
        if "json" in acc or "*/*" in acc or "application/*" in acc or "yaml" in acc:
            return
        raise am.ApiError(406, "NotAcceptable", "only the following media types are accepted: "
                          "application/json, application/yaml (the cluster double does not speak "
                          "protobuf)")

    # -- routing ----------------------------------------------------------------
    def _route(self, h, ri, query, body):
        if not ri.resource_request:
            return self._non_resource(h, ri, query)
        self._check_accept(h)
        res = R.find(ri.group, ri.version, ri.resource)
        if res is None or (res.name == "selfsubjectreviews" and self.faults.disable_selfsubjectreview):
            raise am.page_not_found()
        if ri.subresource and ri.subresource not in res.subresources:
            raise am.page_not_found()
        if res.namespaced and not ri.namespace and ri.verb not in ("list", "watch"):
            raise am.page_not_found()
        if not res.namespaced and ri.namespace and res.name != "namespaces":
            raise am.page_not_found()
        if ri.verb not in res.verbs and not (ri.subresource and ri.verb in ("get", "update", "patch")):
            raise am.method_not_supported(res.group, res.name, ri.verb)
        if ri.verb == "deletecollection":
            raise am.method_not_supported(res.group, res.name, "deletecollection")
        if query.get("dryRun"):
            raise am.bad_request("dryRun is not supported by the cluster double")
        # namespaces are cluster-scoped objects even though RequestInfo carries their name as
        # the namespace (for authorization)
        ri.store_ns = ri.namespace if res.namespaced else ""
        handler = {"get": self._get, "list": self._list, "watch": self._watch,
                   "create": self._create, "update": self._update, "patch": self._patch,
                   "delete": self._delete}[ri.verb]
        return handler(h, ri, res, query, body)

    def _non_resource(self, h, ri, query):
        p = ri.path.rstrip("/") or "/"
        if h.command not in ("GET", "HEAD"):
            raise am.page_not_found()
        if p == "/version":
            return self._send(h, 200, self.version_info)
        if p in ("/healthz", "/livez", "/readyz") or p.startswith(("/healthz/", "/livez/", "/readyz/")):
            return self._send(h, 200, "ok", "text/plain; charset=utf-8",
                              {"X-Content-Type-Options": "nosniff"})
        if p == "/api":
            return self._send(h, 200, R.api_versions("%s:%d" % (self.host, self.port)))
        if p == "/apis":
            return self._send(h, 200, R.api_group_list())
        parts = p.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2 and parts[1] == "v1":
            return self._send(h, 200, R.api_resource_list("", "v1"))
        if parts[0] == "apis" and len(parts) == 2 and parts[1] in R.GROUPS and parts[1]:
            return self._send(h, 200, R.api_group(parts[1]))
        if parts[0] == "apis" and len(parts) == 3 and R.GROUPS.get(parts[1]) == parts[2]:
            hidden = ("selfsubjectreviews",) if self.faults.disable_selfsubjectreview else ()
            return self._send(h, 200, R.api_resource_list(parts[1], parts[2], hidden))
        if p == "/openapi/v3":
            return self._send(h, 200, openapi_v3_root())
        if p.startswith("/openapi/v3/"):
            doc = openapi_v3_doc(p[len("/openapi/v3/"):])
            if doc is not None:
                return self._send(h, 200, doc)
        raise am.page_not_found()

    # -- generic verbs ----------------------------------------------------------
    def _wants_table(self, h):
        return "as=Table" in (h.headers.get("Accept") or "")

    def _obj_out(self, res, obj):
        obj.setdefault("kind", res.kind)
        obj.setdefault("apiVersion", res.api_version)
        # apiVersion/kind first, like the Go serializer
        return dict([("kind", obj.pop("kind")), ("apiVersion", obj.pop("apiVersion"))] +
                    list(obj.items()))

    def _get(self, h, ri, res, query, body):
        if res.namespaced:
            self._require_ns(ri.namespace)
        obj = self.store.get(res.gr, ri.store_ns, ri.name)
        if (res.name == "configmaps" and ri.namespace == "kube-public" and ri.name == "cluster-info"
                and self.cluster_info_hook):
            with self._req_lock:
                self._cluster_info_gets += 1
                n = self._cluster_info_gets
            obj = self.cluster_info_hook(obj, n)
        obj = self._obj_out(res, obj)
        if self._wants_table(h) and not ri.subresource:
            t = R.table(res, [obj], obj["metadata"]["resourceVersion"],
                        query.get("includeObject", ["Metadata"])[0], self.clock())
            return self._send(h, 200, t, "application/json;as=Table;v=v1;g=meta.k8s.io")
        return self._send(h, 200, obj)

    def _require_ns(self, ns):
        if ns and self.store.peek("namespaces", "", ns) is None:
            raise am.not_found("", "namespaces", ns)

    def _selectors(self, res, query):
        try:
            lreqs = am.parse_label_selector(query.get("labelSelector", [""])[0])
        except ValueError as exc:
            raise am.bad_request("unable to parse requirement: %s" % exc)
        try:
            freqs = am.parse_field_selector(query.get("fieldSelector", [""])[0])
        except ValueError as exc:
            raise am.bad_request(str(exc))
        for k, _, _ in freqs:
            if k not in res.fields and k not in ("metadata.name", "metadata.namespace"):
                raise am.bad_request('field label not supported: %s' % k)
        return lreqs, freqs

    def _matches(self, lreqs, freqs, obj):
        return (am.label_selector_matches(lreqs, (obj.get("metadata") or {}).get("labels")) and
                am.field_selector_matches(freqs, obj))

    def _list(self, h, ri, res, query, body):
        lreqs, freqs = self._selectors(res, query)
        ns = ri.namespace if res.namespaced else None
        if ns:
            self._require_ns(ns)
        objs, rv = self.store.list(res.name, ns if res.namespaced and ns else None)
        objs = [o for o in objs if self._matches(lreqs, freqs, o)]
        objs, cont, rv = self._page(objs, query, rv)
        objs = [self._obj_out(res, o) for o in objs]
        if self._wants_table(h):
            t = R.table(res, objs, rv, query.get("includeObject", ["Metadata"])[0], self.clock())
            return self._send(h, 200, t, "application/json;as=Table;v=v1;g=meta.k8s.io")
        for o in objs:
            o.pop("kind", None)
            o.pop("apiVersion", None)
        meta = {"resourceVersion": rv}
        if cont:
            meta["continue"] = cont
        return self._send(h, 200, {"kind": res.kind + "List", "apiVersion": res.api_version,
                                   "metadata": meta, "items": objs})

    @staticmethod
    def _page(objs, query, rv):
        """limit/continue as the storage layer pages a list (staging/src/k8s.io/apiserver/pkg/
        storage/etcd3/store.go GetList, .../storage/continue.go): at most `limit` items, and an
        opaque continue token (the last key and the list's resourceVersion) when more remain;
        a malformed token is 400. Unlike etcd, a continued list reads the current objects, not
        a snapshot at the first page's resourceVersion."""
        cont = query.get("continue", [""])[0]
        start = None
        if cont:
            try:
                tok = json.loads(base64.b64decode(cont, validate=True))
                start, rv = (tok["ns"], tok["start"]), str(tok["rv"])
            except Exception:
                raise am.bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                                     "(version meta.k8s.io/v1)")
        key = lambda o: ((o["metadata"].get("namespace") or ""), o["metadata"]["name"])  # noqa: E731
        if start is not None:
            objs = [o for o in objs if key(o) > start]
        try:
            limit = int(query.get("limit", ["0"])[0] or 0)
        except ValueError:
            limit = 0
        if limit <= 0 or len(objs) <= limit:
            return objs, None, rv
        last = key(objs[limit - 1])
        tok = base64.b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "ns": last[0],
                                           "start": last[1]}).encode()).decode()
        return objs[:limit], tok, rv

    def _watch(self, h, ri, res, query, body):
        lreqs, freqs = self._selectors(res, query)
        ns = ri.namespace if res.namespaced and ri.namespace else None
        try:
            timeout = float(query.get("timeoutSeconds", ["1800"])[0] or 1800)
        except ValueError:
            raise am.bad_request("invalid timeoutSeconds")
        deadline = time.monotonic() + min(timeout, MAX_WATCH_SECONDS)
        rv = query.get("resourceVersion", [""])[0]
        initial = []
        with self.store.lock:
            if rv in ("", "0"):
                objs, since = self.store.list(res.name, ns)
                since = int(since)
                initial = [("ADDED", o) for o in objs if self._matches(lreqs, freqs, o)]
            else:
                try:
                    since = int(rv)
                except ValueError:
                    raise am.bad_request('invalid resource version "%s"' % rv)
                try:
                    self.store.events_since(res.name, ns, since)
                except am.ApiError as err:
                    initial = [("ERROR", err.status())]
        h._status = 200
        h._entry["status"] = 200
        self._log_request(h)
        h.send_response(200)
        h.send_header("Audit-Id", str(uuid.uuid4()))
        h.send_header("Cache-Control", "no-cache, private")
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()

        def emit(etype, obj):
            if etype != "ERROR":
                obj = self._obj_out(res, obj)
            data = (json.dumps({"type": etype, "object": obj}, separators=(",", ":")) + "\n").encode()
            h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            h.wfile.flush()

        for etype, obj in initial:
            emit(etype, obj)
        if initial and initial[0][0] == "ERROR":
            h.wfile.write(b"0\r\n\r\n")
            return
        while not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            seen = self.store.current_rv()
            try:
                events = self.store.events_since(res.name, ns, since)
            except am.ApiError as err:
                emit("ERROR", err.status())
                break
            for erv, etype, obj in events:
                since = erv
                if self._matches(lreqs, freqs, obj):
                    emit(etype, obj)
            since = max(since, seen)
            self.store.wait_for_change(seen, min(remaining, 1.0))
        try:
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except OSError:
            h.close_connection = True

    def _status_ok(self, res, obj):
        d = {"name": obj["metadata"]["name"], "kind": res.name, "uid": obj["metadata"].get("uid")}
        if res.group:
            d["group"] = res.group
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": d}

    def _delete(self, h, ri, res, query, body):
        if res.namespaced:
            self._require_ns(ri.namespace)
        obj = self.store.get(res.gr, ri.store_ns, ri.name)
        err = auth.node_restriction(h._user, "DELETE", res.name, "", ri.name, obj, obj)
        if err:
            raise am.forbidden(res.group, res.name, ri.name, err)
        obj = self.store.delete(res.gr, ri.store_ns, ri.name)
        return self._send(h, 200, self._status_ok(res, obj))

    def _check_body(self, res, ri, obj, for_create):
        if not isinstance(obj, dict):
            raise am.bad_request("the object provided is unrecognized (must be of type %s)" % res.kind)
        kind = obj.get("kind")
        av = obj.get("apiVersion")
        if kind and kind != res.kind:
            raise am.bad_request('%s in version "%s" cannot be handled as a %s: no kind "%s" '
                                 'is registered for version "%s"'
                                 % (kind, res.version, res.kind, kind, av or res.api_version))
        if av and av != res.api_version:
            raise am.bad_request('the API version in the data (%s) does not match the expected API '
                                 'version (%s)' % (av, res.api_version))
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise am.bad_request("metadata must be an object")
        bns = meta.get("namespace")
        if res.namespaced and bns and bns != ri.namespace:
            raise am.bad_request("the namespace of the provided object does not match the "
                                 "namespace sent on the request")
        if not for_create and meta.get("name") and meta["name"] != ri.name:
            raise am.bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                 % (meta["name"], ri.name))
        if not for_create:
            meta["name"] = ri.name
        obj["kind"] = res.kind
        obj["apiVersion"] = res.api_version

    def _create(self, h, ri, res, query, body):
        if ri.subresource:
            raise am.method_not_supported(res.group, res.name, "create")
        obj = self._decode(h, body)
        self._check_body(res, ri, obj, True)
        if res.namespaced:
            self._require_ns(ri.namespace)
        special = {"selfsubjectreviews": self._ssr, "selfsubjectaccessreviews": self._ssar,
                   "subjectaccessreviews": self._sar,
                   "selfsubjectrulesreviews": self._ssrr}.get(res.name)
        if special:
            return self._send(h, 201, special(h._user, obj))
        prepare = getattr(self, "_prepare_create_" + res.name, None)
        if prepare:
            prepare(h._user, obj)
        self._validate(res, obj, None)
        err = auth.node_restriction(h._user, "CREATE", res.name, "", obj["metadata"].get("name"),
                                    obj, None)
        if err:
            raise am.forbidden(res.group, res.name, obj["metadata"].get("name", ""), err)
        out = self.store.create(res.gr, ri.store_ns, obj)
        return self._send(h, 201, self._obj_out(res, out))

    def _apply_update(self, h, ri, res, new, old):
        """Common tail of PUT and PATCH: strategy, validation, admission, storage."""
        sub = ri.subresource
        if res.name == "nodes":
            if sub == "status":
                new["spec"] = copy.deepcopy(old.get("spec", {}))    # nodeStatusStrategy
            else:
                new["status"] = copy.deepcopy(old.get("status", {}))  # nodeStrategy
        elif res.name == "namespaces":
            if sub == "":
                new["status"] = copy.deepcopy(old.get("status", {}))
        elif res.name == "certificatesigningrequests":
            self._csr_update(h._user, sub, new, old)
        elif res.name in ("clusterrolebindings", "rolebindings"):
            if new.get("roleRef") != old.get("roleRef"):
                raise am.invalid(res.group, res.kind, ri.name,
                                 [("roleRef", "Invalid value: %s: cannot change roleRef"
                                   % json.dumps(new.get("roleRef")))])
        elif res.name == "secrets":
            self._prepare_create_secrets(h._user, new)
            if old.get("type") and new.get("type") != old.get("type"):
                raise am.invalid(res.group, res.kind, ri.name,
                                 [("type", 'Invalid value: "%s": field is immutable'
                                   % new.get("type"))])
        self._validate(res, new, old)
        err = auth.node_restriction(h._user, "UPDATE", res.name, sub, ri.name, new, old)
        if err:
            raise am.forbidden(res.group, res.name, ri.name, err)
        out = self.store.update(res.gr, ri.store_ns, new)
        return self._send(h, 200, self._obj_out(res, out))

    def _update(self, h, ri, res, query, body):
        obj = self._decode(h, body)
        self._check_body(res, ri, obj, False)
        if res.namespaced:
            self._require_ns(ri.namespace)
        old = self.store.get(res.gr, ri.store_ns, ri.name)
        rv = obj["metadata"].get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise am.conflict(res.group, res.name, ri.name,
                              "the object has been modified; please apply your changes to the "
                              "latest version and try again")
        return self._apply_update(h, ri, res, obj, old)

    def _patch(self, h, ri, res, query, body):
        ctype = (h.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype == "application/apply-patch+yaml":
            raise am.ApiError(415, "UnsupportedMediaType", "server-side apply is not supported by "
                              "the cluster double")
        if ctype not in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                         "application/json-patch+json"):
            raise am.ApiError(415, "UnsupportedMediaType",
                              'the body of the request was in an unknown format - accepted media '
                              'types include: application/json-patch+json, '
                              'application/merge-patch+json, application/apply-patch+yaml')
        patch = self._decode(h, body)
        if res.namespaced:
            self._require_ns(ri.namespace)
        old = self.store.get(res.gr, ri.store_ns, ri.name)
        old_out = self._obj_out(res, copy.deepcopy(old))
        try:
            if ctype == "application/json-patch+json":
                new = am.json_patch(old_out, patch)
            elif ctype == "application/merge-patch+json":
                new = am.json_merge_patch(old_out, patch)
            else:
                new = am.strategic_merge_patch(old_out, patch)
        except ValueError as exc:
            raise am.ApiError(422, "Invalid", str(exc))
        if not isinstance(new, dict):
            raise am.bad_request("patch did not produce an object")
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise am.conflict(res.group, res.name, ri.name,
                              "the object has been modified; please apply your changes to the "
                              "latest version and try again")
        self._check_body(res, ri, new, False)
        return self._apply_update(h, ri, res, new, old)

    # -- per-resource strategies -------------------------------------------------
    def _prepare_create_namespaces(self, user, obj):
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = \
            obj["metadata"].get("name", "")

    def _prepare_create_secrets(self, user, obj):
        # pkg/apis/core/v1/conversion.go: stringData is merged into data on write
        sd = obj.pop("stringData", None)
        if sd:
            data = obj.setdefault("data", {}) or {}
            for k, v in sd.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
            obj["data"] = data
        obj.setdefault("type", "Opaque")

    def _prepare_create_certificatesigningrequests(self, user, obj):
        # pkg/registry/certificates/certificates/strategy.go PrepareForCreate
        spec = obj.setdefault("spec", {})
        spec["username"] = user.name
        spec["groups"] = list(user.groups)
        if user.uid:
            spec["uid"] = user.uid
        else:
            spec.pop("uid", None)
        if user.extra:
            spec["extra"] = user.extra
        else:
            spec.pop("extra", None)
        obj["status"] = {}

    def _csr_update(self, user, sub, new, old):
        new["spec"] = copy.deepcopy(old.get("spec", {}))
        now = am.rfc3339(self.clock())
        if sub == "":
            new["status"] = copy.deepcopy(old.get("status", {}))
            return
        status = new.setdefault("status", {}) or {}
        new["status"] = status
        if sub == "approval":
            # csrApprovalStrategy: only conditions change; admission plugin
            # plugin/pkg/admission/certificates/approval checks "approve" on signers/<name>
            status["certificate"] = (old.get("status") or {}).get("certificate")
            if not status["certificate"]:
                status.pop("certificate")
            if not self._can(user, "approve", "certificates.k8s.io", "signers",
                             old["spec"].get("signerName", "")):
                raise am.forbidden("certificates.k8s.io", "certificatesigningrequests",
                                   old["metadata"]["name"],
                                   'user not permitted to approve requests with signerName "%s"'
                                   % old["spec"].get("signerName"))
        else:
            # csrStatusStrategy keeps Approved/Denied conditions from the old object;
            # plugin/pkg/admission/certificates/signing checks "sign" when a cert is set
            if status.get("certificate") != (old.get("status") or {}).get("certificate"):
                if not self._can(user, "sign", "certificates.k8s.io", "signers",
                                 old["spec"].get("signerName", "")):
                    raise am.forbidden("certificates.k8s.io", "certificatesigningrequests",
                                       old["metadata"]["name"],
                                       'user not permitted to sign requests with signerName "%s"'
                                       % old["spec"].get("signerName"))
            keep = [c for c in (old.get("status") or {}).get("conditions") or []
                    if c.get("type") in ("Approved", "Denied")]
            other = [c for c in status.get("conditions") or []
                     if c.get("type") not in ("Approved", "Denied")]
            status["conditions"] = keep + other
            if not status["conditions"]:
                status.pop("conditions")
        for c in status.get("conditions") or []:
            c.setdefault("lastUpdateTime", now)
            c.setdefault("lastTransitionTime", now)

    def _can(self, user, verb, group, resource, name):
        attrs = auth.Attributes(user, verb, True, group, "v1", resource, "", "", name)
        if self.authz.authorize(attrs)[0]:
            return True
        # "<domain>/*" wildcard (pkg/apis/certificates/helpers.go / admission util)
        if "/" in name:
            attrs.name = name.split("/", 1)[0] + "/*"
            return self.authz.authorize(attrs)[0]
        return False

    def _validate(self, res, obj, old):
        meta = obj.get("metadata") or {}
        validator = {"namespaces": am.is_dns1123_label}.get(res.name, am.is_dns1123_subdomain)
        if res.group == "rbac.authorization.k8s.io":
            validator = am.is_path_segment_name
        if res.name == "certificatesigningrequests":
            # pkg/apis/certificates/validation: "We don't care what you call your certificate
            # requests." (kubelet's node-csr-<base64url digest> has upper case and '_')
            validator = am.is_path_segment_name
        causes = am.validate_object_meta(meta, validator)
        extra = getattr(self, "_validate_" + res.name, None)
        if extra:
            causes += extra(obj, old)
        if causes:
            raise am.invalid(res.group, res.kind, meta.get("name") or meta.get("generateName", ""),
                             causes)

    def _validate_secrets(self, obj, old):
        causes = []
        for k, v in (obj.get("data") or {}).items():
            if not k or not all(c.isalnum() or c in "-._" for c in k):
                causes.append(("data[%s]" % k, 'Invalid value: "%s": a valid config key must consist '
                               "of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
                               "'KEY_NAME',  or 'key-name', regex used for validation is "
                               "'[-._a-zA-Z0-9]+')" % k))
            try:
                base64.b64decode(v or "", validate=True)
            except (binascii.Error, TypeError):
                raise am.bad_request("Secret in version \"v1\" cannot be handled as a Secret: illegal "
                                     "base64 data at input byte 0")
        return causes

    def _validate_configmaps(self, obj, old):
        causes = []
        for k, v in (obj.get("data") or {}).items():
            if not isinstance(v, str):
                raise am.bad_request('ConfigMap in version "v1" cannot be handled as a ConfigMap: '
                                     'json: cannot unmarshal into Go struct field ConfigMap.data of '
                                     'type string')
        return causes

    def _validate_certificatesigningrequests(self, obj, old):
        # pkg/apis/certificates/validation/validation.go (subset)
        causes = []
        spec = obj.get("spec") or {}
        if old is not None:
            conds = [c.get("type") for c in (obj.get("status") or {}).get("conditions") or []]
            if "Approved" in conds and "Denied" in conds:
                causes.append(("status.conditions", 'Invalid value: "Denied": Approved and Denied '
                               'conditions are mutually exclusive'))
            for c in (obj.get("status") or {}).get("conditions") or []:
                if c.get("type") in ("Approved", "Denied") and c.get("status", "True") != "True":
                    causes.append(("status.conditions", 'Unsupported value: "%s": supported values: '
                                   '"True"' % c.get("status")))
            return causes
        req = spec.get("request")
        if not req:
            causes.append(("spec.request", "Required value"))
        else:
            try:
                pki.parse_csr_pem(base64.b64decode(req))
            except Exception as exc:
                causes.append(("spec.request", "Invalid value: []byte{...}: %s" % exc))
        signer = spec.get("signerName", "")
        if not signer:
            causes.append(("spec.signerName", "Required value"))
        elif "/" not in signer:
            causes.append(("spec.signerName", 'Invalid value: "%s": must be a fully qualified '
                           'domain and path of the form \'example.com/signer-name\'' % signer))
        usages = spec.get("usages")
        if not usages:
            causes.append(("spec.usages", "Required value"))
        else:
            seen = set()
            for i, u in enumerate(usages):
                if u not in pki.KNOWN_USAGES:
                    causes.append(("spec.usages[%d]" % i, 'Unsupported value: "%s"' % u))
                if u in seen:
                    causes.append(("spec.usages[%d]" % i, 'Duplicate value: "%s"' % u))
                seen.add(u)
        exp = spec.get("expirationSeconds")
        if exp is not None and (not isinstance(exp, int) or exp < 600):
            causes.append(("spec.expirationSeconds", "Invalid value: %s: may not specify a duration "
                           "less than 600 seconds (10 minutes)" % exp))
        if signer == "kubernetes.io/kube-apiserver-client" and req and not causes:
            # plugin/pkg/admission/certificates/subjectrestriction
            _, orgs = pki.csr_subject(pki.parse_csr_pem(base64.b64decode(req)))
            if auth.SYSTEM_MASTERS in orgs:
                raise am.forbidden("certificates.k8s.io", "certificatesigningrequests",
                                   (obj.get("metadata") or {}).get("name", ""),
                                   'use of kubernetes.io/kube-apiserver-client signer with '
                                   'system:masters group is not allowed')
        return causes

    def _validate_nodes(self, obj, old):
        causes = []
        for i, t in enumerate((obj.get("spec") or {}).get("taints") or []):
            if t.get("effect") not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
                causes.append(("spec.taints[%d].effect" % i, 'Unsupported value: "%s": supported '
                               'values: "NoSchedule", "PreferNoSchedule", "NoExecute"'
                               % t.get("effect", "")))
            for e in am.is_qualified_name(t.get("key", "")):
                causes.append(("spec.taints[%d].key" % i, 'Invalid value: "%s": %s'
                               % (t.get("key", ""), e)))
        return causes

    def _validate_clusterrolebindings(self, obj, old):
        return self._validate_binding(obj)

    def _validate_rolebindings(self, obj, old):
        return self._validate_binding(obj)

    def _validate_binding(self, obj):
        causes = []
        ref = obj.get("roleRef") or {}
        if not ref.get("name"):
            causes.append(("roleRef.name", "Required value"))
        if ref.get("kind") not in ("ClusterRole", "Role"):
            causes.append(("roleRef.kind", 'Unsupported value: "%s": supported values: '
                           '"ClusterRole", "Role"' % ref.get("kind", "")))
        for i, s in enumerate(obj.get("subjects") or []):
            if s.get("kind") not in ("User", "Group", "ServiceAccount"):
                causes.append(("subjects[%d].kind" % i, 'Unsupported value: "%s": supported '
                               'values: "ServiceAccount", "User", "Group"' % s.get("kind", "")))
            if not s.get("name"):
                causes.append(("subjects[%d].name" % i, "Required value"))
        return causes

    # -- reviews -----------------------------------------------------------------
    def _ssr(self, user, obj):
        # pkg/registry/authentication/selfsubjectreview/rest.go
        return {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"creationTimestamp": am.rfc3339(self.clock())},
                "status": {"userInfo": user.info()}}

    def _review_attrs(self, user, spec):
        ra = spec.get("resourceAttributes")
        nra = spec.get("nonResourceAttributes")
        if ra:
            return auth.Attributes(user, ra.get("verb", ""), True, ra.get("group", ""),
                                   ra.get("version", ""), ra.get("resource", ""),
                                   ra.get("subresource", ""), ra.get("namespace", ""),
                                   ra.get("name", ""))
        if nra:
            return auth.Attributes(user, nra.get("verb", ""), False, path=nra.get("path", ""))
        raise am.invalid("authorization.k8s.io", "SelfSubjectAccessReview", "",
                         [("spec.resourceAttributes", "Required value: exactly one of "
                           "nonResourceAttributes or resourceAttributes must be specified")])

    def _review_out(self, kind, obj, attrs):
        allowed, reason = self.authz.authorize(attrs)
        status = {"allowed": allowed}
        if reason:
            status["reason"] = reason
        meta = dict(obj.get("metadata") or {})
        meta.setdefault("creationTimestamp", None)
        return {"kind": kind, "apiVersion": "authorization.k8s.io/v1", "metadata": meta,
                "spec": obj.get("spec") or {}, "status": status}

    def _ssar(self, user, obj):
        return self._review_out("SelfSubjectAccessReview", obj,
                                self._review_attrs(user, obj.get("spec") or {}))

    def _ssrr(self, user, obj):
        # pkg/registry/authorization/selfsubjectrulesreview/rest.go + the authorizers' RulesFor
        ns = (obj.get("spec") or {}).get("namespace", "")
        if not ns:
            raise am.invalid("authorization.k8s.io", "SelfSubjectRulesReview", "",
                             [("spec.namespace", "Required value: no namespace on request")])
        status = self.authz.rules_for(user, ns)
        return {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                "metadata": {"creationTimestamp": None}, "spec": {"namespace": ns},
                "status": status}

    def _sar(self, user, obj):
        spec = obj.get("spec") or {}
        if not spec.get("user") and not spec.get("groups"):
            raise am.invalid("authorization.k8s.io", "SubjectAccessReview", "",
                             [("spec.user", "Invalid value: \"\": at least one of user or group "
                               "must be specified")])
        subject = auth.User(spec.get("user", ""), spec.get("groups") or [], spec.get("uid", ""),
                            spec.get("extra") or {})
        return self._review_out("SubjectAccessReview", obj, self._review_attrs(subject, spec))


# ------------------------------------------------------------------ openapi
# kubectl create/apply/replace with --validate=strict (the default) asks the OpenAPI v3
# document of the group/version whether PATCH accepts the fieldValidation parameter
# (staging/src/k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go); if yes it leaves
# validation to the server. These minimal documents say yes for the kinds served here.

def openapi_v3_root():
    paths = {}
    for g, v in R.GROUPS.items():
        key = "api/v1" if not g else "apis/%s/%s" % (g, v)
        paths[key] = {"serverRelativeURL": "/openapi/v3/%s?hash=clusterdouble" % key}
    return {"paths": paths}


def openapi_v3_doc(key):
    for g, v in R.GROUPS.items():
        k = "api/v1" if not g else "apis/%s/%s" % (g, v)
        if k != key:
            continue
        paths = {}
        for r in R.RESOURCES:
            if r.group != g:
                continue
            prefix = "/" + k + ("/namespaces/{namespace}" if r.namespaced else "")
            gvk = {"group": g, "version": v, "kind": r.kind}
            params = [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"},
                       "uniqueItems": True},
                      {"name": "fieldManager", "in": "query", "schema": {"type": "string"},
                       "uniqueItems": True}]
            paths["%s/%s/{name}" % (prefix, r.name)] = {
                "patch": {"operationId": "patch" + r.kind, "parameters": params,
                          "x-kubernetes-action": "patch",
                          "x-kubernetes-group-version-kind": gvk,
                          "responses": {"200": {"description": "OK"}}},
            }
            paths["%s/%s" % (prefix, r.name)] = {
                "post": {"operationId": "create" + r.kind, "parameters": params,
                         "x-kubernetes-action": "post",
                         "x-kubernetes-group-version-kind": gvk,
                         "responses": {"201": {"description": "Created"}}},
            }
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes (cluster double)",
                                             "version": "v1.32.0"},
                "paths": paths, "components": {"schemas": {}}}
    return None

"""Fake metadata services, one class per cloud, each speaking its platform's real protocol
(paths, required headers, EC2's IMDSv2 token dance) closely enough for kubeboot's
datasources. Standard library only (Debian's /usr/bin/python3).

Every server counts requests per path and has knobs for the failures a real service shows:
  fail503=N   the first N requests answer 503 (with Retry-After when retry_after is set)
  resets=N    the first N requests get their connection reset, no answer
  slow=S, slow_n=N   the first N requests wait S seconds before answering
  override={path: (status, body[, headers])}   a fixed answer for a path (malformed documents, 404s)

Servers bind 169.254.169.254:80 by default: only ever inside a test network namespace
(tests/netns-run --metadata), where that address sits on lo.
"""
import base64
import json
import os
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

METADATA_ADDR = "169.254.169.254"


def assert_in_netns():
    if os.environ.get("KUBEBOOT_IN_NETNS") != "1":
        raise SystemExit("refusing to bind %s outside a test network namespace "
                         "(run through tests/netns-run --metadata)" % METADATA_ADDR)


class Answer:
    def __init__(self, status, body=b"", headers=None):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = headers or {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-metadata"

    def log_message(self, *a):
        pass

    def setup(self):
        super().setup()
        # answer in one segment: without this, Nagle and delayed ACKs add 40 ms a request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self, method):
        fake = self.server.fake
        u = urlsplit(self.path)
        n = fake._count(method, u.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        if n <= fake.resets:
            # an abortive close: the client sees a reset, no answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if n <= fake.slow_n and fake.slow:
            time.sleep(fake.slow)
        if n <= fake.resets + fake.fail503:
            h = {"Retry-After": str(fake.retry_after)} if fake.retry_after is not None else {}
            return self._send(Answer(503, "Service Unavailable\n", h))
        if u.path in fake.override:
            return self._send(Answer(*fake.override[u.path]))
        ans = fake.handle(method, u.path, parse_qs(u.query), self.headers)
        self._send(ans)

    def _send(self, ans):
        try:
            self.send_response(ans.status)
            for k, v in ans.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(ans.body)))
            self.end_headers()
            self.wfile.write(ans.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        self._serve("GET")

    def do_PUT(self):
        self._serve("PUT")

    def do_POST(self):
        self._serve("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client that gives up on an answer (a body over its limit, a timeout) resets
        # the connection: expected here, not worth a traceback
        import sys
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class FakeMetadata:
    """Base: a server on (host, port) that counts requests; subclasses answer them."""

    name = "base"

    def __init__(self, host=METADATA_ADDR, port=80, fail503=0, resets=0, slow=0.0, slow_n=0,
                 retry_after=None, override=None):
        if host == METADATA_ADDR:
            assert_in_netns()
        self.host, self.port = host, port
        self.fail503, self.resets, self.slow, self.slow_n = fail503, resets, slow, slow_n
        self.retry_after = retry_after
        self.override = dict(override or {})
        self.counts = {}
        self.requests = []
        self._lock = threading.Lock()
        self._srv = None
        self._thread = None

    def _count(self, method, path):
        with self._lock:
            self.requests.append((method, path))
            self.counts[path] = self.counts.get(path, 0) + 1
            return len(self.requests)

    @property
    def total(self):
        with self._lock:
            return len(self.requests)

    def handle(self, method, path, query, headers):
        return Answer(404, "not found\n")

    def start(self):
        srv = _Server((self.host, self.port), _Handler, bind_and_activate=False)
        srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.server_bind()
        srv.server_activate()
        srv.fake = self
        srv.timeout = 0.5
        self._srv = srv
        self._thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._srv:
            self._srv.shutdown()
            self._srv.server_close()
            self._thread.join(timeout=5)
            self._srv = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()


def _json(obj, status=200, headers=None):
    return Answer(status, json.dumps(obj, indent=2) + "\n", dict({"Content-Type": "application/json"}, **(headers or {})))


def imds_error_page(code, reason):
    """IMDS's error answers are XHTML pages, not one-liners: ~340-370 bytes (recorded from the
    real service; issue 15). A disabled endpoint (HttpEndpoint=disabled) answers every request
    with the 403 one."""
    return Answer(code, '<?xml version="1.0" encoding="iso-8859-1"?>\n'
                  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
                  '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
                  '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n'
                  ' <head>\n  <title>%d - %s</title>\n </head>\n'
                  ' <body>\n  <h1>%d - %s</h1>\n </body>\n</html>\n' % (code, reason, code, reason),
                  {"Content-Type": "text/html", "Server": "EC2ws"})


class EC2(FakeMetadata):
    """IMDS: IMDSv2 session tokens (PUT /latest/api/token with a TTL header, then the token on
    every request: 401 without it unless imdsv1 is on), tags 404 unless exposed."""

    name = "ec2"

    def __init__(self, instance_id="i-0123456789abcdef0", az="eu-central-1a", ip="10.0.1.23",
                 hostname="ip-10-0-1-23.eu-central-1.compute.internal", tags=None, user_data=None,
                 imdsv1=False, imdsv2=True, disabled=False, **kw):
        super().__init__(**kw)
        self.disabled = disabled  # the instance's metadata endpoint is switched off
        self.instance_id, self.az, self.ip, self.hostname = instance_id, az, ip, hostname
        self.tags = tags  # None: the instance does not expose tags
        self.user_data = user_data
        self.imdsv1, self.imdsv2 = imdsv1, imdsv2
        self.tokens = set()

    def handle(self, method, path, query, headers):
        if self.disabled:
            return imds_error_page(403, "Forbidden")
        if path == "/latest/api/token":
            if not self.imdsv2:
                return Answer(404, "not found\n")
            if method != "PUT":
                return Answer(405, "method not allowed\n")
            if headers.get("X-Forwarded-For"):
                return imds_error_page(403, "Forbidden")
            ttl = headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return Answer(400, "missing or invalid TTL\n")
            tok = base64.urlsafe_b64encode(os.urandom(40)).decode()
            self.tokens.add(tok)
            return Answer(200, tok, {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        if method != "GET":
            return Answer(405, "method not allowed\n")
        tok = headers.get("X-aws-ec2-metadata-token")
        if tok is not None and tok not in self.tokens:
            return Answer(401, "unauthorized\n")
        if tok is None and not self.imdsv1:
            return Answer(401, "unauthorized\n")
        md = {
            "instance-id": self.instance_id,
            "local-hostname": self.hostname,
            "hostname": self.hostname,
            "local-ipv4": self.ip,
            "placement/availability-zone": self.az,
        }
        if path == "/latest/dynamic/instance-identity/document":
            return _json({
                "accountId": "123456789012", "architecture": "x86_64", "availabilityZone": self.az,
                "billingProducts": None, "devpayProductCodes": None, "marketplaceProductCodes": None,
                "imageId": "ami-0abcdef1234567890", "instanceId": self.instance_id,
                "instanceType": "m5.large", "kernelId": None, "pendingTime": "2026-11-01T10:00:00Z",
                "privateIp": self.ip, "ramdiskId": None, "region": self.az[:-1], "version": "2017-09-30",
            })
        if path.startswith("/latest/meta-data/"):
            key = path[len("/latest/meta-data/"):]
            if key in md:
                return Answer(200, md[key])
            if key.rstrip("/") == "tags/instance":
                if self.tags is None:
                    return Answer(404, "not found\n")
                return Answer(200, "\n".join(self.tags))
            if key.startswith("tags/instance/") and self.tags is not None:
                k = key[len("tags/instance/"):]
                if k in self.tags:
                    return Answer(200, self.tags[k])
            return Answer(404, "not found\n")
        if path == "/latest/user-data":
            if self.user_data is None:
                return Answer(404, "not found\n")
            return Answer(200, self.user_data)
        return Answer(404, "not found\n")


class GCE(FakeMetadata):
    """The GCE metadata server: Metadata-Flavor: Google required (403 without), answers
    carry it too; ?recursive=true gives a directory as JSON."""

    name = "gce"

    def __init__(self, project="kb-project", zone="europe-west3-b", name="worker-1",
                 ip="10.156.0.7", attributes=None, **kw):
        super().__init__(**kw)
        self.project, self.zone, self.vm, self.ip = project, zone, name, ip
        self.attributes = dict(attributes or {})

    def instance(self):
        return {
            "attributes": self.attributes,
            "cpuPlatform": "Intel Cascade Lake",
            "description": "",
            "disks": [{"deviceName": "persistent-disk-0", "index": 0, "mode": "READ_WRITE", "type": "PERSISTENT"}],
            "hostname": "%s.%s.c.%s.internal" % (self.vm, self.zone, self.project),
            "id": 4520031799277581759,
            "image": "projects/debian-cloud/global/images/debian-12",
            "machineType": "projects/123456789012/machineTypes/e2-standard-2",
            "name": self.vm,
            "networkInterfaces": [{
                "accessConfigs": [{"externalIp": "203.0.113.7", "type": "ONE_TO_ONE_NAT"}],
                "gateway": "10.156.0.1", "ip": self.ip, "mac": "42:01:0a:9c:00:07", "mtu": 1460,
                "network": "projects/123456789012/networks/default",
                "subnetmask": "255.255.240.0",
            }],
            "tags": ["kubernetes-worker"],
            "zone": "projects/123456789012/zones/%s" % self.zone,
        }

    def handle(self, method, path, query, headers):
        hdr = {"Metadata-Flavor": "Google"}
        if headers.get("Metadata-Flavor") != "Google" or headers.get("X-Forwarded-For"):
            return Answer(403, "Missing Metadata-Flavor:Google header.\n", hdr)
        if path == "/computeMetadata/v1/project/project-id":
            return Answer(200, self.project, dict(hdr, **{"Content-Type": "application/text"}))
        if path in ("/computeMetadata/v1/instance/", "/computeMetadata/v1/instance"):
            if query.get("recursive", [""])[0] != "true":
                return Answer(200, "attributes/\nhostname\nid\nname\nnetwork-interfaces/\nzone\n", hdr)
            return _json(self.instance(), headers=hdr)
        if path.startswith("/computeMetadata/v1/instance/attributes/"):
            k = path.rsplit("/", 1)[1]
            if k in self.attributes:
                return Answer(200, self.attributes[k], hdr)
        return Answer(404, "not found\n", hdr)


class Azure(FakeMetadata):
    """Azure IMDS: Metadata: true required (400 without), api-version required."""

    name = "azure"
    VERSIONS = ["2019-06-01", "2020-09-01", "2021-01-01", "2021-02-01", "2021-05-01", "2021-08-01"]

    def __init__(self, subscription="11111111-2222-3333-4444-555555555555", group="KB-Workers",
                 name="worker-7", computer="worker-7", vmss="", ip="10.240.0.7", tags=None,
                 user_data="", raw_user_data=None, **kw):
        super().__init__(**kw)
        self.subscription, self.group, self.vm, self.computer = subscription, group, name, computer
        self.vmss, self.ip = vmss, ip
        self.tags = dict(tags or {})
        # userData is base64 in the answer; raw_user_data puts text in as it is (bad base64)
        self.user_data = raw_user_data if raw_user_data is not None else base64.b64encode(user_data.encode()).decode()

    def instance(self):
        return {
            "compute": {
                "azEnvironment": "AzurePublicCloud", "location": "westeurope", "name": self.vm,
                "osProfile": {"adminUsername": "azureuser", "computerName": self.computer,
                              "disablePasswordAuthentication": "true"},
                "osType": "Linux", "provider": "Microsoft.Compute",
                "resourceGroupName": self.group,
                "resourceId": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s"
                              % (self.subscription, self.group, self.vm),
                "subscriptionId": self.subscription,
                "tags": ";".join("%s:%s" % kv for kv in self.tags.items()),
                "tagsList": [{"name": k, "value": v} for k, v in self.tags.items()],
                "userData": self.user_data,
                "vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6",
                "vmScaleSetName": self.vmss, "vmSize": "Standard_D2s_v5", "zone": "1",
            },
            "network": {"interface": [{
                "ipv4": {"ipAddress": [{"privateIpAddress": self.ip, "publicIpAddress": ""}],
                         "subnet": [{"address": "10.240.0.0", "prefix": "16"}]},
                "ipv6": {"ipAddress": []}, "macAddress": "000D3AF806EC"}]},
        }

    def handle(self, method, path, query, headers):
        if headers.get("Metadata") != "true" or headers.get("X-Forwarded-For"):
            return _json({"error": "Bad request. Required metadata header not specified"}, 400)
        ver = query.get("api-version", [None])[0]
        if ver is None:
            return _json({"error": "Bad request. api-version was not specified in the request",
                          "newest-versions": self.VERSIONS[-3:]}, 400)
        if ver not in self.VERSIONS:
            return _json({"error": "Bad request. api-version is invalid or was not specified in the request",
                          "newest-versions": self.VERSIONS[-3:]}, 400)
        if path == "/metadata/instance":
            return _json(self.instance())
        return _json({"error": "Not found"}, 404)


class OpenStack(FakeMetadata):
    """Nova's metadata service: openstack/latest and the EC2-compatible tree."""

    name = "openstack"

    def __init__(self, uuid="83679162-1378-4288-a2d4-70e13ec132aa", hostname="worker-3.novalocal",
                 ip="192.168.17.5", meta=None, user_data=None, **kw):
        super().__init__(**kw)
        self.uuid, self.hostname, self.ip = uuid, hostname, ip
        self.meta = dict(meta or {})
        self.user_data = user_data

    def meta_data(self):
        return {"uuid": self.uuid, "name": self.hostname.split(".")[0], "hostname": self.hostname,
                "availability_zone": "nova", "project_id": "d2c6ff0bc1c14d8ba4cbd4e4d8a8f9d7",
                "launch_index": 0, "devices": [], "meta": self.meta,
                "public_keys": {"kb": "ssh-ed25519 AAAAC3Nza kb"}}

    def handle(self, method, path, query, headers):
        if path == "/openstack/latest/meta_data.json":
            return _json(self.meta_data())
        if path == "/openstack/latest/user_data":
            return Answer(200, self.user_data) if self.user_data is not None else Answer(404, "not found\n")
        if path == "/latest/meta-data/local-ipv4":
            return Answer(200, self.ip)
        return Answer(404, "not found\n")

    def config_drive_files(self):
        """The files of a config drive with the same content."""
        files = {"openstack/latest/meta_data.json": json.dumps(self.meta_data()),
                 "ec2/latest/meta-data.json": json.dumps({"local-ipv4": self.ip, "instance-id": "i-00000042",
                                                          "hostname": self.hostname})}
        if self.user_data is not None:
            files["openstack/latest/user_data"] = self.user_data
        return files


class DigitalOcean(FakeMetadata):
    name = "digitalocean"

    def __init__(self, droplet_id=2756294, hostname="worker-5", public_ip="203.0.113.50",
                 private_ip="10.114.0.5", user_data=None, **kw):
        super().__init__(**kw)
        self.droplet_id, self.hostname = droplet_id, hostname
        self.public_ip, self.private_ip, self.user_data = public_ip, private_ip, user_data

    def doc(self):
        d = {
            "droplet_id": self.droplet_id, "hostname": self.hostname, "vendor_data": "#cloud-config\n",
            "public_keys": ["ssh-ed25519 AAAAC3Nza kb"], "auth_key": "x", "region": "fra1",
            "interfaces": {
                "public": [{"ipv4": {"ip_address": self.public_ip, "netmask": "255.255.240.0",
                                     "gateway": "203.0.113.1"},
                            "mac": "d6:9a:2a:8e:2a:01", "type": "public"}],
            },
            "floating_ip": {"ipv4": {"active": False}}, "dns": {"nameservers": ["67.207.67.2"]},
            "tags": ["k8s", "worker"], "features": {"dhcp_enabled": False},
        }
        if self.private_ip:
            d["interfaces"]["private"] = [{"ipv4": {"ip_address": self.private_ip, "netmask": "255.255.240.0",
                                                    "gateway": "0.0.0.0"},
                                           "mac": "d6:9a:2a:8e:2a:02", "type": "private"}]
        if self.user_data is not None:
            d["user_data"] = self.user_data
        return d

    def handle(self, method, path, query, headers):
        if path == "/metadata/v1.json":
            return _json(self.doc())
        if path == "/metadata/v1/user-data" and self.user_data is not None:
            return Answer(200, self.user_data)
        return Answer(404, "not found\n")


class Hetzner(FakeMetadata):
    """Hetzner Cloud: YAML metadata and private networks, text userdata."""

    name = "hetzner"

    def __init__(self, server_id=42424242, hostname="worker-9", public_ip="198.51.100.9",
                 private_ips=("10.0.0.9",), user_data="", **kw):
        super().__init__(**kw)
        self.server_id, self.hostname, self.public_ip = server_id, hostname, public_ip
        self.private_ips, self.user_data = list(private_ips), user_data

    def metadata(self):
        return ("availability-zone: fsn1-dc14\n"
                "hostname: %s\n"
                "instance-id: %d\n"
                "local-ipv4: ''\n"
                "public-ipv4: %s\n"
                "region: eu-central\n"
                "public-keys:\n- ssh-ed25519 AAAAC3Nza kb\n"
                "vendor_data: \"#cloud-config\\nruncmd: []\\n\"\n"
                "network-config:\n  config:\n  - mac_address: 96:00:00:00:00:01\n    name: eth0\n"
                "    subnets:\n    - ipv4: true\n      type: dhcp\n    type: physical\n  version: 1\n"
                % (self.hostname, self.server_id, self.public_ip))

    def networks(self):
        if not self.private_ips:
            return "[]\n"
        return "".join("- ip: %s\n  alias_ips: []\n  interface_num: %d\n  mac_address: 86:00:00:00:00:%02x\n"
                       "  network_id: 1234\n  network_name: kb\n  network: 10.0.0.0/16\n  subnet: 10.0.0.0/24\n"
                       "  gateway: 10.0.0.1\n" % (ip, i + 1, i + 2) for i, ip in enumerate(self.private_ips))

    def handle(self, method, path, query, headers):
        if path == "/hetzner/v1/metadata":
            return Answer(200, self.metadata(), {"Content-Type": "text/yaml"})
        if path == "/hetzner/v1/metadata/private-networks":
            return Answer(200, self.networks(), {"Content-Type": "text/yaml"})
        if path == "/hetzner/v1/metadata/hostname":
            return Answer(200, self.hostname)
        if path == "/hetzner/v1/metadata/instance-id":
            return Answer(200, str(self.server_id))
        if path == "/hetzner/v1/userdata":
            if self.user_data is None:
                return Answer(204)  # a server without user data (recorded from the real service; issue 15)
            return Answer(200, self.user_data)
        return Answer(404, "not found\n")


class AllClouds(FakeMetadata):
    """Every cloud's paths at once, for counting what an unidentified machine asks."""

    name = "all"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.clouds = [c(host=kw.get("host", METADATA_ADDR), port=kw.get("port", 80))
                       for c in (EC2, GCE, Azure, OpenStack, DigitalOcean, Hetzner)]

    def handle(self, method, path, query, headers):
        for c in self.clouds:
            a = c.handle(method, path, query, headers)
            if a.status != 404:
                return a
        return Answer(404, "not found\n")


CLOUDS = {c.name: c for c in (EC2, GCE, Azure, OpenStack, DigitalOcean, Hetzner)}

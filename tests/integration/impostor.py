"""An impostor apiserver for the tests that put someone on the path (test_hardening,
test_handshake): stopped by its test."""
import http.server
import json
import os
import ssl
import threading

import pki
from controllers import jws_detached_signature
from double import cluster_info_kubeconfig

CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info"


class Impostor:
    """An apiserver impostor on 127.0.0.1: real TLS with a certificate of its own CA (or of
    ca=(crt, key), for sans), answering cluster-info with `cluster_info` (a dict) and
    everything else with `status` (code, message). Records every request and whether it
    carried credentials; a client that refuses its certificate sends it none."""

    def __init__(self, workdir, ca=None, sans=("127.0.0.1",)):
        d = os.path.join(workdir, "attacker")
        self.ca_crt, self.ca_key = ca or pki.mint_ca(d, cn="attacker")
        self.crt, self.key = pki.mint_serving_cert(d, self.ca_crt, self.ca_key, list(sans))
        with open(self.ca_crt) as f:
            self.ca_pem = f.read()
        self.cluster_info = None
        self.status = (403, "forbidden")
        self.requests = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(min(n, 1 << 20))
                outer.requests.append({"method": self.command, "path": self.path,
                                       "authorization": self.headers.get("Authorization")})
                if self.path.split("?")[0] == CLUSTER_INFO and outer.cluster_info is not None:
                    code, obj = 200, outer.cluster_info
                else:
                    code, msg = outer.status
                    obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": msg, "reason": "Forbidden", "code": code}
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        class S(http.server.ThreadingHTTPServer):
            daemon_threads = True

        self.srv = S(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.crt, self.key)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.thread.join(5)


def signed_cluster_info(server, bundle_pem, token):
    """kube-public/cluster-info naming server, with bundle_pem, signed for token as the
    bootstrap signer does (anyone who knows the token can)."""
    kc = cluster_info_kubeconfig(server, bundle_pem)
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cluster-info", "namespace": "kube-public"},
            "data": {"kubeconfig": kc, "jws-kubeconfig-" + token[:6]: jws_detached_signature(kc, token[:6], token[7:])}}

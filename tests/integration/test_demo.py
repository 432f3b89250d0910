"""README's first command: scripts/demo's join, as a newcomer sees it.

scripts/demo.py is run as scripts/demo runs it (in a loopback-only namespace), against
this build's kubeboot. It must show each phase, the control plane coming up (cluster-info
forbidden, then served), end in a Ready Node, scrub the token, and never print it."""
import os
import re
import subprocess
import sys

from kbtest import SRC, Tap, assert_in_netns

assert_in_netns()
t = Tap()
p = subprocess.run(["/usr/bin/python3", os.path.join(SRC, "scripts", "demo.py")],
                   capture_output=True, text=True, timeout=300)
out = p.stdout + p.stderr
t.ok(p.returncode == 0, "the demo exits 0", out[-2000:])
for phase in ("gather", "discover", "preflight", "write", "start", "wait", "finish"):
    t.ok("kubeboot[%s]:" % phase in out, "the demo shows the %s phase" % phase)
t.ok("may not be read anonymously yet" in out, "kubeboot is seen waiting for a control plane still coming up")
t.ok(re.search(r"^worker-1\s+Ready\b", out, re.M) is not None, "kubectl shows worker-1 Ready", out[-1500:])
t.ok("joined:       yes, as Node worker-1" in out, "kubeboot status says joined")
t.ok("# token removed by kubeboot after the join" in out, "the ini after the join has no token")
m = re.search(r"bootstrap token ([a-z0-9]{6})\.", out)
secrets = re.findall(r"\b%s\.([a-z0-9]{16})\b" % (m.group(1) if m else "xxxxxx"), out)
t.ok(m is not None and not secrets, "the token's secret is never printed", secrets)
sys.exit(t.done())

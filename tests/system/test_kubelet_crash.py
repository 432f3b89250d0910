"""Issue 15, with real systemd as PID 1: a kubelet that exits 1 at once (as a real one does
on a flag or config it refuses) under the kubelet package's unit (Restart=always,
RestartSec=10). kubeboot must say so in STATUS= and the journal within a minute of
starting it, and end with 69 after a bounded number of restarts, long before wait-timeout."""
import json
import os

import systest
from systest import Machine, Tap, secret_of

systest.need_root("kubelet crash-loop system test")
netns = systest.in_netns("kbcrash-%d" % os.getpid())
from double import ClusterDouble  # noqa: E402

tap = Tap()
lower = systest.cached_root()

# Answers --version as a kubelet does (kubeboot's KubeletVersion check asks it), and
# otherwise fails the way kubelet fails on a configuration it refuses: a klog line, exit 1.
CRASHING_KUBELET = r"""#!/bin/sh
if [ "$1" = --version ]; then echo "Kubernetes v1.32.0"; exit 0; fi
echo 'E1129 20:00:00.000000    1 run.go:72] "command failed" err="failed to validate kubelet flags: the container runtime endpoint address was not specified or empty"' >&2
exit 1
"""

# Observer (test only): records kubeboot's STATUS= texts until its main process has exited,
# then its exit status, then powers off. Bounded: ~4 minutes at most.
WATCH = r"""#!/bin/bash
log=/var/log/kbtest
mkdir -p $log
last=""
for i in $(seq 1 2400); do
  st=$(systemctl show -p StatusText --value kubeboot.service)
  if [ -n "$st" ] && [ "$st" != "$last" ]; then echo "$(date +%s.%N) $st" >> $log/status-texts; last="$st"; fi
  code=$(systemctl show -p ExecMainStatus --value kubeboot.service)
  if [ "$(systemctl show -p ExecMainExitTimestampMonotonic --value kubeboot.service)" != 0 ]; then
    echo "$code" > $log/exit; break
  fi
  sleep 0.1
done
systemctl show -p NRestarts --value kubelet.service > $log/kubelet-restarts
systemctl poweroff
"""

with ClusterDouble(port=6443) as c:
    c.install_seed_rbac()
    c.publish_cluster_info()
    token = c.add_bootstrap_token(description="crash")
    m = Machine(lower, name="kb-crash")
    try:
        m.install_kubeboot_meson()
        m.install_kubelet()
        m.write("/usr/bin/kubelet", CRASHING_KUBELET, 0o755)
        m.write("/usr/local/sbin/kbtest-crash-watch", WATCH, 0o755)
        m.write("/etc/systemd/system/kbtest-crash-watch.service",
                systest.WATCH_SERVICE.replace("/usr/local/sbin/kbtest-watch", "/usr/local/sbin/kbtest-crash-watch"))
        m.systemctl("enable", "kbtest-crash-watch.service")
        m.write("/etc/kubeboot/kubeboot.ini",
                "[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\nwait-timeout = 20m\n[kubelet]\nnode-ip = 127.0.0.1\n"
                % (token, c.url, c.ca_pin), 0o600)
        r = m.boot(netns, timeout=300)
        tap.ok(r.returncode == 0, "the machine powers off cleanly (%.1f s)" % m.boots[-1], r.stderr[-2000:])
        code = m.read("/var/log/kbtest/exit").strip() if m.exists("/var/log/kbtest/exit") else None
        tap.ok(code == "69", "kubeboot ends with 69 (EX_UNAVAILABLE)", code)

        entries = m.journal()
        kb = [e for e in entries if e.get("SYSLOG_IDENTIFIER") == "kubeboot"]
        waits = [systest.usec(e) for e in kb if e.get("KUBEBOOT_PHASE") == "wait"]
        told = [e for e in kb if "kubelet keeps exiting (status 1" in e.get("MESSAGE", "")
                and "journalctl -u kubelet" in e.get("MESSAGE", "")]
        tap.ok(bool(waits) and bool(told), "the journal says kubelet keeps exiting, with its status and where to look",
               [e.get("MESSAGE") for e in kb][-15:])
        if waits and told:
            after = (systest.usec(told[0]) - min(waits)) / 1e6
            tap.ok(after < 60, "reported %.1f s into the wait (within a minute)" % after)
        last = [e.get("MESSAGE", "") for e in kb if int(e.get("PRIORITY", "6")) <= 3]
        tap.ok(bool(last) and "kubelet keeps exiting" in last[-1] and "5 restarts" in last[-1],
               "the final error names the restarts", last[-3:])
        if waits and last:
            ended = [systest.usec(e) for e in kb if int(e.get("PRIORITY", "6")) <= 3]
            took = (max(ended) - min(waits)) / 1e6
            tap.ok(took < 120, "the wait ended after %.0f s, not at wait-timeout (20 min)" % took)
        texts = m.read("/var/log/kbtest/status-texts") if m.exists("/var/log/kbtest/status-texts") else ""
        tap.ok("kubelet keeps exiting (status 1" in texts, "STATUS= says so too", texts[-2000:])
        failure = json.loads(m.read("/var/lib/kubeboot/last-failure")) if m.exists("/var/lib/kubeboot/last-failure") \
            else {}
        tap.ok(failure.get("phase") == "wait" and failure.get("exit") == 69
               and "kubelet keeps exiting" in failure.get("message", ""),
               "the failure is recorded for kubeboot status", failure)
        tap.ok(not m.journal_raw_contains(secret_of(token)), "the journal never contains the token's secret")
    finally:
        m.cleanup()

tap.done()

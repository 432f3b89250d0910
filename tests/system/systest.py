"""Helpers for the system tests: a network namespace holding the cluster double, a copy
(overlay) of the cached Debian root with kubeboot installed as a user would, booted with
systemd as PID 1 under systemd-nspawn, and the journal read back afterwards.

Must run as root. Everything a test starts it stops; every boot is guarded by timeout."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "cluster"))
from kbtest import Tap, secret_of  # noqa: E402

BUILD = os.environ.get("KUBEBOOT_BUILD") or os.path.join(SRC, "build")
BOOT_TIMEOUT = 150

# What the official kubelet package ships (kubernetes/release: cmd/krel/templates/latest/kubelet/kubelet.service).
KUBELET_SERVICE = """[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""

# Test-only: records kubeboot's STATUS= as it changes, audits the kubelet process for the
# token, snapshots `systemctl status kubeboot`, then powers the machine off.
WATCH_SCRIPT = r"""#!/bin/bash
# the secret comes from a root-only file: in argv it would land in the journal's _CMDLINE
secret=$(cat /root/kbtest-secret)
log=/var/log/kbtest
mkdir -p $log
last=""
for i in $(seq 1 1200); do
  st=$(systemctl show -p StatusText --value kubeboot.service)
  if [ -n "$st" ] && [ "$st" != "$last" ]; then echo "$st" >> $log/status-texts; last="$st"; fi
  if systemctl is-active -q kubelet.service; then
    for p in $(pgrep -f /usr/bin/kubelet); do
      if tr '\0' '\n' < /proc/$p/cmdline | grep -qF -- "$secret" || tr '\0' '\n' < /proc/$p/environ | grep -qF -- "$secret"; then
        echo "kubelet pid $p" >> $log/secret-in-proc
      fi
    done
  fi
  if [ -e /var/lib/kubeboot/joined ] && systemctl is-active -q kubelet.service && ! systemctl is-active -q kubeboot.service; then
    sleep 0.5; echo joined > $log/outcome; break
  fi
  if systemctl is-failed -q kubeboot.service; then echo failed > $log/outcome; break; fi
  sleep 0.05
done
for p in /proc/[0-9]*; do
  if tr '\0' '\n' < $p/cmdline 2>/dev/null | grep -qF -- "$secret" || tr '\0' '\n' < $p/environ 2>/dev/null | grep -qF -- "$secret"; then
    echo "$(cat $p/comm) $p" >> $log/secret-in-proc
  fi
done
SYSTEMD_COLORS=0 systemctl status --no-pager -l -n 40 kubeboot.service > $log/systemctl-status 2>&1
systemctl is-enabled kubeboot.service > $log/is-enabled 2>&1
systemctl poweroff
"""

WATCH_SERVICE = """[Unit]
Description=kubeboot system test observer (test only)
DefaultDependencies=no
After=sysinit.target

[Service]
ExecStart=/usr/local/sbin/kbtest-watch

[Install]
WantedBy=sysinit.target
"""


def need_root(tap_name):
    if os.geteuid() != 0:
        print("1..0 # SKIP %s needs root (systemd-nspawn, network namespaces, mounts)" % tap_name)
        sys.exit(77)
    for tool in ("systemd-nspawn", "ip", "debootstrap"):
        if not shutil.which(tool):
            print("1..0 # SKIP %s needs %s (scripts/install-deps)" % (tap_name, tool))
            sys.exit(77)


def in_netns(name):
    """Re-executes this script inside a fresh named network namespace (loopback only),
    so that the double (in this process) and the booted container share it."""
    if os.environ.get("KBTEST_NETNS"):
        return os.environ["KBTEST_NETNS"]
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        env = dict(os.environ, KBTEST_NETNS=name)
        # nsenter, not `ip netns exec`: that one remounts /sys, hiding the cgroup tree nspawn needs
        r = subprocess.run(["nsenter", "--net=/run/netns/" + name, sys.executable] + sys.argv, env=env)
        sys.exit(r.returncode)
    finally:
        subprocess.run(["ip", "netns", "delete", name])


def cached_root():
    r = subprocess.run([os.path.join(HERE, "mkroot")], capture_output=True, text=True, timeout=1200)
    if r.returncode != 0:
        raise RuntimeError("mkroot failed: " + r.stderr)
    return r.stdout.strip()


class Machine:
    """An overlay over the cached root; lower stays pristine, upper holds this test's changes."""

    def __init__(self, lower, name="kb-worker"):
        self.lower = lower
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="kubeboot-sys-")
        self.upper = os.path.join(self.dir, "upper")
        self.work = os.path.join(self.dir, "work")
        self.root = os.path.join(self.dir, "root")
        for d in (self.upper, self.work, self.root):
            os.makedirs(d)
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        "lowerdir=%s,upperdir=%s,workdir=%s" % (lower, self.upper, self.work), self.root], check=True)
        self.boots = []
        # the hostname is the Node's name unless node-name says otherwise
        self.write("/etc/hostname", name + "\n")

    def p(self, rel):
        return os.path.join(self.root, rel.lstrip("/"))

    def write(self, rel, text, mode=0o644):
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    def read(self, rel):
        with open(self.p(rel)) as f:
            return f.read()

    def exists(self, rel):
        return os.path.lexists(self.p(rel))

    def systemctl(self, *args):
        return subprocess.run(["systemctl", "--root=" + self.root] + list(args), capture_output=True, text=True)

    def install_kubeboot_meson(self):
        """kubeboot as a user installs it from source: meson install."""
        r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir", self.root],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("meson install: " + r.stdout + r.stderr)
        self.systemctl("enable", "kubeboot.service")

    def install_kubelet(self):
        shutil.copy(os.path.join(SRC, "tests", "cluster", "kubelet.py"), self.p("/usr/bin/kubelet"))
        os.chmod(self.p("/usr/bin/kubelet"), 0o755)
        self.write("/usr/lib/systemd/system/kubelet.service", KUBELET_SERVICE)
        self.systemctl("enable", "kubelet.service")

    def install_watcher(self, secret):
        self.write("/usr/local/sbin/kbtest-watch", WATCH_SCRIPT, 0o755)
        self.write("/root/kbtest-secret", secret, 0o600)
        self.write("/etc/systemd/system/kbtest-watch.service", WATCH_SERVICE)
        self.systemctl("enable", "kbtest-watch.service")

    def boot(self, netns, timeout=BOOT_TIMEOUT):
        t0 = time.monotonic()
        argv = ["timeout", "-k", "5", str(timeout), "systemd-nspawn", "-q", "-D", self.root, "--boot",
                "--register=no", "--keep-unit", "--console=passive", "--hostname=" + self.name,
                "--network-namespace-path=/run/netns/" + netns]
        r = subprocess.run(argv, capture_output=True, text=True)
        self.boots.append(time.monotonic() - t0)
        return r

    def journal(self, *args):
        """Entries of the container's persistent journal, as dicts."""
        r = subprocess.run(["journalctl", "-D", self.p("/var/log/journal"), "-o", "json", "--no-pager"] + list(args),
                           capture_output=True, text=True)
        return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]

    def journal_raw_contains(self, needle):
        """Searches the journal files' bytes, not just what journalctl shows."""
        needle = needle.encode()
        for d, _, files in os.walk(self.p("/var/log/journal")):
            for f in files:
                with open(os.path.join(d, f), "rb") as fh:
                    if needle in fh.read():
                        return True
        return False

    def grep_tree(self, needle):
        """Files this machine's boots changed (the overlay's upper layer) that hold needle,
        except the observer's own copy of it."""
        needle = needle.encode()
        hits = []
        for d, _, files in os.walk(self.upper):
            for f in files:
                p = os.path.join(d, f)
                if p == os.path.join(self.upper, "root/kbtest-secret"):
                    continue
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                try:
                    with open(p, "rb") as fh:
                        if needle in fh.read():
                            hits.append(p[len(self.upper):])
                except OSError:
                    pass
        return hits

    def cleanup(self):
        subprocess.run(["umount", self.root])
        shutil.rmtree(self.dir, ignore_errors=True)


def usec(e):
    return int(e["__REALTIME_TIMESTAMP"])


def boots_of(entries):
    order = []
    for e in entries:
        b = e.get("_BOOT_ID")
        if b not in order:
            order.append(b)
    return order

"""Helpers for the system tests: a network namespace holding the cluster double, a copy
(overlay) of the cached Debian root with kubeboot installed as a user would, booted with
systemd as PID 1 under systemd-nspawn, and the journal read back afterwards.

Must run as root. Everything a test starts it stops; every boot is guarded by timeout."""
import contextlib
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
from kbtest import Tap, Tree, secret_of  # noqa: E402,F401 (re-exported to the tests)

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

# A stand-in container runtime (test only): systemd listens on containerd's CRI socket and
# accepts connections, which is all kubeboot's CRI preflight check asks; the stand-in
# kubelet makes no CRI calls. And the sysctl a node needs (kubernetes.io/docs/setup/
# production-environment/container-runtimes/#prerequisite-ipv4-forwarding-optional):
# systemd-sysctl applies it on a real boot; nspawn leaves /proc/sys read-only, so
# in_netns() sets it in the test's network namespace.
CRI_STANDIN_SOCKET = """[Unit]
Description=stand-in container runtime socket (test only)

[Socket]
ListenStream=/run/containerd/containerd.sock
Accept=yes

[Install]
WantedBy=sockets.target
"""
CRI_STANDIN_SERVICE = """[Unit]
Description=stand-in container runtime connection (test only)

[Service]
ExecStart=/bin/true
StandardInput=socket
"""
K8S_SYSCTL = "net.ipv4.ip_forward = 1\n"

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


def need_root(tap_name, tools=()):
    """A TAP skip, saying why, without root or one of the tools (besides nspawn's)."""
    if os.geteuid() != 0:
        print("1..0 # SKIP %s needs root (systemd-nspawn, network namespaces, mounts)" % tap_name)
        sys.exit(77)
    for tool in ("systemd-nspawn", "ip", "debootstrap") + tuple(tools):
        if not shutil.which(tool):
            print("1..0 # SKIP %s needs %s (scripts/install-deps)" % (tap_name, tool))
            sys.exit(77)


def journal_entries(journal_dir, *args):
    """Entries of the journal files under journal_dir (journalctl -D ... -o json), as dicts."""
    r = subprocess.run(["journalctl", "-D", journal_dir, "-o", "json", "--no-pager"] + list(args),
                       capture_output=True, text=True)
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


@contextlib.contextmanager
def mounted_image(img, workdir):
    """A guest's disk image mounted read-only at workdir/mnt (unmounted after); yields a
    function from a guest path to the host path."""
    mnt = os.path.join(workdir, "mnt")
    os.makedirs(mnt)
    subprocess.run(["mount", "-o", "loop,ro", img, mnt], check=True)
    try:
        yield lambda rel: os.path.join(mnt, rel.lstrip("/"))
    finally:
        subprocess.run(["umount", mnt])


def need_qemu(tap_name):
    """need_root() plus what a qemu boot of the root needs: qemu, netcat, mkfs.ext4, a kernel."""
    need_root(tap_name, ("qemu-system-x86_64", "nc", "mkfs.ext4"))
    if not qemu_kernel():
        print("1..0 # SKIP %s needs a kernel in /boot (linux-image-amd64)" % tap_name)
        sys.exit(77)


def in_netns(name):
    """Re-executes this script inside a fresh named network namespace (loopback only),
    so that the double (in this process) and the booted container share it. The cached
    root is built (or checked) first, out here: debootstrap needs the network that the
    namespace does not have."""
    if os.environ.get("KBTEST_NETNS"):
        return os.environ["KBTEST_NETNS"]
    root = mkroot()
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        # a node prepared for kubelet forwards IPv4 (kubeboot's preflight checks it)
        subprocess.run(["ip", "netns", "exec", name, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], check=True)
        env = dict(os.environ, KBTEST_NETNS=name, KBTEST_ROOT=root)
        # nsenter, not `ip netns exec`: that one remounts /sys, hiding the cgroup tree nspawn needs
        r = subprocess.run(["nsenter", "--net=/run/netns/" + name, sys.executable] + sys.argv, env=env)
        sys.exit(r.returncode)
    finally:
        subprocess.run(["ip", "netns", "delete", name])


def mkroot(check_only=False):
    """The cached Debian root's path (tests/system/mkroot); on failure, a TAP bail-out
    with mkroot's one-line reason: a missing root is a failure, never a skip."""
    args = [os.path.join(HERE, "mkroot")] + (["--check"] if check_only else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=1200)
    if r.returncode != 0:
        lines = r.stderr.strip().splitlines() or ["mkroot exited %d" % r.returncode]
        print("Bail out! " + lines[-1])
        sys.stdout.flush()
        sys.exit(1)
    return r.stdout.strip()


def cached_root():
    """The root that in_netns() built or checked before entering the namespace."""
    return os.environ.get("KBTEST_ROOT") or mkroot(check_only=True)


class Machine(Tree):
    """An overlay over the cached root; lower stays pristine, upper holds this test's changes."""

    write_mode = 0o644

    def __init__(self, lower, name="kb-worker"):
        self.lower = lower
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="kubeboot-sys-")
        self.upper = os.path.join(self.dir, "upper")
        self.work = os.path.join(self.dir, "work")
        self.root = self.top = os.path.join(self.dir, "root")
        for d in (self.upper, self.work, self.root):
            os.makedirs(d)
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        "lowerdir=%s,upperdir=%s,workdir=%s" % (lower, self.upper, self.work), self.root], check=True)
        self.boots = []
        # the hostname is the Node's name unless node-name says otherwise
        self.write("/etc/hostname", name + "\n")

    def exists(self, rel):
        # lexists: the guest's symlinks (enablement links, /etc/resolv.conf) are absolute
        # and mean its /, so they need not resolve on the host
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
        self.install_runtime()

    def install_runtime(self):
        """What a node image has beside kubelet: a container runtime's socket, IP forwarding."""
        self.write("/etc/systemd/system/kbtest-cri.socket", CRI_STANDIN_SOCKET)
        self.write("/etc/systemd/system/kbtest-cri@.service", CRI_STANDIN_SERVICE)
        self.systemctl("enable", "kbtest-cri.socket")
        self.write("/etc/sysctl.d/99-kubernetes.conf", K8S_SYSCTL)

    def install_watcher(self, secret):
        self.write("/usr/local/sbin/kbtest-watch", WATCH_SCRIPT, 0o755)
        self.write("/root/kbtest-secret", secret, 0o600)
        self.write("/etc/systemd/system/kbtest-watch.service", WATCH_SERVICE)
        self.systemctl("enable", "kbtest-watch.service")

    def prepare_qemu_guest(self, secret):
        """kubeboot (meson install), the stand-in kubelet and the observer, as for nspawn, plus
        what a real boot needs here: DHCP on the NIC (systemd-networkd) and /dev/vda as /."""
        self.install_kubeboot_meson()
        self.install_kubelet()
        self.install_watcher(secret)
        self.write("/etc/systemd/network/80-dhcp.network", "[Match]\nType=ether\n\n[Network]\nDHCP=ipv4\n")
        self.systemctl("enable", "systemd-networkd.service")
        self.write("/etc/fstab", "/dev/vda / ext4 rw 0 1\n")

    def make_disk(self, path, size="1500M"):
        """The root as an ext4 disk image for qemu; the CompletedProcess of mkfs.ext4."""
        return subprocess.run(["mkfs.ext4", "-q", "-L", "kbroot", "-d", self.root, path, size], capture_output=True,
                              text=True)

    def boot(self, netns, timeout=BOOT_TIMEOUT, nspawn_args=()):
        t0 = time.monotonic()
        argv = ["timeout", "-k", "5", str(timeout), "systemd-nspawn", "-q", "-D", self.root, "--boot",
                "--register=no", "--keep-unit", "--console=passive", "--hostname=" + self.name,
                "--network-namespace-path=/run/netns/" + netns] + list(nspawn_args)
        r = subprocess.run(argv, capture_output=True, text=True)
        self.boots.append(time.monotonic() - t0)
        return r

    def journal(self, *args):
        """Entries of the container's persistent journal, as dicts."""
        return journal_entries(self.p("/var/log/journal"), *args)

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

    # --- image integration (issue 6): kubeboot installed as an image build would ---

    def run_in(self, *argv, timeout=120):
        """Runs a command in the root with systemd-nspawn, not booted and without network:
        what an image build's chroot step does (no systemd running, /run/systemd/system
        absent, so maintainer scripts start nothing)."""
        return subprocess.run(["timeout", "-k", "5", str(timeout), "systemd-nspawn", "-q", "-D", self.root,
                               "--register=no", "--keep-unit", "--private-network", "--pipe",
                               "--setenv=DEBIAN_FRONTEND=noninteractive", "--"] + list(argv),
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)

    def dpkg(self, *args, timeout=120):
        return self.run_in("dpkg", *args, timeout=timeout)

    def install_deb(self, deb):
        """dpkg -i of a .deb inside the root, as an image build installs a package."""
        dest = "/var/cache/kbtest/" + os.path.basename(deb)
        os.makedirs(self.p(os.path.dirname(dest)), exist_ok=True)
        shutil.copy(deb, self.p(dest))
        try:
            return self.dpkg("-i", dest)
        finally:
            os.unlink(self.p(dest))

    def remove_libraries(self, prefixes):
        """Deletes every shared library whose file name starts with one of prefixes (the
        overlay records the deletions): a root without them, like Flatcar's userland.
        Returns the names removed."""
        gone = []
        libdir = self.p("/usr/lib/x86_64-linux-gnu")
        for f in sorted(os.listdir(libdir)):
            if any(f.startswith(x) for x in prefixes):
                os.unlink(os.path.join(libdir, f))
                gone.append(f)
        return gone

    def enable_sysext(self):
        """systemd-sysext.service merges /etc/extensions and /var/lib/extensions at boot, and
        Flatcar's ensure-sysext.service reloads the units and starts the targets' units
        again, so that an enabled unit shipped in an extension runs at that boot."""
        self.systemctl("enable", "systemd-sysext.service")
        self.write("/etc/systemd/system/ensure-sysext.service", ENSURE_SYSEXT_SERVICE)
        self.systemctl("enable", "ensure-sysext.service")

    def apply_ignition(self, ign, sources):
        """Ignition's files stage for the subset kubeboot's Butane example uses: files
        (remote sources mapped to local files by sources{url: path}, data URLs decoded,
        mode, default 0644), links (symbolic). Parent directories 0755, as Ignition does."""
        for f in ign.get("storage", {}).get("files", []):
            path = self.p(f["path"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            src = f["contents"]["source"]
            if src.startswith("data:"):
                data = decode_data_url(src, f["contents"].get("compression", ""))
            else:
                with open(sources[src], "rb") as fh:
                    data = fh.read()
            with open(path, "wb") as fh:
                fh.write(data)
            os.chmod(path, f.get("mode", 0o644))
        for link in ign.get("storage", {}).get("links", []):
            assert not link.get("hard"), "hard links are not modelled"
            path = self.p(link["path"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if os.path.lexists(path):
                os.unlink(path)
            os.symlink(link["target"], path)

    def install_kernel_modules(self, kver, modules):
        """Copies a few of the host's kernel modules (relative to /lib/modules/KVER) into
        the root and runs depmod there, so that the guest kernel can load them."""
        for m in modules:
            src = os.path.join("/lib/modules", kver, m)
            dst = self.p(os.path.join("/lib/modules", kver, m))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(src, dst)
        for f in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
            src = os.path.join("/lib/modules", kver, f)
            if os.path.exists(src):
                shutil.copy(src, self.p(os.path.join("/lib/modules", kver, f)))
        subprocess.run(["depmod", "-b", self.root, kver], check=True, capture_output=True)


# Flatcar's ensure-sysext.service as Flatcar ships it (flatcar/init, systemd/system/): the units that
# came with the extensions are loaded, and the targets' dependencies are started again.
ENSURE_SYSEXT_SERVICE = """[Unit]
BindsTo=systemd-sysext.service
After=systemd-sysext.service
DefaultDependencies=no
# Keep in sync with systemd-sysext.service
ConditionDirectoryNotEmpty=|/etc/extensions
ConditionDirectoryNotEmpty=|/run/extensions
ConditionDirectoryNotEmpty=|/var/lib/extensions
ConditionDirectoryNotEmpty=|/usr/local/lib/extensions
ConditionDirectoryNotEmpty=|/usr/lib/extensions
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/systemctl daemon-reload
ExecStart=/usr/bin/systemctl restart --no-block sockets.target timers.target multi-user.target
[Install]
WantedBy=sysinit.target
"""


def decode_data_url(url, compression=""):
    """RFC 2397 data URL (Ignition's), optionally gzip-compressed contents."""
    import base64
    import gzip
    import urllib.parse
    head, _, data = url[len("data:"):].partition(",")
    raw = base64.b64decode(data) if head.endswith(";base64") else urllib.parse.unquote_to_bytes(data)
    return gzip.decompress(raw) if compression == "gzip" else raw


def loop_device_binds():
    """nspawn arguments that give a container the host's loop devices, so that
    systemd-sysext and kubeboot's media reader can attach images inside it."""
    import glob
    args = ["--bind=/dev/loop-control"]
    for dev in sorted(glob.glob("/dev/loop[0-9]*")):
        args.append("--bind=" + dev)
    return args


def qemu_kernel():
    """The newest kernel in /boot with its initrd, or None: (kernel, initrd, version)."""
    import glob
    kernels = sorted(glob.glob("/boot/vmlinuz-*"))
    if not kernels:
        return None
    kernel = kernels[-1]
    return kernel, kernel.replace("vmlinuz", "initrd.img"), kernel.split("vmlinuz-", 1)[1]


def qemu_boot(disks, cmdline, port=6443, guest_server="10.0.2.100", timeout=300):
    """Boots the newest /boot kernel under qemu (KVM if KUBEBOOT_QEMU_KVM=1, else TCG) with
    disks[0] as the root disk (/dev/vda) and the others as further virtio drives, read-only
    (/dev/vdb, ...). The guest reaches guest_server:port through qemu's user network, forwarded
    to a netcat to 127.0.0.1:port in this network namespace. Returns (CompletedProcess,
    seconds, accel)."""
    kernel, initrd, _ = qemu_kernel()
    qemu = ["qemu-system-x86_64", "-m", "1024", "-smp", "2", "-nographic", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd, "-append", cmdline,
            "-drive", "file=%s,format=raw,if=virtio" % disks[0]]
    for d in disks[1:]:
        qemu += ["-drive", "file=%s,format=raw,if=virtio,readonly=on" % d]
    qemu += ["-netdev", "user,id=n0,restrict=on,guestfwd=tcp:%s:%d-cmd:nc 127.0.0.1 %d" % (guest_server, port, port),
             "-device", "virtio-net-pci,netdev=n0"]
    accel = "kvm" if os.path.exists("/dev/kvm") and os.environ.get("KUBEBOOT_QEMU_KVM") == "1" else "tcg"
    t0 = time.monotonic()
    p = subprocess.run(["timeout", "-k", "5", str(timeout), *qemu, "-accel", accel], capture_output=True, text=True)
    return p, time.monotonic() - t0, accel


def usec(e):
    return int(e["__REALTIME_TIMESTAMP"])


def boots_of(entries):
    order = []
    for e in entries:
        b = e.get("_BOOT_ID")
        if b not in order:
            order.append(b)
    return order

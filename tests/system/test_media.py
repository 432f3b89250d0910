"""Issue 6, the bare-metal route: the token, server and CA pin only on config media made by
image/media/mkmedia (no ini on the node, nothing on the kernel command line), kubeboot
installed with meson install.

1. qemu, a real kernel boot: the FAT image as a second virtio drive, the guest's udev
   making /dev/disk/by-label/KUBEBOOT, kubeboot mounting it (the kernel loads vfat).
2. qemu again with the ISO 9660 image instead (a BMC's virtual CD).
3. systemd-nspawn with the ext4 image on a read-only loop device passed into the
   container as /dev/disk/by-label/KUBEBOOT (this host's kernel has no vfat/iso9660).
Each ends in a registered Node; the secret is in no file of the node and no journal
entry."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import systest
from systest import Machine, Tap, secret_of

systest.need_root("media system test")
for tool in ("mkfs.vfat", "mcopy", "xorriso", "mkfs.ext4", "debugfs", "losetup"):
    if not shutil.which(tool):
        print("1..0 # SKIP media system test needs %s (scripts/install-deps)" % tool)
        sys.exit(77)
netns = systest.in_netns("kbmedia-%d" % os.getpid())
sys.path.insert(0, os.path.join(systest.SRC, "tests", "images"))
from double import ClusterDouble  # noqa: E402
import imgbuild  # noqa: E402

GUEST_SERVER = "10.0.2.100"
MEDIUM = "media:/dev/disk/by-label/KUBEBOOT:kubeboot.ini"
# what the guest kernel needs to mount the media (vfat: codepage 437, iocharset ascii)
MODULES = ["kernel/fs/fat/fat.ko", "kernel/fs/fat/vfat.ko", "kernel/fs/nls/nls_cp437.ko",
           "kernel/fs/nls/nls_ascii.ko", "kernel/fs/nls/nls_utf8.ko", "kernel/fs/isofs/isofs.ko"]

tap = Tap()
lower = systest.cached_root()
have_qemu = bool(shutil.which("qemu-system-x86_64") and shutil.which("nc") and systest.qemu_kernel())


def media(b, ini_text, *kinds):
    """mkmedia's images of ini_text, made as an unprivileged user: {kind: path}."""
    out = b.mkdir("media-%d" % len(os.listdir(b.home)))
    ini = os.path.join(out, "node.ini")
    with open(ini, "w") as f:
        f.write(ini_text)
    os.chmod(ini, 0o600)
    b.give(ini)
    paths = {"fat": os.path.join(out, "kubeboot.img"), "iso": os.path.join(out, "kubeboot.iso"),
             "ext4": os.path.join(out, "kubeboot.ext4")}
    args = []
    for k in ("fat", "iso", "ext4"):
        if k in kinds:
            args += ["--" + k, paths[k]]
        elif k != "ext4":
            args.append("--no-" + k)
    r = b.mkmedia(*args, ini)
    os.unlink(ini)
    tap.ok(r.returncode == 0 and secret_of_ini(ini_text) not in r.stdout + r.stderr,
           "mkmedia makes the %s image(s) without root, the token not echoed" % "+".join(kinds), r.stderr)
    return {k: paths[k] for k in kinds}


def secret_of_ini(text):
    return [line.split("=", 1)[1].strip().split(".")[1] for line in text.splitlines() if line.startswith("token")][0]


def files_holding(top, needle):
    needle = needle.encode()
    hits = []
    for d, _, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            if os.path.islink(p) or not os.path.isfile(p) or p.endswith("/root/kbtest-secret"):
                continue
            try:
                with open(p, "rb") as fh:
                    if needle in fh.read():
                        hits.append(p[len(top):])
            except OSError:
                pass
    return hits


def timeline(kind, entries):
    """Prints when, after the kernel started, udev was triggered, kubeboot started, read the
    medium and joined (for the report; TCG is slow and the machine may be busy)."""
    def first(pred):
        for e in entries:
            if pred(e):
                return (int(e["__REALTIME_TIMESTAMP"]) - t0) / 1e6
        return float("nan")
    if not entries:
        return
    t0 = int(entries[0]["__REALTIME_TIMESTAMP"])
    print("# %s: kernel -> udev coldplug done %.1f s, kubeboot started %.1f s, medium read %.1f s, joined %.1f s" % (
        kind,
        first(lambda e: e.get("_PID") == "1" and e.get("UNIT") == "systemd-udev-trigger.service"
              and "Finished" in e.get("MESSAGE", "")),
        first(lambda e: e.get("_PID") == "1" and e.get("UNIT") == "kubeboot.service" and "Starting" in e.get("MESSAGE", "")),
        first(lambda e: "reading the config medium" in e.get("MESSAGE", "")),
        first(lambda e: "joined as Node" in e.get("MESSAGE", ""))), flush=True)


def qemu_route(b, c, kind, name):
    """A qemu boot with the medium of kind (fat, iso) as /dev/vdb."""
    token = c.add_bootstrap_token(description="media-" + kind)
    secret = secret_of(token)
    img = media(b, "[join]\ntoken = %s\nserver = https://%s:6443\nca-cert-hash = %s\n"
                % (token, GUEST_SERVER, c.ca_pin), kind)[kind]
    m = Machine(lower, name=name)
    disk = os.path.join(m.dir, "disk.img")
    try:
        m.prepare_qemu_guest(secret)
        _, _, kver = systest.qemu_kernel()
        m.install_kernel_modules(kver, MODULES)
        tap.ok(not m.grep_tree(secret) and not m.exists("/etc/kubeboot/kubeboot.ini"),
               "%s: the token is nowhere on the node's disk before the boot" % kind)
        r = m.make_disk(disk)
        tap.ok(r.returncode == 0, "%s: the root becomes an ext4 disk image" % kind, r.stderr)
        # nothing of kubeboot's on the command line
        p, took, accel = systest.qemu_boot([disk, img], "root=/dev/vda rw console=ttyS0 quiet")
        tap.ok(p.returncode == 0, "%s: the guest boots, joins and powers off (%s, %.0f s)" % (kind, accel, took),
               p.stdout[-3000:] + p.stderr[-1000:])
        tap.ok(c.node(name) is not None, "%s: Node %s registered at the double" % (kind, name))
        mnt = os.path.join(m.dir, "mnt")
        os.makedirs(mnt)
        subprocess.run(["mount", "-o", "loop,ro", disk, mnt], check=True)
        try:
            entries = systest.journal_entries(os.path.join(mnt, "var/log/journal"))
            ours = [e.get("MESSAGE", "") for e in entries if e.get("SYSLOG_IDENTIFIER") == "kubeboot"]
            tap.ok(any("reading the config medium /dev/disk/by-label/KUBEBOOT" in x for x in ours) and
                   any("joined as Node %s" % name in x for x in ours),
                   "%s: kubeboot read the medium the guest's udev named, and joined" % kind, "\n".join(ours[-25:]))
            timeline(kind, entries)
            with open(os.path.join(mnt, "var/lib/kubeboot/joined")) as f:
                stamp = f.read()
            tap.ok(MEDIUM in stamp, "%s: the joined stamp names the medium as a source" % kind, stamp)
            leaks = [e for e in entries if secret in json.dumps(e)]
            tap.ok(not leaks, "%s: no journal entry holds the secret" % kind, "\n".join(str(e)[:300] for e in leaks[:5]))
            hits = files_holding(mnt, secret)
            tap.ok(not hits, "%s: no file on the node's disk holds the secret after the join" % kind, hits)
        finally:
            subprocess.run(["umount", mnt])
    finally:
        m.cleanup()


with imgbuild.Builder(unprivileged=True) as b:
    # --- 1, 2: qemu ---
    if not have_qemu:
        tap.skip("qemu boots with FAT and ISO media", "needs qemu-system-x86_64, nc and a kernel in /boot")
    else:
        with tempfile.TemporaryDirectory(prefix="kb-double-") as ddir, \
                ClusterDouble(ddir, port=6443, extra_sans=(GUEST_SERVER,)) as c:
            c.install_seed_rbac()
            c.publish_cluster_info(server="https://%s:6443" % GUEST_SERVER)
            qemu_route(b, c, "fat", "kb-media-fat")
            if os.environ.get("KUBEBOOT_MEDIA_ISO", "1") == "1":
                qemu_route(b, c, "iso", "kb-media-iso")
            else:
                tap.skip("iso: a qemu boot with the ISO 9660 image", "KUBEBOOT_MEDIA_ISO=0")

    # --- 3: nspawn, ext4 on a loop device ---
    with tempfile.TemporaryDirectory(prefix="kb-double-") as ddir, ClusterDouble(ddir, port=6443) as c:
        c.install_seed_rbac()
        c.publish_cluster_info()
        token = c.add_bootstrap_token(description="media-ext4")
        secret = secret_of(token)
        img = media(b, "[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\n[kubelet]\nnode-ip = 127.0.0.1\n"
                    % (token, c.url, c.ca_pin), "ext4")["ext4"]
        loop = subprocess.run(["losetup", "--find", "--show", "--read-only", img], capture_output=True, text=True)
        dev = loop.stdout.strip()
        tap.ok(loop.returncode == 0 and dev.startswith("/dev/loop"), "ext4: the image on a read-only loop device",
               loop.stderr)
        m = Machine(lower, name="kb-media-ext4")
        try:
            m.install_kubeboot_meson()
            m.install_kubelet()
            m.install_watcher(secret)
            r = m.boot(netns, nspawn_args=["--bind=%s:/dev/disk/by-label/KUBEBOOT" % dev])
            tap.ok(r.returncode == 0, "ext4: the boot powers off cleanly (%.1f s)" % m.boots[-1], r.stderr[-2000:])
            outcome = m.read("/var/log/kbtest/outcome").strip() if m.exists("/var/log/kbtest/outcome") else None
            tap.ok(outcome == "joined" and c.node("kb-media-ext4") is not None,
                   "ext4: joined, Node kb-media-ext4 registered at the double (%s)" % outcome)
            ours = [e.get("MESSAGE", "") for e in m.journal() if e.get("SYSLOG_IDENTIFIER") == "kubeboot"]
            tap.ok(any("reading the config medium" in x for x in ours) and MEDIUM in m.read("/var/lib/kubeboot/joined"),
                   "ext4: the values came from the medium", "\n".join(ours[-20:]))
            tap.ok(not m.journal_raw_contains(secret) and not m.grep_tree(secret),
                   "ext4: the secret is in no journal file and no file the boot wrote", m.grep_tree(secret))
        finally:
            m.cleanup()
            if dev.startswith("/dev/loop"):
                subprocess.run(["losetup", "-d", dev])
tap.done()

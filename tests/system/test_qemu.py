"""Issue 5: one real kernel boot under qemu of the same Debian root as a disk image, with
the token, server and CA pin on the kernel command line; the guest reaches the cluster
double only through qemu's user network with `guestfwd` to a netcat in this namespace."""
import os

import systest
from systest import Machine, Tap, secret_of

systest.need_qemu("qemu system test")
netns = systest.in_netns("kbqemu-%d" % os.getpid())
from double import ClusterDouble  # noqa: E402

GUEST_SERVER = "10.0.2.100"
tap = Tap()
lower = systest.cached_root()

with ClusterDouble(port=6443, extra_sans=(GUEST_SERVER,)) as c:
    c.install_seed_rbac()
    c.publish_cluster_info(server="https://%s:6443" % GUEST_SERVER)
    token = c.add_bootstrap_token(description="qemu")
    secret = secret_of(token)
    m = Machine(lower, name="kb-qemu")
    img = os.path.join(m.dir, "disk.img")
    try:
        m.prepare_qemu_guest(secret)
        r = m.make_disk(img)
        tap.ok(r.returncode == 0, "the root becomes an ext4 disk image", r.stderr)

        cmdline = ("root=/dev/vda rw console=ttyS0 quiet kubeboot.token=%s kubeboot.server=https://%s:6443 "
                   "kubeboot.ca-cert-hash=%s kubeboot.node-name=kb-qemu" % (token, GUEST_SERVER, c.ca_pin))
        p, took, accel = systest.qemu_boot([img], cmdline, guest_server=GUEST_SERVER)
        tap.ok(p.returncode == 0, "the guest boots, joins and powers off (%s, %.0f s)" % (accel, took),
               p.stdout[-3000:] + p.stderr[-1000:])
        tap.ok(c.node("kb-qemu") is not None, "Node kb-qemu registered at the double")

        with systest.mounted_image(img, m.dir) as g:
            tap.ok(os.path.exists(g("/var/lib/kubeboot/joined")), "the joined stamp exists in the guest's disk")
            tap.ok(not os.path.exists(g("/etc/kubernetes/bootstrap-kubelet.conf")), "the bootstrap kubeconfig is gone")
            with open(g("/var/log/kbtest/is-enabled")) as f:
                tap.ok(f.read().strip() == "disabled", "kubeboot.service is disabled")
            entries = systest.journal_entries(g("/var/log/journal"))
            ours = [e for e in entries if e.get("SYSLOG_IDENTIFIER") == "kubeboot"]
            tap.ok(any("joined as Node kb-qemu" in e.get("MESSAGE", "") for e in ours),
                   "the guest's journal has kubeboot's join", "\n".join(e.get("MESSAGE", "") for e in ours[-20:]))
            tap.ok(any("kernel command line" in e.get("MESSAGE", "") for e in ours),
                   "kubeboot warned that the token sat on the kernel command line")
            # the kernel logs its own command line; kubeboot and everything else must not
            leaks = [e for e in entries if secret in str(e) and e.get("_TRANSPORT") != "kernel"]
            tap.ok(not leaks, "no journal entry but the kernel's own 'Command line:' holds the secret",
                   "\n".join(str(e)[:300] for e in leaks[:5]))
            tap.ok(not os.path.exists(g("/var/log/kbtest/secret-in-proc")),
                   "no process had the secret in argv or environment (/proc/cmdline aside)")
    finally:
        m.cleanup()
tap.done()

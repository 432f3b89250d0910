"""Config media: real FAT (mkfs.vfat + mcopy), ISO 9660 (xorriso) and ext4 images labelled
KUBEBOOT, put at /dev/disk/by-label/KUBEBOOT under --root (kubeboot attaches an image file to
a loop device). Mounted in a private namespace, never left mounted or attached; bad media
are warned about and skipped. Also OpenStack's config drive (label config-2)."""
import os
import subprocess

import dsfixtures as fx
import fakes
import kbtest
from dsfixtures import SERVER, TOKEN

MEDIUM = "/dev/disk/by-label/KUBEBOOT"
SRC = "media:/dev/disk/by-label/KUBEBOOT:kubeboot.ini"


def medium(root, kind, files, label="KUBEBOOT"):
    return fx.build_image(kind, label, files, root.p("/dev/disk/by-label/" + label))


def clean(tap, what, before_mounts, before_loops):
    tap.ok(fx.mounts() == before_mounts and fx.loop_devices() == before_loops,
           "%s: nothing left mounted, no loop device left attached" % what,
           "loops now: %r" % fx.loop_devices())


def main():
    kbtest.assert_in_netns()
    tap = kbtest.Tap()
    m0, l0 = fx.mounts(), fx.loop_devices()
    ini = fx.ini(extra="node-name = metal-7\n[kubelet]\nnode-ip = 10.20.0.7\n")

    for kind, tool in (("ext4", "mkfs.ext4"), ("vfat", "mkfs.vfat"), ("iso9660", "xorriso")):
        what = "%s medium" % kind
        if not fx.have_tool(tool) or (kind == "vfat" and not fx.have_tool("mcopy")):
            tap.skip(what, "%s is not installed" % tool)
            continue
        with kbtest.Root() as root:
            fx.write_dmi(root, "dell")
            medium(root, kind, {"kubeboot.ini": ini})
            r, keys = fx.config(root)
            if fx.kernel_has_fs(kind):
                tap.ok(r.rc == 0 and fx.source(keys, "token") == SRC + ":2" and fx.value(keys, "server") == SERVER
                       and fx.value(keys, "node-ip") == "10.20.0.7" and fx.value(keys, "node-name") == "metal-7",
                       "%s: token, server, node name and IP with their provenance" % what, r)
            else:
                # this kernel cannot mount it: the message says so and gather goes on
                tap.ok(r.rc == 0 and "this kernel has no %s filesystem" % kind in r.err
                       and fx.source(keys, "token") is None,
                       "%s: the kernel lacks %s: warned, skipped (a real boot kernel has it)" % (what, kind), r)
                tap.skip("%s: values read" % what, "this kernel has no %s" % kind)
            clean(tap, what, m0, l0)

    if not fx.kernel_has_fs("ext4"):
        tap.skip("the remaining media tests", "this kernel has no ext4")
        tap.done()

    # precedence: ini < medium < metadata < cmdline
    with kbtest.Root() as root, fakes.EC2(tags={"kubeboot-token": TOKEN}, user_data="[kubelet]\nmax-pods = 30\n") as f:
        fx.write_dmi(root, "ec2")
        root.write("/etc/kubeboot/kubeboot.ini", "[join]\nserver = https://192.0.2.99:6443\n[kubelet]\n"
                   "max-pods = 10\ncluster-domain = ini.example\n")
        medium(root, "ext4", {"kubeboot.ini": "[join]\nserver = %s\n[kubelet]\nmax-pods = 20\n"
                                              "cluster-domain = media.example\nnode-ip = 10.20.0.1\n" % SERVER})
        r, keys = fx.config(root, cmdline="kubeboot.cluster-domain=cmdline.example")
        tap.ok(fx.source(keys, "server") == SRC + ":2", "precedence: the medium over the ini (server)", r)
        tap.ok(fx.value(keys, "max-pods") == 30 and fx.source(keys, "max-pods") == "ec2:user-data:2",
               "precedence: metadata over the medium (max-pods)", r)
        tap.ok(fx.value(keys, "node-ip") == "10.0.1.23", "precedence: instance facts over the medium (node-ip)", r)
        tap.ok(fx.value(keys, "cluster-domain") == "cmdline.example", "precedence: the cmdline over the medium", r)

    # the medium may choose the datasource
    with kbtest.Root() as root, fakes.AllClouds() as f:
        fx.write_dmi(root, "ec2")
        medium(root, "ext4", {"kubeboot.ini": fx.ini(extra="datasource = none\n")})
        r, keys = fx.config(root)
        tap.ok(r.rc == 0 and f.total == 0 and fx.value(keys, "datasource") == "none",
               "datasource=none on the medium: the EC2 DMI is not followed, zero requests", r)

    # bad media: each warned about, naming the medium, and skipped
    bad = [
        ("a malformed kubeboot.ini", {"kubeboot.ini": "[join]\nnot ini at all\n"}, "not a kubeboot ini document (line 2"),
        ("no kubeboot.ini", {"other.txt": "x"}, "the medium has no kubeboot.ini"),
        ("an over-size kubeboot.ini", {"kubeboot.ini": "[join]\n#" + "x" * (64 * 1024) + "\n"},
         "kubeboot.ini: larger than 65536 bytes"),
        ("a directory named kubeboot.ini", {"kubeboot.ini/x": "y"}, "kubeboot.ini: not a regular file"),
    ]
    for what, files, msg in bad:
        with kbtest.Root() as root:
            medium(root, "ext4", files)
            r, keys = fx.config(root, cmdline="kubeboot.token=%s" % TOKEN)
            tap.ok(r.rc == 0 and "media:/dev/disk/by-label/KUBEBOOT" in r.err and msg in r.err
                   and fx.source(keys, "token") == "cmdline",
                   "a medium with %s: warned (%s), gather goes on" % (what, msg), r)
    with kbtest.Root() as root:
        img = root.p(MEDIUM)
        os.makedirs(os.path.dirname(img))
        with open(img, "wb") as f:
            f.write(os.urandom(256 * 1024))
        r, keys = fx.config(root)
        tap.ok(r.rc == 0 and "no FAT, ISO 9660 or ext2/3/4 filesystem" in r.err,
               "random bytes labelled KUBEBOOT: warned, skipped", r)
    with kbtest.Root() as root:
        secret = root.write("/secret.txt", "[join]\ntoken = %s\n" % TOKEN)
        d = root.p("/build")
        os.makedirs(d)
        os.symlink(secret, os.path.join(d, "kubeboot.ini"))
        os.makedirs(os.path.dirname(root.p(MEDIUM)))
        subprocess.run(["mkfs.ext4", "-q", "-L", "KUBEBOOT", "-d", d, root.p(MEDIUM), "4M"], check=True,
                       capture_output=True)
        r, keys = fx.config(root)
        tap.ok(r.rc == 0 and fx.source(keys, "token") is None and "kubeboot.ini: a symbolic link: refused" in r.err,
               "a symlink as kubeboot.ini on the medium is not followed", r)
    clean(tap, "after the bad media", m0, l0)

    # OpenStack's config drive: read instead of the metadata service
    o = fakes.OpenStack(meta={"kubeboot-token": TOKEN}, user_data="[join]\nserver = %s\n" % SERVER)
    for kind in ("ext4", "iso9660", "vfat"):
        if not fx.kernel_has_fs(kind):
            tap.skip("openstack config drive (%s)" % kind, "this kernel has no %s" % kind)
            continue
        with kbtest.Root() as root, o:
            fx.write_dmi(root, "openstack")
            medium(root, kind, o.config_drive_files(), label="config-2")
            n = o.total
            r, keys = fx.config(root)
            tap.ok(r.rc == 0 and o.total == n and fx.source(keys, "token") == "openstack:meta kubeboot-token"
                   and fx.value(keys, "server") == SERVER and fx.value(keys, "node-ip") == "192.168.17.5"
                   and fx.value(keys, "provider-id") == "openstack:///83679162-1378-4288-a2d4-70e13ec132aa",
                   "openstack config drive (%s): everything from the drive, no HTTP request" % kind, r)
    with kbtest.Root() as root, o:
        fx.write_dmi(root, "openstack")
        medium(root, "ext4", {"other": "x"}, label="config-2")
        r, keys = fx.config(root)
        tap.ok(r.rc == 0 and o.total > 0 and fx.value(keys, "server") == SERVER,
               "openstack: a config drive without meta_data.json: the metadata service instead", r)
    clean(tap, "after the config drives", m0, l0)
    tap.done()


if __name__ == "__main__":
    main()

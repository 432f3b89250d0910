"""Fixtures for the datasource tests: DMI/SMBIOS trees as each platform presents them
(/sys/class/dmi/id under a --root), config media images built with the real tools
(mkfs.vfat + mcopy, xorriso, mkfs.ext4), and the shared expectations."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import kbtest  # noqa: E402

TOKEN = "k8sb00.q7w3e9r1t5y2u8i4"
SERVER = "https://192.0.2.10:6443"

# What each platform's firmware says, as ds-identify and the clouds' docs describe it.
DMI = {
    "ec2": {"sys_vendor": "Amazon EC2", "product_name": "m5.large", "bios_vendor": "Amazon EC2",
            "product_uuid": "ec2e1916-9099-7caf-fd21-01234abcdef0",
            "product_serial": "ec2e1916-9099-7caf-fd21-01234abcdef0",
            "chassis_asset_tag": "Amazon EC2", "board_vendor": "Amazon EC2"},
    "ec2-xen": {"sys_vendor": "Xen", "product_name": "HVM domU", "product_version": "4.11.amazon",
                "bios_vendor": "Xen", "product_uuid": "EC2E1916-9099-7CAF-FD21-01234ABCDEF0",
                "product_serial": "ec2e1916-9099-7caf-fd21-01234abcdef0"},
    "gce": {"sys_vendor": "Google", "product_name": "Google Compute Engine", "bios_vendor": "Google",
            "product_serial": "GoogleCloud-0A1B2C3D4E5F60718293A4B5C6D7E8F9", "board_vendor": "Google"},
    "azure": {"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine",
              "bios_vendor": "Microsoft Corporation", "chassis_asset_tag": "7783-7084-3265-9085-8269-3286-77",
              "product_version": "7.0", "board_vendor": "Microsoft Corporation"},
    "openstack": {"sys_vendor": "OpenStack Foundation", "product_name": "OpenStack Nova",
                  "product_version": "27.1.0", "bios_vendor": "SeaBIOS", "chassis_asset_tag": ""},
    # Samsung Cloud Platform is OpenStack identified by its asset tag alone (cloud-init's
    # ds-identify, December 2024); the rest is what a KVM guest without Nova's SMBIOS shows
    "samsung": {"sys_vendor": "QEMU", "product_name": "Standard PC (i440FX + PIIX, 1996)", "bios_vendor": "SeaBIOS",
                "product_version": "pc-i440fx-6.2", "chassis_asset_tag": "Samsung Cloud Platform"},
    "digitalocean": {"sys_vendor": "DigitalOcean", "product_name": "Droplet", "bios_vendor": "DigitalOcean",
                     "product_serial": "2756294"},
    "hetzner": {"sys_vendor": "Hetzner", "product_name": "vServer", "bios_vendor": "Hetzner",
                "product_version": "20171111"},
    # bare metal and local virtualisation: no platform
    "dell": {"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R650", "bios_vendor": "Dell Inc.",
             "product_serial": "7XK2JH3", "chassis_asset_tag": "", "board_vendor": "Dell Inc."},
    "supermicro": {"sys_vendor": "Supermicro", "product_name": "SYS-5019C-MR", "bios_vendor": "American Megatrends Inc.",
                   "product_serial": "0123456789", "chassis_asset_tag": "To be filled by O.E.M.",
                   "board_vendor": "Supermicro"},
    "qemu": {"sys_vendor": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)", "bios_vendor": "SeaBIOS",
             "product_version": "pc-q35-7.2"},
    "vmware": {"sys_vendor": "VMware, Inc.", "product_name": "VMware Virtual Platform",
               "bios_vendor": "Phoenix Technologies LTD", "product_serial": "VMware-56 4d 2b 9f"},
}
BARE_METAL = ["dell", "supermicro", "qemu", "vmware"]


def write_dmi(root, kind):
    d = os.path.join(root.path, "sys/class/dmi/id")
    os.makedirs(d, exist_ok=True)
    for k, v in DMI[kind].items():
        with open(os.path.join(d, k), "w") as f:
            f.write(v + "\n")


def ini(token=TOKEN, server=SERVER, extra=""):
    return "[join]\ntoken = %s\nserver = %s\n%s" % (token, server, extra)


def config(root, cmdline="", timeout=60, verbose=True, extra_args=()):
    """`kubeboot config --json` against root: (Run, parsed keys or None)."""
    args = ["-v"] if verbose else []
    r = kbtest.kubeboot(*args, "config", "--json", *extra_args, root=root, cmdline=cmdline, timeout=timeout)
    keys = None
    if r.rc == 0:
        try:
            keys = json.loads(r.out)["keys"]
        except ValueError:
            pass
    return r, keys


def value(keys, k):
    v = (keys or {}).get(k, {}).get("value")
    return ",".join(v) if isinstance(v, list) else v


def source(keys, k):
    return (keys or {}).get(k, {}).get("source")


def redacted(token):
    tid, sec = token.split(".", 1)
    return tid + "." + "*" * len(sec)


# ---- config media images ----

def have_tool(name):
    return shutil.which(name) is not None


def kernel_has_fs(fstype):
    with open("/proc/filesystems") as f:
        return any(line.split()[-1] == fstype for line in f if line.strip())


def build_image(kind, label, files, path):
    """A filesystem image of kind vfat, iso9660 or ext4 labelled label holding files
    ({relative path: text}), made with the real tools. Returns path."""
    with tempfile.TemporaryDirectory(prefix="kb-media-") as d:
        for rel, text in files.items():
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == "vfat":
            subprocess.run(["mkfs.vfat", "-C", "-n", label, path, "2048"], check=True, capture_output=True)
            dirs = sorted({os.path.dirname(r) for r in files if os.path.dirname(r)})
            for dd in dirs:
                parts = dd.split("/")
                for i in range(1, len(parts) + 1):
                    subprocess.run(["mmd", "-D", "s", "-i", path, "::" + "/".join(parts[:i])], capture_output=True)
            for rel in files:
                subprocess.run(["mcopy", "-i", path, os.path.join(d, rel), "::" + rel], check=True,
                               capture_output=True)
        elif kind == "iso9660":
            subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-V", label, "-o", path, d],
                           check=True, capture_output=True)
        elif kind == "ext4":
            subprocess.run(["mkfs.ext4", "-q", "-F", "-L", label, "-d", d, path, "4M"], check=True,
                           capture_output=True)
        else:
            raise ValueError(kind)
    return path


def loop_devices():
    """The backing files of attached loop devices (to check that none is left behind)."""
    out = []
    for dev in sorted(os.listdir("/sys/block")):
        bf = os.path.join("/sys/block", dev, "loop", "backing_file")
        if os.path.exists(bf):
            with open(bf) as f:
                out.append(f.read().strip())
    return out


def mounts():
    with open("/proc/self/mountinfo") as f:
        return f.read()

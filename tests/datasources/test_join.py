"""The same binary with the same image config joins from each of the seven sources: a real
`kubeboot join` (token discovery, pin, preflight, write) against the cluster double, the
token, server and pin coming from the source alone; the provider ID and node IP land in the
kubelet's files, and the stand-in kubelet registers the Node with them."""
import os
import sys
import tempfile

import dsfixtures as fx
import fakes
import kbtest

sys.path.insert(0, os.path.join(kbtest.SRC, "tests", "cluster"))

IMAGE_INI = "[kubelet]\ncluster-dns = 10.96.0.10\n"  # the image's own config, the same everywhere


def sources(token, server, pin):
    conf = "[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\n" % (token, server, pin)
    srv_pin = "[join]\nserver = %s\nca-cert-hash = %s\n" % (server, pin)
    yield ("ec2", fakes.EC2(tags={"kubeboot-token": token}, user_data=srv_pin),
           "ip-10-0-1-23.eu-central-1.compute.internal", "10.0.1.23", "aws:///eu-central-1a/i-0123456789abcdef0")
    yield ("gce", fakes.GCE(attributes={"kubeboot-token": token, "kubeboot-server": server,
                                        "kubeboot-ca-cert-hash": pin}),
           "worker-1", "10.156.0.7", "gce://kb-project/europe-west3-b/worker-1")
    yield ("azure", fakes.Azure(tags={"kubeboot-token": token}, user_data=srv_pin),
           "worker-7", "10.240.0.7",
           "azure:///subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/kb-workers/providers/"
           "Microsoft.Compute/virtualMachines/worker-7")
    yield ("openstack", fakes.OpenStack(meta={"kubeboot-token": token}, user_data=srv_pin),
           "worker-3", "192.168.17.5", "openstack:///83679162-1378-4288-a2d4-70e13ec132aa")
    yield ("digitalocean", fakes.DigitalOcean(user_data=conf), "worker-5", "10.114.0.5", "digitalocean://2756294")
    yield ("hetzner", fakes.Hetzner(user_data=conf), "worker-9", "10.0.0.9", "hcloud://42424242")
    media = conf + "node-name = metal-1\n[kubelet]\nnode-ip = 10.20.0.1\nprovider-id = metal://rack-1/metal-1\n"
    yield ("media", media, "metal-1", "10.20.0.1", "metal://rack-1/metal-1")


def main():
    kbtest.assert_in_netns()
    tap = kbtest.Tap()
    if not os.path.exists(os.path.join(kbtest.SRC, "tests", "cluster", "README.md")):
        tap.skip("joins against the cluster double", "tests/cluster is not there yet")
        tap.done()
    from double import ClusterDouble

    with tempfile.TemporaryDirectory(prefix="kb-ds-join-") as work, \
            ClusterDouble(os.path.join(work, "cluster"), host="127.0.0.1") as c:
        c.install_seed_rbac()
        c.publish_cluster_info()
        for name, fake, node, ip, pid in sources(c.add_bootstrap_token(), c.url, c.ca_pin):
            with kbtest.Root() as root:
                root.write("/usr/lib/kubeboot/kubeboot.ini", IMAGE_INI, 0o644)
                if name == "media":
                    fx.write_dmi(root, "dell")
                    fx.build_image("ext4", "KUBEBOOT", {"kubeboot.ini": fake},
                                   root.p("/dev/disk/by-label/KUBEBOOT"))
                    fake = fakes.AllClouds()
                else:
                    fx.write_dmi(root, name)
                with fake:
                    r = kbtest.kubeboot("join", "--skip-phases=start,wait,finish", root=root, cmdline="",
                                        timeout=120)
                tap.ok(r.rc == 0, "%s: kubeboot join (gather, discover, preflight, write) succeeds" % name, r)
                if name == "media":
                    tap.ok(fake.total == 0, "media: bare metal asked no metadata service (%d requests)" % fake.total)
                cfg = root.read("/var/lib/kubelet/config.yaml") if root.exists("/var/lib/kubelet/config.yaml") else ""
                flags = root.read("/var/lib/kubelet/kubeadm-flags.env") if root.exists(
                    "/var/lib/kubelet/kubeadm-flags.env") else ""
                tap.ok(pid in cfg, "%s: providerID %s in config.yaml" % (name, pid), cfg)
                tap.ok("--node-ip=%s" % ip in flags and "--hostname-override=%s" % node in flags,
                       "%s: --node-ip=%s --hostname-override=%s in kubeadm-flags.env" % (name, ip, node), flags)
                k = kbtest.run_kubelet(root, timeout=60)
                n = c.node(node)
                tap.ok(k.rc == 0 and n is not None and n.get("spec", {}).get("providerID") == pid and
                       {"type": "InternalIP", "address": ip} in n.get("status", {}).get("addresses", []),
                       "%s: the stand-in kubelet registered Node %s with that provider ID and IP" % (name, node),
                       "%r\nnode: %r" % (k, n))
                print("# %s: join %.2f s, kubelet bootstrap %.2f s" % (name, r.seconds, k.seconds), flush=True)
    tap.done()


if __name__ == "__main__":
    main()

"""Each cloud, identified from its DMI tree, read from its fake metadata service at the
real address: token, server, node name, node IP and provider ID come out of
`kubeboot config --json` with their provenance. Run through tests/netns-run --metadata."""
import re
import time

import dsfixtures as fx
import fakes
import kbtest
from dsfixtures import SERVER, TOKEN

UD_SERVER = "[join]\nserver = %s\n" % SERVER


def cases():
    """(name, fake, expected {key: (value, source)})"""
    yield ("ec2",
           fakes.EC2(tags={"Name": "worker", "kubeboot-token": TOKEN}, user_data=UD_SERVER),
           {"token": (fx.redacted(TOKEN), "ec2:tag kubeboot-token"),
            "server": (SERVER, "ec2:user-data:2"),
            "node-name": ("ip-10-0-1-23.eu-central-1.compute.internal", "ec2:meta-data"),
            "node-ip": ("10.0.1.23", "ec2:meta-data"),
            "provider-id": ("aws:///eu-central-1a/i-0123456789abcdef0", "ec2:meta-data")})
    yield ("gce",
           fakes.GCE(attributes={"kubeboot-token": TOKEN, "kubeboot-server": SERVER,
                                 "ssh-keys": "kb:ssh-ed25519 AAAA kb", "startup-script": "#!/bin/sh\n"}),
           {"token": (fx.redacted(TOKEN), "gce:attribute kubeboot-token"),
            "server": (SERVER, "gce:attribute kubeboot-server"),
            "node-name": ("worker-1", "gce:instance"),
            "node-ip": ("10.156.0.7", "gce:instance"),
            "provider-id": ("gce://kb-project/europe-west3-b/worker-1", "gce:instance")})
    yield ("azure",
           fakes.Azure(tags={"kubeboot-token": TOKEN, "env": "prod"}, user_data=UD_SERVER),
           {"token": (fx.redacted(TOKEN), "azure:tag kubeboot-token"),
            "server": (SERVER, "azure:userData:2"),
            "node-name": ("worker-7", "azure:instance"),
            "node-ip": ("10.240.0.7", "azure:instance"),
            "provider-id": ("azure:///subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/"
                            "kb-workers/providers/Microsoft.Compute/virtualMachines/worker-7", "azure:instance")})
    yield ("openstack",
           fakes.OpenStack(meta={"kubeboot-token": TOKEN, "role": "worker"}, user_data=UD_SERVER),
           {"token": (fx.redacted(TOKEN), "openstack:meta kubeboot-token"),
            "server": (SERVER, "openstack:user_data:2"),
            "node-name": ("worker-3", "openstack:meta_data.json"),
            "node-ip": ("192.168.17.5", "openstack:meta_data.json"),
            "provider-id": ("openstack:///83679162-1378-4288-a2d4-70e13ec132aa", "openstack:meta_data.json")})
    yield ("digitalocean",
           fakes.DigitalOcean(user_data=fx.ini()),
           {"token": (fx.redacted(TOKEN), "digitalocean:user_data:2"),
            "server": (SERVER, "digitalocean:user_data:3"),
            "node-name": ("worker-5", "digitalocean:metadata"),
            "node-ip": ("10.114.0.5", "digitalocean:metadata"),
            "provider-id": ("digitalocean://2756294", "digitalocean:metadata")})
    yield ("hetzner",
           fakes.Hetzner(user_data=fx.ini()),
           {"token": (fx.redacted(TOKEN), "hetzner:userdata:2"),
            "server": (SERVER, "hetzner:userdata:3"),
            "node-name": ("worker-9", "hetzner:metadata"),
            "node-ip": ("10.0.0.9", "hetzner:metadata"),
            "provider-id": ("hcloud://42424242", "hetzner:metadata")})


def main():
    kbtest.assert_in_netns()
    tap = kbtest.Tap()
    for name, fake, want in cases():
        with kbtest.Root() as root, fake:
            fx.write_dmi(root, name)
            t0 = time.monotonic()
            r, keys = fx.config(root)
            wall = time.monotonic() - t0
            tap.ok(r.rc == 0 and keys is not None, "%s: kubeboot config succeeds" % name, r)
            for k, (v, src) in want.items():
                tap.ok(fx.value(keys, k) == v and fx.source(keys, k) == src,
                       "%s: %s = %s from %s" % (name, k, v, src),
                       "got %r from %r" % (fx.value(keys, k), fx.source(keys, k)))
            kbtest.assert_no_secret(tap, TOKEN, [r.out, r.err], "%s: the output and the log" % name)
            m = re.search(r"%s: (\d+) requests in (\d+) ms" % name, r.err)
            tap.ok(m is not None and int(m.group(1)) == fake.total,
                   "%s: kubeboot's request count matches the fake's (%d)" % (name, fake.total), r.err)
            print("# %s: %d requests (%s), gather %s ms, whole process %.0f ms" %
                  (name, fake.total, ", ".join("%s %s" % rq for rq in fake.requests),
                   m.group(2) if m else "?", wall * 1000), flush=True)

    # the Xen-era EC2 DMI (no vendor string) is EC2 as well
    with kbtest.Root() as root, fakes.EC2(tags={"kubeboot-token": TOKEN}, user_data=UD_SERVER) as fake:
        fx.write_dmi(root, "ec2-xen")
        r, keys = fx.config(root)
        tap.ok(fx.source(keys, "provider-id") == "ec2:meta-data" and fake.total > 0,
               "ec2 on Xen: identified from product_version/uuid/serial", r)

    # a forced datasource= reads that platform whatever DMI says
    with kbtest.Root() as root, fakes.Hetzner(user_data=fx.ini()) as fake:
        fx.write_dmi(root, "dell")
        r, keys = fx.config(root, cmdline="kubeboot.datasource=hetzner")
        tap.ok(fx.value(keys, "provider-id") == "hcloud://42424242", "datasource=hetzner on the cmdline forces it",
               r)
        root.write("/etc/kubeboot/kubeboot.ini", "[join]\ndatasource = hetzner\n")
        r, keys = fx.config(root)
        tap.ok(fx.value(keys, "provider-id") == "hcloud://42424242", "datasource=hetzner in the ini forces it", r)
        n = fake.total
        r, keys = fx.config(root, cmdline="kubeboot.datasource=none")
        tap.ok(r.rc == 0 and fake.total == n and fx.source(keys, "provider-id") is None,
               "datasource=none on the cmdline overrides the ini: no request", r)

    # a VM scale set VM gets the scale set form of the Azure provider ID
    with kbtest.Root() as root, fakes.Azure(name="kbpool_3", computer="kbpool000003", vmss="kbpool",
                                            tags={"kubeboot-token": TOKEN}, user_data=UD_SERVER):
        fx.write_dmi(root, "azure")
        r, keys = fx.config(root)
        tap.ok(fx.value(keys, "provider-id") ==
               "azure:///subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/kb-workers/providers/"
               "Microsoft.Compute/virtualMachineScaleSets/kbpool/virtualMachines/3"
               and fx.value(keys, "node-name") == "kbpool000003",
               "azure: a scale set VM: provider ID of the scale set VM, node named after the computer name", r)

    # DigitalOcean without a VPC interface: the public address
    with kbtest.Root() as root, fakes.DigitalOcean(private_ip=None, user_data=fx.ini()):
        fx.write_dmi(root, "digitalocean")
        r, keys = fx.config(root)
        tap.ok(fx.value(keys, "node-ip") == "203.0.113.50", "digitalocean: no private interface: the public IP", r)

    # Hetzner without private networks: the public address
    with kbtest.Root() as root, fakes.Hetzner(private_ips=(), user_data=fx.ini()):
        fx.write_dmi(root, "hetzner")
        r, keys = fx.config(root)
        tap.ok(fx.value(keys, "node-ip") == "198.51.100.9", "hetzner: no private network: the public IP", r)
    tap.done()


if __name__ == "__main__":
    main()

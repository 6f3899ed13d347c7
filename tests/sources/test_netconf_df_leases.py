"""df, the network configuration files (ifcfg, netplan, interfaces) and DHCP leases: facts per
file, from literal lines."""

from __future__ import annotations

import pytest

from logscan.errors import IngestError
from logscan.sources import spec_for
from logscan.sources.base import SourceFile


def facts(path: str, text: str) -> dict[tuple[str, str], tuple[str, int]]:
    spec = spec_for(path)
    assert spec is not None, path
    p = spec.parse(SourceFile(path, path, text.encode()))
    return {(r["subject"], r["key"]): (r["value"], r["line"]) for r in p.facts.to_dicts()} if p.facts is not None else {}


def test_df_h_with_a_wrapped_device_name():
    out = facts("sos_commands/filesys/df_-h", (
        "Filesystem      Size  Used Avail Use% Mounted on\n"
        "/dev/sda1        30G   30G     0 100% /\n"
        "/dev/mapper/rootvg-varlv\n"
        "                 8G  7.9G  100M  99% /var\n"
        "tmpfs           1.0G     0  1.0G   0% /dev/shm\n"))
    assert out[("disk:/", "used_percent")] == ("100", 2)
    assert out[("disk:/var", "used_percent")] == ("99", 4) and out[("disk:/var", "device")][0] == "/dev/mapper/rootvg-varlv"
    assert out[("disk:/dev/shm", "used_percent")][0] == "0"


def test_df_inodes():
    out = facts("df_-i.txt", "Filesystem Inodes IUsed IFree IUse% Mounted on\n/dev/sda1 1966080 1966080 0 100% /\n")
    assert out == {("disk:/", "inodes_used_percent"): ("100", 2)}


@pytest.mark.parametrize(("path", "text", "iface", "dhcp", "method", "line"), [
    ("etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=none\nIPADDR=10.0.0.4\n", "eth0", "no", "none", 2),
    ("etc/sysconfig/network-scripts/ifcfg-eth0", 'DEVICE="eth0"\nBOOTPROTO="dhcp"\n', "eth0", "yes", "dhcp", 2),
    ("etc/sysconfig/network/ifcfg-eth0", "BOOTPROTO='static'\nIPADDR='10.0.0.4/24'\n", "eth0", "no", "static", 1),
    ("etc/sysconfig/network/ifcfg-eth1", "STARTMODE='auto'\n", "eth1", "no", "(not set)", 1),
    ("etc/network/interfaces", "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet static\n  address 10.0.0.4\n", "eth0", "no", "static", 5),
    ("etc/network/interfaces.d/50-cloud-init", "auto eth0\niface eth0 inet dhcp\n", "eth0", "yes", "dhcp", 2),
    ("etc/netplan/50-cloud-init.yaml", "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n      set-name: eth0\n  version: 2\n", "eth0", "yes", "true", 4),
    ("etc/netplan/01-static.yaml", "network:\n  ethernets:\n    ens3:\n      addresses: [10.0.0.4/24]\n", "ens3", "no", "static", 3),
    ("etc/netplan/02.yaml", "network:\n  ethernets:\n    nic0:\n      match: {macaddress: '00:0d'}\n      set-name: eth0\n      dhcp4: no\n", "eth0", "no", "no", 6),
])
def test_network_configuration_says_whether_dhcp_is_on(path, text, iface, dhcp, method, line):
    out = facts(path, text)
    assert out[(f"netconf:{iface}", "dhcp4")] == (dhcp, line)
    assert out[(f"netconf:{iface}", "method")][0] == method
    assert not any(s == "netconf:lo" for s, _ in out)


def test_loopback_only_configuration_gives_nothing():
    assert facts("etc/sysconfig/network-scripts/ifcfg-lo", "DEVICE=lo\nBOOTPROTO=none\n") == {}
    assert facts("etc/network/interfaces", "auto lo\niface lo inet loopback\niface eth0 inet6 auto\n") == {}


def test_bad_netplan_is_an_ingest_error():
    with pytest.raises(IngestError):
        facts("etc/netplan/x.yaml", "network: [unclosed\n")


@pytest.mark.parametrize(("path", "text", "iface", "address", "opt245"), [
    ("var/lib/dhcp/dhclient.eth0.leases",
     'lease {\n  interface "eth0";\n  fixed-address 10.0.0.9;\n}\nlease {\n  interface "eth0";\n  fixed-address 10.0.0.4;\n'
     "  option dhcp-server-identifier 168.63.129.16;\n  option unknown-245 a8:3f:81:10;\n}\n", "eth0", ("10.0.0.4", 7), "a8:3f:81:10"),
    ("run/systemd/netif/leases/2", "# This is private data.\nADDRESS=10.0.0.4\nSERVER_ADDRESS=168.63.129.16\nOPTION_245=a83f8110\n",
     "2", ("10.0.0.4", 2), "a83f8110"),
    ("var/lib/NetworkManager/internal-6c3f9a-eth0.lease", "ADDRESS=10.0.0.4\n", "eth0", ("10.0.0.4", 1), None),
    ("var/lib/wicked/lease-eth0-dhcp-ipv4.xml", "<lease>\n  <ipv4:dhcp>\n    <address>10.0.0.4</address>\n", "eth0", ("10.0.0.4", 3), None),
])
def test_dhcp_leases_the_last_lease_of_the_file(path, text, iface, address, opt245):
    out = facts(path, text)
    assert out[(f"dhcp_lease:{iface}", "present")][0] == "yes"
    assert out[(f"dhcp_lease:{iface}", "address")] == address
    assert out.get((f"dhcp_lease:{iface}", "option_245"), (None,))[0] == opt245


def test_the_connect_test_output_is_platform_neutral():
    """The Windows script writes it too: a Windows collector zip must not scan as mixed."""
    assert spec_for("sos_commands/logscan/connect_168.63.129.16_80").platform == "any"

"""Who the VM is: names and ids from its files, its OS, platform and distribution family."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

#: Distribution families by the OS name the agent or os-release reports. The family decides
#: service and package names in remediation (``walinuxagent`` on Debian/Ubuntu, ``waagent``
#: elsewhere).
_FAMILIES: tuple[tuple[str, str], ...] = (
    (r"ubuntu|debian|mint", "debian"),
    (r"rhel|red ?hat|centos|oracle|ol\b|almalinux|rocky|fedora|cloudlinux", "rhel"),
    (r"sles|suse|opensuse", "suse"),
    (r"mariner|azurelinux|azure linux", "azurelinux"),
    (r"coreos|flatcar", "coreos"),
    (r"freebsd|openbsd|bsd", "bsd"),
    (r"windows", "windows"),
)


def distro_family(os_name: str | None) -> str | None:
    """``debian`` / ``rhel`` / ``suse`` / ``azurelinux`` / ``coreos`` / ``bsd`` / ``windows`` or None."""
    if not os_name:
        return None
    low = os_name.lower()
    for pattern, family in _FAMILIES:
        if re.search(pattern, low):
            return family
    return None


@dataclass(frozen=True)
class Identity:
    """What the files say the VM is. ``platform`` is ``linux``, ``windows``, ``mixed`` or ``unknown``."""

    bundle: str
    hostname: str | None = None
    vm_name: str | None = None
    vm_id: str | None = None
    computer: str | None = None
    os_name: str | None = None
    os_version: str | None = None
    platform: str = "unknown"
    distro: str | None = None

    @property
    def name(self) -> str:
        """The VM's best name: VM name, host name, computer name, else the bundle's name."""
        return self.vm_name or self.hostname or self.computer or self.bundle

    def as_dict(self) -> dict[str, str]:
        """Only the keys the files stated (plus ``bundle`` and ``platform``)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def decide_identity(bundle: str, latest: dict[str, dict[str, str]], first_seen: dict[str, str], platform: str) -> Identity:
    """Names from the first file that states them (they do not change within a bundle; the
    first is the most authoritative source in bundle order), OS from the latest row."""
    os_facts = latest.get("os", {})
    os_name = os_facts.get("name")
    family = distro_family(os_name)
    if family is None:
        family = "windows" if platform == "windows" else None
    return Identity(
        bundle=bundle,
        hostname=first_seen.get("hostname"),
        vm_name=first_seen.get("vm_name"),
        vm_id=first_seen.get("vm_id"),
        computer=first_seen.get("computer"),
        os_name=os_name,
        os_version=os_facts.get("version"),
        platform=platform,
        distro=family,
    )

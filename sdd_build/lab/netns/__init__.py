"""The namespace provider: a containerlab topology as FRR instances in Linux network namespaces.

Per node ``<prefix>-<lab>-<node>`` (``clab-triangle-r1``) is both the network namespace and,
for routers, the FRR pathspace (``/etc/frr/<ns>/``, ``/var/run/frr/<ns>/``, ``vtysh -N <ns>``):
``watchfrr --netns`` starts the daemons in the namespace of the same name. Links are veth pairs
created directly between the two namespaces under the endpoint names (``eth1``, ...).

Each router gets a UTS namespace with its node name (FRR 8.4 takes the prompt's host name from
the kernel, not from ``hostname`` in frr.conf), an ``sshd`` on 127.0.0.1:22 inside its network
namespace, and a ``socat`` in the root namespace that forwards 127.0.0.1:<port> into it. Two
temporary users per lab log in there: a vtysh login (``ForceCommand vtysh -N <ns>``) and a bash
login in groups frr/frrvty. Plain ``kind: linux`` nodes get a namespace and their ``exec``
commands only.

Modules: ``checks`` (before anything is created), ``create``, ``frr``, ``sshd``, ``socat``,
``faults`` (impair), ``teardown``, and ``provider`` (the ``LabProvider`` itself).
"""

from __future__ import annotations

from sdd_build.lab.netns.checks import (
    check_system,
    label_problems,
    startup_config_problems,
    unsupported_features,
)
from sdd_build.lab.netns.provider import NetnsProvider

__all__ = [
    "NetnsProvider",
    "check_system",
    "label_problems",
    "startup_config_problems",
    "unsupported_features",
]

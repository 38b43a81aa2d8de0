"""The namespace provider: a containerlab topology as FRR instances in Linux namespaces.

Per node ``<prefix>-<lab>-<node>`` (``clab-triangle-r1``) names the network namespace and, for
routers, the FRR pathspace (``vtysh -N <name>``). Every node also gets a mount and UTS namespace
of its own (``node``): private tmpfs ``/etc/frr``, ``/run`` (so ``/var/run/frr``), ``/tmp``,
``/var/tmp`` and ``/var/log``, its binds, and its node name as host name. FRR, sshd, ``cmd`` and
``exec`` run inside it, so nothing a lab does writes the host's files. Links are veth pairs
between the namespaces under the endpoint names (``eth1``, ...); ``kind: bridge`` nodes are a
Linux bridge in their own namespace, ``dummy`` links a dummy interface.

Each router gets an ``sshd`` on 127.0.0.1:22 inside it and a ``socat`` in the root namespace
that forwards 127.0.0.1:<port> into it. Two temporary users per lab log in there: a vtysh login
(``ForceCommand vtysh -N <ns>``) and a bash login in groups frr/frrvty.

Modules: ``checks`` (before anything is created), ``create``, ``node`` (the private mounts),
``frrconf`` (a router's /etc/frr from binds and startup-config), ``frr``, ``execs`` (``cmd`` and
``exec``), ``sshd``, ``socat``, ``version`` (image tag against the installed FRR), ``faults``
(impair), ``teardown``, and ``provider`` (the ``LabProvider`` itself).
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

"""FRRouting platform knowledge, kept as data.

Everything the driver knows about how FRR's vtysh talks lives here: how it reports errors,
which configuration lines open a context, how a context is left and which contexts cannot be
deleted as a whole. The driver and the config engine read these tables; they never carry
``if vendor_says_this`` chains of their own.
"""

from __future__ import annotations

import re
from typing import Final

from sdd_build.platforms import UNEXPECTED_OUTPUT, RefusalPattern
from sdd_build.platforms.frr import FRR

#: One way FRR says that a configuration line was not applied (``kind``, ``regex``).
ErrorPattern = RefusalPattern

#: Messages vtysh or a daemon prints for a configuration line it refused, and the output that
#: is not a refusal: sdd-build's platform registry holds them (``sdd_build.platforms.frr``),
#: the one place the engine's Netmiko path and this driver read them from.
ERROR_PATTERNS: Final[tuple[RefusalPattern, ...]] = FRR.refusals
SESSION_NOISE: Final[tuple[re.Pattern[str], ...]] = FRR.session_noise

#: In configuration mode FRR prints nothing for a line it applied. Any other text is treated as
#: a refusal even when no pattern above names it ("unexpected_output").
UNEXPECTED_OUTPUT_KIND: Final = UNEXPECTED_OUTPUT

#: Any vtysh prompt at the end of what was read (any host name: ``hostname`` renames it,
#: ``no hostname`` gives ``(null)``).
ANY_PROMPT: Final = r"\n[^\n]*# ?$"

#: The prompt of configuration mode, right after ``configure terminal``.
CONFIG_MODE_PROMPT: Final = r"\([^\n]*config[^\n]*\)# ?$"

#: An exec-mode prompt (any host name), right after ``end``.
EXEC_PROMPT: Final = r"\n(?![^\n]*\(config)[^\n]*# ?$"

#: Configuration lines after which the session's prompt must be learnt again.
RENAMES_PROMPT: Final = re.compile(r"^(no )?hostname\b")

#: ``vtysh -C`` / ``vtysh -f`` report refused lines as ``line N: % Message[code]: text``.
VTYSH_FILE_ERROR: Final = re.compile(
    r"^line (?P<lineno>\d+): (?P<message>%[^\[\n]*?)(?:\[\d+\])?: ?(?P<line>.*)$", re.M
)

#: ``vtysh -f`` for a line a daemon refused with a warning of its own (``% Specify remote-as or
#: peer-group commands first``, printed apart, not tied to the line):
#: ``line N: Failure to communicate[13] to bgpd, line: neighbor 10.0.0.9 bfd``.
VTYSH_FILE_FAILURE: Final = re.compile(
    r"^line (?P<lineno>\d+): (?P<message>[^%\[\n][^\[\n]*)\[\d+\](?: to (?P<daemon>\S+))?,"
    r" line: ?(?P<line>.*)$",
    re.M,
)

#: Lines that open a configuration context, by parent context (``""`` is the top level).
#: Only needed for candidates written without indentation; indented text (what FRR prints)
#: is scoped by its indentation.
CONTEXT_OPENERS: Final[dict[str, tuple[str, ...]]] = {
    "": (
        "router ",
        "interface ",
        "vrf ",
        "route-map ",
        "key chain ",
        "line vty",
        "segment-routing",
        "mpls ldp",
        "bfd",
        "pseudowire ",
        "nexthop-group ",
        "rpki",
        "pbr-map ",
        "l2vpn ",
        "affinity-map ",
    ),
    "router bgp": ("address-family ", "vnc ", "vrf-policy ", "bmp targets ", "segment-routing "),
    "address-family l2vpn evpn": ("vni ",),
    "mpls ldp": ("address-family ",),
    "address-family ipv4": ("interface ",),
    "address-family ipv6": ("interface ",),
    "bfd": ("peer ", "profile "),
    "key chain": ("key ",),
    "segment-routing": ("traffic-eng", "srv6"),
    "router isis": ("segment-routing ",),
}

#: Lines that leave a context. ``end`` leaves every context.
EXIT_LINES: Final[frozenset[str]] = frozenset(
    {"exit", "quit", "exit-address-family", "exit-vrf", "exit-vni", "exit-vnc"}
)
END_LINE: Final = "end"

#: How to leave a context entered through a header starting with this prefix (default ``exit``).
EXIT_COMMAND: Final[dict[str, str]] = {
    "address-family ": "exit-address-family",
    "vni ": "exit-vni",
}

#: Contexts FRR will not delete as a whole (``no interface eth1`` fails for an interface the
#: kernel still has; an address family is part of its router): their lines are removed one by
#: one instead.
UNDELETABLE_CONTEXTS: Final[tuple[str, ...]] = ("interface ", "address-family ", "line vty")

#: Lines whose ``no`` form is not ``no <line>``: (pattern, replacement for ``re.sub``).
#: Checked in order; the first match wins.
NEGATION_OVERRIDES: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"^password .*$"), "no password"),
    (re.compile(r"^enable password .*$"), "no enable password"),
    (re.compile(r"^banner motd .*$"), "no banner motd"),
    (re.compile(r"^description .*$"), "no description"),
    (re.compile(r"^(neighbor \S+ description) .*$"), r"no \1"),
    (re.compile(r"^(log (?:syslog|stdout|monitor|file))\b.*$"), r"no \1"),
    (re.compile(r"^(neighbor \S+ password) .*$"), r"no \1"),
    (re.compile(r"^(key-string) .*$"), r"no \1"),
)

#: ``no ...`` lines FRR keeps in its running config (a non-default "off"). Any other ``no X``
#: in a merge candidate only removes X, and is a no-op when X is not configured.
STORED_NEGATIONS: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(r"^no bgp "),
    re.compile(r"^no ipv?6? ?forwarding$"),
    re.compile(r"^no ip forwarding$"),
    re.compile(r"^no ipv6 nd suppress-ra$"),
    re.compile(r"^no neighbor \S+ (activate|send-community)"),
    re.compile(r"^no service "),
    re.compile(r"^no log "),
    re.compile(r"^no shutdown$"),
    re.compile(r"^no autoconnect$"),
)

#: Lines a replace never removes (frr-reload.py's "cannot be removed" list): removing
#: ``service integrated-vtysh-config`` would change where ``write memory`` saves, not routing.
KEPT_ON_REPLACE: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(r"^service integrated-vtysh-config$"),
)

#: Contexts FRR does not print when they are empty: an empty one in a candidate is no change.
#: An empty ``interface X`` is what ospfd and others print for an interface whose settings
#: were all removed; FRR refuses to delete an active interface ("only inactive interfaces can be
#: deleted"), so it is no configuration either way (found by the corpus, tests/lab).
ABSENT_WHEN_EMPTY: Final[tuple[str, ...]] = ("line vty", "interface ")

#: Lines of ``show running-config`` that are not configuration and never take part in a diff.
IGNORED_LINES: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(r"^Building configuration\.\.\.$"),
    re.compile(r"^Current configuration:$"),
    re.compile(r"^frr version "),
    re.compile(r"^frr defaults "),
)

#: Text vtysh prints that is never configuration, wherever it appears in captured output.
#: Measured on FRR 8.4: a daemon that died during the vtysh session makes every later command
#: print ``Warning: connecting to <daemon>...failed!`` (stderr, merged into the SSH session)
#: and leaves that daemon's part out of ``show running-config``; a read error names the daemon
#: (``vtysh(): vtysh_client_run(): error reading from ospfd: ...``); answers start with ``%``.
#: A running configuration that holds any of these is incomplete, and a candidate that holds
#: any of these is not configuration.
VTYSH_NOISE: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(r"^Warning: connecting to (?P<daemon>\S+?)\.\.\."),
    re.compile(r"^(?:vtysh\S*: )*.*error reading from (?P<daemon>\S+?):"),
    re.compile(r"^(?i:warning)\b"),
    re.compile(r"^%"),
    re.compile(r"^(?P<daemon>\S+) is not running$"),
    re.compile(r"^Exiting: "),
    re.compile(r"^vtysh\b"),
)

#: The daemon FRR cannot run without: a session that does not reach it reads no interface,
#: route or address configuration at all.
REQUIRED_DAEMONS: Final[tuple[str, ...]] = ("zebra",)

#: ``show watchfrr``: one row per daemon watchfrr supervises and its state (``Up`` when fine).
WATCHFRR_ROW: Final = re.compile(r"^\s+(?P<daemon>[a-z0-9]+d|zebra)\s+(?P<state>\S.*?)\s*$", re.M)

#: CLI contexts of northbound-converted daemons, by the prefix of their top-level header:
#: (daemon, YANG module, data xpath). ``napalm_frr.defaults`` reads the default of a value
#: in such a context from the device's own schema and data (FRR 8.4: bfdd has values that
#: cannot be negated). A daemon is one row.
YANG_CONTEXTS: Final[dict[str, tuple[str, str, str]]] = {
    "bfd": ("bfdd", "frr-bfdd", "/frr-bfdd:bfdd"),
}

#: Secrets to mask for ``get_config(sanitized=True)``: (pattern, replacement).
SANITIZE_FILTERS: Final[dict[str, str]] = {
    r"^(\s*password) \S+.*$": r"\1 <removed>",
    r"^(\s*enable password) \S+.*$": r"\1 <removed>",
    r"^(\s*neighbor \S+ password) \S+.*$": r"\1 <removed>",
    r"^(\s*key-string) \S+.*$": r"\1 <removed>",
    r"^(\s*ip ospf (?:message-digest-key \d+ md5|authentication-key)) \S+.*$": r"\1 <removed>",
    r"^(\s*isis password (?:clear|md5)) \S+.*$": r"\1 <removed>",
    r"^(\s*(?:area|domain)-password (?:clear|md5)) \S+.*$": r"\1 <removed>",
    r"^(\s*snmp-server community) \S+(.*)$": r"\1 <removed>\2",
}

VENDOR: Final = "FRRouting"
VTYSH: Final = "vtysh"
FRR_RELOAD: Final = "/usr/lib/frr/frr-reload.py"

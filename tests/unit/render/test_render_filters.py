"""Table-driven tests of the IP filters, called directly and through a template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sdd_build.errors import RenderError
from sdd_build.render import FILTERS, FilterError, TemplateLibrary
from sdd_build.render import filters as f

GOOD: list[tuple[str, tuple[Any, ...], Any]] = [
    ("ip_address", ("10.0.0.1/31",), "10.0.0.1"),
    ("ip_address", ("10.0.0.1",), "10.0.0.1"),
    ("ip_address", (" 2001:db8::1/64 ",), "2001:db8::1"),
    ("ip_network", ("10.0.0.1/31",), "10.0.0.0/31"),
    ("ip_network", ("10.1.2.3/24",), "10.1.2.0/24"),
    ("ip_network", ("2001:db8::1/64",), "2001:db8::/64"),
    ("ip_network", ("10.0.0.1",), "10.0.0.1/32"),
    ("prefixlen", ("10.0.0.1/31",), 31),
    ("prefixlen", ("10.0.0.1",), 32),
    ("prefixlen", ("2001:db8::1",), 128),
    ("netmask", ("10.0.0.1/24",), "255.255.255.0"),
    ("netmask", ("10.0.0.1/31",), "255.255.255.254"),
    ("hostmask", ("10.0.0.1/24",), "0.0.0.255"),
    ("wildcard", ("10.0.0.0/30",), "0.0.0.3"),
    ("network_address", ("10.1.2.3/24",), "10.1.2.0"),
    ("broadcast_address", ("10.1.2.3/24",), "10.1.2.255"),
    ("ip_version", ("10.0.0.1/31",), 4),
    ("ip_version", ("fe80::1/64",), 6),
    ("nth_host", ("10.0.0.0/24", 5), "10.0.0.5"),
    ("nth_host", ("10.0.0.0/24", 0), "10.0.0.0"),
    ("nth_host", ("10.0.0.0/24", -1), "10.0.0.255"),
    ("nth_host", ("10.0.0.77/24", 1), "10.0.0.1"),
    ("peer_address", ("10.0.0.0/31",), "10.0.0.1"),
    ("peer_address", ("10.0.0.1/31",), "10.0.0.0"),
    ("peer_address", ("10.0.0.1/30",), "10.0.0.2"),
    ("peer_address", ("10.0.0.2/30",), "10.0.0.1"),
    ("peer_address", ("2001:db8::/127",), "2001:db8::1"),
    ("peer_address", ("2001:db8::1/126",), "2001:db8::2"),
    ("is_ip", ("10.0.0.1",), True),
    ("is_ip", ("10.0.0.1/31",), True),
    ("is_ip", ("10.0.0.300",), False),
    ("is_ip", ("eth1",), False),
    ("is_ip", (42,), False),
    ("is_ip", (None,), False),
    ("in_network", ("10.0.0.1", "10.0.0.0/24"), True),
    ("in_network", ("10.0.0.1/31", "10.0.0.0/24"), True),
    ("in_network", ("10.0.1.1", "10.0.0.0/24"), False),
    ("in_network", ("10.0.0.1", "2001:db8::/32"), False),
]

BAD: list[tuple[str, tuple[Any, ...], str]] = [
    ("ip_address", ("10.0.0.300/31",), "ip_address: '10.0.0.300/31' is not an IP address"),
    ("ip_address", ("eth1",), "'eth1' is not an IP address or interface"),
    ("ip_address", (42,), "expected an IP address or interface string, got int"),
    ("ip_network", (None,), "got NoneType"),
    ("prefixlen", ("10.0.0.1/33",), "prefixlen: '10.0.0.1/33'"),
    ("netmask", ("",), "netmask: '' is not"),
    ("nth_host", ("10.0.0.0/30", 4), "index 4 is outside 10.0.0.0/30 (4 addresses)"),
    ("nth_host", ("10.0.0.0/30", "1"), "the index must be an integer"),
    ("peer_address", ("10.0.0.1/24",), "not a point-to-point address"),
    ("peer_address", ("10.0.0.0/30",), "not a usable address of 10.0.0.0/30"),
    ("peer_address", ("10.0.0.3/30",), "not a usable address"),
    ("in_network", ("10.0.0.1", "bogus"), "in_network: 'bogus'"),
]


@pytest.mark.parametrize(("name", "args", "expected"), GOOD)
def test_filter_values(name: str, args: tuple[Any, ...], expected: Any) -> None:
    assert FILTERS[name](*args) == expected


@pytest.mark.parametrize(("name", "args", "message"), BAD)
def test_filter_errors(name: str, args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(FilterError) as info:
        FILTERS[name](*args)
    assert message in str(info.value)


def test_filter_error_is_a_value_error() -> None:
    assert issubclass(FilterError, ValueError)


def test_every_public_filter_is_registered() -> None:
    for name in f.__all__:
        if name not in ("FILTERS", "FilterError"):
            assert FILTERS[name] is getattr(f, name)


def test_filters_in_a_template(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text(
        "{{ a | ip_address }} {{ a | prefixlen }} {{ a | wildcard }} {{ a | peer_address }}"
        " {{ '10.0.0.0/24' | nth_host(3) }}{% if a | is_ip %} ip{% endif %}\n"
    )
    lib = TemplateLibrary(tmp_path)
    out = lib.render("t.j2", {"a": "10.0.0.1/31"}, host="r1")
    # trim_blocks eats the newline after the closing block tag
    assert out == "10.0.0.1 31 0.0.0.1 10.0.0.0 10.0.0.3 ip"


def test_bad_filter_input_in_a_template_is_a_located_render_error(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text("!\n ip address {{ a | ip_address }}\n")
    lib = TemplateLibrary(tmp_path, display_root=tmp_path)
    with pytest.raises(RenderError) as info:
        lib.render("t.j2", {"a": "10.0.0.300/31"}, host="r1")
    problem = info.value.problems[0]
    assert (problem.file, problem.line) == ("t.j2", 2)
    assert problem.message == (
        "host r1: ip_address: '10.0.0.300/31' is not an IP address or interface"
    )

"""``config_paths`` remembers the last texts it read: the same answer, never a shared list."""

from __future__ import annotations

from sdd_build.platforms import lookup
from sdd_build.platforms.configs import config_paths

TEXT = "interface lo\n ip address 10.0.0.1/32\nexit\n!\nrouter ospf\n ospf router-id 10.0.0.1\n"


def test_remembered_answers_are_equal_and_not_shared() -> None:
    first = config_paths(TEXT)
    first.append(("planted",))
    second = config_paths(TEXT)
    assert ("planted",) not in second
    assert second == first[:-1]
    assert ("interface lo", "ip address 10.0.0.1/32") in second


def test_the_platform_is_part_of_what_is_remembered() -> None:
    text = "interface Ethernet1\n description x\n!\n! Time: now\n"
    eos = lookup("eos")
    assert eos is not None
    assert config_paths(text, eos) == config_paths(text, eos)
    assert all(not p[0].startswith("! Time") for p in config_paths(text, eos))

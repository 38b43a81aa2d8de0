"""The platform contract (issue 13, item 5; napalm's ``BaseTestGetters`` is the model): what
every platform row of ``sdd_build.platforms`` must do with configurations of its own syntax.
``tests/unit/platforms/test_contract.py`` runs it on recorded data for every row,
``tests/lab/test_platform_contract_live.py`` on a real FRR router.

Each check takes the platform, the device's running config (``pre``) and a component (an
intended configuration in the platform's syntax); ``post`` is what the device shows after it.
"""

from __future__ import annotations

from collections.abc import Callable

from sdd_build.execute.device import config_difference
from sdd_build.execute.reconcile import ConfigFinding, Truth, reconcile
from sdd_build.platforms import Platform
from sdd_build.platforms.configs import ConfigPath, config_paths, merged, show_path

Reconcile = Callable[[str, str, str], list[ConfigFinding]]


def offline_reconcile(platform: Platform) -> Reconcile:
    """Reconciliation as the engine runs it for a platform whose software cannot be asked."""

    def run(component: str, pre: str, post: str) -> list[ConfigFinding]:
        truth = Truth(unavailable=f"{platform.description}: no software to ask (recorded data)")
        return reconcile([("c", component)], pre, post, truth=truth, platform=platform)

    return run


def new_paths(platform: Platform, pre: str, post: str) -> list[ConfigPath]:
    before = set(config_paths(pre, platform))
    return [p for p in config_paths(post, platform) if p not in before]


def check_diff(platform: Platform, pre: str, post: str, component: str) -> None:
    """The restore comparison (``config_difference``) names exactly the component's lines."""
    added = new_paths(platform, pre, post)
    assert added, "the component adds nothing to the running config"
    intended = set(config_paths(component, platform))
    assert set(added) <= intended, f"lines no component intended: {added}"
    left, missing = config_difference(post, pre, platform)
    assert left == [show_path(p) for p in added]
    assert missing == []
    assert config_difference(pre, post, platform) == ([], left)
    assert config_difference(post, post, platform) == ([], [])


def leaf_line(platform: Platform, component: str, word: str) -> str:
    """The component's one text line holding ``word`` (a leaf: its removal removes one path)."""
    lines = [line for line in component.splitlines() if word in line]
    assert len(lines) == 1, f"the component needs exactly one line with {word!r}"
    return lines[0]


def check_reconciliation(
    platform: Platform, pre: str, post: str, component: str, run: Reconcile
) -> None:
    """No false deviation on the real config; each class where the device deviates."""
    clean = run(component, pre, post)
    assert clean == [], "\n".join(f"{f.kind}: {f.line}: {f.reason}" for f in clean)
    description = leaf_line(platform, component, "sdd-build contract")
    # rejected_line: the device does not show an intended line
    dropped = merged(pre, component.replace(description + "\n", ""), platform)
    found = run(component, pre, dropped)
    assert [f.kind for f in found] == ["rejected_line"], found
    assert "sdd-build contract" in (found[0].line or "")
    # rewritten_line: the device stores it in another form
    other = description.replace("contract", "contract-v2")
    found = run(component, pre, merged(pre, component.replace(description, other), platform))
    assert [f.kind for f in found] == ["rewritten_line"], found
    assert "contract-v2" in (found[0].actual or "")
    # unexpected_change: lines no component intended appear
    extra = component.replace("99", "98").replace("192.0.2.1\n", "192.0.2.254\n")
    found = run(component, pre, merged(post, extra, platform))
    assert {f.kind for f in found} == {"unexpected_change"}, found
    assert any("98" in (f.line or "") for f in found), found


def check_gone(platform: Platform, pre: str, post: str, component: str, run: Reconcile) -> None:
    """unexpected_change: a line that was there before disappears, and nothing removed it."""
    paths = set(config_paths(post, platform))
    lines = post.splitlines()
    intended = set(config_paths(component, platform))
    for index, line in enumerate(lines):
        if not line.strip() or line.strip() in {"!", "}", "end", "exit"}:
            continue
        shorter = "\n".join(lines[:index] + lines[index + 1 :])
        lost = paths - set(config_paths(shorter, platform))
        if len(lost) == 1 and not lost & intended:
            break
    else:
        raise AssertionError("no line of the running config can be removed alone")
    found = run(component, pre, shorter)
    assert [(f.kind, f.line) for f in found] == [
        ("unexpected_change", show_path(next(iter(lost))))
    ], found

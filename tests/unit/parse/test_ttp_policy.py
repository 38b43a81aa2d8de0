"""TTP templates are data: every way TTP runs code, reads or writes files is refused before TTP
sees the template, and the code in them provably never runs (it would create a marker).

Each refused template is also given to TTP itself (no sdd-build in between) for the cases where
TTP would run the code, so the test proves the attack is real, not only that it is refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sdd_build.errors import ParseError
from sdd_build.parse import check_template, parse
from sdd_build.parse.ttp_policy import safe_template

HERE = Path(__file__).parent
INTERFACE_BRIEF = HERE.parents[2] / "parsers" / "frr" / "show_interface_brief.ttp"
OUTPUT = "lo              up      default         10.0.0.1/32\n"
GROUP = '<group name="interfaces*">\n{{ interface | _start_ }} {{ status }} {{ vrf }}\n</group>\n'


def _exec_code(marker: Path) -> str:
    """Python that makes the directory ``marker`` even without builtins (TTP execs <vars> without them)."""
    return (
        '[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "catch_warnings"]'
        f'[0]()._module.__builtins__["__import__"]("os").makedirs({str(marker)!r}, exist_ok=True)'
    )


def _eval_code(marker: Path) -> str:
    """Python for TTP's eval() of arguments, where bare names are strings but 'sys' is not."""
    return f"sys.modules['os'].makedirs({str(marker)!r}, exist_ok=True)"


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tmp_path (relative includes resolve there); the code would create ``marker``."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "PWNED"
    (tmp_path / "aux_vars.txt").write_text(f"X = {_exec_code(path)}\n")
    (tmp_path / "other.ttp").write_text(f"<macro>\nX = {_exec_code(path)}\n</macro>\n")
    return path


def _cases(marker: Path) -> dict[str, str]:
    code = _exec_code(marker)
    evil = _eval_code(marker)
    return {
        # TTP's <vars> loader is Python by default, and include= adds a file's text to it
        "vars-include": f'<vars load="python" include="aux_vars.txt"/>\n{GROUP}',
        "vars-include-default-loader": f'<vars include="aux_vars.txt"/>\n{GROUP}',
        "vars-python-default": f"<vars>\nX = {code}\n</vars>\n{GROUP}",
        "vars-python-statement": f"<vars>\nimport os\nX = 1\n</vars>\n{GROUP}",
        "vars-python-name": f"<vars>\nX = __builtins__\n</vars>\n{GROUP}",
        "vars-ini": f'<vars load="ini">\n[a]\nb = 1\n</vars>\n{GROUP}',
        "macro-tag": f"<macro>\nX = {code}\n</macro>\n{GROUP}",
        "macro-tag-uppercase": f"<MACRO>\nX = {code}\n</MACRO>\n{GROUP}",
        "macro-function": GROUP.replace("{{ status }}", '{{ status | macro("f") }}'),
        "macro-group-attribute": GROUP.replace('name="interfaces*"', 'name="i" macro="f"'),
        "lookup-tag": f'<lookup name="l" load="python" include="aux_vars.txt"/>\n{GROUP}',
        "lookup-function": GROUP.replace("{{ status }}", '{{ status | lookup("l") }}'),
        "rlookup-function": GROUP.replace("{{ status }}", '{{ status | rlookup("l", "x") }}'),
        "gpvlookup-function": GROUP.replace("{{ status }}", '{{ status | gpvlookup("l") }}'),
        "geoip-function": GROUP.replace("{{ status }}", '{{ status | geoip_lookup("l") }}'),
        "dns-function": GROUP.replace("{{ status }}", "{{ status | dns }}"),
        "rdns-function": GROUP.replace("{{ status }}", "{{ status | rdns }}"),
        "output-returner-file": f'{GROUP}<output returner="file" url="{marker.parent}/"/>\n',
        "output-macro": f'{GROUP}<output macro="f"/>\n',
        "input-url": f'<input load="text" url="/etc/hostname"/>\n{GROUP}',
        "input-python": f'<input load="python">\nurl = ["/etc/hostname"]\n</input>\n{GROUP}',
        "extend": f'<extend template="other.ttp"/>\n{GROUP}',
        "extend-in-group": GROUP.replace("</group>", '<extend template="other.ttp"/>\n</group>'),
        "nested-template": f"<template>\n<template>\n{GROUP}</template>\n</template>\n",
        "base-path": f'<template base_path="/etc/">\n{GROUP}</template>\n',
        "group-input": GROUP.replace('name="interfaces*"', 'name="i" input="/etc/hostname"'),
        "group-output": GROUP.replace('name="interfaces*"', 'name="i" output="o"'),
        "group-chain": GROUP.replace('name="interfaces*"', 'name="i" chain="c"'),
        "group-eval": GROUP.replace('name="interfaces*"', f'name="i" contains="{evil}"'),
        "group-eval-split": GROUP.replace(
            'name="interfaces*"', "name=\"i\" contains=\"'a') | void(__import__('os')\""
        ),
        "eval-argument": GROUP.replace("{{ status }}", f"{{{{ status | contains({evil}) }}}}"),
        "eval-first-item": GROUP.replace("{{ status }}", f"{{{{ status({evil}) }}}}"),
        "eval-fstring": GROUP.replace("{{ status }}", "{{ status | contains(f'{__name__}') }}"),
        "eval-module-name": GROUP.replace("{{ status }}", "{{ status | contains(sys) }}"),
        "eval-close-call": GROUP.replace("{{ status }}", "{{ status | contains(1), print(2) }}"),
        "dunder-method": GROUP.replace("{{ status }}", "{{ status | __class__ }}"),
        "format-method": GROUP.replace("{{ status }}", '{{ status | format("x") }}'),
        "chain-first": GROUP.replace("{{ status }}", '{{ chain("c") }}'),
        "chain-function": GROUP.replace("{{ status }}", '{{ status | chain("c") }}'),
        "regex-on-value": GROUP.replace("{{ status }}", '{{ status | resub("a", "b") }}'),
        "print": GROUP.replace("{{ status }}", "{{ status | print }}"),
        "unknown-tag": f"<foo/>\n{GROUP}",
        "group-holds-tag": GROUP.replace("</group>", "<doc>x</doc>\n</group>"),
        "doctype": '<!DOCTYPE t [<!ENTITY e "x">]>\n<template>\n' + GROUP + "</template>\n",
    }


CASE_IDS = sorted(_cases(Path("/m")))


@pytest.mark.parametrize("case", CASE_IDS)
def test_refused_at_validate_and_parse_and_never_runs(
    case: str, marker: Path, tmp_path: Path
) -> None:
    path = tmp_path / "evil.ttp"
    path.write_text(_cases(marker)[case])
    for call in (
        lambda: check_template("ttp", path, display="parsers/frr/evil.ttp"),
        lambda: parse("ttp", OUTPUT, template=path, display_template="parsers/frr/evil.ttp"),
    ):
        with pytest.raises(ParseError) as info:
            call()
        problem = info.value.problems[0]
        assert problem.file == "parsers/frr/evil.ttp"
        assert problem.message.startswith(
            ("TTP template refused: ", "TTP template is not valid XML: ")
        ), problem.message
        assert "\n" not in problem.message
    assert not marker.exists(), "the template's code ran"
    assert not (tmp_path / "_root_template_").exists()  # the file returner's output


@pytest.mark.parametrize(
    "case", ["vars-include", "vars-include-default-loader", "vars-python-default", "macro-tag"]
)
def test_ttp_alone_runs_the_code(case: str, marker: Path) -> None:
    """The attack is real: TTP itself executes these templates' Python at load time."""
    from ttp import ttp

    ttp(template=_cases(marker)[case])
    assert marker.is_dir()


def test_eval_argument_runs_in_ttp_alone(marker: Path) -> None:
    from ttp import ttp

    ttp(template=_cases(marker)["eval-argument"])
    assert marker.exists()


def test_refusal_is_located(tmp_path: Path) -> None:
    text = f"<doc>\nx\n</doc>\n{GROUP.replace('{{ vrf }}', '{{ vrf | dns }}')}"
    with pytest.raises(ParseError) as info:
        safe_template(text, display="p/x.ttp")
    problem = info.value.problems[0]
    assert (problem.file, problem.line) == ("p/x.ttp", 5)
    assert "match variable function 'dns' is not allowed" in problem.message


def test_data_features_still_work(tmp_path: Path) -> None:
    text = """<doc>Interfaces.</doc>
<vars>
STATUS = "(?:up|down)"
SKIP = ["x", 1, -2.5, {"k": None}]
</vars>
<vars load="yaml" name="meta">
  platform: frr
</vars>
<vars load="json">{"ADDR": "[0-9.]+/[0-9]+"}</vars>
<group name="interfaces*" contains="status" to_int="">
{{ interface | _start_ | upper }} {{ status | re("STATUS") | equal("up") }} {{ vrf | let("v", 1) }} {{ addr | re("ADDR") | to_list }}
{{ ignore("\\\\s+") }}{{ more | PREFIX | joinmatches }}
</group>
"""
    path = tmp_path / "ok.ttp"
    path.write_text(text)
    got = parse("ttp", OUTPUT, template=path)
    assert got["interfaces"][0]["interface"] == "LO"
    assert got["interfaces"][0]["addr"] == ["10.0.0.1/32"]
    assert got["meta"] == {"platform": "frr"}


def test_the_shipped_template_is_accepted() -> None:
    checked = safe_template(INTERFACE_BRIEF.read_text(), display="x").decode()
    assert '<vars load="json">{"STATUS": "(?:up|down)", "ADDR": "[0-9A-Fa-f:.]+/[0-9]+"}' in checked


def test_one_place_makes_ttp_parsers() -> None:
    """Only engines._load_ttp imports TTP, and it checks the template first."""
    import re

    from sdd_build.parse import engines

    package = Path(engines.__file__).parents[1]
    importers = [
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(r"^\s*(from ttp\b|import ttp\b)", path.read_text(), re.M)
    ]
    assert importers == ["parse/engines.py"]
    source = Path(engines.__file__).read_text()
    load = source[source.index("def _load_ttp") :]
    assert load.index("safe_template(") < load.index("ttp(template=checked)")

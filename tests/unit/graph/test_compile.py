from __future__ import annotations

from pathlib import Path

import pytest

from sdd_build.design.loader import load_design
from sdd_build.errors import GraphError
from sdd_build.graph.compile import compile_graph
from sdd_build.graph.export import to_dot, to_mermaid

HEAD = "design: t\nversion: 1\nauthor: a\ntargets: {groups: [core]}\ncomponents:\n"


def _load(tmp_path: Path, components: str):  # type: ignore[no-untyped-def]
    (tmp_path / "templates").mkdir(exist_ok=True)
    f = tmp_path / "d.yaml"
    f.write_text(HEAD + components)
    return load_design(f, root=tmp_path)


def test_layers_are_leaf_first_and_deterministic(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "  - {id: c, kind: config_template, template: x.j2, depends_on: [a, b]}\n"
        "  - {id: b, kind: config_template, template: x.j2}\n"
        "  - {id: a, kind: config_template, template: x.j2}\n"
        "  - {id: p, kind: parser, engine: json}\n"
        "  - {id: v, kind: command_template, commands: [show x], parser: p, depends_on: [c]}\n"
        "  - {id: w, kind: workflow, steps: [a, b, c, v]}\n",
    )
    g = compile_graph(loaded)
    assert g.layers == [["a", "b", "p"], ["c"], ["v"], ["w"]]
    assert g.dependents("a") == {"c", "v", "w"}
    assert g.dependencies("v") == {"a", "b", "c", "p"}
    mermaid = to_mermaid(loaded, g)
    assert mermaid.startswith("flowchart BT\n")
    assert "n_a --> n_c" in mermaid
    assert '"a" -> "c";' in to_dot(loaded, g)


def test_cycle_is_printed_as_a_path(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "  - {id: a, kind: config_template, template: x.j2, depends_on: [c]}\n"
        "  - {id: b, kind: config_template, template: x.j2, depends_on: [a]}\n"
        "  - {id: c, kind: config_template, template: x.j2, depends_on: [b]}\n",
    )
    with pytest.raises(GraphError) as err:
        compile_graph(loaded)
    assert "d.yaml:6:5: dependency cycle: a -> b -> c -> a" in str(err.value)


def test_every_problem_is_reported(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "  - {id: a, kind: config_template, template: x.j2, depends_on: [a, ghost]}\n"
        "  - {id: a, kind: config_template, template: x.j2}\n",
    )
    with pytest.raises(GraphError) as err:
        compile_graph(loaded)
    text = str(err.value)
    assert "depends on itself" in text
    assert "unknown component 'ghost'" in text
    assert "duplicate component id 'a'" in text


def test_unreachable_component_with_workflows(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "  - {id: a, kind: config_template, template: x.j2}\n"
        "  - {id: lost, kind: config_template, template: x.j2}\n"
        "  - {id: w, kind: workflow, steps: [a]}\n",
    )
    with pytest.raises(GraphError, match="'lost' is unreachable"):
        compile_graph(loaded)


def test_thousand_components_compile_quickly(tmp_path: Path) -> None:
    lines = "".join(
        f"  - {{id: c{i}, kind: config_template, template: x.j2"
        + (f", depends_on: [c{i - 1}]" if i == 2 else "")
        + (f", depends_on: [c{i - 1}, c{i // 2}]" if i > 2 else "")
        + "}\n"
        for i in range(1000)
    )
    g = compile_graph(_load(tmp_path, lines))
    assert len(g.order) == 1000
    assert g.order.index("c10") > g.order.index("c5")

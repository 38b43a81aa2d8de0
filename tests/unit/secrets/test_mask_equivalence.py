"""The fast masker equals the reference one (``reference_masker.py``, the implementation it
replaced) byte for byte: on every text of the repository's designs, templates, fixtures and
recorded device data, and on random texts built from the platforms' secret syntax, line ends of
every kind ``str.splitlines`` knows, JSON escapes, terminal codes and registered literals.

One difference is on purpose: the reference left a secret it learned from one string of a
structure (or one line of a styled text) in the strings masked before it; the masker masks it
everywhere. The reference is therefore compared as it masks once it has learned (its second
pass over the same input; its first pass on a text without terminal codes already equals it).

(Every test in this folder also compares the two on each call, ``conftest.py``.)"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sdd_build.secrets import MASK, Masker
from sdd_build.secrets.syntax import EXAMPLE_SECRET, all_rows
from tests.unit.secrets.reference_masker import old_mask, old_mask_data

REPO = Path(__file__).resolve().parents[3]
LITERALS = ["Lit3ral-Long-Secret", "abcd", "pw12", "S3cr3t!&<x>", "tab\tsecret", "9876"]
EOLS = ["\n", "\r\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
WORDS = [
    "password",
    "secret",
    "key",
    "community",
    "auth",
    "priv",
    "psk",
    "ascii-text",
    "hexadecimal",
    "neighbor 10.0.0.2",
    "router ospf",
    "interface eth0",
    "hostname r1",
    "<redacted>",
    "&lt;redacted&gt;",
    '"quoted value"',
    "'single'",
    "\\n",
    "\\t",
    "\\r",
    "\\u003credacted\\u003e",
    "\x1b[31m",
    "\x1b[0m",
    "%",
    "7",
    "",
    " ",
    "  ",
    "+",
    "-",
    "::",
    EXAMPLE_SECRET,
    *LITERALS,
    *[r.example for r in all_rows()],
]


def _random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 30)):
        roll = rng.random()
        if roll < 0.2:
            parts.append(rng.choice(EOLS))
        elif roll < 0.3:
            parts.append(json.dumps(rng.choice(WORDS))[1:-1])
        else:
            parts.append(rng.choice(WORDS))
        parts.append(rng.choice(["", " ", " ", "\t", "\n"]))
    return "".join(parts)


def _random_data(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice([_random_text(rng), 9876, 12, 3.5, True, None, "", rng.choice(LITERALS)])
    if roll < 0.7:
        return [_random_data(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["password", "md5_key", "name", "config", "my_token", "status", "secret", "x", 7]
    return {rng.choice(keys): _random_data(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _pair(literals: list[str]) -> tuple[Masker, Masker]:
    new, old = Masker(), Masker()
    for m in (new, old):
        m.add_literals(literals)
        m.add_names(["site_psk"])
    return new, old


def test_random_texts(shadow_reference: list[int]) -> None:
    rng = random.Random(20261127)
    for round_ in range(200):
        literals = rng.sample(LITERALS, rng.randint(0, len(LITERALS)))
        new, old = _pair(literals)
        for _ in range(12):
            text = _random_text(rng)
            first = old_mask(old, text)
            expected = old_mask(old, text)
            if "\x1b" not in text:
                assert first == expected
            assert Masker.mask(new, text) == expected, (round_, text)
            assert Masker.mask(new, text) == expected  # again: from the memo
        assert new.literals == old.literals  # learned the same secrets
    assert shadow_reference[0] > 0  # the per-call comparison of conftest.py is on


def test_random_data() -> None:
    rng = random.Random(1127)
    for round_ in range(300):
        new, old = _pair(rng.sample(LITERALS, rng.randint(0, len(LITERALS))))
        data = _random_data(rng)
        old_mask_data(old, data)
        expected = old_mask_data(old, data)
        assert new.mask_data(data) == expected, (round_, data)
        assert new.mask_data(data) == old_mask_data(old, data)
        assert new.literals == old.literals


def _corpus() -> list[Path]:
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "designs", "templates", "tests", "labs", "parsers"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return [REPO / p for p in listed if not p.endswith((".py", ".pyc")) and (REPO / p).is_file()]


def test_every_text_file_of_the_repository() -> None:
    files = _corpus()
    if not files:
        pytest.skip("not a git checkout")
    compared = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for literals in ([], LITERALS):
            new, old = _pair(literals)
            assert new.mask(text) == old_mask(old, text), path
            lines = text.splitlines(keepends=True)
            for line in lines[:200]:  # short texts take the memo path
                assert new.mask(line) == old_mask(old, line), (path, line)
            compared += 1
    assert compared > 50


def test_a_secret_learned_late_is_masked_early_too() -> None:
    m = Masker()
    data = {"a": "zq-Late-Secret", "b": "enable password zq-Late-Secret"}
    assert "zq-Late-Secret" not in json.dumps(m.mask_data(data))
    m = Masker()
    styled = "\x1b[1mzq-Late-Secret\x1b[0m\n\x1b[1menable password zq-Late-Secret\x1b[0m\n"
    assert "zq-Late-Secret" not in m.mask(styled)


def test_the_memo_forgets_when_a_literal_is_learned() -> None:
    m = Masker()
    assert m.mask("token abcdefgh here") == "token abcdefgh here"
    m.add_literals(["abcdefgh"])
    assert m.mask("token abcdefgh here") == f"token {MASK} here"
    assert m.mask_data({"note": "abcdefgh"}) == {"note": MASK}

"""The masker: the platform's secret syntax (every row of the table, in every form a secret
travels in) and literal values (in every encoding we write)."""

from __future__ import annotations

import hashlib
import html
import json

import pytest

from sdd_build.secrets import MASK, Masker
from sdd_build.secrets.syntax import EXAMPLE_SECRET, TRIGGER, all_rows

ROWS = all_rows()  # every platform's (sdd_build.platforms)


def _forms(line: str) -> list[str]:
    bare = line.strip()
    return [
        line,
        bare,
        f"   {bare}",
        f"+ {bare}",
        f"-  {bare}",
        f"+{bare}",
        f"% Unknown command: {bare}",
        f"line 3: rejected: '{bare}'",
        f"hostname r1\n{bare}\nexit\n",
    ]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_every_row_masks_its_example_in_every_form(row: object) -> None:
    m = Masker()
    for form in _forms(row.example):  # type: ignore[attr-defined]
        masked = m.mask(form)
        assert EXAMPLE_SECRET not in masked, (form, masked)
        assert MASK in masked
        assert m.mask(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_every_row_starts_with_a_trigger_word(row: object) -> None:
    """The masker tries the rows only on lines holding a TRIGGER word: what a row keeps
    (the words before the secret) must hold one."""
    import re

    found = re.search(row.keep, row.example, re.IGNORECASE)  # type: ignore[attr-defined]
    assert found is not None
    assert TRIGGER.search(found.group(0)), row


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_inside_json_and_html(row: object) -> None:
    m = Masker()
    config = f"hostname r1\n{row.example}\n"  # type: ignore[attr-defined]
    data = {"expected": config, "nested": [{"actual": config}]}
    assert EXAMPLE_SECRET not in json.dumps(m.mask_data(data))
    # a report: the masked record, escaped
    assert EXAMPLE_SECRET not in html.escape(m.mask(config))


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("password VtyPw-2222", "VtyPw-2222"),
        ("enable password 8 abcdefgh", "abcdefgh"),
        (" neighbor 10.1.12.1 password BgpPw-3333", "BgpPw-3333"),
        (" ip ospf message-digest-key 1 md5 OspfMd5-4444", "OspfMd5-4444"),
        (" ip ospf authentication-key OspfAk5", "OspfAk5"),
        ("  key-string KeyStr-6666", "KeyStr-6666"),
        (" area-password md5 IsisArea-8888 authenticate snp validate", "IsisArea-8888"),
        (" domain-password clear IsisDom-9999", "IsisDom-9999"),
        (" isis password md5 IsisIf-0000", "IsisIf-0000"),
        (" ip rip authentication string RipStr-1212", "RipStr-1212"),
        ("snmp-server community SnmpC-7777 ro", "SnmpC-7777"),
        ('{"password": "a b c", "user": "x"}', "a b c"),
        ("password: hunter2-yaml", "hunter2-yaml"),
    ],
)
def test_running_config_lines_as_frr_shows_them(line: str, secret: str) -> None:
    # the lines as FRR 8.4 prints them in 'show running-config' (read on the lab)
    assert secret not in Masker().mask(line)


def test_a_value_masked_by_syntax_is_masked_everywhere_after() -> None:
    m = Masker()
    m.mask(" neighbor 10.0.0.2 password Learnt-Secret-1")
    assert m.mask('{"peer_password_seen": "Learnt-Secret-1"}').count(MASK) == 1
    assert m.mask_data({"found": ["x", "Learnt-Secret-1"]}) == {"found": ["x", MASK]}


def test_literals_in_every_encoding() -> None:
    m = Masker()
    value = 'p<a>"ss&w\\rd-1'
    m.add_literals([value])
    for form in (value, json.dumps(value), html.escape(value), html.escape(value, quote=False)):
        assert value not in m.mask(f"x {form} y")
        assert MASK in m.mask(f"x {form} y")
    assert value not in json.dumps(m.mask_data({"k": [value]}))


def test_short_literals_only_as_whole_tokens_and_never_inside_a_hash() -> None:
    m = Masker()
    m.add_literals(["beef", "abc"])  # 'abc' is below MIN_LITERAL: not masked by value
    digest = hashlib.sha256(b"x").hexdigest()
    text = f"sha256 {digest} beefy beef abc"
    masked = m.mask(text)
    assert digest in masked
    assert masked.endswith(f"beefy {MASK} abc")


def test_secret_keys_and_declared_names_mask_the_whole_value() -> None:
    m = Masker()
    m.add_names(["peer_key"])
    data = {
        "password": "x",
        "shell_password": 1234,
        "peer_key": {"r1": "Per-Host-Key-1", "r2": "Per-Host-Key-2"},
        "secrets": ["peer_key"],
        "note": "see Per-Host-Key-2",
    }
    out = m.mask_data(data)
    assert out["password"] == MASK
    assert out["shell_password"] == MASK
    assert out["peer_key"] == {"r1": MASK, "r2": MASK}
    assert out["secrets"] == ["peer_key"]
    assert out["note"] == f"see {MASK}"


def test_learn_registers_values_under_secret_keys() -> None:
    m = Masker()
    m.learn({"r1": {"connection_options": {"napalm": {"extras": {"secret": "Enable-Pw-77"}}}}})
    assert m.mask("login Enable-Pw-77 ok") == f"login {MASK} ok"


def test_text_with_terminal_codes() -> None:
    m = Masker()
    m.add_literals(["Styled-Secret-1"])
    styled = "\x1b[31mpass\x1b[0mword Sty\x1b[1mled-Secret-1\x1b[0m\n\x1b[1mok\x1b[0m\n"
    masked = m.mask(styled)
    assert "Styled" not in masked
    assert "\x1b[1mok\x1b[0m" in masked  # lines without a secret keep their style


def test_prose_is_left_alone_where_no_value_follows() -> None:
    m = Masker()
    text = "secret variable 'x' is defined nowhere; --show-secrets; passwords: none"
    assert m.mask(text) == text

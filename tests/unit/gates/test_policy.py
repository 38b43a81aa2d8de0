"""Signed approvals and approvers.yaml: forged, unsigned, wrong-key, four-eyes and unlisted
approvals are refused (exit 3); a malformed policy or key file is bad input (exit 2)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from sdd_build.audit import canonical_json
from sdd_build.errors import GateError
from sdd_build.gates import (
    KeyFileError,
    PolicyError,
    approve,
    check_gate2,
    load_policy,
    load_private_key,
)
from tests.conftest import EXAMPLE
from tests.unit.gates.conftest import Key, record, spec_of, write_policy, write_record

RECORD = f"{EXAMPLE}/approvals/design.json"


def _policy(root: Path, keys: dict[str, Key], **kw: bool) -> None:
    write_policy(
        root,
        approvers=[
            {"name": "a.smith", "public_key": keys["a"].public, "gates": ["spec", "design"]},
            {"name": "b.jones", "public_key": keys["b"].public, "gates": ["design"]},
            {"name": "j.doe", "public_key": keys["mallory"].public, "gates": ["spec", "design"]},
        ],
        **kw,
    )


@pytest.fixture
def signed(design_path: Path, example_repo: Path, keys: dict[str, Key]) -> Path:
    """Policy with required signatures; spec and design approved and signed."""
    _policy(example_repo, keys, require_signatures=True, four_eyes=True)
    approve(spec_of(design_path), gate="spec", by="a.smith", key=keys["a"].path)
    approve(design_path, gate="design", by="b.jones", key=keys["b"].path)
    return design_path


def _refused(design: Path) -> GateError:
    with pytest.raises(GateError) as info:
        check_gate2(design)
    assert info.value.exit_code == 3
    return info.value


def test_signed_approvals_pass(signed: Path, keys: dict[str, Key]) -> None:
    build = check_gate2(signed)
    assert build.design_approval.signed
    assert build.design_approval.fingerprint == keys["b"].fingerprint
    assert build.approvals()[0]["fingerprint"] == keys["a"].fingerprint
    sig = record(signed, "design")["signature"]
    assert sig["algorithm"] == "ed25519"
    assert sig["public_key"] == keys["b"].public


def test_signature_is_over_the_documented_canonical_manifest(
    signed: Path, keys: dict[str, Key]
) -> None:
    data = record(signed, "design")
    sig = data.pop("signature")
    manifest = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert manifest == canonical_json(data)
    public = load_private_key(keys["b"].path).public_key()
    public.verify(base64.b64decode(sig["value"]), manifest)  # raises if not


@pytest.mark.parametrize(
    "forge",
    [
        lambda d: d["files"]["templates/frr/ospf_process.j2"].update(sha256="0" * 64),
        lambda d: d.update(sha256="1" * 64),
        lambda d: d.update(approver="a.smith"),
        lambda d: d.update(approved_at="2020-01-01T00:00:00Z"),
        lambda d: d["design"].update(version=2),
    ],
    ids=["file-hash", "design-hash", "approver", "time", "version"],
)
def test_forged_record_is_refused(signed: Path, forge) -> None:
    data = record(signed, "design")
    forge(data)
    write_record(signed, "design", data)
    exc = _refused(signed)
    assert exc.problems[0].file == RECORD
    assert "signature does not verify" in exc.problems[0].message


def test_forged_record_is_refused_even_without_policy(approved_signed_no_policy: Path) -> None:
    data = record(approved_signed_no_policy, "design")
    data["note"] = "forged"
    write_record(approved_signed_no_policy, "design", data)
    assert "signature does not verify" in str(_refused(approved_signed_no_policy))


@pytest.fixture
def approved_signed_no_policy(design_path: Path, keys: dict[str, Key]) -> Path:
    approve(spec_of(design_path), gate="spec", by="a.smith", key=keys["a"].path)
    approve(design_path, gate="design", by="b.jones", key=keys["b"].path)
    return design_path


def test_resigned_with_another_key_is_refused(signed: Path, keys: dict[str, Key]) -> None:
    data = record(signed, "design")
    data.pop("signature")
    data["approver"] = "a.smith"
    mallory = load_private_key(keys["mallory"].path)
    pub = mallory.public_key()
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    data["signature"] = {
        "algorithm": "ed25519",
        "public_key": base64.b64encode(raw).decode(),
        "fingerprint": keys["mallory"].fingerprint,
        "value": base64.b64encode(mallory.sign(canonical_json(data))).decode(),
    }
    write_record(signed, "design", data)
    exc = _refused(signed)
    assert f"not a.smith's key in approvers.yaml ({keys['a'].fingerprint})" in str(exc)


def test_unsigned_approval_is_refused_where_required(
    design_path: Path, example_repo: Path, keys: dict[str, Key]
) -> None:
    _policy(example_repo, keys, require_signatures=True)
    with pytest.raises(GateError) as info:
        approve(spec_of(design_path), gate="spec", by="a.smith")
    assert info.value.exit_code == 3
    assert "requires signed approvals" in str(info.value)
    assert "--key" in (info.value.hint or "")


def test_unsigned_record_fails_when_policy_later_requires_signatures(
    approved: Path, example_repo: Path, keys: dict[str, Key]
) -> None:
    check_gate2(approved)
    _policy(example_repo, keys, require_signatures=True)
    exc = _refused(approved)
    assert "requires signed approvals and this one is unsigned" in str(exc)


def test_stripping_the_signature_is_refused(signed: Path) -> None:
    data = record(signed, "design")
    data.pop("signature")
    write_record(signed, "design", data)
    assert "unsigned" in str(_refused(signed))


def test_wrong_key_is_refused_at_approval(
    design_path: Path, example_repo: Path, keys: dict[str, Key]
) -> None:
    _policy(example_repo, keys)
    with pytest.raises(GateError) as info:
        approve(spec_of(design_path), gate="spec", by="a.smith", key=keys["b"].path)
    assert f"signed with key {keys['b'].fingerprint}, which is not a.smith's key" in str(info.value)


def test_four_eyes_refuses_the_author(
    design_path: Path, example_repo: Path, keys: dict[str, Key]
) -> None:
    _policy(example_repo, keys, four_eyes=True)
    approve(spec_of(design_path), gate="spec", by="j.doe")  # four eyes concerns the design
    with pytest.raises(GateError) as info:
        approve(design_path, gate="design", by="j.doe")
    assert info.value.exit_code == 3
    assert "four-eyes policy: j.doe is the design's author" in str(info.value)


def test_four_eyes_is_checked_again_at_the_gate(
    approved: Path, example_repo: Path, keys: dict[str, Key]
) -> None:
    data = record(approved, "design")
    data["approver"] = "j.doe"
    write_record(approved, "design", data)
    # without a policy too: a record edited by hand is not the one the audit chain recorded
    assert "not in the audit chain" in str(_refused(approved))
    _policy(example_repo, keys, four_eyes=True)
    refused = _refused(approved)
    assert "four-eyes policy: j.doe is the design's author" in str(refused.problems)


def test_unlisted_approver_is_refused(
    design_path: Path, example_repo: Path, keys: dict[str, Key]
) -> None:
    _policy(example_repo, keys)
    with pytest.raises(GateError, match=r"c\.nobody is not listed in approvers\.yaml"):
        approve(spec_of(design_path), gate="spec", by="c.nobody")


def test_approver_not_listed_for_the_gate(
    design_path: Path, example_repo: Path, keys: dict[str, Key]
) -> None:
    _policy(example_repo, keys)
    with pytest.raises(
        GateError, match=r"b.jones may not approve the spec gate \(listed for: design\)"
    ):
        approve(spec_of(design_path), gate="spec", by="b.jones")


def test_removed_approver_invalidates_at_the_gate(
    signed: Path, example_repo: Path, keys: dict[str, Key]
) -> None:
    write_policy(
        example_repo,
        approvers=[
            {"name": "a.smith", "public_key": keys["a"].public, "gates": ["spec", "design"]}
        ],
    )
    exc = _refused(signed)
    assert "b.jones is not listed in approvers.yaml" in str(exc)
    assert exc.problems[0].file == RECORD


def test_pem_and_openssh_public_keys_are_accepted(
    design_path: Path, example_repo: Path, keys: dict[str, Key]
) -> None:
    pub = load_private_key(keys["a"].path).public_key()
    pem = pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    ssh = pub.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    for text in (pem, ssh):
        write_policy(
            example_repo,
            require_signatures=True,
            approvers=[{"name": "a.smith", "public_key": text, "gates": ["spec"]}],
        )
        approve(spec_of(design_path), gate="spec", by="a.smith", key=keys["a"].path)


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (
            "require_signatures: true\napprovers:\n  - name: a\n    gates: [spec]\n",
            1,
            "have no public_key: a",
        ),
        ("approvers:\n  - name: a\n    public_key: nope!\n    gates: [spec]\n", 3, "not base64"),
        ("approvers:\n  - name: a\n    gates: [build]\n", 3, "gates.0"),
        ("approvers:\n  - name: a\n    gates: [spec]\n    role: boss\n", 4, "unknown key 'role'"),
        ("four_eyes: [\n", 2, "invalid YAML"),
        ("- a\n", 1, "is a mapping"),
    ],
)
def test_malformed_policy_is_bad_input(
    example_repo: Path, content: str, line: int, message: str
) -> None:
    (example_repo / "approvers.yaml").write_text(content)
    with pytest.raises(PolicyError) as info:
        load_policy(example_repo)
    assert info.value.exit_code == 2
    problem = info.value.problems[0]
    assert problem.file == "approvers.yaml"
    assert problem.line == line, problem
    assert message in problem.message


def test_bad_key_files(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not found"):
        load_private_key(tmp_path / "none.pem")
    (tmp_path / "junk.pem").write_text("hello")
    with pytest.raises(KeyFileError, match="not a PEM private key"):
        load_private_key(tmp_path / "junk.pem")
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "ec.pem").write_bytes(other)
    with pytest.raises(KeyFileError, match="not an Ed25519 key"):
        load_private_key(tmp_path / "ec.pem")


def test_encrypted_key_is_refused_with_a_reason(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    (tmp_path / "enc.pem").write_bytes(pem)
    with pytest.raises(KeyFileError, match="encrypted"):
        load_private_key(tmp_path / "enc.pem")


def test_public_api_is_exported() -> None:
    from sdd_build import audit, gates

    for module in (gates, audit):
        assert sorted(module.__all__) == sorted(set(module.__all__))
        for name in module.__all__:
            assert getattr(module, name) is not None, name

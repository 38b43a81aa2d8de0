"""Never a secret: reports show the record and link evidence; they never read evidence, never
link private/, and mask secret-bearing config syntax that reached the record."""

from __future__ import annotations

import re
from pathlib import Path

from sdd_build.report import write_all
from tests.unit.report.conftest import PLANTED_SECRET


def test_no_planted_secret_in_any_report(rich_build: Path) -> None:
    # planted: the inventory's password, in evidence files, in private/ backups, behind a
    # symlink from evidence/ into private/, and in config syntax inside the record itself
    inventory = (rich_build.parent.parent / "inventory" / "hosts.yaml").read_text()
    secrets = re.findall(r"password:\s*(\S+)", inventory)
    assert secrets == [PLANTED_SECRET]
    assert PLANTED_SECRET in (rich_build / "as-built.json").read_text()
    assert PLANTED_SECRET in (rich_build / "private/r2/backup.cfg").read_text()
    assert PLANTED_SECRET in (rich_build / "evidence/r2/link-to-private.cfg").read_text()

    written = write_all(rich_build)
    assert sorted(p.name for p in written) == ["as-built.md", "junit.xml", "report.html"]
    for path in written:
        text = path.read_text()
        for secret in secrets:
            assert secret not in text, f"{path.name} shows a secret"
        assert "<redacted>" in text or "&lt;redacted&gt;" in text or path.name == "junit.xml"


def test_nothing_under_private_is_linked(rich_build: Path) -> None:
    write_all(rich_build)
    md = (rich_build / "as-built.md").read_text()
    html = (rich_build / "report.html").read_text()
    junit = (rich_build / "junit.xml").read_text()
    md_links = re.findall(r"\]\(([^)]*)\)", md)
    html_links = re.findall(r'(?:href|src)="([^"]*)"', html)
    assert md_links
    assert html_links
    for link in md_links + html_links:
        assert link.startswith(("evidence/", "#")), link
        assert "private" not in link
        assert ".." not in link
        assert "link-to-private" not in link
    for text in (md, html, junit):
        assert "private/" not in text
        assert "/etc/passwd" not in text


def test_reports_read_no_evidence_file(rich_build: Path) -> None:
    """A report links evidence; it never inlines it (the content could be anything)."""
    marker = "EVIDENCE-CONTENT-MUST-NOT-APPEAR"
    for path in (rich_build / "evidence").rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.write_text(marker + "\n")
    for path in write_all(rich_build):
        assert marker not in path.read_text()

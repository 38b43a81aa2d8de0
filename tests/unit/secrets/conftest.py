"""Every text the secrets tests mask is masked twice, by the masker and by the reference
implementation it replaced (``reference_masker.py``): the two must agree byte for byte."""

from __future__ import annotations

from typing import Any

import pytest

from sdd_build.secrets.masker import Masker
from tests.unit.secrets.reference_masker import old_mask, old_mask_data


@pytest.fixture(autouse=True)
def shadow_reference(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    compared = [0]
    real_mask, real_mask_data = Masker.mask, Masker.mask_data

    def mask(self: Masker, text: str) -> str:
        new = real_mask(self, text)
        assert new == old_mask(self, text), text
        compared[0] += 1
        return new

    def mask_data(self: Masker, data: Any) -> Any:
        new = real_mask_data(self, data)
        assert new == old_mask_data(self, data), data
        compared[0] += 1
        return new

    monkeypatch.setattr(Masker, "mask", mask)
    monkeypatch.setattr(Masker, "mask_data", mask_data)
    return compared

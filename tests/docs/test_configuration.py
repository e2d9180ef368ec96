"""docs/configuration.md is generated from `Settings`, and current."""

from __future__ import annotations

from pathlib import Path

from taskyard.config import Settings
from taskyard.docs.configuration import render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_says_what_it_does() -> None:
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undescribed == []


def test_the_configuration_page_is_current() -> None:
    assert PAGE.read_text() == render(), "settings changed: run `make docs` and commit the page"
    for name in Settings.model_fields:
        assert f"`TASKYARD_{name.upper()}`" in PAGE.read_text()

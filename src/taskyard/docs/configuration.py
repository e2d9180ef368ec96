"""docs/configuration.md, generated from `Settings`: every field, its variable, its default and
its description, so the page can't drift from the code (tests/docs checks it is current).

    python -m taskyard.docs.configuration > docs/configuration.md
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from taskyard.config import DEFAULT_WEB_DIR, Settings

# Read by a command rather than by `Settings`.
COMMAND_VARIABLES = [
    ("TASKYARD_ADMIN_PASSWORD", "none", "read by `create-admin` when `--password` is not given"),
]
HEADER = """# Configuration

Generated from `src/taskyard/config.py` (`make docs`); edit the descriptions there.

Every setting is an environment variable with the `TASKYARD_` prefix; a `.env` file in the
working directory is read too. `taskyard COMMAND --help` lists the ones each command reads.

| Variable | Default | What it does |
| --- | --- | --- |
"""


def _default(name: str, field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "empty"
    value: Any = field.default
    if value is None:
        return "none"
    if isinstance(value, Path):
        return "the package's `web/dist`" if value == DEFAULT_WEB_DIR else f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    rows = [
        f"| `TASKYARD_{name.upper()}` | {_default(name, field)} | "
        f"{_cell(field.description or '')} |"
        for name, field in Settings.model_fields.items()
    ]
    rows += [f"| `{name}` | {default} | {text} |" for name, default, text in COMMAND_VARIABLES]
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(render(), end="")

"""docs/configuration.md, generated from `Settings`: every field, its variable, its default and
its description, so the page can't drift from the code (tests/docs checks it is current).

    python -m taskyard.docs.configuration > docs/configuration.md
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from taskyard.config import DEFAULT_WEB_DIR, SETTING_GROUPS, Settings, setting_group

HEADER = """# Configuration

Generated from `src/taskyard/config.py` (`make docs`); edit the descriptions there.

Every setting is an environment variable with the `TASKYARD_` prefix; a `.env` file in the
working directory is read too. `taskyard COMMAND --help` lists the ones each command reads.
"""
TABLE = "| Variable | Default | What it does |\n| --- | --- | --- |\n"


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
    from taskyard.cli import COMMANDS  # the commands' own variables, and who reads what

    sections = [HEADER]
    for group, (title, _starts) in SETTING_GROUPS.items():
        readers = ", ".join(f"`{c.name}`" for c in COMMANDS if group in c.reads)
        rows = [
            f"| `TASKYARD_{name.upper()}` | {_default(name, field)} | "
            f"{_cell(field.description or '')} |"
            for name, field in Settings.model_fields.items()
            if setting_group(name) == group
        ]
        sections.append(f"## {title}\n\nRead by {readers}.\n\n" + TABLE + "\n".join(rows) + "\n")
    own = [
        f"| `{name}` | none | read by `{command.name}`: {text} |"
        for command in COMMANDS
        for name, text in command.variables.items()
    ]
    sections.append("## Read by one command\n\n" + TABLE + "\n".join(own) + "\n")
    return "\n".join(sections)


if __name__ == "__main__":
    print(render(), end="")

"""Each command's help lists the variables it reads, generated from `Settings`."""

from __future__ import annotations

import contextlib
import io

import pytest

from taskyard.cli import COMMANDS, build_parser, reads
from taskyard.commands import Command
from taskyard.config import SETTING_GROUPS, Settings, setting_group, settings_in


def test_every_setting_belongs_to_a_group() -> None:
    grouped = [name for group in SETTING_GROUPS for name in settings_in(group)]
    assert sorted(grouped) == sorted(f"TASKYARD_{name.upper()}" for name in Settings.model_fields)
    with pytest.raises(KeyError, match="SETTING_GROUPS"):
        setting_group("a_setting_nobody_grouped")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_a_command_s_help_lists_every_variable_of_what_it_reads(command: Command) -> None:
    listed = reads(command)
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit):
        build_parser().parse_args([command.name, "--help"])
    epilog = shown.getvalue().split("Reads:\n", 1)[1]
    assert [line.strip() for line in epilog.splitlines() if line.startswith("  ")] == listed


def test_what_a_command_reads_follows_the_settings() -> None:
    by_name = {command.name: command for command in COMMANDS}
    assert reads(by_name["serve"])[: len(settings_in("process"))] == settings_in("process")
    assert len([v for v in reads(by_name["serve"]) if v.startswith("TASKYARD_")]) == len(
        Settings.model_fields
    )
    assert "TASKYARD_ARGON2_TIME_COST" in reads(by_name["create-admin"])
    assert "TASKYARD_ADMIN_PASSWORD" in reads(by_name["create-admin"])
    assert "TASKYARD_BROKER_PREFIX" in reads(by_name["dead-letters"])
    assert "TASKYARD_REDIS_URL" not in reads(by_name["migrate"])

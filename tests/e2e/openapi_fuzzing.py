"""Schemathesis over the OpenAPI document, against the real server: every check, the stateful
phase, as a person and as an admin. It must find nothing, which holds only while the document
describes the API that runs. One test file a backend (`test_openapi_fuzz_*.py`), so the slow
tier runs the two side by side."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.serving import PASSWORD, REPO, Server, register, served_backend

# Bounded so that both runs on both backends take a few minutes in all.
MAX_EXAMPLES = 25
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def fuzzed_server_on(backend: str) -> Callable[..., Iterator[Server]]:
    """A module's server of its own: the admin run may delete or demote anyone but the two it
    needs."""

    @pytest.fixture(scope="module", params=[backend])
    def fuzzed_server(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Server]:
        yield from served_backend(request, tmp_path_factory, "fuzz")

    return fuzzed_server


def fuzz(server: Server, caller: dict[str, str], assignee: dict[str, str]) -> None:
    if not SCHEMATHESIS.exists() and shutil.which("schemathesis") is None:
        pytest.fail("schemathesis is not installed: run `make install-dev`")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks",
        "TASKYARD_FUZZ_API": server.api,
        "TASKYARD_FUZZ_EMAIL": caller["email"],
        "TASKYARD_FUZZ_PASSWORD": PASSWORD,
        "TASKYARD_FUZZ_OWN_ID": caller["id"],
        "TASKYARD_FUZZ_ASSIGNEE_ID": assignee["id"],
        "TASKYARD_FUZZ_ASSIGNEE_EMAIL": assignee["email"],
    }
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{server.base_url}/api-docs.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(MAX_EXAMPLES),
            # One worker: CPython 3.11 shares its AST builder's state between threads, and
            # Hypothesis parses sources in each, which fails at random ("recursion depth mismatch").
            "--workers",
            "1",
            "--seed",
            "20261129",
            # The event stream never ends, and schemathesis reads an answer whole: its
            # parameters, sign-in and events are tested by tests/live over real HTTP.
            "--exclude-path",
            "/api/v1/events",
            "--no-color",
        ],
        env=env,
        cwd=server.workdir,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    report = result.stdout[-20_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, report
    assert "No issues found" in result.stdout or " passed" in result.stdout, report


def fuzz_as_a_person_then_as_an_admin(fuzzed_server: Server) -> None:
    person = register(fuzzed_server, "Fuzzed Person")["user"]
    assignee = register(fuzzed_server, "Fuzzed Assignee")["user"]
    fuzz(fuzzed_server, person, assignee)
    fuzz(fuzzed_server, fuzzed_server.admin["user"], assignee)

"""bench/docs.py: a bench rewrites its own section of docs/benchmarks.md and nothing else."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.docs import (
    SectionError,
    command_line,
    markers,
    recorded,
    render,
    replace_section,
    write_section,
)

DOCUMENT = """# Benchmarks

## Submissions

What it measures.

<!-- bench:submissions -->
old submissions numbers
<!-- /bench:submissions -->

## Matching

<!-- bench:matching_eval -->
old matching numbers
<!-- /bench:matching_eval -->

Text after the last section.
"""


def test_replaces_only_the_named_section() -> None:
    updated = replace_section(DOCUMENT, "submissions", "new submissions numbers")

    assert "new submissions numbers" in updated
    assert "old submissions numbers" not in updated
    assert "old matching numbers" in updated
    assert updated.replace("new submissions numbers", "old submissions numbers") == DOCUMENT


def test_text_outside_the_markers_is_kept_byte_for_byte() -> None:
    updated = replace_section(DOCUMENT, "matching_eval", "precision 0.9\n\nrecall 0.8\n")

    start, end = markers("matching_eval")
    assert updated.split(start, maxsplit=1)[0] == DOCUMENT.split(start, maxsplit=1)[0]
    assert updated.split(end, maxsplit=1)[1] == DOCUMENT.split(end, maxsplit=1)[1]
    assert f"{start}\nprecision 0.9\n\nrecall 0.8\n{end}" in updated


def test_writing_the_same_body_twice_changes_nothing() -> None:
    once = replace_section(DOCUMENT, "submissions", "numbers")

    assert replace_section(once, "submissions", "numbers") == once


def test_a_section_not_in_the_document_is_appended() -> None:
    updated = replace_section(DOCUMENT, "crm_import", "import numbers")

    assert updated.startswith(DOCUMENT.rstrip())
    start, end = markers("crm_import")
    assert updated.endswith(f"\n\n{start}\nimport numbers\n{end}\n")
    assert replace_section(updated, "crm_import", "newer") == updated.replace(
        "import numbers", "newer"
    )


@pytest.mark.parametrize(
    "broken",
    [
        "<!-- bench:submissions -->\nno end",
        "no start\n<!-- /bench:submissions -->",
        "<!-- /bench:submissions -->\nreversed\n<!-- bench:submissions -->",
        "<!-- bench:submissions -->\n<!-- /bench:submissions -->\n" * 2,
    ],
)
def test_malformed_markers_are_refused_not_guessed(broken: str) -> None:
    with pytest.raises(SectionError):
        replace_section(broken, "submissions", "numbers")


def test_a_name_that_prefixes_another_does_not_touch_it() -> None:
    document = "<!-- bench:sub -->\nA\n<!-- /bench:sub -->\n" + DOCUMENT

    updated = replace_section(document, "sub", "B")

    assert updated == "<!-- bench:sub -->\nB\n<!-- /bench:sub -->\n" + DOCUMENT


def test_the_command_is_shell_quoted_and_loses_the_flag() -> None:
    command = command_line("bench.submissions", ["-n", "1000", "--write-docs", "--x", "a b"])

    assert command == "python -m bench.submissions -n 1000 --x 'a b'"


def test_the_section_says_when_how_and_at_what_machine_speed() -> None:
    output = "throughput 500/s\n  machine speed: 10M-step loop 0.20 s\n"

    body = render("python -m bench.x -n 5", output, datetime(2026, 12, 2, 9, 30, tzinfo=UTC), "abc")

    assert body.splitlines()[0] == (
        "Run on 2026-12-02 09:30 UTC at commit `abc` with `python -m bench.x -n 5`."
    )
    assert "- machine speed: 10M-step loop 0.20 s" in body.splitlines()
    assert "```text\nthroughput 500/s\n  machine speed: 10M-step loop 0.20 s\n```" in body


def test_output_holding_a_fence_gets_a_longer_one() -> None:
    body = render("cmd", "```\nx\n```", datetime(2026, 12, 2, tzinfo=UTC))

    assert "````text\n```\nx\n```\n````" in body
    assert "- machine speed: not printed by this run" in body


def test_write_section_creates_the_file_and_rewrites_in_place(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "benchmarks.md"

    write_section("submissions", "first", path)
    write_section("matching_eval", "second", path)
    write_section("submissions", "third", path)

    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n")
    assert "third" in text
    assert "first" not in text
    assert text.index("<!-- bench:submissions -->") < text.index("<!-- bench:matching_eval -->")


def test_recorded_writes_what_the_bench_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text(DOCUMENT, encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["bench/matching_eval.py", "--write-docs", "--verbose"])

    with recorded("matching_eval", "bench.matching_eval", enabled=True, path=path):
        print("precision 0.985")

    text = path.read_text(encoding="utf-8")
    assert "old matching numbers" not in text
    assert "with `python -m bench.matching_eval --verbose`." in text
    assert "```text\nprecision 0.985\n```" in text
    assert "old submissions numbers" in text
    assert "precision 0.985" in capsys.readouterr().out


def a_failing_bench(path: Path) -> None:
    with recorded("submissions", "bench.submissions", enabled=True, path=path):
        print("half a run")
        raise RuntimeError("the bench failed")


def test_recorded_without_the_flag_or_after_a_failure_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text(DOCUMENT, encoding="utf-8")

    with recorded("submissions", "bench.submissions", enabled=False, path=path):
        print("not kept")
    with pytest.raises(RuntimeError, match="the bench failed"):
        a_failing_bench(path)

    assert path.read_text(encoding="utf-8") == DOCUMENT

"""Write a bench's numbers into its own section of docs/benchmarks.md.

Each bench accepts ``--write-docs``; with it, whatever the bench prints is also kept, and
when it finishes its section (between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``)
is replaced by that output, the date, the machine speed probe and the command that ran.
Everything outside the markers is left as written. A bench that fails writes nothing.
"""

from __future__ import annotations

import argparse
import io
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
WRITE_FLAG = "--write-docs"
PROBE = "machine speed:"


class SectionError(ValueError):
    """The document's markers for a section are not one well-formed pair."""


def markers(name: str) -> tuple[str, str]:
    """The opening and closing marker of section `name`."""
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def replace_section(document: str, name: str, body: str) -> str:
    """`document` with section `name` holding `body`; a missing section is appended."""
    start, end = markers(name)
    starts, ends = document.count(start), document.count(end)
    if starts == ends == 0:
        return f"{document.rstrip()}\n\n{start}\n{body.strip()}\n{end}\n"
    if starts != 1 or ends != 1:
        raise SectionError(f"expected one {start} and one {end}, found {starts} and {ends}")
    head, rest = document.split(start)
    if end not in rest:
        raise SectionError(f"{end} comes before {start}")
    tail = rest.split(end)[1]
    return f"{head}{start}\n{body.strip()}\n{end}{tail}"


def add_write_flag(parser: argparse.ArgumentParser) -> None:
    """Give a bench the flag that makes it rewrite its section."""
    parser.add_argument(
        WRITE_FLAG, action="store_true", help="also write the numbers into docs/benchmarks.md"
    )


def command_line(module: str, argv: list[str]) -> str:
    """How to run the bench again, as the shell would take it (without the flag)."""
    return shlex.join(["python", "-m", module, *(a for a in argv if a != WRITE_FLAG)])


def render(command: str, output: str, when: datetime, commit: str | None = None) -> str:
    """The section's text: when and how it ran, the speed probe, then the output verbatim."""
    ran = f"Run on {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    ran += f" at commit `{commit}`" if commit else ""
    probes = [line.strip() for line in output.splitlines() if PROBE in line]
    lines = [f"{ran} with `{command}`.", ""]
    lines += [f"- {probe}" for probe in probes] or ["- machine speed: not printed by this run"]
    fence = "````" if "```" in output else "```"
    lines += ["", f"{fence}text", output.strip("\n"), fence]
    return "\n".join(lines)


def write_section(name: str, body: str, path: Path = DOCS) -> None:
    """Replace section `name` of the file at `path` (created if missing) with `body`."""
    document = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(document, name, body), encoding="utf-8")


def _git(*args: str) -> str:
    """What a git command prints in the repository."""
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def current_commit() -> str | None:
    """The short hash of HEAD, marked when the Python code differs from it; None outside git."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no", "--", "*.py", "*.toml")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head} + uncommitted changes" if changed else head


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, terminal: TextIO) -> None:
        self.terminal = terminal
        self.kept = io.StringIO()

    def write(self, text: str) -> int:
        self.terminal.write(text)
        return self.kept.write(text)

    def flush(self) -> None:
        self.terminal.flush()


@contextmanager
def recorded(name: str, module: str, *, enabled: bool, path: Path = DOCS) -> Iterator[None]:
    """Print as usual; when `enabled`, afterwards write what was printed as section `name`."""
    if not enabled:
        yield
        return
    tee = _Tee(sys.stdout)
    with redirect_stdout(tee):
        yield
    command = command_line(module, sys.argv[1:])
    body = render(command, tee.kept.getvalue(), datetime.now(UTC), current_commit())
    write_section(name, body, path)
    print(f"wrote the {name} section of {path}")

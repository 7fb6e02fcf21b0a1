"""The import rules of the layers (STYLE.md rules 1-2), checked on the source's syntax trees.

`domain` is pure: the stdlib, rapidfuzz, tldextract and itself, and it never reads the clock;
of it, only the use cases (`domain.services`) reach storage, through `domain.ports`.
`storage` never reaches up into `bot` or Slack; `bot/views` and `bot/handlers` never touch
storage, SQL or the ports, and views never call a use case.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

DOMAIN_THIRD_PARTY = frozenset({"rapidfuzz", "tldextract"})
SLACK = ("slack_bolt", "slack_sdk", "slack")
CLOCK_READS = frozenset(
    {
        ("datetime", "now"),
        ("datetime", "utcnow"),
        ("datetime", "today"),
        ("date", "today"),
        ("time", "time"),
        ("time", "time_ns"),
    }
)


@dataclass(frozen=True, slots=True)
class Import:
    """One imported module, and where."""

    module: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: imports {self.module}"


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(path: Path, source: str | None = None) -> Iterator[Import]:
    """Every module `path` imports, relative imports resolved against its package."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, path, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield Import(module, path, node.lineno)


def clock_reads_in(path: Path, source: str | None = None) -> Iterator[str]:
    """`datetime.now()`, `date.today()`, `time.time()`… anywhere in `path`, as file:line."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        owner_name = (
            owner.id
            if isinstance(owner, ast.Name)
            else owner.attr
            if isinstance(owner, ast.Attribute)
            else None
        )
        if (owner_name, node.func.attr) in CLOCK_READS:
            yield f"{path.relative_to(ROOT)}:{node.lineno}: calls {owner_name}.{node.func.attr}()"


def imports_of(*folders: str) -> list[Import]:
    return [
        found for folder in folders for path in python_files(folder) for found in imports_in(path)
    ]


def is_within(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def domain_may_import(module: str) -> bool:
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names or top in DOMAIN_THIRD_PARTY or top == "domain"


def report(offences: list[str]) -> str:
    return "\n".join(offences)


@pytest.mark.parametrize("folder", ["domain", "storage", "bot/views"])
def test_the_checked_layers_have_source_to_check(folder: str) -> None:
    assert len(python_files(folder)) >= 2


def test_domain_imports_only_the_stdlib_rapidfuzz_tldextract_and_itself() -> None:
    offences = [str(i) for i in imports_of("domain") if not domain_may_import(i.module)]

    assert not offences, report(offences)


def test_domain_never_reads_the_clock() -> None:
    offences = [read for path in python_files("domain") for read in clock_reads_in(path)]

    assert not offences, report(offences)


def test_storage_never_imports_bot_or_slack() -> None:
    offences = [str(i) for i in imports_of("storage") if is_within(i.module, "bot", *SLACK)]

    assert not offences, report(offences)


def test_views_never_import_storage_or_sql() -> None:
    offences = [
        str(i) for i in imports_of("bot/views") if is_within(i.module, "storage", "sqlalchemy")
    ]

    assert not offences, report(offences)


def test_only_the_services_reach_storage_through_the_ports() -> None:
    """Every other domain module is pure: the use cases alone hold a unit of work."""
    offences = [
        str(i)
        for i in imports_of("domain")
        if is_within(i.module, "domain.ports")
        and not is_within(module_name(i.path), "domain.services", "domain.ports")
    ]

    assert not offences, report(offences)


def test_views_and_handlers_never_touch_storage_or_the_ports() -> None:
    """Views are pure functions of what they show; handlers call the services."""
    offences = [
        str(i)
        for i in imports_of("bot/views", "bot/handlers")
        if is_within(i.module, "storage", "sqlalchemy", "domain.ports")
    ]

    assert not offences, report(offences)


COMPOSITION_ROOTS = ("bot.bootstrap", "bot.app", "bot.cli", "bot.crm_import.cli")
"""Where the process or a command is put together: they alone bind storage to the use cases."""


def test_only_the_composition_roots_reach_storage_or_the_ports() -> None:
    """Handlers, views and the outbox worker go through the use cases, so a request crosses
    bot, then domain, then storage, and comes back out through the same use cases."""
    offences = [
        str(i)
        for i in imports_of("bot")
        if is_within(i.module, "storage", "sqlalchemy", "domain.ports")
        and not is_within(module_name(i.path), *COMPOSITION_ROOTS)
    ]

    assert not offences, report(offences)


def test_views_never_import_the_use_cases() -> None:
    offences = [str(i) for i in imports_of("bot/views") if is_within(i.module, "domain.services")]

    assert not offences, report(offences)


class TestTheCheckers:
    """The checks above pass only if these helpers can see an offence when there is one."""

    path = ROOT / "domain" / "matching" / "example.py"

    def test_finds_plain_from_and_nested_imports_with_their_lines(self) -> None:
        source = (
            "import sqlalchemy.orm\n"
            "from slack_sdk.models import blocks\n"
            "def f():\n"
            "    import bot.app\n"
        )

        found = [str(i) for i in imports_in(self.path, source)]

        assert found == [
            "domain/matching/example.py:1: imports sqlalchemy.orm",
            "domain/matching/example.py:2: imports slack_sdk.models",
            "domain/matching/example.py:4: imports bot.app",
        ]

    def test_resolves_relative_imports_against_the_package(self) -> None:
        source = "from . import names\nfrom .keys import x\nfrom ..errors import InvalidInput\n"

        found = [i.module for i in imports_in(self.path, source)]

        assert found == ["domain.matching", "domain.matching.keys", "domain.errors"]

    @pytest.mark.parametrize("module", ["sqlalchemy", "pydantic", "aiohttp", "bot.ids", "storage"])
    def test_domain_rule_refuses_frameworks_and_outer_layers(self, module: str) -> None:
        assert not domain_may_import(module)

    @pytest.mark.parametrize(
        "module", ["__future__", "datetime", "collections.abc", "rapidfuzz.fuzz", "domain.actor"]
    )
    def test_domain_rule_allows_the_stdlib_and_its_own_libraries(self, module: str) -> None:
        assert domain_may_import(module)

    def test_slack_and_bot_are_matched_by_package_not_by_prefix(self) -> None:
        assert is_within("slack_sdk.web", *SLACK)
        assert is_within("bot", "bot")
        assert not is_within("bottle", "bot")

    @pytest.mark.parametrize(
        ("call", "seen"),
        [
            ("datetime.now(UTC)", "datetime.now"),
            ("datetime.datetime.now()", "datetime.now"),
            ("datetime.utcnow()", "datetime.utcnow"),
            ("date.today()", "date.today"),
            ("dt.date.today()", "date.today"),
            ("time.time()", "time.time"),
        ],
    )
    def test_finds_clock_reads(self, call: str, seen: str) -> None:
        source = f"x = 1\ny = {call}\n"

        assert list(clock_reads_in(self.path, source)) == [
            f"domain/matching/example.py:2: calls {seen}()"
        ]

    def test_a_now_passed_in_is_not_a_clock_read(self) -> None:
        source = "def f(now):\n    return now.date(), registration.now, timedelta(days=1)\n"

        assert list(clock_reads_in(self.path, source)) == []

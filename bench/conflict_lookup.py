"""Conflict lookup at CRM scale: N synthetic accounts, timed checks, and a brute-force scan.

Run: ``.venv/bin/python -m bench.conflict_lookup -n 1000000 [--url postgresql+asyncpg://…]``
(``--write-docs`` also rewrites its section of docs/benchmarks.md).
Without ``--url`` it builds a fresh SQLite file in a temporary folder (``--db FILE`` keeps it
and reuses it on the next run). Names mix a long tail of invented words with a few very common
business words, so some keys (``t:internat``, ``i:gs``…) are shared by tens of thousands of
accounts, as real CRMs have. PostgreSQL runs in a schema of its own, dropped afterwards.

Loading: ``--loader bulk`` (the default) writes the accounts (with their stored name forms,
`domain.matching.name_forms`) and the keys the real `ConflictRules.keys` gives them straight
into the tables, with the key index built after the load; ``--loader import`` goes through
`CrmRepository.upsert_accounts` as `dibs import` does (much slower; its speed is measured by
that command). The checks always run the real code, as `domain.services._shared.screen` does:
`ConflictRules.lookup_keys`, `ConflictRepository.claims_for_keys` with the subject's
`Screen`, and `find_conflicts`.

The brute force scans every account's normalised name (`analyse(name)`, computed once
during the load, as an index would be) with rapidfuzz at the matcher's own thresholds:
``token_sort_ratio >= fuzzy_threshold`` on the words or ``ratio >= fuzzy_compact_threshold``
on the name without spaces, over a sample of the checks. Recall is measured on its hits:

- findings: of the hits `match()` reports when shown the pair (what a check scoring every
  account would report), the share the indexed check reported. This is the target.
- candidates: of the hits that pass the matcher's fuzzy rules with its typo-block gate
  ignored, the share the lookup returned for scoring. The rest share no 8-letter typo
  block with the subject ("Pokolu Trading" ~ "Kolu Trading"), which `match()` rejects too.
  Hits failing even that score high only through a shared long word ("Gora International"
  ~ "Feforura International": words not alike) and are counted but not wanted.

The speed ratio divides the brute force's median time by the check's, on the same checks.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import random
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.docs import add_write_flag, recorded
from bench.machine import speed_line
from bot.server import tune_gc
from domain.conflicts import (
    ACTIVE_STATUSES,
    DEFAULT_CANDIDATE_CAP,
    DEFAULT_KEY_CAP,
    ClaimKind,
    ConflictRules,
    account_ref,
    find_conflicts,
    warm_up,
)
from domain.crm import Account
from domain.matching import CompanyRef, MatchRules, match, name_forms
from domain.matching.likeness import similarity
from domain.matching.names import CompanyName, analyse
from storage.candidate_lookup import prepare_lookups
from storage.company_keys import KEY_LENGTH
from storage.crm import ACCOUNT
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_engine
from storage.uow import uow_factory

COMMON = ["Global", "Systems", "Solutions", "Group", "International", "Technologies", "Trading"]
LEGAL = ["", "", "Inc", "GmbH", "Ltd", "LLC", "S.A.", "AG", "BV"]
TLDS = ["com", "com", "com", "de", "co.uk", "fr", "io", "net"]
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["an", "el", "or", "ix"]
BATCH = 5_000


def invented_words(rng: random.Random, n: int) -> list[str]:
    """`n` distinct pronounceable words of two to four syllables."""
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize())
    return sorted(words)


def an_account(rng: random.Random, words: list[str], n: int) -> Account:
    first = rng.choice(words)
    parts = [first] + ([rng.choice(words)] if rng.random() < 0.3 else [])
    parts += [rng.choice(COMMON)] if rng.random() < 0.5 else []
    name = " ".join([*parts, rng.choice(LEGAL)]).strip()
    domain = f"{first.lower()}{n}.{rng.choice(TLDS)}" if rng.random() < 0.8 else None
    return Account(f"A{n:08d}", name, domain=domain, is_customer=rng.random() < 0.2)


def typo(rng: random.Random, name: str) -> str:
    i = rng.randrange(1, max(2, len(name) - 1))
    return name[:i] + name[i + 1 :]


@dataclass
class Names:
    """Every account's normalised name by id (id n + 1 is the n-th account generated)."""

    words: list[str] = field(default_factory=list)  # "walt disney"
    compact: list[str] = field(default_factory=list)  # "waltdisney"

    def add(self, name: str, rules: MatchRules) -> None:
        analysed = analyse(name, rules.block_prefix)
        self.words.append(analysed.key)
        self.compact.append(analysed.compact)


def accounts(rng: random.Random, words: list[str], start: int, stop: int) -> Iterator[Account]:
    for n in range(start, stop):
        yield an_account(rng, words, n)


async def import_load(engine: AsyncEngine, rules: ConflictRules, batch: list[Account]) -> None:
    """The real import path, one transaction per batch."""
    new_uow = uow_factory(make_session_factory(engine), conflict_rules=rules)
    async with new_uow() as uow:
        await uow.crm.upsert_accounts(batch)
        await uow.commit()


def key_rows(rules: ConflictRules, first_id: int, batch: list[Account]) -> list[tuple[Any, ...]]:
    """(owner_kind, owner_id, key) rows as `storage.company_keys.replace_keys` writes them."""
    return [
        (ClaimKind.account.value, first_id + i, key)
        for i, account in enumerate(batch)
        for key in sorted({k[:KEY_LENGTH] for k in rules.keys(account_ref(account))})
    ]


def account_rows(first_id: int, batch: list[Account], now: datetime) -> list[tuple[Any, ...]]:
    """Account rows with their stored name forms, as the import writes them."""
    return [
        (
            *(first_id + i, a.external_id, a.name, name_forms(a.name), a.domain, a.country),
            *(a.is_customer, a.is_named, now),
        )
        for i, a in enumerate(batch)
    ]


_ACCOUNT_COLUMNS = (
    "id",
    "external_id",
    "name",
    "name_forms",
    "domain",
    "country",
    "is_customer",
    "is_named",
    "imported_at",
)


class BulkLoader:
    """Writes accounts and their keys straight into the tables (the bench's fast path).

    The `company_key` lookup index is dropped during the load and built again after it,
    as a database bulk load would; the primary keys stay (rows arrive in their order).
    """

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self._engine = engine
        self._url = url
        self._indexes: list[str] = []
        self._sqlite: Any = None
        self._pg: Any = None
        self._pg_connection: Any = None

    async def __aenter__(self) -> BulkLoader:
        if self._engine.dialect.name == "sqlite":
            self._sqlite = sqlite3.connect(make_url(self._url).database or "")
            self._sqlite.execute("PRAGMA synchronous = OFF")
            listed = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
            listed += "tbl_name = 'company_key' AND sql IS NOT NULL"
            for name, sql in self._sqlite.execute(listed).fetchall():
                self._indexes.append(sql)
                self._sqlite.execute(f'DROP INDEX "{name}"')
        else:
            self._pg_connection = await self._engine.connect()
            self._pg = (await self._pg_connection.get_raw_connection()).driver_connection
            listed = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'company_key' "
            listed += "AND schemaname = current_schema() AND indexname NOT LIKE 'pk_%'"
            for name, sql in await self._pg.fetch(listed):
                self._indexes.append(sql)
                await self._pg.execute(f'DROP INDEX "{name}"')
        return self

    async def write(self, accounts: list[tuple[Any, ...]], keys: list[tuple[Any, ...]]) -> None:
        if self._sqlite is not None:
            columns = ", ".join(_ACCOUNT_COLUMNS)
            marks = ", ".join("?" * len(_ACCOUNT_COLUMNS))
            stamp = accounts[0][-1].astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            rows = [(*row[:-1], stamp) for row in accounts]
            self._sqlite.executemany(f"INSERT INTO crm_account ({columns}) VALUES ({marks})", rows)
            self._sqlite.executemany(
                "INSERT INTO company_key (owner_kind, owner_id, key) VALUES (?, ?, ?)", keys
            )
            self._sqlite.commit()
        else:
            await self._pg.copy_records_to_table(
                "crm_account", records=accounts, columns=list(_ACCOUNT_COLUMNS)
            )
            await self._pg.copy_records_to_table(
                "company_key", records=keys, columns=["owner_kind", "owner_id", "key"]
            )

    async def __aexit__(self, *exc: object) -> None:
        if self._sqlite is not None:
            for sql in self._indexes:
                self._sqlite.execute(sql)
            self._sqlite.execute("ANALYZE")
            self._sqlite.commit()
            self._sqlite.close()
        else:
            for sql in self._indexes:
                await self._pg.execute(sql)
            await self._pg.execute(
                "SELECT setval(pg_get_serial_sequence('crm_account', 'id'), "
                "(SELECT max(id) FROM crm_account))"
            )
            await self._pg.execute("ANALYZE")
            await self._pg_connection.close()


async def count_accounts(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT count(*) FROM crm_account")) or 0)


async def load(
    engine: AsyncEngine, url: str, args: argparse.Namespace, rules: ConflictRules
) -> tuple[Names, str]:
    """The accounts and their normalised names; a line saying how they were loaded."""
    names_file = Path(f"{args.db}.names") if args.db else None
    have = await count_accounts(engine)
    if have == args.n and names_file is not None and names_file.exists():
        with names_file.open("rb") as handle:
            names = Names(*pickle.load(handle))
        return names, f"reused {have:,} accounts from {args.db}"
    if have:
        raise SystemExit(f"the database holds {have:,} accounts, not {args.n:,}: use a fresh one")
    rng = random.Random(args.seed)
    words = invented_words(rng, 60_000)
    names, now = Names(), datetime.now(UTC)
    started = time.perf_counter()
    if args.loader == "import":
        for start in range(0, args.n, BATCH):
            batch = list(accounts(rng, words, start, min(args.n, start + BATCH)))
            await import_load(engine, rules, batch)
            for account in batch:
                names.add(account.name, rules.match)
        how = "dibs import path (CrmRepository.upsert_accounts)"
    else:
        async with BulkLoader(engine, url) as loader:
            for start in range(0, args.n, BATCH):
                batch = list(accounts(rng, words, start, min(args.n, start + BATCH)))
                await loader.write(
                    account_rows(start + 1, batch, now), key_rows(rules, start + 1, batch)
                )
                for account in batch:
                    names.add(account.name, rules.match)
        how = "bulk loader: rows and their real keys written straight to the tables"
    took = time.perf_counter() - started
    if names_file is not None:
        with names_file.open("wb") as handle:
            pickle.dump((names.words, names.compact), handle)
    return names, f"loaded {args.n:,} accounts in {took:.0f} s ({args.n / took:,.0f}/s; {how})"


async def index_size(engine: AsyncEngine, url: str) -> str:
    """Bytes of the key index (table and its indexes) and of the whole database."""
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = await connection.execute(
                text("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")
            )
            sizes: dict[str, int] = {name: int(pages) for name, pages in rows.all()}
            keys = sum(v for k, v in sizes.items() if "company_key" in k)
            total = sum(sizes.values())
        else:
            keys = int(
                await connection.scalar(text("SELECT pg_total_relation_size('company_key')")) or 0
            )
            both = "SELECT pg_total_relation_size('company_key') + "
            both += "pg_total_relation_size('crm_account')"
            total = int(await connection.scalar(text(both)) or 0)
    return (
        f"key index {keys / 1e6:,.0f} MB (company_key and its indexes); "
        f"database {total / 1e6:,.0f} MB"
    )


async def subjects_for(
    engine: AsyncEngine, n: int, lookups: int, seed: int
) -> list[tuple[int | None, CompanyRef]]:
    """Checks in threes: a stored account's name and domain, its name with a typo, a new name."""
    rng = random.Random(seed + 1)
    ids = sorted({rng.randint(1, n) for _ in range(lookups // 3)})
    statement = select(ACCOUNT.c.id, ACCOUNT.c.name, ACCOUNT.c.domain).where(ACCOUNT.c.id.in_(ids))
    async with engine.connect() as connection:
        known = [(row.id, row.name, row.domain) for row in await connection.execute(statement)]
    subjects: list[tuple[int | None, CompanyRef]] = []
    for account_id, name, domain in known:
        subjects.append((account_id, CompanyRef(name, domain=domain)))
        subjects.append((account_id, CompanyRef(typo(rng, name))))
        fresh = an_account(rng, invented_words(rng, 1), n + len(subjects))
        subjects.append((None, CompanyRef(fresh.name, domain=fresh.domain)))
    return subjects


@dataclass
class Check:
    seconds: float
    candidates: set[int]
    findings: set[int]


async def run_checks(
    engine: AsyncEngine, rules: ConflictRules, subjects: list[tuple[int | None, CompanyRef]]
) -> list[Check]:
    """Each subject checked as `screen` does, timed from keys to scored findings."""
    await prepare_lookups(engine)  # as `dibs serve` does when it starts,
    warm_up(rules)
    tune_gc()  # and as it collects garbage
    new_uow = uow_factory(make_session_factory(engine), conflict_rules=rules)
    checks: list[Check] = []
    async with new_uow() as uow:
        for _, subject in subjects:
            t0 = time.perf_counter()
            claims = await uow.conflicts.claims_for_keys(
                rules.lookup_keys(subject),
                exclude_registration_id=None,
                active_statuses=ACTIVE_STATUSES,
                now=datetime.now(UTC),
                screen=rules.screen_for(subject),
            )
            findings = find_conflicts(subject, claims, rules)
            seconds = time.perf_counter() - t0
            checks.append(
                Check(
                    seconds,
                    {c.id for c in claims if c.kind is ClaimKind.account},
                    {f.claim_id for f in findings if f.claim_kind is ClaimKind.account},
                )
            )
    return checks


def brute_force(subject: CompanyRef, names: Names, rules: MatchRules) -> set[int]:
    """Ids of every account whose normalised name clears a fuzzy threshold of the matcher."""
    analysed = analyse(subject.name, rules.block_prefix)
    if not analysed.variants:
        return set()
    words = process.extract(
        analysed.key,
        names.words,
        scorer=fuzz.token_sort_ratio,
        score_cutoff=100 * rules.fuzzy_threshold,
        limit=None,
    )
    compact = process.extract(
        analysed.compact,
        names.compact,
        scorer=fuzz.ratio,
        score_cutoff=100 * rules.fuzzy_compact_threshold,
        limit=None,
    )
    return {index + 1 for _, _, index in (*words, *compact)}


async def references(
    engine: AsyncEngine, subject: CompanyRef, hits: set[int], rules: ConflictRules
) -> tuple[set[int], set[int]]:
    """Of the brute-force hits: those the matcher's fuzzy rules accept without the typo-block
    gate (or `match()` accepts), and those `match()` reports when shown the pair.

    The first set is what a check that scored every account would find: the candidates must
    include it. Hits outside it score above a threshold only because of a shared long word
    ("Gora International" ~ "Feforura International") and the matcher rejects them.
    """
    if not hits:
        return set(), set()
    statement = select(ACCOUNT).where(ACCOUNT.c.id.in_(sorted(hits)))
    async with engine.connect() as connection:
        rows = list(await connection.execute(statement))
    ours = analyse(subject.name, rules.match.block_prefix)
    wanted, matched = set(), set()
    for row in rows:
        other = CompanyRef(row.name, domain=row.domain, country=row.country)
        if match(subject, other, rules=rules.match, aliases=rules.aliases) is not None:
            matched.add(row.id)
            wanted.add(row.id)
        elif fuzzy_without_blocks(ours, analyse(row.name, rules.match.block_prefix), rules.match):
            wanted.add(row.id)
    return wanted, matched


def fuzzy_without_blocks(a: CompanyName, b: CompanyName, rules: MatchRules) -> bool:
    """The matcher's fuzzy-name rule (length, word alignment, thresholds), blocks ignored."""
    if min(len(a.compact), len(b.compact)) < rules.fuzzy_min_length:
        return False
    aligned, compact = similarity(a, b, min_token=rules.fuzzy_min_token)
    return aligned >= rules.fuzzy_threshold or compact >= rules.fuzzy_compact_threshold


def ms(seconds: list[float], q: float) -> float:
    ordered = sorted(seconds)
    return 1000 * ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


async def main(args: argparse.Namespace, url: str, rules: ConflictRules) -> None:
    engine = make_engine(url, connect_args=args.connect_args)
    try:
        await upgrade_engine(engine)
        names, loaded = await load(engine, url, args, rules)
        size = await index_size(engine, url)
        subjects = await subjects_for(engine, args.n, args.lookups, args.seed)
        checks = await run_checks(engine, rules, subjects)
        times = [c.seconds for c in checks]
        found = {"exact": 0, "typo": 0}
        for i, ((source, _), check) in enumerate(zip(subjects, checks, strict=True)):
            if source is not None and source in check.findings:
                found["exact" if i % 3 == 0 else "typo"] += 1
        stride = max(1, len(subjects) // 3 // max(1, args.brute // 3))
        sample = [i for i in range(len(subjects)) if (i // 3) % stride == 0][: args.brute]
        brute_times, ours, hits, wanted, got, agreed, reported = [], [], 0, 0, 0, 0, 0
        for i in sample:
            subject, check = subjects[i][1], checks[i]
            t0 = time.perf_counter()
            truth = brute_force(subject, names, rules.match)
            brute_times.append(time.perf_counter() - t0)
            ours.append(check.seconds)
            hits += len(truth)
            reference, matched = await references(engine, subject, truth, rules)
            wanted += len(reference)
            got += len(reference & check.candidates)
            agreed += len(matched)
            reported += len(matched & check.findings)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"conflict lookup: {engine.dialect.name}, {args.n:,} accounts, "
            f"rules {rules_line(rules)}"
        )
        print(f"  import         {loaded}")
        print(f"  index size     {size}")
        print(
            f"  check          p50 {ms(times, 0.5):.2f} ms, p99 {ms(times, 0.99):.2f} ms, "
            f"max {ms(times, 1):.1f} ms over {len(checks)} checks (keys + SQL + scoring); "
            f"candidates p50 {statistics.median(len(c.candidates) for c in checks):.0f}, "
            f"max {max(len(c.candidates) for c in checks)}"
        )
        print(
            f"  source found   {found['exact']}/{len(subjects) // 3} exact names, "
            f"{found['typo']}/{len(subjects) // 3} names with a typo"
        )
        print(
            f"  brute force    {len(sample)} of those checks, rapidfuzz over all {args.n:,} names: "
            f"p50 {ms(brute_times, 0.5):.0f} ms; {hits} hits, {wanted} of them pass the "
            f"matcher's fuzzy rules (blocks ignored), {agreed} are reported by match()"
        )
        print(
            f"  recall         findings {reported / max(1, agreed):.3f} of the hits match() "
            f"reports; "
            f"candidates {got / max(1, wanted):.3f} of the hits passing the fuzzy rules, "
            f"gate ignored"
        )
        print(
            f"  speed ratio    {ms(brute_times, 0.5) / ms(ours, 0.5):,.0f}x "
            f"(brute-force p50 / check p50 on the same {len(sample)} checks; mean "
            f"{statistics.mean(brute_times) / statistics.mean(ours):,.0f}x)"
        )
        print(f"  peak RSS       {rss:,.0f} MB (this process: load, checks and brute force)")
        print(f"  {speed_line()}")
    finally:
        await engine.dispose()


def rules_line(rules: ConflictRules) -> str:
    return (
        f"key_cap {rules.key_cap}, candidate_cap {rules.candidate_cap}, "
        f"block_prefix {rules.match.block_prefix}"
    )


async def in_private_schema(args: argparse.Namespace, url: str, rules: ConflictRules) -> None:
    """PostgreSQL: run in a schema of our own and drop it afterwards."""
    schema = f"bench_lookup_{random.randrange(16**8):08x}"
    admin = make_engine(url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        args.connect_args = {"server_settings": {"search_path": schema}}
        await main(args, url, rules)
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="accounts to load")
    parser.add_argument("--url", default=None, help="PostgreSQL URL (default: SQLite file)")
    parser.add_argument("--db", default=None, help="SQLite file to keep and reuse")
    parser.add_argument("--loader", choices=("bulk", "import"), default="bulk")
    parser.add_argument("--lookups", type=int, default=600)
    parser.add_argument("--brute", type=int, default=60, help="checks compared to brute force")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--key-cap", type=int, default=DEFAULT_KEY_CAP)
    parser.add_argument("--candidate-cap", type=int, default=DEFAULT_CANDIDATE_CAP)
    parser.add_argument("--block-prefix", type=int, default=MatchRules().block_prefix)
    add_write_flag(parser)
    args = parser.parse_args()
    args.connect_args = None
    tuned = ConflictRules(
        match=MatchRules(block_prefix=args.block_prefix),
        key_cap=args.key_cap,
        candidate_cap=args.candidate_cap,
    )
    with recorded("conflict_lookup", "bench.conflict_lookup", enabled=args.write_docs):
        if args.url:
            asyncio.run(in_private_schema(args, args.url, tuned))
        elif args.db:
            asyncio.run(main(args, f"sqlite+aiosqlite:///{args.db}", tuned))
        else:
            with tempfile.TemporaryDirectory() as folder:
                asyncio.run(main(args, f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", tuned))

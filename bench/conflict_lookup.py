"""Conflict lookup at CRM scale: import N synthetic accounts, then time candidate lookups.

Run: ``.venv/bin/python -m bench.conflict_lookup -n 1000000 [--url postgresql+asyncpg://…]``.
Without ``--url`` it builds a fresh SQLite file in a temporary folder. Names mix a long tail
of invented words with a few very common business words, so some keys (``t:syste``,
``i:gs``…) are shared by tens of thousands of accounts, as real CRMs have.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.conflicts import (
    ACTIVE_STATUSES,
    DEFAULT_CANDIDATE_CAP,
    DEFAULT_KEY_CAP,
    ConflictRules,
    find_conflicts,
)
from domain.crm import Account
from domain.matching import CompanyRef
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


async def some_accounts(
    engine: AsyncEngine, rng: random.Random, n: int, k: int
) -> list[tuple[int, str, str | None]]:
    """`k` random stored accounts: (id, name, domain)."""
    ids = sorted({rng.randint(1, n) for _ in range(k)})
    statement = select(ACCOUNT.c.id, ACCOUNT.c.name, ACCOUNT.c.domain).where(ACCOUNT.c.id.in_(ids))
    async with engine.connect() as connection:
        return [(row.id, row.name, row.domain) for row in await connection.execute(statement)]


def typo(rng: random.Random, name: str) -> str:
    i = rng.randrange(1, max(2, len(name) - 1))
    return name[:i] + name[i + 1 :]


async def main(n: int, url: str, lookups: int, seed: int, rules: ConflictRules) -> None:
    rng = random.Random(seed)
    engine = make_engine(url)
    try:
        await upgrade_engine(engine)
        new_uow = uow_factory(make_session_factory(engine), conflict_rules=rules)
        words = invented_words(rng, 60_000)
        started = time.perf_counter()
        async with new_uow() as uow:
            have = await uow.crm.count_accounts()
        for start in range(have, n, BATCH):
            batch = [an_account(rng, words, i) for i in range(start, min(n, start + BATCH))]
            async with new_uow() as uow:
                await uow.crm.upsert_accounts(batch)
                await uow.commit()
        if n > have:
            took = time.perf_counter() - started
            print(f"imported {n - have:,} accounts in {took:.0f} s ({(n - have) / took:,.0f}/s)")
        known = await some_accounts(engine, rng, n, lookups // 3)
        subjects: list[tuple[int | None, CompanyRef]] = []
        for account_id, name, domain in known:
            subjects.append((account_id, CompanyRef(name, domain=domain)))
            subjects.append((account_id, CompanyRef(typo(rng, name))))
            fresh = an_account(rng, invented_words(rng, 1), n + len(subjects))
            subjects.append((None, CompanyRef(fresh.name, domain=fresh.domain)))
        times, candidates, found = [], [], {"exact": 0, "typo": 0}
        async with new_uow() as uow:
            for i, (source, subject) in enumerate(subjects):
                t0 = time.perf_counter()
                claims = await uow.conflicts.claims_for_keys(
                    rules.lookup_keys(subject),
                    exclude_registration_id=None,
                    active_statuses=ACTIVE_STATUSES,
                    now=datetime.now(UTC),
                )
                findings = find_conflicts(subject, claims, rules)
                times.append(time.perf_counter() - t0)
                candidates.append(len(claims))
                if source is not None and any(f.claim_id == source for f in findings):
                    found["exact" if i % 3 == 0 else "typo"] += 1
        times.sort()
        print(
            f"{engine.dialect.name}, {n:,} accounts, {len(subjects)} lookups (keys + SQL + "
            f"scoring): p50 {1000 * statistics.median(times):.1f} ms, "
            f"p99 {1000 * times[int(0.99 * (len(times) - 1))]:.1f} ms, "
            f"max {1000 * times[-1]:.1f} ms; candidates p50 {statistics.median(candidates):.0f}, "
            f"max {max(candidates)}; source account found for {found['exact']}/{len(known)} "
            f"exact names, {found['typo']}/{len(known)} names with a typo"
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="accounts to import")
    parser.add_argument("--url", default=None, help="database URL (default: temporary SQLite)")
    parser.add_argument("--lookups", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--key-cap", type=int, default=DEFAULT_KEY_CAP)
    parser.add_argument("--candidate-cap", type=int, default=DEFAULT_CANDIDATE_CAP)
    args = parser.parse_args()
    tuned = ConflictRules(key_cap=args.key_cap, candidate_cap=args.candidate_cap)
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(main(args.n, url, args.lookups, args.seed, tuned))

"""CRM import at scale: write an N-row accounts CSV, then time `dibs import accounts` end to end.

Run: ``.venv/bin/python -m bench.crm_import -n 1000000 [--url postgresql+asyncpg://…]``
(``--write-docs`` also rewrites its section of docs/benchmarks.md).
The accounts come from the generator of ``bench/conflict_lookup.py`` (a long tail of invented
words, a few very common business words), written with Salesforce-style headers, countries
and owner e-mails. Without ``--url`` the import goes to a fresh SQLite file in a temporary
folder; with one, the CRM and key tables are emptied first. The CLI runs as a child
process; its peak RSS is sampled over it and its worker processes together. Prints rows/s,
seconds, peak RSS and the database size.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bench.conflict_lookup import an_account, invented_words
from bench.docs import add_write_flag, recorded
from bench.machine import speed_line
from storage.db import make_engine
from storage.migrate import upgrade_engine

HEADERS = ["Account ID", "Account Name", "Website", "Billing Country", "Owner Email", "Type"]
COUNTRIES = ["United States", "Germany", "DE", "France", "United Kingdom", "", "", "NL"]
OWNERS = [f"rep{i}@vendor.example" for i in range(40)]


def write_csv(path: Path, n: int, seed: int) -> None:
    """`n` accounts in a Salesforce-style export (same generator as the lookup bench)."""
    rng = random.Random(seed)
    words = invented_words(rng, 60_000)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i in range(n):
            account = an_account(rng, words, i)
            website = f"https://www.{account.domain}/" if account.domain else ""
            kind = "Customer - Direct" if account.is_customer else "Prospect"
            country = rng.choice(COUNTRIES)
            writer.writerow(
                [account.external_id, account.name, website, country, rng.choice(OWNERS), kind]
            )


async def prepare(url: str) -> None:
    """Migrate the database and empty the CRM tables and their keys (a first import)."""
    engine = make_engine(url)
    try:
        await upgrade_engine(engine)
        async with engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM company_key WHERE owner_kind IN ('account', 'opportunity')")
            )
            await connection.execute(text("DELETE FROM crm_opportunity"))
            await connection.execute(text("DELETE FROM crm_account"))
        if engine.dialect.name == "postgresql":
            # give back the deleted rows' pages, or the size measured after the import
            # counts the previous run's too
            autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
            async with autocommit.connect() as connection:
                await connection.execute(text("VACUUM FULL crm_opportunity, crm_account"))
                await connection.execute(text("VACUUM FULL company_key"))
    finally:
        await engine.dispose()


async def database_size(url: str) -> int:
    """Bytes on disk: the SQLite file (and its WAL), or PostgreSQL's CRM and key tables."""
    engine = make_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            database = Path(engine.url.database or "")
            return sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))
        async with engine.connect() as connection:
            size = await connection.scalar(
                text(
                    "SELECT pg_total_relation_size('crm_account') "
                    "+ pg_total_relation_size('company_key')"
                )
            )
            return int(size or 0)
    finally:
        await engine.dispose()


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (the import's worker pool)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")), 0)
        total += int(rss) * 1024
        pending += [int(child) for child in children]
    return total


@dataclass(frozen=True, slots=True)
class Run:
    """One `dibs import` child process: wall and CPU seconds, peak RSS, what it printed."""

    seconds: float
    cpu_seconds: float
    peak_rss: int
    output: str


def run_import(path: Path, url: str, extra: list[str]) -> Run:
    """Run `dibs import accounts`; its RSS (with its workers) is sampled every 0.2 s."""
    env = {**os.environ, "DIBS_DATABASE_URL": url}
    command = [sys.executable, "-m", "bot.cli", "import", "accounts", str(path), *extra]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    peak = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_rss(child.pid))
        time.sleep(0.2)
    took = time.perf_counter() - started
    out = child.stdout.read() if child.stdout else ""
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"dibs import failed: {out}")
    # the workers are reaped by the child, so their CPU time is in the child's rusage
    return Run(took, usage.ru_utime + usage.ru_stime, peak, out.strip())


def main(n: int, url: str | None, csv_path: Path | None, seed: int, extra: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = csv_path or Path(folder) / "accounts.csv"
        if not path.exists():
            started = time.perf_counter()
            write_csv(path, n, seed)
            print(f"wrote {n:,} accounts to {path} in {time.perf_counter() - started:.0f} s")
        url = url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(prepare(url))
        before = speed_line()
        run = run_import(path, url, extra)
        size = asyncio.run(database_size(url))
        rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
        print(run.output)
        print(
            f"{make_engine(url).dialect.name}: {rows:,} accounts in {run.seconds:.1f} s "
            f"({rows / run.seconds:,.0f} rows/s; {run.cpu_seconds:.0f} CPU s), "
            f"peak RSS {run.peak_rss / 2**20:,.0f} MiB, database {size / 2**20:,.0f} MiB"
        )
        print(f"before: {before}\nafter:  {speed_line()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="accounts to write")
    parser.add_argument("--url", default=None, help="scratch database URL (its CRM is emptied)")
    parser.add_argument("--csv", type=Path, default=None, help="reuse (or keep) this CSV file")
    parser.add_argument("--seed", type=int, default=7)
    add_write_flag(parser)
    args, extra = parser.parse_known_args()
    with recorded("crm_import", "bench.crm_import", enabled=args.write_docs):
        main(args.n, args.url, args.csv, args.seed, extra)

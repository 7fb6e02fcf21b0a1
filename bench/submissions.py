"""Registration throughput: N signed view_submissions at concurrency C against the real app.

The app (Bolt over loopback HTTP, SQLite file or DIBS_BENCH_DATABASE_URL, outbox worker
running) is served in this process. The load generator and the fake Slack Web API run in a
second process, as Slack would be another machine, so their CPU is not charged to Dibs.
Prints throughput and the ack-time percentiles Slack's 3-second rule cares about, plus how
long the outbox took to deliver every card.

    .venv/bin/python -m bench.submissions [-n 2000] [-c 20] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from bench.docs import add_write_flag, recorded
from bench.machine import speed_line
from bot.app import EVENTS_PATH, build_web_app
from bot.bootstrap import bootstrap
from bot.ids import Callback
from bot.server import tune_gc
from bot.settings import Settings
from bot.views.common import FormContext
from domain.services import LinkPartner
from storage.migrate import upgrade
from tests.slack import payloads as p
from tests.slack.conftest import ACME_CHANNEL, DESK, SECRET, dibs_config, form_values
from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import SlackClient


def percentile(samples: list[float], q: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")
SUFFIXES = ("Labs", "Group", "Systems", "Foods", "Logistics", "Health", "Media")


def company_word(i: int) -> str:
    """A pronounceable company word, different per index, as customers are in real life."""
    pick = random.Random(i)
    return "".join(pick.choice(SYLLABLES) for _ in range(pick.randint(2, 4))) + str(i)


# ---------------------------------------------------------------- the "Slack" side (child)


def slack_side(pipe: Connection, n: int, concurrency: int) -> None:
    """Serve the fake Web API, then send the load when told where the app is."""
    asyncio.run(_slack_side(pipe, n, concurrency))


async def _slack_side(pipe: Connection, n: int, concurrency: int) -> None:
    async with FakeSlack() as fake:
        pipe.send(fake.api_url)
        app_url = await asyncio.to_thread(pipe.recv)
        metadata = FormContext(channel_id=ACME_CHANNEL).model_dump_json()
        payloads = [
            p.view_submission(
                p.PARTNER_REP,
                callback_id=Callback.registration_submit,
                values=form_values(
                    company=f"{company_word(i).capitalize()} {SUFFIXES[i % len(SUFFIXES)]}",
                    website=f"https://www.{company_word(i)}.com",
                    contact_email=f"buyer@{company_word(i)}.com",
                ),
                private_metadata=metadata,
            )
            for i in range(n + concurrency)
        ]
        async with SlackClient(app_url, SECRET) as slack:
            for warm in payloads[:concurrency]:  # auth.test, pools, first-run caches
                await slack.send_interaction(warm)
            queue = iter(payloads[concurrency:])
            acks: list[float] = []
            failures = 0

            async def client() -> None:
                nonlocal failures
                for payload in queue:
                    reply = await slack.send_interaction(payload)
                    body = reply.json() if reply.status == 200 else None
                    if not body or body.get("response_action") != "update":
                        failures += 1
                    acks.append(reply.elapsed * 1000)

            cpu_before = sum(os.times()[:2])
            started = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
            total = n + concurrency
            cards = await fake.wait_for(
                "chat.postMessage",
                count=2 * total,
                timeout=300,
                where=lambda call: call.params.get("channel") in (ACME_CHANNEL, DESK),
            )
            drained = time.perf_counter() - started
            await asyncio.sleep(1.0)  # anything posted twice would show up by now
            posts = len(fake.calls_to("chat.postMessage"))
        pipe.send(
            {
                "elapsed": elapsed,
                "acks": acks,
                "failures": failures,
                "cards": len(cards),
                "drained": drained,
                "posts": posts,
                "slack_cpu": sum(os.times()[:2]) - cpu_before,
            }
        )


# ---------------------------------------------------------------- the app side (this process)


async def serve_app(pipe: Connection, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        api_url = await asyncio.to_thread(pipe.recv)
        settings = Settings(
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=api_url,
            DIBS_DATABASE_URL=url,
        )
        deps = bootstrap(settings, dibs_config())
        await deps.services.partners.link(
            LinkPartner("Acme Resellers", "Gold", ACME_CHANNEL, p.PARTNER_REP.team_id)
        )
        server = TestServer(build_web_app(deps), host="127.0.0.1")
        await server.start_server()
        tune_gc()  # as `dibs serve` does
        try:
            before = os.times()
            pipe.send(str(server.make_url(EVENTS_PATH)))
            result: dict[str, Any] = await asyncio.to_thread(pipe.recv)
            after = os.times()
            result["user"] = after.user - before.user
            result["system"] = after.system - before.system
        finally:
            await server.close()
        result["database"] = url.split(":", 1)[0]
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="submissions to time")
    parser.add_argument("-c", "--concurrency", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    add_write_flag(parser)
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=slack_side, args=(theirs, args.n, args.concurrency), daemon=True
    )
    child.start()
    result = asyncio.run(serve_app(ours, args.database_url))
    child.join(timeout=10)
    with recorded("submissions", "bench.submissions", enabled=args.write_docs):
        report(args, result)


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Print the run's numbers."""
    acks = result["acks"]
    print(
        f"registration submissions: n={args.n} concurrency={args.concurrency} "
        f"database={result['database']}"
    )
    print(f"  throughput        {args.n / result['elapsed']:8.0f} submissions/s")
    print(f"  ack p50           {statistics.median(acks):8.1f} ms")
    print(f"  ack p99           {percentile(acks, 99):8.1f} ms")
    print(f"  ack max           {max(acks):8.1f} ms")
    user, system = (result[k] / (args.n + args.concurrency) * 1000 for k in ("user", "system"))
    print(
        f"  app CPU           {user + system:8.2f} ms per submission (ack, check, outbox "
        f"delivery; user {user:.2f}, system {system:.2f})"
    )
    print(
        f"  slack side CPU    {result['slack_cpu']:8.1f} s (load generator and fake Web API, "
        "from the first timed request to the last card)"
    )
    # The Slack side does the same work every run: its CPU time tells how fast the machine
    # was, so the ratio compares runs (and commits) across a machine whose speed swings.
    ratio = (result["user"] + result["system"]) / result["slack_cpu"]
    print(f"  app / slack CPU   {ratio:8.2f} (lower is a cheaper app, whatever the machine)")
    print(f"  failed            {result['failures']:8d}")
    print(f"  cards delivered   {result['cards']:8d} (all {result['drained']:.1f} s after start)")
    print(f"  {speed_line()}")
    print(f"  messages posted   {result['posts']:8d} (one per card: nothing sent twice)")


if __name__ == "__main__":
    main()

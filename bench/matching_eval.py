"""Company-matching evaluation: P/R/F1 overall and per category, plus match throughput.

Run: ``.venv/bin/python -m bench.matching_eval [--verbose] [--write-docs]``.

Predicted positive = ``match`` returns evidence of any strength (conflict or possible), since
both reach a human. Labels: 1 = the same customer (same legal entity under another spelling,
legal form, script, short form, initialism or former name; a national/regional arm named
"<company> <place>"; a division without its own legal identity). 0 = another company, including
separately branded subsidiaries (Instagram vs Meta), spin-offs and conglomerate siblings.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.docs import add_write_flag, recorded
from bench.machine import speed_line
from domain.matching import (
    Aliases,
    CompanyRef,
    Evidence,
    MatchRules,
    Strength,
    candidate_keys,
    lookup_keys,
    match,
)
from domain.matching.names import forget_analyses
from domain.matching.records import DEFAULT_RULES

DATA = Path(__file__).parent / "data" / "company_pairs.csv"
ACROSS_COUNTRIES = MatchRules(names_across_countries=True)


@dataclass(frozen=True, slots=True)
class Pair:
    """One labelled row of the evaluation set."""

    category: str
    label: bool
    a: CompanyRef
    b: CompanyRef


@dataclass(slots=True)
class Tally:
    """Confusion counts for one slice of the set."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, label: bool, predicted: bool) -> None:
        """Count one prediction."""
        if label and predicted:
            self.tp += 1
        elif label:
            self.fn += 1
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1

    def row(self) -> str:
        """Counts and P/R/F1 formatted for the table (``-`` where undefined)."""
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r else None
        n = self.tp + self.fp + self.fn + self.tn
        counts = f"{n:4d} {self.tp:4d} {self.fp:4d} {self.fn:4d} {self.tn:4d}"
        return f"{counts}  {_fmt(p)}  {_fmt(r)}  {_fmt(f1)}"


def _fmt(value: float | None) -> str:
    """A ratio with three decimals, or a dash."""
    return "  -  " if value is None else f"{value:.3f}"


def _ref(row: dict[str, str], side: str) -> CompanyRef:
    """One side of a CSV row."""
    return CompanyRef(
        name=row[f"name_{side}"],
        domain=row[f"domain_{side}"] or None,
        email=row[f"email_{side}"] or None,
        country=row[f"country_{side}"] or None,
    )


def load(path: Path = DATA) -> list[Pair]:
    """The labelled pairs."""
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [Pair(r["category"], r["label"] == "1", _ref(r, "a"), _ref(r, "b")) for r in rows]


def evaluate(
    pairs: list[Pair],
    aliases: Aliases,
    *,
    rules: MatchRules = DEFAULT_RULES,
    conflict_only: bool = False,
) -> tuple[Tally, dict[str, Tally], list[tuple[Pair, Evidence | None]]]:
    """Overall and per-category tallies, and the misclassified pairs with their evidence."""
    overall, per_category = Tally(), defaultdict[str, Tally](Tally)
    wrong: list[tuple[Pair, Evidence | None]] = []
    for pair in pairs:
        found = match(pair.a, pair.b, rules=rules, aliases=aliases)
        predicted = found is not None and (not conflict_only or found.strength is Strength.conflict)
        overall.add(pair.label, predicted)
        per_category[pair.category].add(pair.label, predicted)
        if predicted != pair.label:
            wrong.append((pair, found))
    return overall, dict(per_category), wrong


def key_property_violations(pairs: list[Pair], aliases: Aliases) -> int:
    """Pairs that match but that a key lookup would miss, from either side (must be 0)."""
    return sum(
        1
        for p in pairs
        if match(p.a, p.b, aliases=aliases) is not None
        and not (
            lookup_keys(p.a, aliases=aliases) & candidate_keys(p.b, aliases=aliases)
            and lookup_keys(p.b, aliases=aliases) & candidate_keys(p.a, aliases=aliases)
        )
    )


def throughput(pairs: list[Pair], aliases: Aliases, rounds: int = 20) -> tuple[float, float]:
    """(cold µs/match with empty name cache, warm matches per second)."""
    forget_analyses()
    start = time.perf_counter()
    for p in pairs:
        match(p.a, p.b, aliases=aliases)
    cold = (time.perf_counter() - start) / len(pairs) * 1e6
    start = time.perf_counter()
    for _ in range(rounds):
        for p in pairs:
            match(p.a, p.b, aliases=aliases)
    warm = rounds * len(pairs) / (time.perf_counter() - start)
    return cold, warm


def _describe(found: Evidence | None) -> str:
    """Findings in one line."""
    if found is None:
        return "no match"
    parts = (f"{f.signal}:{f.strength}:{f.score:.2f}:{f.detail}" for f in found.findings)
    return f"{found.strength} [" + "; ".join(parts) + "]"


def report(pairs: list[Pair], *, verbose: bool) -> None:
    """Print the tables, the key-property check and throughput."""
    header = f"{'':26s}    n   tp   fp   fn   tn    P      R      F1"
    labels = sum(p.label for p in pairs)
    print(f"{len(pairs)} pairs, {labels} matches, {len(pairs) - labels} non-matches")
    print("predicted positive = any evidence (conflict or possible)\n")
    overall, per_category, wrong = evaluate(pairs, Aliases.default())
    print(header)
    for name, tally in sorted(per_category.items()):
        print(f"{name:26s}{tally.row()}")
    print(f"{'OVERALL':26s}{overall.row()}\n")
    variants = (
        ("conflict findings only", Aliases.default(), DEFAULT_RULES, True),
        ("without the alias file", Aliases.none(), DEFAULT_RULES, False),
        ("names across countries kept", Aliases.default(), ACROSS_COUNTRIES, False),
    )
    for title, aliases, rules, strict in variants:
        tally = evaluate(pairs, aliases, rules=rules, conflict_only=strict)[0]
        print(f"{title:26s}{tally.row()}")
    violations = key_property_violations(pairs, Aliases.default())
    print(f"\nmatches sharing no candidate key: {violations}")
    cold, warm = throughput(pairs, Aliases.default())
    print(f"throughput: {warm:,.0f} matches/s warm ({1e6 / warm:.1f} µs), {cold:.0f} µs cold")
    print(speed_line())
    if verbose:
        print("\nmisclassified:")
        for pair, found in wrong:
            kind = "FN" if pair.label else "FP"
            names = f"{pair.a.name!r} | {pair.b.name!r}"
            print(f"  {kind} {pair.category:20s} {names}: {_describe(found)}")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list misclassified pairs")
    add_write_flag(parser)
    args = parser.parse_args()
    with recorded("matching_eval", "bench.matching_eval", enabled=args.write_docs):
        report(load(), verbose=args.verbose)


if __name__ == "__main__":
    main()

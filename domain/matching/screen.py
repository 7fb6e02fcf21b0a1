"""Rules out, from the text a stored record keeps, records that cannot match one subject."""

from __future__ import annotations

from domain.matching.aliases import Aliases
from domain.matching.records import DEFAULT_RULES, CompanyRef, MatchRules, analysed_name
from domain.matching.rule_out import alias_groups, forms_meet, levels_of, may_score, org_domains
from domain.matching.stored_forms import read_outline


class Screen:
    """Rules out stored records that cannot match one subject, from the text they stored.

    Most candidates a key lookup brings at CRM scale share only typo blocks with the subject
    and are strangers, and building one (its stored analysis read back, a `CompanyRef`, a
    claim) costs more than judging its text. `may_match` reads the stored analysis as text
    (`stored_forms.read_outline`) and answers False only when `match` would find nothing:
    the tests of `rule_out.may_match` (a domain the record's text contains, a shared name
    form, regional arm, initialism or alias group, a fuzzy score that could clear a
    threshold) but the typo-block gate, which `match` applies. When the text cannot tell
    (no stored analysis, or one of another version or name) it answers True.
    """

    __slots__ = ("_aliases", "_domains", "_groups", "_levels", "_name", "_rules")

    def __init__(
        self, subject: CompanyRef, rules: MatchRules = DEFAULT_RULES, aliases: Aliases | None = None
    ) -> None:
        self._aliases = Aliases.default() if aliases is None else aliases
        self._rules = rules
        self._domains = org_domains(subject)
        self._name = analysed_name(subject, rules)
        self._groups = alias_groups(self._name, self._aliases)
        self._levels = levels_of(self._name)

    def may_match(
        self, name: str, forms: str | None, domain: str | None = None, email: str | None = None
    ) -> bool:
        """False only when `match(subject, record)` is None for the stored record with this
        name, stored analysis (`stored_forms.dump_forms`), website domain and e-mail."""
        if self._domains and (domain or email):
            typed = f"{domain or ''} {email or ''}".casefold()
            if any(mine in typed for mine in self._domains):
                return True
        x = self._name
        if not x.variants:
            return False
        outline = read_outline(name, forms) if forms else None
        if outline is None:
            return True
        if not outline.levels:
            return False
        exact, regional = outline.exact, outline.regional
        if forms_meet(x, exact, regional, outline.short_forms, outline.initialisms):
            return True
        if self._groups and not self._groups.isdisjoint(self._aliases.groups_of(exact)):
            return True
        shortest = min(len(x.compact), len(outline.levels[0][0][1]))
        return shortest >= self._rules.fuzzy_min_length and may_score(
            self._levels, outline.levels, self._rules
        )

"""Which partner an external Slack actor speaks for, and who inside may decide or administer."""

from __future__ import annotations

from datetime import timedelta

from domain.actor import Actor, Caller
from domain.partner import Partner, resolve_partner
from domain.policy import DeskPolicy, ProgramPolicy, can_administer, can_decide
from domain.slack_ids import SlackChannelId, SlackEnterpriseId, SlackTeamId, SlackUserId
from tests.builders import HOST_TEAM, a_partner

ACME_TEAM = SlackTeamId("T0ACME")
ACME_GRID = SlackEnterpriseId("E0ACME")
ACME_CHANNEL = SlackChannelId("C0ACME")
THIRD_TEAM = SlackTeamId("T0THIRD")


def acme(**overrides: object) -> Partner:
    """Acme Resellers, linked to its shared channel; no Slack org recorded unless given."""
    fields: dict[str, object] = {
        "id": 1,
        "name": "Acme Resellers",
        "channel_id": ACME_CHANNEL,
        "slack_team_id": None,
    }
    fields.update(overrides)
    return a_partner(**fields)


def globex(**overrides: object) -> Partner:
    """Globex, another partner in its own channel."""
    fields: dict[str, object] = {
        "id": 2,
        "name": "Globex",
        "channel_id": "C0GLOBEX",
        "slack_team_id": None,
    }
    fields.update(overrides)
    return a_partner(**fields)


def rep(team_id: SlackTeamId = ACME_TEAM, enterprise_id: SlackEnterpriseId | None = None) -> Actor:
    return Actor(team_id=team_id, user_id=SlackUserId("U0REP"), enterprise_id=enterprise_id)


class TestResolvePartner:
    def test_enterprise_match_beats_team_match(self) -> None:
        by_team = globex(slack_team_id=ACME_TEAM)
        by_grid = acme(slack_enterprise_id=ACME_GRID)

        found = resolve_partner(
            rep(ACME_TEAM, ACME_GRID), channel_id=None, partners=[by_team, by_grid]
        )

        assert found is by_grid

    def test_finds_the_partner_by_its_team(self) -> None:
        partner = acme(slack_team_id=ACME_TEAM)

        found = resolve_partner(rep(), channel_id=None, partners=[globex(), partner])

        assert found is partner

    def test_a_team_match_wins_in_any_channel(self) -> None:
        partner = acme(slack_team_id=ACME_TEAM)
        unrecorded = globex()

        found = resolve_partner(
            rep(), channel_id=SlackChannelId("C0GLOBEX"), partners=[unrecorded, partner]
        )

        assert found is partner

    def test_an_unknown_enterprise_falls_back_to_the_team(self) -> None:
        partner = acme(slack_team_id=ACME_TEAM, slack_enterprise_id=ACME_GRID)

        found = resolve_partner(
            rep(ACME_TEAM, SlackEnterpriseId("E0OTHER")), channel_id=None, partners=[partner]
        )

        assert found is partner

    def test_the_channel_vouches_when_its_partner_has_no_recorded_organisation(self) -> None:
        partner = acme()

        found = resolve_partner(rep(THIRD_TEAM), channel_id=ACME_CHANNEL, partners=[partner])

        assert found is partner

    def test_a_third_organisation_in_a_channel_with_a_recorded_team_is_not_that_partner(
        self,
    ) -> None:
        partner = acme(slack_team_id=ACME_TEAM)

        found = resolve_partner(rep(THIRD_TEAM), channel_id=ACME_CHANNEL, partners=[partner])

        assert found is None

    def test_a_third_organisation_in_a_channel_with_a_recorded_grid_is_not_that_partner(
        self,
    ) -> None:
        partner = acme(slack_enterprise_id=ACME_GRID)

        found = resolve_partner(rep(THIRD_TEAM), channel_id=ACME_CHANNEL, partners=[partner])

        assert found is None

    def test_the_channel_of_another_partner_does_not_vouch(self) -> None:
        found = resolve_partner(
            rep(THIRD_TEAM), channel_id=SlackChannelId("C0ELSEWHERE"), partners=[acme()]
        )

        assert found is None

    def test_without_a_channel_an_unrecorded_partner_is_not_guessed(self) -> None:
        found = resolve_partner(rep(THIRD_TEAM), channel_id=None, partners=[acme()])

        assert found is None

    def test_no_grid_on_either_side_is_not_a_match(self) -> None:
        partner = acme(slack_team_id="T0SOMEONE")

        found = resolve_partner(rep(THIRD_TEAM), channel_id=None, partners=[partner])

        assert found is None

    def test_no_candidates_means_no_partner(self) -> None:
        assert resolve_partner(rep(), channel_id=ACME_CHANNEL, partners=[]) is None

    def test_accepts_any_iterable_of_candidates(self) -> None:
        partner = acme(slack_team_id=ACME_TEAM)

        found = resolve_partner(rep(), channel_id=None, partners=iter([partner]))

        assert found is partner


DESK = DeskPolicy(
    channel_id=SlackChannelId("C0DESK"),
    approvers=frozenset({SlackUserId("U0APPROVER")}),
    admins=frozenset({SlackUserId("U0ADMIN")}),
)


def host(user_id: SlackUserId) -> Actor:
    return Actor(team_id=HOST_TEAM, user_id=user_id)


class TestIsInternal:
    def test_someone_from_the_host_workspace_is_internal(self) -> None:
        assert Caller(host(SlackUserId("U0ANYONE")), HOST_TEAM).internal

    def test_someone_from_a_partner_workspace_is_not(self) -> None:
        assert not Caller(rep(), HOST_TEAM).internal


class TestCanDecide:
    def test_an_approver_of_the_host_team_decides(self) -> None:
        assert can_decide(Caller(host(SlackUserId("U0APPROVER")), HOST_TEAM), DESK)

    def test_the_same_user_id_in_another_team_cannot_decide(self) -> None:
        impostor = Actor(team_id=ACME_TEAM, user_id=SlackUserId("U0APPROVER"))

        assert not can_decide(Caller(impostor, HOST_TEAM), DESK)

    def test_an_admin_who_is_not_an_approver_cannot_decide(self) -> None:
        assert not can_decide(Caller(host(SlackUserId("U0ADMIN")), HOST_TEAM), DESK)

    def test_other_internal_people_cannot_decide(self) -> None:
        assert not can_decide(Caller(host(SlackUserId("U0SALES")), HOST_TEAM), DESK)


class TestCanAdminister:
    def test_an_admin_of_the_host_team_administers(self) -> None:
        assert can_administer(Caller(host(SlackUserId("U0ADMIN")), HOST_TEAM), DESK)

    def test_the_same_user_id_in_another_team_cannot_administer(self) -> None:
        impostor = Actor(team_id=ACME_TEAM, user_id=SlackUserId("U0ADMIN"))

        assert not can_administer(Caller(impostor, HOST_TEAM), DESK)

    def test_an_approver_who_is_not_an_admin_cannot_administer(self) -> None:
        assert not can_administer(Caller(host(SlackUserId("U0APPROVER")), HOST_TEAM), DESK)


class TestProgramPolicy:
    def test_windows_are_derived_from_days_and_hours(self) -> None:
        program = ProgramPolicy(protection_days=30, review_sla_hours=12)

        assert program.protection == timedelta(days=30)
        assert program.review_sla == timedelta(hours=12)

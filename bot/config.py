"""The TOML policy file: the desk, its approvers and admins, and the program's tunables."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
)

from bot.settings import SettingsError
from domain.policy import PARTNERS_SEE_OWN_ONLY, DeskPolicy, PrivacyPolicy, ProgramPolicy
from domain.slack_ids import SLACK_CHANNEL_ID, SlackChannelId, SlackUserId, is_slack_user_id


class DeskSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: SlackChannelId = Field(pattern=SLACK_CHANNEL_ID)
    approvers: list[SlackUserId] = Field(min_length=1)
    admins: list[SlackUserId] = Field(default_factory=list)
    review_sla_hours: int = Field(default=48, ge=1, le=24 * 30)

    @field_validator("approvers", "admins")
    @classmethod
    def _user_ids(cls, ids: list[SlackUserId]) -> list[SlackUserId]:
        for user_id in ids:
            if not is_slack_user_id(user_id):
                raise ValueError(f"{user_id!r} is not a Slack user id like U012ABCDEF")
        return ids


class ProgramSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    products: list[str] = Field(min_length=1, max_length=100)
    protection_days: int = Field(default=90, ge=1, le=3650)

    @field_validator("products")
    @classmethod
    def _products(cls, products: list[str]) -> list[str]:
        cleaned = [p.strip() for p in products]
        if any(not p or len(p) > 75 for p in cleaned):
            raise ValueError("each product needs a name of 1 to 75 characters")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("products must be unique")
        return cleaned


class PrivacySection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partners_see_overlaps: StrictBool = False


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    desk: DeskSection
    program: ProgramSection
    privacy: PrivacySection = Field(default_factory=PrivacySection)


class DibsConfig(BaseModel):
    """The policies the domain needs, built from the file."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    desk: DeskPolicy
    program: ProgramPolicy
    privacy: PrivacyPolicy = PARTNERS_SEE_OWN_ONLY


def _first_problem(error: ValidationError) -> str:
    """The most useful error first: a misspelt key explains the 'required' one it causes."""
    problems = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = problems[0]
    key = ".".join(str(part) for part in first["loc"])
    message = f"[{key}] {first['msg']}"
    if first["type"] == "extra_forbidden":
        sections: dict[str, type[BaseModel]] = {
            "desk": DeskSection,
            "program": ProgramSection,
            "privacy": PrivacySection,
        }
        section = sections.get(str(first["loc"][0]), ConfigFile)
        known = list(section.model_fields)
        close = difflib.get_close_matches(str(first["loc"][-1]), known, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    return message


def load_config(path: Path) -> DibsConfig:
    """Read and check the TOML file; any problem becomes one line naming the file and key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    try:
        parsed = ConfigFile.model_validate(raw)
    except ValidationError as error:
        raise SettingsError(f"{path}: {_first_problem(error)}") from None
    return DibsConfig(
        desk=DeskPolicy(
            channel_id=parsed.desk.channel,
            approvers=frozenset(parsed.desk.approvers),
            admins=frozenset(parsed.desk.admins),
        ),
        program=ProgramPolicy(
            currency=parsed.program.currency,
            products=tuple(parsed.program.products),
            protection_days=parsed.program.protection_days,
            review_sla_hours=parsed.desk.review_sla_hours,
        ),
        privacy=PrivacyPolicy(partners_see_overlaps=parsed.privacy.partners_see_overlaps),
    )

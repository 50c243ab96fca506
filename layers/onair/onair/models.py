"""The validated, normalized schedule models stored as schedules/{id}/schedule.json (pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from onair.errors import Finding

Identifier = Annotated[str, Field(min_length=1, max_length=200)]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class XmltvChannel(Model):
    id: Identifier
    xml: str = Field(description="The <channel> element as received, serialized")


class XmltvProgramme(Model):
    channel: Identifier
    start: AwareDatetime
    stop: AwareDatetime | None = None
    title: str
    xml: str = Field(description="The <programme> element as received, serialized")


class XmltvListing(Model):
    format: Literal["xmltv"] = "xmltv"
    channels: list[XmltvChannel]
    programmes: list[XmltvProgramme]

    def counts(self) -> dict[str, int]:
        return {"channels": len(self.channels), "programmes": len(self.programmes)}


class Channel(Model):
    id: Identifier
    name: str


class Item(Model):
    id: Identifier
    title: str
    artist: str | None = None
    duration: float = Field(gt=0, description="seconds")
    category: str | None = None
    uri: str | None = None
    weight: float = Field(default=1.0, gt=0)


class OnAirSchedule(Model):
    format: Literal["onair"] = "onair"
    timezone: str
    channels: list[Channel]
    items: list[Item]

    def counts(self) -> dict[str, int]:
        return {"channels": len(self.channels), "items": len(self.items)}


Schedule = Annotated[XmltvListing | OnAirSchedule, Field(discriminator="format")]


class StoredSchedule(Model):
    """schedule.json: the model plus what the import said about it."""

    id: str
    created_at: datetime
    warnings: list[dict[str, object]] = []
    schedule: Schedule


def findings_to_dicts(findings: list[Finding]) -> list[dict[str, object]]:
    return [finding.to_dict() for finding in findings]

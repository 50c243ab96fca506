"""The validated, normalized schedule models stored as schedules/{id}/schedule.json (pydantic v2)."""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import IO, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from onair.errors import Finding

Identifier = Annotated[str, Field(min_length=1, max_length=200)]


class Model(BaseModel):
    # defer_build: a model's validator is built on its first use, not at import (a read route never
    # builds the schedule documents' validators, a feed poll none but its records')
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class XmltvChannel(Model):
    id: Identifier
    xml: str = Field(description="The <channel> element as received, serialized")
    # False for a channel only programmes name (unknownid): the guide does not declare one whose id
    # tv_validate_file refuses, so the guide has no error kind the listing lacks. True in older files.
    declared: bool = True


Clump = tuple[int, int]  # XMLTV's clumpidx "index/count" as (index, count)
# Digits bounded: Python refuses int() of more than 4,300 of them (a ValueError, not a finding)
_CLUMPIDX = re.compile(r"^\s*(\d{1,18})\s*/\s*(\d{1,18})\s*$")
# Where schedule.json files stored before XmltvProgramme.clump existed keep it: the serialized element
_STORED_CLUMPIDX = re.compile(r"""^<programme\b[^>]*?\sclumpidx=(["'])(.*?)\1""")


def read_clumpidx(text: str) -> Clump | None:
    """A clumpidx attribute as (index, count); None when it is not "index/count" with index < count."""
    match = _CLUMPIDX.match(text)
    if match is None or int(match[1]) >= int(match[2]):
        return None
    return int(match[1]), int(match[2])


def clump_parts(a: Clump | None, b: Clump | None) -> bool:
    """Two parts of one clump: the same count (two or more), different indexes."""
    return a is not None and b is not None and a[1] == b[1] > 1 and a[0] != b[0]


@functools.lru_cache(maxsize=1024)
def fixed_offset(offset: timedelta) -> timezone:
    """The one datetime.timezone of each offset that programme times carry: two times with the same
    tzinfo object compare by their fields (10x faster than through their offsets)."""
    return timezone(offset)


def _with_timezone(value: datetime) -> datetime:
    """The same time with its offset's fixed_offset, as the importer's times have. pydantic-core gives each
    time it reads from JSON a TzInfo of its own, whose isoformat, timestamp and comparisons cost 1.5-10x
    a timezone's: a run formats, compares and orders every programme's times several times."""
    offset = value.utcoffset()
    assert offset is not None  # AwareDatetime
    return value.replace(tzinfo=fixed_offset(offset))


ProgrammeTime = Annotated[AwareDatetime, AfterValidator(_with_timezone)]


class XmltvProgramme(Model):
    channel: Identifier
    start: ProgrammeTime
    stop: ProgrammeTime | None = None
    title: str
    xml: str = Field(description="The <programme> element as received, serialized (see guide_form)")
    # Left out of schedule.json when None (most programmes): the file stays as small as it was.
    clump: Clump | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="clumpidx, when the programme is a part of a clump of two or more",
    )
    # False in files stored before it existed: the guide then works the form out as it copies
    guide_form: bool = Field(
        default=False,
        exclude_if=lambda value: not value,
        description=(
            "xml follows xmltv.dtd and is as guide.xml writes it at depth 1 (indented by one space a level,"
            " start, stop and channel its first attributes): the guide copies it with the run's times"
        ),
    )

    def shares_slot_with(self, other: XmltvProgramme) -> bool:
        """XMLTV's clumps: programmes listed in one timeslot ("News; Weather", clumpidx 0/2 and 1/2) share
        it, so neither overlaps nor replaces the other. The importer's overlap check and the playout both
        ask this."""
        return self.start == other.start and self.stop == other.stop and clump_parts(self.clump, other.clump)


class XmltvListing(Model):
    format: Literal["xmltv"] = "xmltv"
    channels: list[XmltvChannel]
    programmes: list[XmltvProgramme]

    def counts(self) -> dict[str, int]:
        return {"channels": len(self.channels), "programmes": len(self.programmes)}

    @model_validator(mode="after")
    def _clumps_of_older_files(self) -> XmltvListing:
        """A schedule.json stored before programmes had `clump` keeps clumpidx only in each element: read
        it from there once, when the file is loaded (a substring test per programme; files stored since
        hold every clump, and a programme without one has no valid clumpidx to find; so do those with
        guide_form, which came later)."""
        programmes = self.programmes
        for index, programme in enumerate(programmes):
            if programme.clump is None and not programme.guide_form and "clumpidx=" in programme.xml:
                found = _STORED_CLUMPIDX.match(programme.xml)
                clump = read_clumpidx(found[2]) if found else None
                if clump is not None and clump[1] > 1:
                    programmes[index] = programme.model_copy(update={"clump": clump})
        return self


# --- OnAir schedules (urn:onair:schedule:1; docs/FORMATS.md) ---------------------------------------

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Index i is date.weekday() == i, so the engine maps a local date to its day name with WEEKDAYS[d.weekday()].
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Local wall-clock time "HH:MM" or "HH:MM:SS"; "24:00" is the end of the day (only valid as a block's end).
LocalTime = Annotated[
    str, Field(pattern=r"^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?|24:00(?::00)?)$")
]
SECONDS_PER_DAY = 86400

# Bounds of an OnAir schedule's numbers (docs/FORMATS.md, "Limits"); the reader reports values beyond them
# with their own codes, and the models refuse them too, so no stored schedule holds one.
# An item lasts 1 s to 24 h. The shortest real items (stings, idents) last a few seconds; below a second a
# day of them is 86,400+ slots per channel for no broadcast purpose. Blocks and events repeat daily, so an
# item longer than a day would swallow whole days of them (and PT999999999H overflows time arithmetic).
MIN_ITEM_SECONDS = 1.0
MAX_ITEM_SECONDS = float(SECONDS_PER_DAY)
# A weight is a ratio between items of a weighted pool: a million to one is more than any rotation needs,
# and keeps sums of 100,000 weights finite and exact enough to draw from.
MIN_WEIGHT = 1e-6
MAX_WEIGHT = 1e6
# Rule values beyond what a run can reach mean "no limit": a separation longer than the longest run
# (366 days), more plays in an hour or a day than 1-second items can make (a 25-hour day has 90,000 s).
MAX_SEPARATION_MINUTES = 366 * 24 * 60
MAX_PLAYS_PER_HOUR = 3600
MAX_PLAYS_PER_DAY = 25 * 3600


def seconds_of_day(value: str) -> int:
    """Seconds after local midnight of a LocalTime ("06:30" -> 23400, "24:00" -> 86400)."""
    hours, minutes, *seconds = (int(part) for part in value.split(":"))
    return hours * 3600 + minutes * 60 + (seconds[0] if seconds else 0)


# The schemes a player can open a channel's stream with (Jellyfin's M3U tuner accepts only these, and drops
# any other channel: src/Jellyfin.LiveTv/TunerHosts/M3uParser.cs, IsValidChannelUrl).
STREAM_SCHEMES = ("http", "https", "rtsp", "rtp", "udp")
# Images (logos, item images) and the slate playlist are fetched over HTTP by players and by OnAir.
WEB_SCHEMES = ("http", "https")
ChannelNumber = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,5}(?:\.[0-9]{1,4})?$")]
Ordinal = Annotated[int, Field(ge=1, le=99_999)]
Kind = Literal["movie", "episode", "series", "news", "sports", "kids", "music", "documentary"]
GUIDE_DOMAIN = "onair"  # the domain of the guide ids OnAir gives channels whose ids are not name.domain
# tv_validate_file's channel-id rule (XMLTV::ValidateFile): RFC 2838 style, at least one dot.
XMLTV_CHANNEL_ID = re.compile(r"^[-a-zA-Z0-9]+(\.[-a-zA-Z0-9]+)+$")
_SIMPLE_ID = re.compile(r"^[-a-zA-Z0-9]+$")


def guide_id(channel_id: str) -> str:
    """The id an OnAir channel is published under in guide.xml and channels.m3u (tvg-id): an XMLTV id
    (`name.domain`, as tv_validate_file wants) that depends on the channel's own id alone, and is a
    different one for every different id.

    - an id already of the form name.domain stays as it is (unless it ends in `.onair`, kept for these);
    - an id of letters, digits and hyphens gains `.onair`: `radio1` -> `radio1.onair`;
    - any other id (`radio_1`, `Radio Ün`, `a.onair`) becomes a readable part, a hash of the id and `.onair`:
      `radio_1` -> `radio-1.<first 12 hex digits of its SHA-256>.onair`.
    The three forms never meet: the first never ends in `.onair`, the second has one dot, the third two;
    within the third, the importer refuses two channels whose ids give the same one (code `guideid`)."""
    if XMLTV_CHANNEL_ID.match(channel_id) and not channel_id.lower().endswith("." + GUIDE_DOMAIN):
        return channel_id
    if _SIMPLE_ID.match(channel_id):
        return f"{channel_id}.{GUIDE_DOMAIN}"
    readable = re.sub(r"[^-a-zA-Z0-9]+", "-", channel_id).strip("-")[:40] or "channel"
    digest = hashlib.sha256(channel_id.encode()).hexdigest()[:12]
    return f"{readable}.{digest}.{GUIDE_DOMAIN}"


def url_problem(text: str, schemes: tuple[str, ...]) -> str | None:
    """Why `text` is not an absolute URL with one of `schemes`, a host and no fragment; None when it is.

    Players take such a URL as it is: a relative one ("playlist.m3u8#radio1") or a fragment opens nothing,
    and M3U has no escape for the quote or line break a URL would carry into an attribute or a line."""
    if any(character.isspace() or ord(character) < 0x20 or character == '"' for character in text):
        return "holds a space, a quote or a control character (percent-encode it)"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return "is not a URL"
    if not parts.scheme:
        return f"is relative: an absolute URL starts with {' or '.join(f'{s}://' for s in schemes)}"
    if parts.scheme.lower() not in schemes:
        return f"has the scheme '{parts.scheme[:20]}': players open only {', '.join(schemes)}"
    if not parts.netloc:
        return "has no host"
    if parts.fragment or text.endswith("#"):
        return "has a fragment (#...): players open the resource itself, not a part of it"
    return None


def _url(schemes: tuple[str, ...]) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        problem = None if value is None else url_problem(value, schemes)
        if problem is not None:
            raise ValueError(f"the URL {problem}")
        return value

    return check


StreamUrl = Annotated[str, AfterValidator(_url(STREAM_SCHEMES))]
WebUrl = Annotated[str, AfterValidator(_url(WEB_SCHEMES))]


class Channel(Model):
    id: Identifier
    name: str
    # For players (docs/FORMATS.md, "What the readers use"); all optional, absent in older schedule.json.
    number: ChannelNumber | None = Field(default=None, description="tvg-chno; a display-name in the guide")
    logo: WebUrl | None = Field(default=None, description="absolute http(s) URL: tvg-logo, <icon src>")
    group: str | None = Field(default=None, description="group-title")
    stream: StreamUrl | None = Field(default=None, description="absolute http(s)/rtsp/rtp/udp URL")
    slate: WebUrl | None = Field(default=None, description="absolute http(s) URL of an HLS playlist to loop")

    @property
    def guide_id(self) -> str:
        return guide_id(self.id)


class Item(Model):
    id: Identifier
    title: str
    artist: str | None = None
    series: str | None = Field(default=None, description="TV items: the series; never set with artist")
    duration: float = Field(ge=MIN_ITEM_SECONDS, le=MAX_ITEM_SECONDS, description="seconds")
    category: str | None = None
    uri: str | None = None
    weight: float = Field(default=1.0, ge=MIN_WEIGHT, le=MAX_WEIGHT)
    # For the guide (docs/FORMATS.md, "What the readers use"); all optional, absent in older schedule.json.
    description: str | None = Field(default=None, description="<desc>")
    season: Ordinal | None = Field(default=None, description="from 1: <episode-num>")
    episode: Ordinal | None = Field(default=None, description="from 1: <episode-num>")
    image: WebUrl | None = Field(default=None, description="absolute http(s) URL: <icon src>")
    rating: str | None = Field(default=None, description="<rating><value>")
    kind: Kind | None = Field(default=None, description="the guide's <category> word for players")

    @property
    def credit(self) -> str | None:
        """What artist separation compares: the artist, or the series of a TV item."""
        return self.artist or self.series


class PoolMember(Model):
    """One `<item ref>` or `<category ref>` of a pool: exactly one of the two is set."""

    item: Identifier | None = None
    category: Identifier | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PoolMember:
        if (self.item is None) == (self.category is None):
            raise ValueError("a pool member names either an item or a category")
        return self


class Pool(Model):
    id: Identifier
    order: Literal["sequential", "shuffle", "random", "weighted"]
    members: list[PoolMember] = Field(min_length=1)


class Rules(Model):
    """Rotation rules. channel None: the defaults for every channel; a channel's own rules override them
    field by field (OnAirSchedule.rules_for merges the two). None means "no limit"."""

    channel: Identifier | None = None
    artist_separation: int | None = Field(
        default=None, ge=0, le=MAX_SEPARATION_MINUTES, description="minutes between same credit"
    )
    title_separation: int | None = Field(
        default=None, ge=0, le=MAX_SEPARATION_MINUTES, description="minutes between same title"
    )
    max_plays_per_hour: int | None = Field(
        default=None, ge=1, le=MAX_PLAYS_PER_HOUR, description="per item, local clock hour"
    )
    max_plays_per_day: int | None = Field(
        default=None, ge=1, le=MAX_PLAYS_PER_DAY, description="per item, local day"
    )


class Block(Model):
    """A day-part of one channel: [start, end) local time on each of `days`, filled from `pool`.

    Blocks never cross midnight: end > start, and end may be "24:00"."""

    channel: Identifier
    days: list[Weekday] = Field(min_length=1)
    start: LocalTime
    end: LocalTime
    pool: Identifier
    filler: Identifier | None = Field(default=None, description="pool that fills the block's last gap")

    @property
    def start_seconds(self) -> int:
        return seconds_of_day(self.start)

    @property
    def end_seconds(self) -> int:
        return seconds_of_day(self.end)


class FixedEvent(Model):
    """One item that starts at exactly `time` (local) on each of `days`, ahead of whatever block runs."""

    channel: Identifier
    days: list[Weekday] = Field(min_length=1)
    time: LocalTime
    item: Identifier

    @property
    def time_seconds(self) -> int:
        return seconds_of_day(self.time)


class OnAirSchedule(Model):
    format: Literal["onair"] = "onair"
    timezone: str
    channels: list[Channel]
    items: list[Item]
    # Defaults keep schedule.json files stored before these sections existed readable.
    pools: list[Pool] = []
    rules: list[Rules] = []
    blocks: list[Block] = []
    events: list[FixedEvent] = []

    def counts(self) -> dict[str, int]:
        return {"channels": len(self.channels), "items": len(self.items)}

    def item(self, item_id: str) -> Item:
        return next(item for item in self.items if item.id == item_id)

    def pool_items(self, pool_id: str) -> list[Item]:
        """The pool's items in declaration order: a category member expands to its items in library
        order; an item reached twice counts once (its first place)."""
        pool = next(pool for pool in self.pools if pool.id == pool_id)
        by_id = {item.id: item for item in self.items}
        by_category: dict[str, list[Item]] = {}
        for item in self.items:
            if item.category is not None:
                by_category.setdefault(item.category, []).append(item)
        chosen: dict[str, Item] = {}
        for member in pool.members:
            found = (
                [by_id[member.item]] if member.item in by_id else by_category.get(member.category or "", [])
            )
            for item in found:
                chosen.setdefault(item.id, item)
        return list(chosen.values())

    def rules_for(self, channel_id: str) -> Rules:
        """The rules in force on a channel: the global rules overridden by the channel's own."""
        merged: dict[str, Any] = {}
        for scope in (None, channel_id):
            for rules in self.rules:
                if rules.channel == scope:
                    merged.update(rules.model_dump(exclude={"channel"}, exclude_none=True))
        return Rules(channel=channel_id, **merged)


Schedule = Annotated[XmltvListing | OnAirSchedule, Field(discriminator="format")]


class StoredSchedule(Model):
    """schedule.json: the model plus what the import said about it."""

    id: str
    created_at: datetime
    warnings: list[dict[str, object]] = []
    schedule: Schedule


PROGRAMMES_PER_CHUNK = 1000
_programmes_json = TypeAdapter(list[XmltvProgramme], config=ConfigDict(defer_build=True))
_PROGRAMMES_HEAD = b'"programmes":['
_CLOSING = b"]}}"  # the programmes' list, the listing and the file: "schedule" is StoredSchedule's last field


def stored_json_chunks(stored: StoredSchedule, spool: ProgrammeSpool | None = None) -> Iterator[bytes]:
    """schedule.json in pieces: the same JSON as stored.model_dump_json(), except that a large listing's
    programmes come a thousand to a line, after a line of everything else. They are serialized a chunk at a
    time, so no single buffer ever holds them all, and load_stored reads them back the same way. With a
    `spool`, the listing holds none of its programmes: they are the spool's lines."""
    schedule = stored.schedule
    if spool is None:
        if not isinstance(schedule, XmltvListing) or len(schedule.programmes) <= PROGRAMMES_PER_CHUNK:
            yield stored.model_dump_json().encode()
            return
        spool = ProgrammeSpool()
        for programme in schedule.programmes:
            spool.append(programme)
        schedule = schedule.model_copy(update={"programmes": []})
    assert isinstance(schedule, XmltvListing) and not schedule.programmes, "the programmes are the spool's"
    head = stored.model_copy(update={"schedule": schedule}).model_dump_json().encode()
    assert head.endswith(_PROGRAMMES_HEAD + _CLOSING), "schedule.json field order changed"
    yield head[: -len(_CLOSING)] + b"\n"
    yield from spool.lines()
    yield _CLOSING


class ProgrammeSpool:
    """A listing's programmes as schedule.json's lines, written as they come: past the first thousand, a
    thousand at a time into a temporary file. The importer holds at most a thousand programmes (their
    models and XML) this way, never the listing; a listing of a thousand or fewer never leaves `held`."""

    def __init__(self) -> None:
        self.count = 0
        self.held: list[XmltvProgramme] = []  # the ones not yet written
        self._file: IO[bytes] | None = None
        self._ended = False

    @property
    def spilled(self) -> bool:
        """More than a thousand came: they are stored in lines, as stored_json_chunks(spool=...) writes."""
        return self._file is not None

    def append(self, programme: XmltvProgramme) -> None:
        assert not self._ended, "the spool's lines were read"
        if len(self.held) >= PROGRAMMES_PER_CHUNK:
            self._write()
        self.held.append(programme)
        self.count += 1

    def lines(self) -> Iterator[bytes]:
        """The programmes' lines, each with its line break; every line but the last ends with a comma."""
        if not self._ended:
            self._write()
            assert self._file is not None
            self._file.write(b"\n")
            self._ended = True
        assert self._file is not None
        self._file.seek(0)
        yield from self._file

    def _write(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the spool; removed with it)
        elif self.held:
            self._file.write(b",\n")
        if self.held:
            self._file.write(_programmes_json.dump_json(self.held)[1:-1])  # the items, without brackets
        self.held = []


def load_stored(
    lines: Iterable[bytes], take: Callable[[list[XmltvProgramme]], None] | None = None
) -> StoredSchedule:
    """schedule.json from its lines (without their line breaks), as stored_json_chunks wrote it: a large
    listing's programmes are validated a line at a time, so the run never holds the file's bytes, nor
    pydantic's working memory for all of them at once. Any other file (one line: every OnAir schedule, a
    small listing, a listing stored before the lines) is validated whole.

    With `take`, a listing's programmes are handed to it as they are validated (a line's at a time) and
    the listing comes back without them: the run keeps them in a form of its own (playout.shelf)."""
    lines = iter(lines)
    head = next(lines, b"")
    if not head.endswith(_PROGRAMMES_HEAD):
        stored = StoredSchedule.model_validate_json(b"\n".join((head, *lines)))
        if take is None or not isinstance(stored.schedule, XmltvListing):
            return stored
        take(stored.schedule.programmes)
        return stored.model_copy(update={"schedule": stored.schedule.model_copy(update={"programmes": []})})
    stored = StoredSchedule.model_validate_json(head + _CLOSING)
    programmes: list[XmltvProgramme] = []
    fields_sets = _FieldsSets()
    for line in lines:
        if line == _CLOSING:
            break
        chunk = _programmes_json.validate_json(b"[" + line.removesuffix(b",") + b"]")
        if take is not None:
            take(chunk)
            continue
        fields_sets.share(chunk)
        programmes += chunk
    else:
        raise ValueError("schedule.json ends before its programmes do")
    if next(lines, b"") != b"":
        raise ValueError("schedule.json goes on after its programmes")
    listing = stored.schedule.model_copy(update={"programmes": programmes})
    return stored.model_copy(update={"schedule": listing})


class _FieldsSets:
    """One set of field names for the programmes that set the same fields. pydantic gives every model it
    validates a set of its own (730 bytes of the 1.8 KB a loaded programme takes); the importer's
    programmes share one already. model_copy copies the set before it adds to it, so sharing is safe."""

    def __init__(self) -> None:
        self._sets: dict[frozenset[str], set[str]] = {}
        self._last: set[str] = set()

    def share(self, models: list[XmltvProgramme]) -> None:
        for model in models:
            fields = model.__pydantic_fields_set__
            if fields != self._last:
                self._last = self._sets.setdefault(frozenset(fields), fields)
            object.__setattr__(model, "__pydantic_fields_set__", self._last)


def findings_to_dicts(findings: list[Finding]) -> list[dict[str, object]]:
    return [finding.to_dict() for finding in findings]

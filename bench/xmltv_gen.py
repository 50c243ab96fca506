"""A deterministic, realistic XMLTV listing of a requested size (the benchmark's input; never committed).

Shaped like a real multi-channel grabber output: a DOCTYPE naming the external DTD, channels with two
display-names, an icon and a URL, then day after day of back-to-back programmes per channel with title,
sub-title, desc, categories, episode-num (xmltv_ns and onscreen), occasional credits / rating / star-rating,
non-ASCII text, escaped ampersands and UTC offsets such as +0100.
"""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

SEED = 20260601
START = datetime(2026, 6, 1, 6, 0, tzinfo=timezone(timedelta(hours=1)))
CHANNELS = 150
OFFSETS = ("+0100", "+0100", "+0100", "+0200", "+0000", "-0500")  # mostly one zone, as grabbers write

WORDS = [
    "night",
    "news",
    "world",
    "morning",
    "garden",
    "kitchen",
    "detective",
    "island",
    "secret",
    "river",
    "city",
    "summer",
    "winter",
    "story",
    "live",
    "report",
    "football",
    "music",
    "quiz",
    "doctor",
    "house",
    "road",
    "journey",
    "wild",
    "planet",
    "history",
    "science",
    "mystery",
    "family",
    "court",
    "police",
    "market",
    "château",
    "café",
    "über",
    "naïve",
    "señor",
    "Zürich",
    "Köln",
    "Malmö",
    "São",
    "Paulo",
]
_NAMES = [
    "Anna",
    "Ben",
    "Chloé",
    "Dávid",
    "Emma",
    "Farid",
    "Greta",
    "Hugo",
    "Inès",
    "Jonas",
    "Kai",
    "Léa",
    "Mika",
    "Noor",
    "Olga",
    "Pablo",
]
_SURNAMES = [
    "Smith",
    "Müller",
    "García",
    "Rossi",
    "Novák",
    "Dubois",
    "Jensen",
    "Kowalski",
    "Silva",
    "Öztürk",
    "Brown",
    "Nguyen",
]
_CATEGORIES = (
    "News",
    "Drama",
    "Comedy",
    "Documentary",
    "Sport",
    "Film",
    "Children",
    "Music",
    "Entertainment",
    "Nature & Wildlife",
    "Crime",
    "Talk",
)
_DURATIONS = (5, 10, 15, 25, 30, 30, 45, 60, 60, 60, 90, 120)


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _sentence(rng: random.Random) -> str:
    text = _words(rng, 8, 18)
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "!", "?"))


def _time(value: datetime, offset: str) -> str:
    sign = -1 if offset[0] == "-" else 1
    zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    return value.astimezone(zone).strftime("%Y%m%d%H%M%S ") + offset


def _channel(out: IO[str], rng: random.Random, index: int) -> str:
    channel_id = f"ch{index:03d}.{rng.choice(('uk', 'de', 'fr', 'se', 'us'))}.example.tv"
    name = f"{_words(rng, 1, 2).title()} {index}"
    out.write(f'  <channel id="{channel_id}">\n')
    out.write(f'    <display-name lang="en">{escape(name)}</display-name>\n')
    out.write(f"    <display-name>{index}</display-name>\n")
    out.write(f'    <icon src="https://img.example.tv/logos/{index}.png" width="200" height="100" />\n')
    out.write(f"    <url>https://www.example.tv/channels/{index}</url>\n")
    out.write("  </channel>\n")
    return channel_id


def _programme(
    out: IO[str], rng: random.Random, channel_id: str, start: datetime, stop: datetime, offset: str
) -> None:
    out.write(
        f'  <programme start="{_time(start, offset)}" stop="{_time(stop, offset)}" channel="{channel_id}">\n'
    )
    out.write(f'    <title lang="en">{escape(_words(rng, 1, 4).title())}</title>\n')
    if rng.random() < 0.7:
        out.write(f'    <sub-title lang="en">{escape(_words(rng, 2, 6).capitalize())}</sub-title>\n')
    desc = " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))
    out.write(f'    <desc lang="en">{escape(desc)}</desc>\n')
    if rng.random() < 0.25:
        out.write("    <credits>\n")
        for _ in range(rng.randint(1, 4)):
            role = quoteattr(f"{rng.choice(_NAMES)} {rng.choice(_SURNAMES)}")
            out.write(f"      <actor role={role}>{rng.choice(_NAMES)} {rng.choice(_SURNAMES)}</actor>\n")
        out.write("    </credits>\n")
    for category in rng.sample(_CATEGORIES, rng.randint(1, 2)):
        out.write(f'    <category lang="en">{escape(category)}</category>\n')
    if rng.random() < 0.6:
        season, episode = rng.randint(1, 12), rng.randint(1, 24)
        out.write(f'    <episode-num system="xmltv_ns">{season - 1}.{episode - 1}.0/1</episode-num>\n')
        out.write(f'    <episode-num system="onscreen">S{season:02d}E{episode:02d}</episode-num>\n')
    if rng.random() < 0.2:
        out.write('    <rating system="BBFC">\n      <value>12</value>\n    </rating>\n')
    if rng.random() < 0.2:
        out.write(f"    <star-rating>\n      <value>{rng.randint(1, 5)}/5</value>\n    </star-rating>\n")
    out.write("  </programme>\n")


def write_listing(path: Path, target_bytes: int, seed: int = SEED) -> dict[str, int]:
    """Write a listing of at least `target_bytes` (whole days of all channels) to `path`; return its counts."""
    rng = random.Random(seed)
    programmes = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n')
        out.write('<tv source-info-name="OnAir bench" generator-info-name="bench/xmltv_gen.py">\n')
        channels = [(_channel(out, rng, index), rng.choice(OFFSETS)) for index in range(1, CHANNELS + 1)]
        next_start = dict.fromkeys((channel_id for channel_id, _ in channels), START)
        day_end = START
        while out.tell() < target_bytes:
            day_end += timedelta(days=1)
            for channel_id, offset in channels:  # back to back: each channel continues where it stopped
                start = next_start[channel_id]
                while start < day_end:
                    stop = start + timedelta(minutes=rng.choice(_DURATIONS))
                    _programme(out, rng, channel_id, start, stop, offset)
                    programmes += 1
                    start = stop
                next_start[channel_id] = start
                if out.tell() >= target_bytes:
                    break
        out.write("</tv>\n")
    return {"bytes": path.stat().st_size, "channels": CHANNELS, "programmes": programmes}


def listing_of(programmes: int, channels: int = CHANNELS, seed: int = SEED) -> bytes:
    """A listing of exactly `programmes` programmes on `channels` channels, shaped as write_listing's (the
    channels take turns a day at a time), as UTF-8 bytes."""
    rng = random.Random(seed)
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n')
    out.write('<tv source-info-name="OnAir bench" generator-info-name="bench/xmltv_gen.py">\n')
    declared = [(_channel(out, rng, index), rng.choice(OFFSETS)) for index in range(1, channels + 1)]
    next_start = dict.fromkeys((channel_id for channel_id, _ in declared), START)
    day_end, written = START, 0
    while written < programmes:
        day_end += timedelta(days=1)
        for channel_id, offset in declared:
            start = next_start[channel_id]
            while start < day_end and written < programmes:
                stop = start + timedelta(minutes=rng.choice(_DURATIONS))
                _programme(out, rng, channel_id, start, stop, offset)
                written += 1
                start = stop
            next_start[channel_id] = start
    out.write("</tv>\n")
    return out.getvalue().encode("utf-8")


if __name__ == "__main__":
    import sys

    print(write_listing(Path(sys.argv[1]), int(float(sys.argv[2]) * 1024 * 1024)))

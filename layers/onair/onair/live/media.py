"""An item's HLS VOD playlist, resolved once into a compact, JSON-serializable media index.

Parsing is the maintained `m3u8` library's; what it tolerates silently (a URI line with no EXTINF is
dropped, a NaN duration kept) is checked here. Every problem is a `Finding` (code, message, path = the
playlist URI), never an exception: a hostile playlist is a run-report line, not a failed run.

Blocking findings (the media is unusable: `Resolution.index is None`): not_vod, unreachable, too_large,
bad_scheme, blocked_address, blocked_key (an s3:// URI outside the media library), missing_duration,
malformed, encrypted. The others are advisory:
alternate_renditions, unaligned_variants, variants_dropped, duration_mismatch (per item) and
ladder_mismatch (per channel).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from onair.errors import Finding
from onair.live.fetch import scheme_of
from onair.ports import Fetcher, FetchError, PlaylistCache

if TYPE_CHECKING:
    import m3u8

MEDIA_SCHEMES = ("http", "https", "s3")
DURATION_TOLERANCE_MS = 1000  # issue 12: segments summing to more than a second off the item's duration
ALIGN_TOLERANCE_MS = 50  # renditions of one asset cut at the same instants (one frame or so of slack)
INDEX_VERSION = 1

Ladder = tuple[tuple[str | None, str | None], ...]  # (resolution, codecs) per rendition, in order


@dataclass(frozen=True)
class Limits:
    max_segments: int = 100_000  # 55 h of 2 s segments
    max_variants: int = 16


@dataclass(frozen=True)
class Rendition:
    """One media playlist: its segments' durations (integer ms) and absolute URIs."""

    uri: str
    target_duration: int
    durations: tuple[int, ...]
    segments: tuple[str, ...]
    discontinuities: tuple[int, ...] = ()  # indices of segments preceded by EXT-X-DISCONTINUITY
    # (length, offset) per segment, the offset always explicit; None for a whole-file segment
    byteranges: tuple[tuple[int, int] | None, ...] | None = None
    maps: tuple[tuple[int, str, tuple[int, int] | None], ...] = ()  # EXT-X-MAP: (first segment, uri, range)
    bandwidth: int | None = None
    average_bandwidth: int | None = None
    codecs: str | None = None
    resolution: str | None = None  # "1280x720"
    frame_rate: float | None = None

    @property
    def duration_ms(self) -> int:
        return sum(self.durations)

    def to_dict(self) -> dict[str, Any]:
        base = _base(self.uri)
        data: dict[str, Any] = {
            "uri": self.uri,
            "target_duration": self.target_duration,
            "base": base,
            # Most segments sit beside their playlist: stored relative to it, a third of the bytes.
            "segments": [_relative(base, uri) for uri in self.segments],
            "durations": list(self.durations),
        }
        if self.discontinuities:
            data["discontinuities"] = list(self.discontinuities)
        if self.byteranges is not None:
            data["byteranges"] = [list(pair) if pair else None for pair in self.byteranges]
        if self.maps:
            data["maps"] = [[first, uri, list(rng) if rng else None] for first, uri, rng in self.maps]
        for name in ("bandwidth", "average_bandwidth", "codecs", "resolution", "frame_rate"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rendition:
        base = data["base"]
        ranges = data.get("byteranges")
        return cls(
            uri=data["uri"],
            target_duration=int(data["target_duration"]),
            durations=tuple(int(d) for d in data["durations"]),
            segments=tuple(_absolute(base, rel) for rel in data["segments"]),
            discontinuities=tuple(data.get("discontinuities", ())),
            byteranges=None
            if ranges is None
            else tuple((int(pair[0]), int(pair[1])) if pair else None for pair in ranges),
            maps=tuple(
                (int(first), uri, (int(rng[0]), int(rng[1])) if rng else None)
                for first, uri, rng in data.get("maps", ())
            ),
            bandwidth=data.get("bandwidth"),
            average_bandwidth=data.get("average_bandwidth"),
            codecs=data.get("codecs"),
            resolution=data.get("resolution"),
            frame_rate=data.get("frame_rate"),
        )


@dataclass(frozen=True)
class MediaIndex:
    """A resolved item: one rendition (a media playlist) or a variant ladder (a multivariant playlist)."""

    uri: str
    renditions: tuple[Rendition, ...]
    multivariant: bool = False

    @property
    def duration_ms(self) -> int:
        return self.renditions[0].duration_ms

    @property
    def ladder(self) -> Ladder:
        """What must match across a channel's items for one multivariant playlist to serve them all."""
        return tuple((r.resolution, r.codecs) for r in self.renditions)

    @property
    def aligned(self) -> bool:
        """Every rendition cut at the same instants: one segment numbering serves them all."""
        first = self.renditions[0].durations
        return all(
            len(r.durations) == len(first)
            and all(abs(a - b) <= ALIGN_TOLERANCE_MS for a, b in zip(r.durations, first, strict=True))
            for r in self.renditions[1:]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": INDEX_VERSION,
            "uri": self.uri,
            "multivariant": self.multivariant,
            "renditions": [r.to_dict() for r in self.renditions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MediaIndex:
        return cls(
            uri=data["uri"],
            renditions=tuple(Rendition.from_dict(r) for r in data["renditions"]),
            multivariant=bool(data.get("multivariant", False)),
        )


@dataclass
class Resolution:
    index: MediaIndex | None  # None: unusable (a blocking finding says why)
    findings: list[Finding] = field(default_factory=list)


# --- resolving -------------------------------------------------------------------------------------------


def resolve(
    uri: str, fetcher: Fetcher, cache: PlaylistCache | None = None, limits: Limits = Limits()
) -> Resolution:
    """Fetch and parse an item's playlist (and a multivariant playlist's variants) into a MediaIndex.

    Each playlist URI is looked up in `cache` first and fetched with If-None-Match its ETag: a 304 reuses
    the cached parse, so a daily refresh downloads nothing that has not changed. Never raises."""
    try:
        return _resolve(uri, fetcher, cache, limits)
    except Exception as error:  # a library surprise on hostile input is a finding, never a failed run
        return Resolution(None, [_finding("malformed", f"cannot be read: {error!r}", uri)])


def _resolve(uri: str, fetcher: Fetcher, cache: PlaylistCache | None, limits: Limits) -> Resolution:
    top = _playlist(uri, fetcher, cache, limits)
    findings = [Finding(**f) for f in top.get("findings", ())]
    if top["kind"] == "failed":
        return Resolution(None, findings)
    if top["kind"] == "media":
        return Resolution(MediaIndex(uri, (Rendition.from_dict(top["rendition"]),)), findings)
    renditions: list[Rendition] = []
    for variant in top["variants"]:
        got = _playlist(variant["uri"], fetcher, cache, limits)
        for f in got.get("findings", ()):
            findings.append(Finding(**{**f, "message": f"variant {variant['uri']}: {f['message']}"}))
        if got["kind"] == "master":
            findings.append(
                _finding("malformed", "a variant is itself a multivariant playlist", variant["uri"])
            )
        if got["kind"] != "media":
            continue
        stream = {k: v for k, v in variant.items() if k != "uri"}
        renditions.append(Rendition.from_dict({**got["rendition"], **stream}))
    if not renditions:
        findings.append(_finding("malformed", "no variant of this multivariant playlist is usable", uri))
        return Resolution(None, findings)
    index = MediaIndex(uri, tuple(renditions), multivariant=True)
    if len(renditions) < len(top["variants"]):
        findings.append(
            _finding("variants_dropped", f"{len(top['variants']) - len(renditions)} variant(s) unusable", uri)
        )
    if not index.aligned:
        findings.append(
            _finding(
                "unaligned_variants",
                "variants are not segmented at the same instants: only the first is played",
                uri,
            )
        )
        index = MediaIndex(uri, (renditions[0],), multivariant=True)
    return Resolution(index, findings)


def _playlist(uri: str, fetcher: Fetcher, cache: PlaylistCache | None, limits: Limits) -> dict[str, Any]:
    """One playlist's parse: {"kind": "media", "rendition"} | {"kind": "master", "variants"} | {"kind":
    "failed"}, each with "findings" (as dicts: the parse is what the cache stores)."""
    if scheme_of(uri) not in MEDIA_SCHEMES:
        return _failed("bad_scheme", "only http, https and s3 playlists are resolved", uri)
    cached = cache.get(uri) if cache is not None else None
    try:
        fetched = fetcher.fetch(uri, cached["etag"] if cached else None)
    except FetchError as error:
        return _failed(error.code, error.message, uri)
    if fetched.body is None and cached is not None:
        value: dict[str, Any] = cached["value"]  # an entry is JSON: its value is the parse stored
        return value
    if fetched.body is None:
        return _failed("unreachable", "304 Not Modified to an unconditional request", uri)
    value = parse(fetched.body, fetched.url, limits)
    if cache is not None and fetched.etag:
        cache.put(uri, {"etag": fetched.etag, "url": fetched.url, "value": value})
    return value


# --- parsing ----------------------------------------------------------------------------------------------


def parse(body: bytes, url: str, limits: Limits = Limits()) -> dict[str, Any]:
    """A playlist's bytes (fetched from `url`, after redirects) as the dict `_playlist` describes."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return _failed("malformed", f"not UTF-8 (RFC 8216 4.1): {error}", url)
    if not text.startswith("#EXTM3U"):
        return _failed("malformed", "not an HLS playlist: the first line is not #EXTM3U", url)
    uri_lines = sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    if uri_lines > limits.max_segments:
        return _failed("too_large", f"{uri_lines} URIs, more than {limits.max_segments}", url)
    import m3u8  # here, not at the top: the live route and the API load this module but never parse

    try:
        playlist = m3u8.loads(text)
    except Exception as error:
        return _failed("malformed", f"the HLS parser refused it: {error}", url)
    if playlist.is_variant:
        return _master(playlist, url, limits)
    return _media(playlist, url, uri_lines)


def _master(playlist: m3u8.M3U8, url: str, limits: Limits) -> dict[str, Any]:
    findings: list[dict[str, Any]] = []
    variants: list[dict[str, Any]] = []
    for entry in playlist.playlists:
        uri = resolve_uri(url, entry.uri)
        if scheme_of(uri) not in MEDIA_SCHEMES:
            return _failed("bad_scheme", f"variant {uri[:200]}: only http, https and s3", url)
        info = entry.stream_info
        resolution = f"{info.resolution[0]}x{info.resolution[1]}" if info.resolution else None
        variants.append(
            {
                "uri": uri,
                "bandwidth": info.bandwidth,
                "average_bandwidth": info.average_bandwidth,
                "codecs": info.codecs,
                "resolution": resolution,
                "frame_rate": info.frame_rate,
            }
        )
    if not variants:
        return _failed("malformed", "a multivariant playlist with no EXT-X-STREAM-INF variant", url)
    if len(variants) > limits.max_variants:
        findings.append(
            _finding(
                "variants_dropped", f"{len(variants)} variants: the first {limits.max_variants} kept", url
            ).to_dict()
        )
        variants = variants[: limits.max_variants]
    if any(media.uri for media in playlist.media):
        findings.append(
            _finding(
                "alternate_renditions",
                "EXT-X-MEDIA renditions with their own URI (separate audio, subtitles) are not carried "
                "into the live channel: the variants play with the media they carry themselves",
                url,
            ).to_dict()
        )
    return {"kind": "master", "variants": variants, "findings": findings}


def _media(playlist: m3u8.M3U8, url: str, uri_lines: int) -> dict[str, Any]:
    segments = playlist.segments
    if uri_lines > len(segments):
        # m3u8 drops a URI line with no EXTINF before it (its state machine never expected a segment).
        return _failed("missing_duration", f"{uri_lines - len(segments)} segment(s) without #EXTINF", url)
    if not segments:
        return _failed("malformed", "a media playlist with no segment", url)
    if playlist.is_i_frames_only:
        return _failed("malformed", "an I-frame playlist is not a programme", url)
    if not playlist.is_endlist:
        return _failed("not_vod", "no EXT-X-ENDLIST: a live or event playlist cannot be scheduled", url)
    durations: list[int] = []
    uris: list[str] = []
    discontinuities: list[int] = []
    ranges: list[tuple[int, int] | None] = []
    maps: list[tuple[int, str, tuple[int, int] | None]] = []
    ranges_seen = False
    range_end: dict[str, int] = {}
    for number, segment in enumerate(segments):
        seconds = segment.duration
        if seconds is None or not math.isfinite(seconds) or round(seconds * 1000) < 1:
            return _failed("missing_duration", f"segment {number} has no usable duration ({seconds})", url)
        if segment.key is not None and (segment.key.method or "NONE").upper() != "NONE":
            return _failed("encrypted", f"segment {number} is encrypted ({segment.key.method})", url)
        uri = resolve_uri(url, segment.uri)
        if scheme_of(uri) not in MEDIA_SCHEMES:
            return _failed("bad_scheme", f"segment {number}: {uri[:200]}: only http, https and s3", url)
        durations.append(round(seconds * 1000))
        uris.append(uri)
        if segment.discontinuity and number:
            discontinuities.append(number)
        try:
            rng = _byterange(segment.byterange, uri, range_end)
        except ValueError:
            return _failed("malformed", f"segment {number}: bad EXT-X-BYTERANGE {segment.byterange}", url)
        ranges_seen |= rng is not None
        ranges.append(rng)
        init = segment.init_section
        if init is not None:
            init_uri = resolve_uri(url, init.uri)
            if scheme_of(init_uri) not in MEDIA_SCHEMES:
                return _failed("bad_scheme", f"EXT-X-MAP {init_uri[:200]}: only http, https and s3", url)
            try:
                init_range = _byterange(init.byterange, init_uri, {})
            except ValueError:
                return _failed("malformed", f"bad EXT-X-MAP BYTERANGE {init.byterange}", url)
            current = (init_uri, init_range)
            if not maps or maps[-1][1:] != current:
                maps.append((number, init_uri, init_range))
    target = max(int(playlist.target_duration or 0), max(_rounded_seconds(d) for d in durations))
    rendition = Rendition(
        uri=url,
        target_duration=target,
        durations=tuple(durations),
        segments=tuple(uris),
        discontinuities=tuple(discontinuities),
        byteranges=tuple(ranges) if ranges_seen else None,
        maps=tuple(maps),
    )
    return {"kind": "media", "rendition": rendition.to_dict(), "findings": []}


def _byterange(text: str | None, uri: str, ends: dict[str, int]) -> tuple[int, int] | None:
    """ "len[@offset]" as (length, offset), the offset made explicit (RFC 8216 4.3.2.2: without one, the
    range follows the previous one of the same resource). ValueError when it cannot be read."""
    if not text:
        return None
    length_text, _, offset_text = text.partition("@")
    length = int(length_text)
    offset = int(offset_text) if offset_text else ends.get(uri)
    if offset is None or length < 1 or offset < 0:
        raise ValueError(text)
    ends[uri] = offset + length
    return (length, offset)


def _rounded_seconds(ms: int) -> int:
    """EXTINF rounded to the nearest integer, as EXT-X-TARGETDURATION must bound (RFC 8216 4.3.3.1)."""
    return (ms + 500) // 1000


# --- checks across items ---------------------------------------------------------------------------------


def check_duration(index: MediaIndex, seconds: float, item_id: str | None = None) -> Finding | None:
    """duration_mismatch: the segments sum to more than a second away from the item's duration."""
    difference = index.duration_ms - round(seconds * 1000)
    if abs(difference) <= DURATION_TOLERANCE_MS:
        return None
    who = f"item {item_id}: " if item_id else ""
    return _finding(
        "duration_mismatch",
        f"{who}segments sum to {index.duration_ms / 1000:.3f} s, the item says {seconds:.3f} s",
        index.uri,
    )


def ladder_mismatch(indexes: Iterable[MediaIndex]) -> tuple[Ladder | None, list[Finding]]:
    """The ladder every one of a channel's media shares, or None and a ladder_mismatch finding per media
    whose ladder differs from the most common one (then the channel plays one rendition, each media's
    first variant). None and no finding when no media has more than one rendition."""
    media = list(indexes)
    if all(len(m.renditions) == 1 for m in media):
        return None, []  # one rendition each: nothing to mismatch, the channel plays one rendition
    counts = Counter(m.ladder for m in media)
    common, _ = counts.most_common(1)[0]
    if len(counts) == 1:
        return common, []
    return None, [
        _finding(
            "ladder_mismatch",
            f"variant ladder {_describe(m.ladder)} differs from the channel's {_describe(common)}: "
            "the channel plays one rendition",
            m.uri,
        )
        for m in media
        if m.ladder != common
    ]


def _describe(ladder: Ladder) -> str:
    return "[" + ", ".join(f"{res or '?'} {codecs or '?'}" for res, codecs in ladder) + "]"


# --- URIs -----------------------------------------------------------------------------------------------


def is_hls(uri: str) -> bool:
    """An item URI the run resolves: http(s) or s3, its path ending in .m3u8 (whatever the query)."""
    parts = urlsplit(uri.strip())
    return parts.scheme.lower() in MEDIA_SCHEMES and parts.path.lower().endswith(".m3u8")


def library_key(uri: str, bucket: str, prefix: str) -> str | None:
    """The key an s3:// URI names when it is an object of `bucket` under `prefix`, else None.

    Taken literally, as the AWS CLI reads s3:// URIs (no percent-decoding); no query, fragment, port or
    user, no empty, `.` or `..` segment (S3 would not normalise them, but a player or a proxy might)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in uri):  # before urlsplit, which drops tabs and newlines
        return None
    parts = urlsplit(uri)
    if parts.scheme.lower() != "s3" or parts.netloc != bucket or parts.query or parts.fragment:
        return None
    key = parts.path[1:]
    segments = key.split("/")
    if not key.startswith(prefix) or any(s in ("", ".", "..") for s in segments) or "\\" in key:
        return None
    return key


def uris_of(index: MediaIndex) -> Iterable[str]:
    """Every URI a media index holds: its playlists, their segments and initialization sections."""
    yield index.uri
    for rendition in index.renditions:
        yield rendition.uri
        yield from rendition.segments
        for _, uri, _ in rendition.maps:
            yield uri


def outside_library(index: MediaIndex, bucket: str, prefix: str) -> Finding | None:
    """blocked_key: an s3:// URI of the index that is not a library object. The feed function presigns
    GETs of the s3 segments a playlist names: anything else of the bucket must never be among them."""
    for uri in uris_of(index):
        if scheme_of(uri) == "s3" and library_key(uri, bucket, prefix) is None:
            return _finding(
                "blocked_key",
                f"{uri[:200]}: s3 media must be objects of this stack's bucket ({bucket}) under {prefix}",
                index.uri,
            )
    return None


def resolve_uri(base: str, reference: str) -> str:
    """RFC 3986 resolution; also for s3:// bases, which urllib.parse.urljoin leaves unjoined (its schemes
    with relative references are a fixed list)."""
    reference = reference.strip()
    if scheme_of(base) == "s3" and not scheme_of(reference):
        return "s3" + urljoin("https" + base[2:], reference)[5:]
    return urljoin(base, reference)


def _base(uri: str) -> str:
    return uri[: uri.rfind("/") + 1] if "/" in uri else ""


def _relative(base: str, uri: str) -> str:
    # Only a plain file name beside the playlist is shortened: "a/b.ts" or "?q" stay absolute, so that
    # _absolute is a concatenation and never a re-resolution.
    if base and uri.startswith(base):
        rest = uri[len(base) :]
        if rest and "/" not in rest and ":" not in rest:
            return rest
    return uri


def _absolute(base: str, stored: str) -> str:
    return stored if ":" in stored else base + stored


def _finding(code: str, message: str, uri: str) -> Finding:
    return Finding(code=code, message=message, path=uri[:500])


def _failed(code: str, message: str, uri: str) -> dict[str, Any]:
    return {"kind": "failed", "findings": [_finding(code, message, uri).to_dict()]}

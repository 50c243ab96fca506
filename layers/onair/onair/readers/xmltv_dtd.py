"""XMLTV content models and attributes, written by hand from xmltv.dtd (the GPL DTD itself is not shipped).

The importer checks documents against these tables; the guide writer puts elements back in this order.
tests/unit/test_xmltv.py cross-checks them with ../shared/reference/xmltv.dtd.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from lxml import etree

# A sequence is (child, min, max) in DTD order; max None = unbounded. Every content model in the DTD is a
# sequence of distinct names, so order can be checked greedily.
Sequence = tuple[tuple[str, int, int | None], ...]
# fmt: off
SEQUENCES: dict[str, Sequence] = {
    "tv": (("channel", 0, None), ("programme", 0, None)),
    "channel": (("display-name", 1, None), ("icon", 0, None), ("url", 0, None)),
    "programme": (
        ("title", 1, None), ("sub-title", 0, None), ("desc", 0, None), ("credits", 0, 1),
        ("date", 0, 1), ("category", 0, None), ("keyword", 0, None), ("language", 0, 1),
        ("orig-language", 0, 1), ("length", 0, 1), ("icon", 0, None), ("url", 0, None),
        ("country", 0, None), ("episode-num", 0, None), ("video", 0, 1), ("audio", 0, 1),
        ("previously-shown", 0, 1), ("premiere", 0, 1), ("last-chance", 0, 1), ("new", 0, 1),
        ("subtitles", 0, None), ("rating", 0, None), ("star-rating", 0, None), ("review", 0, None),
        ("image", 0, None),
    ),
    "credits": tuple(
        (name, 0, None)
        for name in ("director", "actor", "writer", "adapter", "producer", "composer", "editor",
                     "presenter", "commentator", "guest")
    ),
    "video": (("present", 0, 1), ("colour", 0, 1), ("aspect", 0, 1), ("quality", 0, 1)),
    "audio": (("present", 0, 1), ("stereo", 0, 1)),
    "subtitles": (("language", 0, 1),),
    "rating": (("value", 1, 1), ("icon", 0, None)),
    "star-rating": (("value", 1, 1), ("icon", 0, None)),
}
# fmt: on
# fmt: off
TEXT = frozenset({
    "display-name", "url", "title", "sub-title", "desc", "date", "category", "keyword", "language",
    "orig-language", "length", "country", "episode-num", "present", "colour", "aspect", "quality", "stereo",
    "premiere", "last-chance", "value", "review", "image",
})
# fmt: on
MIXED = frozenset(entry[0] for entry in SEQUENCES["credits"])  # each is (#PCDATA | image | url)*
MIXED_CHILDREN = frozenset({"image", "url"})
EMPTY = frozenset({"icon", "previously-shown", "new"})
POSITIONS = {
    name: {entry[0]: index for index, entry in enumerate(model)} for name, model in SEQUENCES.items()
}
ALLOWED_CHILDREN = {
    **{name: frozenset(positions) for name, positions in POSITIONS.items()},
    **dict.fromkeys(MIXED, MIXED_CHILDREN),
}


@dataclass(frozen=True)
class Attribute:
    required: bool = False
    values: frozenset[str] | None = None  # an enumeration, else CDATA


CDATA, REQUIRED = Attribute(), Attribute(required=True)
LANG = {"lang": CDATA}
# fmt: off
ATTRIBUTES: dict[str, dict[str, Attribute]] = {
    "tv": dict.fromkeys(
        ("date", "source-info-url", "source-info-name", "source-data-url", "generator-info-name",
         "generator-info-url"),
        CDATA,
    ),
    "channel": {"id": REQUIRED},
    "icon": {"src": REQUIRED, "width": CDATA, "height": CDATA},
    "url": {"system": CDATA},
    "programme": {
        "start": REQUIRED, "stop": CDATA, "pdc-start": CDATA, "vps-start": CDATA, "showview": CDATA,
        "videoplus": CDATA, "channel": REQUIRED, "clumpidx": CDATA,
    },
    "actor": {"role": CDATA, "guest": Attribute(values=frozenset({"no", "yes"}))},
    "length": {"units": Attribute(required=True, values=frozenset({"seconds", "minutes", "hours"}))},
    "episode-num": {"system": CDATA},
    "previously-shown": {"start": CDATA, "channel": CDATA},
    "subtitles": {"type": Attribute(values=frozenset({"teletext", "onscreen", "deaf-signed"}))},
    "rating": {"system": CDATA},
    "star-rating": {"system": CDATA},
    "review": {
        "type": Attribute(required=True, values=frozenset({"text", "url"})),
        "source": CDATA, "reviewer": CDATA, "lang": CDATA,
    },
    "image": {
        "type": Attribute(values=frozenset({"poster", "backdrop", "still", "person", "character"})),
        "size": Attribute(values=frozenset({"1", "2", "3"})),
        "orient": Attribute(values=frozenset({"P", "L"})),
        "system": CDATA,
    },
    **{
        name: LANG
        for name in ("display-name", "title", "sub-title", "desc", "category", "keyword", "language",
                     "orig-language", "country", "premiere", "last-chance")
    },
}
# fmt: on


def dtd_text() -> str:
    """These tables as a DTD, for libxml2's validator: ours, generated, so no copy of the GPL DTD ships."""
    declarations = []
    for name in sorted(set(SEQUENCES) | MIXED | EMPTY | TEXT):
        if name in SEQUENCES:
            quantifiers = {(1, 1): "", (0, 1): "?", (1, None): "+", (0, None): "*"}
            model = (
                "(" + ", ".join(child + quantifiers[low, high] for child, low, high in SEQUENCES[name]) + ")"
            )
        elif name in MIXED:
            model = "(#PCDATA | " + " | ".join(sorted(MIXED_CHILDREN)) + ")*"
        else:
            model = "EMPTY" if name in EMPTY else "(#PCDATA)"
        declarations.append(f"<!ELEMENT {name} {model}>")
        attributes = [
            f"{attribute} {'(' + '|'.join(sorted(spec.values)) + ')' if spec.values else 'CDATA'}"
            f" {'#REQUIRED' if spec.required else '#IMPLIED'}"
            for attribute, spec in ATTRIBUTES.get(name, {}).items()
        ]
        if attributes:
            declarations.append(f"<!ATTLIST {name} {' '.join(attributes)}>")
    return "\n".join(declarations) + "\n"


_validators = threading.local()  # lxml validators must not be shared between threads


def is_valid(element: etree._Element) -> bool:
    """Whether the element and its subtree follow these tables, checked by libxml2 in C: the fast path.
    Only an element that fails is walked in Python, to say precisely what is wrong."""
    validator = getattr(_validators, "dtd", None)
    if validator is None:
        validator = _validators.dtd = etree.DTD(io.StringIO(dtd_text()))
    return bool(validator.validate(element))

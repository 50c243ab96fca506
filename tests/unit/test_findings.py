"""Both readers list findings alike (onair.readers.findings): at most MAX_FINDINGS of each kind, a
rejection's message with the total, and a last `truncated` warning with the warnings' total."""

from __future__ import annotations

import pytest

from onair.errors import InvalidSchedule
from onair.readers.findings import MAX_FINDINGS
from onair.readers.schedule import parse_schedule

MANY = MAX_FINDINGS + 50
UNUSED_ITEMS = "".join(f'<item id="i{n}" title="T" duration="PT3M"/>' for n in range(MANY))
ONAIR = f"""<schedule xmlns="urn:onair:schedule:1" timezone="Europe/Paris">
<channels><channel id="c" name="C"/></channels>
<library><item id="a" title="A" duration="PT3M"/>{UNUSED_ITEMS}</library>
<pools><pool id="p" order="sequential"><item ref="a"/></pool></pools>
<blocks><block channel="c" days="mon tue wed thu fri sat sun" start="00:00" end="24:00" pool="p"/></blocks>
</schedule>""".encode()
STOPLESS = "".join(
    f'<programme start="202612011{n // 60:01}{n % 60:02}00 +0000" channel="a.example"><title>P</title></programme>'
    for n in range(MANY)
)
XMLTV = f'<tv><channel id="a.example"><display-name>A</display-name></channel>{STOPLESS}</tv>'.encode()


@pytest.mark.parametrize(
    ("document", "root", "name"),
    [(ONAIR, "/schedule", "the OnAir schedule"), (XMLTV, "/tv", "the XMLTV listing")],
    ids=["onair", "xmltv"],
)
def test_findings_past_the_cap_are_counted_in_both_formats(document, root, name):
    # Given a document with MANY warnings (OnAir: unused items; XMLTV: programmes without a stop)
    warnings = parse_schedule(document, max_bytes=10**7).warnings
    # Then MAX_FINDINGS are listed, then one `truncated` with the total
    assert len(warnings) == MAX_FINDINGS + 1
    assert (warnings[-1].code, warnings[-1].path) == ("truncated", root)
    assert f"of {MANY} warnings" in warnings[-1].message
    # And in strict mode the rejection lists MAX_FINDINGS errors and says how many there were
    with pytest.raises(InvalidSchedule) as raised:
        parse_schedule(document, max_bytes=10**7, strict=True)
    assert len(raised.value.details) == MAX_FINDINGS
    assert raised.value.message.startswith(f"{name} has {MANY} error(s); the first {MAX_FINDINGS} are listed")

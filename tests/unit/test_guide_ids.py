"""Guide channel ids: every OnAir channel is published in guide.xml and channels.m3u under an id of
XMLTV's name.domain form (tv_validate_file refuses others: "Invalid channel-id"), the same one in both,
stable (it depends on the channel's id alone) and different for different channels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onair.models import XMLTV_CHANNEL_ID, guide_id


@pytest.mark.parametrize(
    ("channel_id", "published"),
    [
        ("radio1", "radio1.onair"),  # letters, digits, hyphens: .onair added
        ("retro-tv", "retro-tv.onair"),
        ("bbc1.bbc.co.uk", "bbc1.bbc.co.uk"),  # already name.domain: kept
        ("radio_1", "radio-1.d8b494857733.onair"),  # anything else: readable part, hash, .onair
        ("a.onair", "a-onair.1318958aad6c.onair"),  # .onair is reserved for the forms above
    ],
)
def test_a_channel_id_is_published_as_a_name_domain_id(channel_id, published):
    assert guide_id(channel_id) == published
    assert XMLTV_CHANNEL_ID.match(published)


IDS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=200)


@given(IDS)
def test_every_channel_id_gives_an_id_tv_validate_file_accepts(channel_id):
    assert XMLTV_CHANNEL_ID.match(guide_id(channel_id)), guide_id(channel_id)


@given(
    st.lists(
        st.one_of(IDS, st.from_regex(r"[-a-z0-9]{1,8}(\.[-a-z0-9]{1,8}){0,2}(\.onair)?", fullmatch=True)),
        min_size=2,
        max_size=20,
        unique=True,
    )
)
def test_different_channel_ids_give_different_guide_ids(channel_ids):
    # Given ids of every form, .onair ones included (a kept id never ends in .onair, a plain one gains one
    # dot, a hashed one two): the guide ids of different channels differ
    published = [guide_id(channel_id) for channel_id in channel_ids]
    assert len(set(published)) == len(published)
    # And case aside too (Jellyfin matches guide channels to its channels ignoring case)
    folded = {channel_id.lower() for channel_id in channel_ids}
    if len(folded) == len(channel_ids):
        assert len({p.lower() for p in published}) == len(published)

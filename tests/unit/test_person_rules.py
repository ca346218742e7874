"""The pure rules of sign-in: password hashes, invitation expiry, the sign-in rate limit."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.person import hash_password, invitation_refusal, password_matches
from duban.app.people import RateLimit, shape_id

T0 = dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC)


@settings(max_examples=10, deadline=None)  # scrypt is slow on purpose
@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_a_password_matches_only_itself_and_is_never_stored_in_clear(a: str, b: str) -> None:
    stored = hash_password(a)
    assert password_matches(a, stored)
    assert password_matches(b, stored) == (a == b)
    assert set(stored) == {"scheme", "salt", "hash", "n", "r", "p"}  # no clear text kept
    assert hash_password(a)["hash"] != stored["hash"]  # salted: two hashes differ


@given(st.integers(min_value=-10_000, max_value=10_000), st.booleans())
def test_an_invitation_works_until_it_expires_and_only_once(minutes: int, used: bool) -> None:
    now = T0 + dt.timedelta(minutes=minutes)
    refusal = invitation_refusal(T0, used, now)
    assert (refusal is None) == (not used and now < T0)
    if refusal is not None:
        assert ("已使用过" if used else "已过期") in refusal


@given(
    st.integers(min_value=1, max_value=8),
    st.lists(st.integers(min_value=0, max_value=120), max_size=30),
    st.integers(min_value=0, max_value=200),
)
def test_the_rate_limit_counts_failures_within_the_window(
    attempts: int, failures: list[int], probe: int
) -> None:
    limit = RateLimit(attempts, dt.timedelta(minutes=15))
    moments = sorted(T0 + dt.timedelta(minutes=m) for m in failures)
    for moment in moments:
        limit.failed("13800000001|1.2.3.4", moment)
    now = max([*moments, T0]) + dt.timedelta(minutes=probe)
    recent = [m for m in moments if m > now - dt.timedelta(minutes=15)]
    assert limit.allowed("13800000001|1.2.3.4", now) == (len(recent) < attempts)
    assert limit.allowed("13800000001|5.6.7.8", now)  # per login and address


def test_shapes_of_links_and_cookies() -> None:
    assert shape_id("dbs", "dbs_0123456789ab_" + "x" * 43) == "0123456789ab"
    assert shape_id("dbs", "dbi_0123456789ab_" + "x" * 43) is None
    assert shape_id("dbs", None) is None

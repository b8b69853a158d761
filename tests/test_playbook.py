"""The Playbook value: validation naming the field, the default as data, deadlines, periods."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import keepword
from keepword import BusinessCalendar, InvalidArgumentError, KeepwordError, within
from keepword.playbook import (
    DEFAULT_PLAYBOOK,
    CareRule,
    Playbook,
    business_days_before,
    period_key,
)

UTC = dt.UTC
WEEKDAYS = BusinessCalendar(tz="UTC", hours="Mon-Fri 09:00-17:00")
US = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")


def test_exported_from_keepword() -> None:
    assert keepword.Playbook is Playbook
    assert keepword.DEFAULT_PLAYBOOK is DEFAULT_PLAYBOOK
    assert keepword.CareRule is CareRule


@pytest.mark.parametrize(
    ("fields", "argument"),
    [
        ({"thank_you_target": -1}, "thank_you_target"),
        ({"thank_you_target": 2.5}, "thank_you_target"),
        ({"thank_you_target": True}, "thank_you_target"),
        ({"thank_you_spacing": 30}, "thank_you_spacing"),
        ({"thank_you_spacing": "30 days"}, "thank_you_spacing"),
        ({"thank_you_spacing": dt.timedelta(days=-1)}, "thank_you_spacing"),
        ({"name": ""}, "name"),
        ({"version": 0}, "version"),
        ({"response_targets": {"email": 4}}, "response_targets"),
        ({"response_targets": {"": within(hours=1)}}, "response_targets"),
        ({"response_targets": [("email", within(hours=1))]}, "response_targets"),
        ({"default_response": dt.timedelta(hours=1)}, "default_response"),
        ({"channels": "email"}, "channels"),
        ({"channels": []}, "channels"),
        ({"channels": ["email", ""]}, "channels"),
        ({"occasions": {"": ()}}, "occasions"),
        ({"occasions": {"sale": "call them"}}, "occasions['sale']"),
        ({"occasions": {"sale": [object()]}}, "occasions['sale']"),
        ({"occasions": []}, "occasions"),
        ({"default_owner": ""}, "default_owner"),
        ({"reply_what": "  "}, "reply_what"),
        ({"quiet": {"complaint": ""}}, "quiet"),
        ({"quiet_kinds": "thank_you"}, "quiet_kinds"),
        ({"waiting_reasons": "waiting"}, "waiting_reasons"),
        ({"waiting_reasons": [""]}, "waiting_reasons"),
        ({"cancel_follow_ups_on_message": 1}, "cancel_follow_ups_on_message"),
        ({"longest_silence": 90}, "longest_silence"),
        ({"longest_silence": dt.timedelta(0)}, "longest_silence"),
        ({"keep_in_touch": "call"}, "keep_in_touch"),
        ({"extra_mile": CareRule(kind="gift", what="x", before=3)}, "extra_mile"),
    ],
)
def test_bad_playbook_names_the_field(fields: dict[str, Any], argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        Playbook(**fields)
    assert info.value.argument == argument


@pytest.mark.parametrize(
    ("fields", "argument"),
    [
        ({"kind": "", "what": "x", "due": within(days=1)}, "kind"),
        ({"kind": "k", "what": "", "due": within(days=1)}, "what"),
        ({"kind": "k", "what": "x"}, "due"),
        ({"kind": "k", "what": "x", "due": within(days=1), "before": 3}, "due"),
        ({"kind": "k", "what": "x", "due": dt.timedelta(days=1)}, "due"),
        ({"kind": "k", "what": "x", "before": -1}, "before"),
        ({"kind": "k", "what": "x", "before": 2.0}, "before"),
        ({"kind": "k", "what": "x", "before": True}, "before"),
        ({"kind": "k", "what": "x", "due": within(days=1), "owner": ""}, "owner"),
        ({"kind": "k", "what": "x", "due": within(days=1), "policy": ""}, "policy"),
        ({"kind": "k", "what": "x", "due": within(days=1), "channel": 3}, "channel"),
    ],
)
def test_bad_rule_names_the_field(fields: dict[str, Any], argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        CareRule(**fields)
    assert info.value.argument == argument


def test_playbook_is_frozen_and_its_mappings_read_only() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        DEFAULT_PLAYBOOK.thank_you_target = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        DEFAULT_PLAYBOOK.occasions["sale"] = ()  # type: ignore[index]
    edited = attrs.evolve(DEFAULT_PLAYBOOK, thank_you_target=3)
    assert edited.thank_you_target == 3
    assert DEFAULT_PLAYBOOK.thank_you_target == 7
    assert hash(edited) != hash(DEFAULT_PLAYBOOK) or edited != DEFAULT_PLAYBOOK
    assert edited.fingerprint != DEFAULT_PLAYBOOK.fingerprint


def test_default_playbook_knows_the_issue_occasions() -> None:
    for occasion in (
        "first_contact",
        "first_purchase",
        "sale",
        "delivered",
        "referral",
        "renewal",
        "renewal_due",
        "complaint",
        "complaint_resolved",
        "public_praise",
        "maintenance_contract",
    ):
        assert DEFAULT_PLAYBOOK.rules_for(occasion) is not None
    assert DEFAULT_PLAYBOOK.thank_you_target == 7
    assert DEFAULT_PLAYBOOK.response_target("email") == within(business_hours=4)
    assert DEFAULT_PLAYBOOK.longest_silence == dt.timedelta(days=90)
    assert DEFAULT_PLAYBOOK.quiet == {"complaint": "complaint_resolved"}


def test_unknown_occasion_is_a_clear_error() -> None:
    with pytest.raises(KeepwordError) as info:
        DEFAULT_PLAYBOOK.rules_for("birthday")
    assert info.value.argument == "occasion"
    assert "birthday" in str(info.value)


def test_host_defined_occasion() -> None:
    book = attrs.evolve(
        DEFAULT_PLAYBOOK,
        occasions={
            **DEFAULT_PLAYBOOK.occasions,
            "birthday": CareRule(kind="thank_you", what="Send a card", due=within(days=0)),
        },
    )
    assert [r.kind for r in book.rules_for("birthday")] == ["thank_you"]


def test_channel_restriction() -> None:
    book = Playbook(channels={"email", "phone"}, response_targets={"email": within(hours=1)})
    assert book.response_target("email") == within(hours=1)
    assert book.response_target("phone") == within(business_days=1)  # the default response
    with pytest.raises(InvalidArgumentError) as info:
        book.response_target("fax")
    assert info.value.argument == "channel"
    strict = Playbook(response_targets={"email": within(hours=1)}, default_response=None)
    with pytest.raises(InvalidArgumentError, match="no response target"):
        strict.response_target("chat")


def test_owner_rules() -> None:
    fixed = CareRule(kind="k", what="x", due=within(days=1), owner="bob")
    assert fixed.owner_for("acct-1", "sale", "care") == "bob"
    by_customer = CareRule(kind="k", what="x", due=within(days=1), owner=lambda c, o: f"am-{c}")
    assert by_customer.owner_for("acct-1", "sale", "care") == "am-acct-1"
    default = CareRule(kind="k", what="x", due=within(days=1))
    assert default.owner_for("acct-1", "sale", "care") == "care"
    broken = CareRule(kind="k", what="x", due=within(days=1), owner=lambda c, o: "")
    with pytest.raises(InvalidArgumentError) as info:
        broken.owner_for("acct-1", "sale", "care")
    assert info.value.argument == "owner"
    assert by_customer.to_dict()["owner"].startswith("<")


def test_documented_table_matches_the_default_playbook() -> None:
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "customer-care.md"
    text = page.read_text()
    for occasion, kind, what, deadline, channel in DEFAULT_PLAYBOOK.table():
        row = f"| {occasion} | {kind} | {what} | {deadline} | {channel} |"
        assert row in text, row
    for channel, spec in DEFAULT_PLAYBOOK.response_targets.items():
        assert f"| {channel} | {spec} |" in text


# --------------------------------------------------------------------------- deadlines


def test_response_target_from_next_opening() -> None:
    # Saturday 10:00, 4 business hours on Mon-Fri 09-17: Monday 13:00
    saturday = dt.datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert WEEKDAYS.resolve(saturday, within(business_hours=4)) == dt.datetime(
        2026, 12, 7, 13, tzinfo=UTC
    )


def test_before_rule_counts_backwards_over_holidays() -> None:
    rule = CareRule(kind="renewal", what="Remind", before=3)
    # Mon 30 Nov 2026 in New York: 3 business days back skip Thanksgiving (Thu 26 Nov)
    due = rule.deadline(dt.datetime(2026, 11, 2, tzinfo=UTC), dt.date(2026, 11, 30), US)
    assert due.astimezone(US.zone).date() == dt.date(2026, 11, 24)
    assert due.astimezone(US.zone).hour == 17
    with pytest.raises(InvalidArgumentError) as info:
        rule.deadline(dt.datetime(2026, 11, 2, tzinfo=UTC), None, US)
    assert info.value.argument == "on"


@given(
    st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)),
    st.integers(min_value=0, max_value=60),
)
def test_business_days_before_property(on: dt.date, days: int) -> None:
    due = business_days_before(US, on, days)
    local = due.astimezone(US.zone)
    assert US.is_business_day(local.date())
    assert local.date() <= on
    if days > 0:
        assert local.date() < on
        between = sum(
            US.is_business_day(local.date() + dt.timedelta(days=i))
            for i in range(1, (on - local.date()).days)
        )
        assert between == days - 1  # exactly days-1 business days strictly in between
    assert not US.is_open(due)  # the close of that day


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_period_keys(naive: dt.datetime) -> None:
    at = naive.replace(tzinfo=UTC)
    assert period_key("month", at, WEEKDAYS) == f"{at.year:04d}-{at.month:02d}"
    assert period_key("year", at, WEEKDAYS) == f"{at.year:04d}"
    assert period_key("quarter", at, WEEKDAYS).endswith(f"Q{(at.month - 1) // 3 + 1}")
    year, week, _ = at.isocalendar()
    assert period_key("week", at, WEEKDAYS) == f"{year:04d}-W{week:02d}"


def test_period_in_the_calendar_zone_and_unknown_period() -> None:
    late = dt.datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert period_key("year", late, BusinessCalendar(tz="Asia/Tokyo")) == "2027"
    with pytest.raises(InvalidArgumentError) as info:
        period_key("fortnight", late, WEEKDAYS)
    assert info.value.argument == "period"


@given(
    st.lists(st.sampled_from(["complaint", "complaint_resolved", "sale"]), max_size=12),
)
def test_quiet_follows_the_latest_of_open_and_close(occasions: list[str]) -> None:
    relevant = [o for o in occasions if o != "sale"]
    expected = "complaint" if relevant and relevant[-1] == "complaint" else None
    assert DEFAULT_PLAYBOOK.is_quiet(occasions) == expected


@given(
    st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2099, 1, 1)),
    st.integers(min_value=0, max_value=400),
)
def test_spacing_timedelta_and_within(naive: dt.datetime, days: int) -> None:
    last = naive.replace(tzinfo=UTC)
    book = Playbook(thank_you_spacing=dt.timedelta(days=days))
    assert book.next_thanks_at(last, WEEKDAYS) == last + dt.timedelta(days=days)
    assert book.next_thanks_at(None, WEEKDAYS) is None
    business = Playbook(thank_you_spacing=within(business_days=min(days, 60)))
    nxt = business.next_thanks_at(last, WEEKDAYS)
    assert nxt is not None
    assert nxt >= last

"""keepword.config: the TOML file an operator writes, read and checked, errors naming the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from keepword import BusinessCalendar, FrozenClock, MemoryStore, within
from keepword.cli import main
from keepword.config import DEFAULT_CALENDAR, ConfigError, load_config, parse_config

FULL = """
default_calendar = "ny"

[database]
url = "sqlite://"
table_prefix = "kw_"
tenant = "acme"

[calendars.sthlm]
tz = "Europe/Stockholm"
hours = "Mon-Fri 08:00-16:00"
country = "SE"

[calendars.ny]
tz = "America/New_York"
hours = "Mon-Fri 09:00-17:00; Sat 10:00-14:00"
country = "US"
subdivision = "NY"
holidays = { 2026-12-24 = "Christmas Eve" }
closures = [2026-12-31, [2027-01-04, 2027-01-05]]
special_hours = { 2026-11-27 = "09:00-13:00" }

[customers]
tiers = { acct-1 = "gold" }
calendars = { acct-2 = "sthlm" }

[[policies]]
name = "gold-replies"
kinds = ["reply"]
tiers = ["gold"]
[[policies.steps]]
elapsed = 0.5
business = true
notify = "owner"
[[policies.steps]]
after_due = "business_hours=4"
notify = "support-lead"
action = "reassign"
every = "business_hours=4"
times = 2
name = "stale-reply"

[[policies]]
name = "default"
[[policies.steps]]
before_due = "hours=1"
notify = "owner"
quiet = true
[[policies.steps]]
at_due = true
notify = "manager"
"""


def test_a_full_config_resolves_every_section() -> None:
    config = parse_config(FULL)
    assert config.default_calendar == "ny"
    assert config.calendar.tz == "America/New_York"
    assert config.calendar.subdiv == "NY"
    assert config.calendar.holidays == ((dt.date(2026, 12, 24), "Christmas Eve"),)
    assert config.calendar.closures == (
        (dt.date(2026, 12, 31), dt.date(2026, 12, 31)),
        (dt.date(2027, 1, 4), dt.date(2027, 1, 5)),
    )
    assert config.url == "sqlite://"
    assert config.table_prefix == "kw_"
    assert config.tenant == "acme"
    assert config.policies is not None
    gold, default = config.policies.policies
    assert gold.match.tiers == frozenset({"gold"})
    assert [s.label for s in gold.steps] == ["elapsed(0.5, business=True) -> owner", "stale-reply"]
    assert gold.steps[1].times == 2
    assert default.steps[0].quiet


def test_the_tracker_uses_the_calendars_tiers_and_policies() -> None:
    config = parse_config(FULL)
    clock = FrozenClock(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))
    tracker = config.tracker(MemoryStore(), clock=clock)
    assert tracker.tenant == "acme"
    gold = tracker.promise(
        customer="acct-1", owner="al", kind="reply", what="Reply", due=within(hours=2)
    )
    other = tracker.promise(
        customer="acct-2", owner="al", kind="reply", what="Reply", due=within(hours=2)
    )
    assert gold.policy is not None
    assert gold.policy.name == "gold-replies"
    assert other.policy is not None
    assert other.policy.name == "default"
    assert gold.calendar.tz == "America/New_York"
    assert other.calendar.tz == "Europe/Stockholm"


def test_an_empty_config_has_the_default_calendar_and_no_policies() -> None:
    config = parse_config("")
    assert config.calendar == DEFAULT_CALENDAR
    assert config.policies is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[calendars.main]\ntz = "Mars/Olympus"', "calendars.main.tz"),
        ('[calendars.main]\nhours = "Mon-Fri 09:00-17:00"', "calendars.main.tz"),
        ('[calendars.main]\ntz = "UTC"\nhours = "9 to 5"', "calendars.main.hours"),
        ('[calendars.main]\ntz = "UTC"\ncountry = "XX"', "calendars.main.country"),
        (
            '[calendars.main]\ntz = "UTC"\ncountry = "US"\nsubdivision = "ZZ"',
            "calendars.main.subdivision",
        ),
        ('[calendars.main]\ntz = "UTC"\nopen = true', "calendars.main.open"),
        ('default_calendar = "nope"\n[calendars.main]\ntz = "UTC"', "default_calendar"),
        ('[customers]\ncalendars = { a = "nope" }', "customers.calendars.a"),
        ("[customers]\ntiers = { a = 1 }", "customers.tiers.a"),
        ("[database]\nurl = 5", "database.url"),
        ("colour = 1", "colour"),
        ('policies = "x"', "policies"),
        ("[[policies]]\nkinds = []", "policies[0].name"),
        ('[[policies]]\nname = "p"\n[[policies.steps]]\nnotify = "x"', "policies[0].steps[0]"),
        (
            '[[policies]]\nname = "p"\n[[policies.steps]]\nat_due = true\nbefore_due = "hours=1"',
            "policies[0].steps[0]",
        ),
        (
            '[[policies]]\nname = "p"\n[[policies.steps]]\nbefore_due = "soon"',
            "policies[0].steps[0].before_due",
        ),
        (
            '[[policies]]\nname = "p"\n[[policies.steps]]\nafter_due = "business_days=1"',
            "policies[0].steps[0].after_due",
        ),
        (
            '[[policies]]\nname = "p"\n[[policies.steps]]\nat_due = false',
            "policies[0].steps[0].at_due",
        ),
        (
            '[[policies]]\nname = "p"\n[[policies.steps]]\nelapsed = "half"',
            "policies[0].steps[0].elapsed",
        ),
        (
            '[[policies]]\nname = "p"\n[[policies.steps]]\nelapsed = 1.5',
            "policies[0].steps[0].elapsed",
        ),
        (
            '[[policies]]\nname = "p"\n[[policies.steps]]\nat_due = true\naction = "shout"',
            "policies[0].steps[0].action",
        ),
        (
            '[[policies]]\nname = "p"\n[[policies.steps]]\nat_due = true\nevery = "hours=1"',
            "policies[0].steps[0].times",
        ),
        (
            '[[policies]]\nname = "p"\n[[policies.steps]]\nat_due = true\nquiet = true',
            "policies[0].steps[0].quiet",
        ),
        ('[[policies]]\nname = "p"\n[[policies]]\nname = "q"', "policies"),
        ("not = [toml", "config"),
    ],
)
def test_each_mistake_names_its_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert caught.value.argument == key, str(caught.value)
    assert str(caught.value).startswith(key)


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


HOURS = st.sampled_from(
    ["Mon-Fri 09:00-17:00", "Daily 00:00-24:00", "Mon-Sat 08:00-12:00,13:00-18:00"]
)
ZONES = st.sampled_from(["UTC", "Europe/Stockholm", "America/New_York", "Asia/Kolkata"])


@given(
    tz=ZONES,
    hours=HOURS,
    closed=st.lists(st.dates(dt.date(2026, 1, 1), dt.date(2030, 12, 31)), max_size=4),
)
def test_a_calendar_written_as_toml_reads_back_equal(
    tz: str, hours: str, closed: list[dt.date]
) -> None:
    dates = ", ".join(d.isoformat() for d in closed)
    config = parse_config(f'[calendars.c]\ntz = "{tz}"\nhours = "{hours}"\nclosures = [{dates}]\n')
    assert config.calendar == BusinessCalendar(tz=tz, hours=hours, closures=closed)


def test_config_check_prints_calendars_with_their_next_opening_and_policies(tmp_path: Path) -> None:
    config = tmp_path / "keepword.toml"
    config.write_text(FULL)
    result = CliRunner().invoke(main, ["config", "check", str(config)])
    assert result.exit_code == 0, result.output
    for text in (
        "ny (default)",
        "America/New_York",
        "US-NY",
        "gold-replies",
        "stale-reply",
        "support-lead",
        "2x every 4",
        "everything",
    ):
        assert text in result.output, text
    assert "next opening" in result.output

"""The message catalogs: shipped compiled and current, extendable by a host, read once.

The ``.po`` files are the translators' source; the ``.mo`` files beside them
are what keepword reads.  After editing a ``.po`` file, run
``pybabel compile -d src/keepword/locale -D keepword`` (Babel) and commit both.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from keepword import _locales
from keepword.calendar import BusinessCalendar, within
from keepword.commitment import Commitment
from keepword.errors import InvalidArgumentError
from keepword.telling import MESSAGES, add_locale_dir, remove_locale_dir, tell
from keepword.transitions import promise

babel_mofile = pytest.importorskip("babel.messages.mofile")
babel_pofile = pytest.importorskip("babel.messages.pofile")
babel_catalog = pytest.importorskip("babel.messages.catalog")

LOCALE_DIR = _locales.BUILTIN_DIR
SHIPPED = ("en", "sv", "zh")
US = BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
MON_10 = dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC)


def _thanksgiving() -> Commitment:
    c, _ = promise(
        id="c-1",
        tenant="shop-7",
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Email the bulk price list",
        calendar=US,
        due=within(business_days=3),
        now=MON_10,
    )
    return c


def _read_po(path: Path) -> object:
    with path.open("rb") as fp:
        return babel_pofile.read_po(fp)


def _mo_bytes(catalog: object) -> bytes:
    out = io.BytesIO()
    babel_mofile.write_mo(out, catalog)
    return out.getvalue()


def _as_dict(data: bytes) -> dict[object, object]:
    return dict(gettext.GNUTranslations(io.BytesIO(data))._catalog)  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", SHIPPED)
def test_the_compiled_catalogs_are_up_to_date_with_their_sources(lang: str) -> None:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    source = _read_po(folder / "keepword.po")
    shipped = (folder / "keepword.mo").read_bytes()
    assert _as_dict(shipped) == _as_dict(_mo_bytes(source)), (
        f"{folder / 'keepword.mo'} is stale: run pybabel compile -d src/keepword/locale -D keepword"
    )


@pytest.mark.parametrize("lang", SHIPPED)
def test_every_catalog_holds_exactly_the_messages_the_code_says(lang: str) -> None:
    wanted = {(context, english) for context, english in MESSAGES.values()}
    template = _read_po(LOCALE_DIR / "keepword.pot")
    in_template = {(m.context, m.id) for m in template if m.id}  # type: ignore[attr-defined]
    assert in_template == wanted, "run pybabel extract (see docs/talking-to-customers.md)"
    catalog = _read_po(LOCALE_DIR / lang / "LC_MESSAGES" / "keepword.po")
    translated = {(m.context, m.id) for m in catalog if m.id and m.string}  # type: ignore[attr-defined]
    assert translated == wanted
    assert not [m.id for m in catalog if m.id and m.fuzzy]  # type: ignore[attr-defined]


def test_the_shipped_languages_are_available() -> None:
    assert set(SHIPPED) <= _locales.available_locales()


# --------------------------------------------------------------------------- a host's catalogs


def _write_catalog(root: Path, lang: str, translations: dict[str, str]) -> None:
    catalog = babel_catalog.Catalog(locale=lang, domain="keepword")
    for key, text in translations.items():
        context, english = MESSAGES[key]
        catalog.add(english, text, context=context)
    folder = root / lang / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "keepword.mo").write_bytes(_mo_bytes(catalog))


@pytest.fixture
def host_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    remove_locale_dir(tmp_path)


def test_a_host_adds_a_language_and_a_missing_message_falls_back_to_english(
    host_dir: Path,
) -> None:
    c = _thanksgiving()
    assert tell(c, locale="de") == "You'll hear from us by Friday 27 November, 17:00."
    _write_catalog(
        host_dir,
        "de",
        {
            "open": "Sie hören {by} von uns.",
            "by_date": "bis {date}, {time} Uhr",
            "fmt_date": "dddd, D. MMMM",
        },
    )
    add_locale_dir(host_dir)
    assert "de" in _locales.available_locales()
    assert tell(c, locale="de-AT") == "Sie hören bis Freitag, 27. November, 17:00 Uhr von uns."
    # untranslated: the English sentence, never an error or an empty string
    kept = tell(c, locale="de", now=MON_10)
    assert kept == "Sie hören by Freitag, 17:00 von uns."


def test_a_host_overrides_one_sentence_and_keeps_the_rest(host_dir: Path) -> None:
    c = _thanksgiving()
    _write_catalog(host_dir, "sv", {"open": "Du får svar från oss {by}."})
    add_locale_dir(host_dir)
    assert tell(c, locale="sv") == "Du får svar från oss senast fredag 27 november kl. 17:00."
    remove_locale_dir(host_dir)
    assert tell(c, locale="sv") == "Vi hör av oss senast fredag 27 november kl. 17:00."


def test_a_broken_translation_is_not_used(host_dir: Path) -> None:
    c = _thanksgiving()
    _write_catalog(
        host_dir,
        "sv",
        {"open": "Vi hör av oss {when}.", "by_date": "", "fmt_date": "[unclosed"},
    )
    add_locale_dir(host_dir)
    # the sentence with the wrong placeholder and the unbalanced date pattern fall back to
    # English ones; the empty by-phrase to keepword's own Swedish
    assert tell(c, locale="sv") == "You'll hear from us senast fredag 27 november kl. 17:00."


def test_add_locale_dir_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        add_locale_dir(tmp_path / "missing")
    assert err.value.argument == "path"
    with pytest.raises(InvalidArgumentError):
        add_locale_dir(42)  # type: ignore[arg-type]


def test_catalogs_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _thanksgiving()
    first = {lang: tell(c, locale=lang) for lang in SHIPPED}

    def no_reading(*_args: object, **_kw: object) -> None:
        raise AssertionError("a catalog was read again")

    monkeypatch.setattr(_locales.gettext, "GNUTranslations", no_reading)
    monkeypatch.setattr(_locales._holidays, "country_holidays", no_reading)
    assert {lang: tell(c, locale=lang) for lang in SHIPPED} == first

"""Locales: which language a customer reads, and the message catalogs that speak it.

Sentence templates live in gettext catalogs (``keepword.mo``) under
``src/keepword/locale/<lang>/LC_MESSAGES/``; a host adds or overrides a
language with :func:`add_locale_dir`.  Catalogs, pendulum's locale data and
translated holiday tables are loaded once per language and kept (cleared only
when a directory is added), so telling a customer costs no file reads.

A locale is a language tag such as ``"sv"``, ``"sv_SE"``, ``"sv-SE"`` or
``"zh_CN"``; it resolves to the most specific language that has a catalog,
else to English.  A language with no catalog, or a message missing from one,
falls back to English: never an error, never an empty string.
"""

from __future__ import annotations

import datetime as _dt
import functools
import gettext
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import holidays as _holidays
import pendulum

from keepword.errors import InvalidArgumentError

__all__ = [
    "BUILTIN_DIR",
    "DOMAIN",
    "add_locale_dir",
    "available_locales",
    "check_locale",
    "default_locale",
    "holiday_name",
    "locale_dirs",
    "on_clear",
    "pendulum_locale",
    "remove_locale_dir",
    "resolve",
    "translations",
]

DOMAIN = "keepword"
"""The gettext domain: catalogs are ``<dir>/<lang>/LC_MESSAGES/keepword.mo``."""

BUILTIN_DIR = Path(__file__).parent / "locale"
"""The catalogs shipped with keepword (English, Swedish, Chinese)."""

ENGLISH = "en"

_TAG = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8}){0,3}")

# Countries whose customers read one language (the default when no locale is
# given); countries with several (CH, BE, CA, FI, ...) are left out and get English.
_COUNTRY_LANGUAGE = {
    "AT": "de",
    "AU": "en",
    "BG": "bg",
    "BR": "pt_BR",
    "CN": "zh",
    "CZ": "cs",
    "DE": "de",
    "DK": "da",
    "ES": "es",
    "FR": "fr",
    "GB": "en",
    "ID": "id",
    "IE": "en",
    "IL": "he",
    "IT": "it",
    "JP": "ja",
    "KR": "ko",
    "LT": "lt",
    "NL": "nl",
    "NO": "nb",
    "NZ": "en",
    "PL": "pl",
    "PT": "pt",
    "RU": "ru",
    "SE": "sv",
    "SK": "sk",
    "TR": "tr",
    "UA": "uk",
    "US": "en",
}

_lock = threading.Lock()
_host_dirs: list[Path] = []
_on_clear: list[Callable[[], None]] = []


def check_locale(value: Any, argument: str = "locale") -> str:
    """``value`` as a normalised language tag (``"sv-SE"`` -> ``"sv_SE"``).

    Raises:
        InvalidArgumentError: not a language tag like ``"sv"`` or ``"zh_CN"``.

    >>> check_locale("SV-se")
    'sv_SE'
    """
    if not isinstance(value, str) or not _TAG.fullmatch(value):
        shown = repr(value)[:40] if isinstance(value, str) else type(value).__name__
        raise InvalidArgumentError(
            f"must be a language tag like 'en', 'sv' or 'zh_CN', not {shown}",
            argument=argument,
        )
    parts = value.replace("-", "_").split("_")
    head = [parts[0].lower()]
    rest = [p.upper() if len(p) == 2 else p.title() for p in parts[1:]]
    return "_".join(head + rest)


def _candidates(tag: str) -> list[str]:
    parts = tag.split("_")
    return ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]


def add_locale_dir(path: str | Path) -> None:
    """Add a directory of catalogs (``<path>/<lang>/LC_MESSAGES/keepword.mo``).

    A language found there is spoken from then on; a message there overrides
    keepword's own for that language, and a message missing there is taken
    from keepword's catalog, then from English.  The directory added last is
    consulted first.  The caches are cleared, so the next text reads the new
    catalogs.

    Raises:
        InvalidArgumentError: ``path`` is not an existing directory.
    """
    if not isinstance(path, (str, Path)) or not Path(path).is_dir():
        raise InvalidArgumentError(
            "must be an existing directory of <lang>/LC_MESSAGES/keepword.mo catalogs",
            argument="path",
        )
    with _lock:
        resolved = Path(path).resolve()
        if resolved in _host_dirs:
            _host_dirs.remove(resolved)
        _host_dirs.insert(0, resolved)
        _clear()


def remove_locale_dir(path: str | Path) -> None:
    """Forget a directory added with :func:`add_locale_dir` (no error if it was not added)."""
    with _lock:
        resolved = Path(path).resolve()
        if resolved in _host_dirs:
            _host_dirs.remove(resolved)
        _clear()


def locale_dirs() -> tuple[Path, ...]:
    """Where catalogs are looked up, first to last: the host's, then keepword's own."""
    return (*_host_dirs, BUILTIN_DIR)


def on_clear(callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever the catalog directories change (to drop a cache built on them)."""
    _on_clear.append(callback)


def _clear() -> None:
    available_locales.cache_clear()
    resolve.cache_clear()
    translations.cache_clear()
    for callback in _on_clear:
        callback()


def _has_catalog(directory: Path, lang: str) -> bool:
    return (directory / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()


@functools.cache
def available_locales() -> frozenset[str]:
    """Every language with a catalog, keepword's and the host's (English always)."""
    found = {ENGLISH}
    for directory in locale_dirs():
        if directory.is_dir():
            found.update(p.name for p in directory.iterdir() if _has_catalog(directory, p.name))
    return frozenset(found)


@functools.cache
def resolve(tag: str) -> str:
    """The most specific language with a catalog for a normalised ``tag``, else English.

    >>> resolve("sv_SE"), resolve("de_AT"), resolve("zh")
    ('sv', 'en', 'zh')
    """
    have = available_locales()
    for candidate in _candidates(tag):
        if candidate in have:
            return candidate
    return ENGLISH


def default_locale(country: str | None) -> str:
    """The language of a country's customers where it has one, else English.

    >>> default_locale("SE"), default_locale("CH"), default_locale(None)
    ('sv', 'en', 'en')
    """
    if country is None:
        return ENGLISH
    return _COUNTRY_LANGUAGE.get(country.upper(), ENGLISH)


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog chain for ``lang``: the host's catalogs, keepword's, then English.

    English is gettext's own fallback: a message no catalog has comes out as
    its (English) message id.
    """
    chain: gettext.NullTranslations | None = None
    for directory in locale_dirs():
        if not _has_catalog(directory, lang):
            continue
        path = directory / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        with path.open("rb") as fp:
            catalog = gettext.GNUTranslations(fp)
        if chain is None:
            chain = catalog
        else:
            chain.add_fallback(catalog)
    return chain if chain is not None else gettext.NullTranslations()


@functools.cache
def pendulum_locale(lang: str) -> str:
    """The pendulum locale that writes dates for ``lang`` (its language, else English).

    >>> pendulum_locale("sv"), pendulum_locale("zh_CN"), pendulum_locale("xx")
    ('sv', 'zh', 'en')
    """
    for candidate in _candidates(lang.lower()):
        try:
            pendulum.locale(candidate)
        except ValueError:
            continue
        return candidate
    return ENGLISH


@functools.cache
def _country_holidays(country: str, subdiv: str | None, language: str | None) -> Any:
    return _holidays.country_holidays(country, subdiv=subdiv, language=language)


@functools.cache
def _holiday_language(country: str, subdiv: str | None, lang: str) -> str | None:
    """The ``holidays`` language closest to ``lang`` for a country, or ``None`` (its default)."""
    supported: tuple[str, ...] = tuple(_country_holidays(country, subdiv, None).supported_languages)
    base = lang.split("_")[0]
    for wanted in (lang, base):
        if wanted in supported:
            return wanted
    for language in supported:
        if language.split("_")[0] == base:
            return language
    return None


def holiday_name(country: str, subdiv: str | None, day: _dt.date, lang: str) -> str | None:
    """A country's public holiday on ``day`` named in ``lang`` where ``holidays`` translates it.

    Where the package has no translation into ``lang``, the name is in the
    country's own language.

    >>> import datetime as dt
    >>> holiday_name("SE", None, dt.date(2026, 12, 25), "en")
    'Christmas Day'
    >>> holiday_name("SE", None, dt.date(2026, 12, 25), "sv")
    'Juldagen'
    """
    table = _country_holidays(country, subdiv, _holiday_language(country, subdiv, lang))
    name = table.get(day)
    return str(name) if name else None

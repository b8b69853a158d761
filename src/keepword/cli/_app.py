"""The ``keepword`` group, the options every command takes, and clean errors.

Exit codes: ``0`` success, ``1`` a failure (one line on stderr naming what to
fix; ``--debug`` shows the traceback), ``2`` a usage error (a bad option or
argument, as click reports it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click
from rich.console import Console

from keepword.config import Config, load_config
from keepword.errors import KeepwordError

if TYPE_CHECKING:
    from keepword.stores.sql import SqlStore
    from keepword.tracker import Tracker

__all__ = ["Options", "common", "console", "main", "options", "progress"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
"""What ``keepword`` exits with: success, a failure, a usage error."""


@attrs.define
class Options:
    """The options every command shares (filled in by :func:`common`'s callbacks).

    Attributes:
        url: the database URL (``--url``, ``KEEPWORD_URL``, else the config's).
        tenant: the tenant (``--tenant``, ``KEEPWORD_TENANT``, else the config's).
        config_path: the config file (``--config``, ``KEEPWORD_CONFIG``).
        prefix: the tables' prefix (``--prefix``, else the config's).
        schema: the database schema (``--schema``, else the config's).
        quiet: no progress bars and no chatter (``--quiet``).
        debug: show tracebacks (``--debug``, ``KEEPWORD_DEBUG=1``).
    """

    url: str | None = None
    tenant: str | None = None
    config_path: Path | None = None
    prefix: str | None = None
    schema: str | None = None
    quiet: bool = False
    debug: bool = False
    _config: Config | None = attrs.field(default=None, init=False)

    @property
    def config(self) -> Config:
        """The config file, read and checked once (an empty config when none was given)."""
        if self._config is None:
            self._config = Config() if self.config_path is None else load_config(self.config_path)
        return self._config

    @property
    def tenant_name(self) -> str:
        """The tenant: the option, else the config's, else ``"default"``."""
        return self.tenant or self.config.tenant or "default"

    @property
    def table_prefix(self) -> str:
        """The table prefix: the option, else the config's."""
        return self.prefix or self.config.table_prefix

    @property
    def schema_name(self) -> str | None:
        """The database schema: the option, else the config's."""
        return self.schema or self.config.schema

    def database_url(self) -> str:
        """The database URL, or a :class:`KeepwordError` saying how to give one."""
        url = self.url or self.config.url
        if not url:
            raise KeepwordError(
                "no database URL",
                argument="--url",
                fix="pass --url, set KEEPWORD_URL, or put url under [database] in the config",
            )
        return url

    def store(self, *, existing: bool = True) -> SqlStore:
        """A :class:`SqlStore` on the database URL (a SQLite file must exist if ``existing``)."""
        from keepword.stores.sql import SqlStore

        url = self.database_url()
        check_url(url, existing=existing)
        return SqlStore(url, table_prefix=self.table_prefix, schema=self.schema_name)

    def tracker(self, store: Any) -> Tracker:
        """A tracker over ``store`` with the config's calendars and policies, in the tenant."""
        return self.config.tracker(store, self.tenant_name)


def options() -> Options:
    """The current command's shared options."""
    return click.get_current_context().find_root().ensure_object(Options)


def _setter(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def store(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        opts = ctx.find_root().ensure_object(Options)
        if value is not None and value is not False:
            setattr(opts, name, value)

    return store


def common(func: F) -> F:
    """Add ``--url --tenant --config --prefix --schema --quiet --debug`` to a command."""
    decorators = [
        click.option(
            "--url",
            envvar=["KEEPWORD_URL", "KEEPWORD_DATABASE_URL"],
            expose_value=False,
            callback=_setter("url"),
            help="Database URL, e.g. postgresql+psycopg://user@host/db [env KEEPWORD_URL].",
        ),
        click.option(
            "--tenant",
            envvar="KEEPWORD_TENANT",
            expose_value=False,
            callback=_setter("tenant"),
            help="Tenant to work in (default: the config's, else 'default') [env KEEPWORD_TENANT].",
        ),
        click.option(
            "--config",
            envvar="KEEPWORD_CONFIG",
            type=click.Path(dir_okay=False, path_type=Path),
            expose_value=False,
            callback=_setter("config_path"),
            help="TOML file with calendars, policies and the database [env KEEPWORD_CONFIG].",
        ),
        click.option(
            "--prefix",
            expose_value=False,
            callback=_setter("prefix"),
            help="Table prefix (default: keepword_).",
        ),
        click.option(
            "--schema",
            expose_value=False,
            callback=_setter("schema"),
            help="Database schema (PostgreSQL).",
        ),
        click.option(
            "--quiet",
            "-q",
            is_flag=True,
            expose_value=False,
            callback=_setter("quiet"),
            help="No progress bars or chatter.",
        ),
        click.option(
            "--debug",
            is_flag=True,
            envvar="KEEPWORD_DEBUG",
            expose_value=False,
            callback=_setter("debug"),
            help="Show the traceback of a failure.",
        ),
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def console(*, stderr: bool = False) -> Console:
    """A console that does not squeeze tables into 80 columns when piped."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=200, no_color=True, highlight=False)


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr, or nothing when quiet or not on a terminal.

    Yields ``advance(n=1, total=None, description=None)``.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    shown = not options().quiet and sys.stderr.isatty()
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not shown,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(
            n: float = 1, total: float | None = None, description: str | None = None
        ) -> None:
            bar.update(task, advance=n, total=total, description=description)

        yield advance


# --------------------------------------------------------------------------- URLs


def check_url(url: str, *, existing: bool) -> None:
    """Refuse a URL that cannot work, before anything connects or creates a file.

    Raises:
        KeepwordError: not a URL, a missing driver (naming the one to use),
            or (``existing``) a SQLite file that does not exist.
    """
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc

    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError:
        raise KeepwordError(
            f"{url!r} is not a database URL",
            argument="--url",
            fix="write e.g. sqlite:///keepword.db, postgresql+psycopg://user@host/db "
            "or mysql+pymysql://user@host/db",
        ) from None
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except sa_exc.NoSuchModuleError:
        raise KeepwordError(
            f"unknown database kind {parsed.drivername!r}",
            argument="--url",
            fix="use sqlite:///, postgresql+psycopg:// or mysql+pymysql://",
        ) from None
    except ImportError as exc:
        raise KeepwordError(
            f"the driver for {parsed.drivername}:// is not installed "
            f"({getattr(exc, 'name', None) or exc})",
            argument="--url",
            fix=_driver_fix(parsed.get_backend_name()),
        ) from None
    database = parsed.database
    if (
        existing
        and parsed.get_backend_name() == "sqlite"
        and database
        and database != ":memory:"
        and not database.startswith("file:")
        and not Path(database).exists()
    ):
        raise KeepwordError(
            f"no SQLite database at {database}",
            argument="--url",
            fix="check the path, or create it with: keepword db upgrade --url " + url,
        )


def _driver_fix(backend: str) -> str:
    if backend in ("mysql", "mariadb"):
        return "use mysql+pymysql://... (pip install 'keepword[mysql]')"
    if backend == "postgresql":
        return "use postgresql+psycopg://... (pip install 'keepword[postgres]')"
    return "install the driver the URL names"


# --------------------------------------------------------------------------- errors


def describe(exc: BaseException) -> str:
    """One line saying what went wrong and what to fix."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, KeepwordError):
        return str(exc)
    if isinstance(exc, sa_exc.ArgumentError):
        return f"--url: not a usable database URL ({exc})"
    if isinstance(exc, ModuleNotFoundError):
        backend = "mysql" if exc.name == "MySQLdb" else ""
        return f"a module is not installed: {exc.name} ({_driver_fix(backend)})"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc} (check the path and its permissions)"
    if isinstance(exc, sa_exc.DBAPIError):
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return f"the database failed: {first} (check --url and that the server is up)"
    return f"{type(exc).__name__}: {exc} (run with --debug for the traceback)"


class KeepwordGroup(click.Group):
    """A click group that turns any failure into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; on a failure, print :func:`describe` and exit 1 (unless ``--debug``)."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            raise click.exceptions.Exit(130) from None
        except Exception as exc:
            opts = ctx.find_root().ensure_object(Options)
            if opts.debug or os.environ.get("KEEPWORD_DEBUG") in ("1", "true", "yes"):
                raise
            click.echo(f"keepword: error: {describe(exc)}", err=True)
            raise click.exceptions.Exit(EXIT_FAILURE) from None


@click.group(cls=KeepwordGroup)
@click.version_option(package_name="keepword")
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    callback=_setter("debug"),
    help="Show the traceback of a failure.",
)
def main() -> None:
    """keepword: keep your word to your customers.

    Exit codes: 0 success, 1 failure (one line on stderr; --debug for the
    traceback), 2 usage error.
    """


def group(name: str, help_text: str) -> click.Group:
    """A sub-group of ``keepword`` with the same clean errors."""

    @main.group(name=name, cls=KeepwordGroup, help=help_text)
    def sub() -> None:
        pass

    return sub

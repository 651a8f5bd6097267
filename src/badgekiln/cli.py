"""The ``badgekiln`` command line (click). Only this module prints and exits."""

from __future__ import annotations

import os
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import click

from .errors import BadgekilnError, Diagnostic


def today_from_environment(value: str | None) -> date:
    """``--today``, else ``SOURCE_DATE_EPOCH`` (reproducible builds), else today's date in UTC."""
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a date written YYYY-MM-DD", param_hint="--today") from None
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date()
        except ValueError:
            raise click.UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None
    return datetime.now(tz=timezone.utc).date()


def _print_warnings(warnings: tuple[Diagnostic, ...]) -> None:
    for warning in warnings:
        click.echo(warning.render(), err=True)


source_option = click.option("--source", "source", type=click.Path(file_okay=False, path_type=Path), default=".",
                             show_default=True, help="The site's source folder.")
base_url_option = click.option("--base-url", help="Override site.yaml's base_url (e.g. for a preview deploy).")
today_option = click.option("--today", help="The date statuses are computed for (YYYY-MM-DD). "
                                            "Default: SOURCE_DATE_EPOCH, else today (UTC).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="badgekiln")
def cli() -> None:
    """badgekiln: verifiable Open Badges from a git repository, published as a static site."""


@cli.command("build")
@source_option
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), help="Where to write the site "
              "(default: <source>/output).")
@base_url_option
@today_option
@click.option("--frozen", is_flag=True, help="Fail instead of assigning new award ids or changing awards.lock "
              "(for CI builds of the published site).")
@click.option("--production", is_flag=True, help="Build the site to publish: implies --frozen, and refuses "
              "development keys and missing private keys.")
def build_command(source: Path, output: Path | None, base_url: str | None, today: str | None, frozen: bool,
                  production: bool) -> None:
    """Build the static site into output/."""
    from .commands.build import run_build

    result = run_build(source, output or source / "output", base_url=base_url, today=today_from_environment(today),
                       frozen=frozen, production=production)
    _print_warnings(result.warnings)
    for rel, ids in sorted(result.pinned.items()):
        click.echo(f"pinned {len(ids)} new award id(s) in {rel}: {', '.join(ids)}", err=True)
    if result.pinned or result.ledger_added:
        click.echo("commit recipients/ and site_src/awards.lock so that these URLs stay the same.", err=True)
    click.echo(f"built {result.files} files into {result.output} ({result.written} written, {result.linked} unchanged)")


@cli.command("check")
@source_option
@base_url_option
@today_option
def check_command(source: Path, base_url: str | None, today: str | None) -> None:
    """Validate the sources without writing anything (for pre-commit hooks and CI)."""
    from .commands.build import prepare

    prepared = prepare(source.resolve(), base_url=base_url, today=today_from_environment(today), frozen=False)
    _print_warnings(prepared.warnings)
    project = prepared.loaded.project
    click.echo(f"ok: {len(project.badges)} badge(s), {len(project.recipients)} recipient(s), "
               f"{len(project.awards)} award(s)")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command; print diagnostics, never a traceback, for user errors."""
    try:
        cli.main(args=argv, prog_name="badgekiln", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BadgekilnError as exc:
        click.echo(exc.diagnostics(), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)

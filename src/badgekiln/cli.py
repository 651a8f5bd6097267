"""The ``badgekiln`` command line (click). Only this module prints and exits."""

from __future__ import annotations

import atexit
import errno
import math
import os
import re
import shlex
import sys
import threading
import traceback
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from badgekiln.errors import BadgekilnError, Diagnostic, printable
from badgekiln.sources.fields import bad_character, iso_hint


class ReachablePath(click.Path):
    """A path option or argument that the file system can follow: a symbolic link on its way that
    leads to itself (a loop) is a usage error naming the path, not an internal error later."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        shown = os.fsdecode(path)
        try:  # (strict: Path.resolve() of Python 3.13 no longer raises on a loop)
            os.path.realpath(shown, strict=True)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self.fail(
                    f"{shown!r} cannot be reached: a symbolic link on its way leads back to itself (a loop)", param, ctx
                )
        except ValueError:  # (a NUL in it: click's own checks say so)
            pass
        return path


def today_from_environment(value: str | None, *, option: str = "--today") -> date:
    """``--today``, else ``SOURCE_DATE_EPOCH`` (reproducible builds), else today's date in UTC."""
    if value:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            shape = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
            problem = "is not a day of the calendar" if shape else "is not a date written YYYY-MM-DD"
            hint = None if shape else iso_hint(value, option, lambda key, day: f"{key} {day}")
            raise click.BadParameter(
                f"{value!r} {problem}" + (f"; {hint}" if hint else ""), param_hint=option
            ) from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise click.BadParameter(f"{value!r} is not a day between {FIRST_DAY} and {LAST_DAY}", param_hint=option)
        return day
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            day = datetime.fromtimestamp(int(epoch), tz=UTC).date()
        except (ValueError, OverflowError, OSError):
            raise click.UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds since 1970") from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise click.UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a day between {FIRST_DAY} and {LAST_DAY}")
        return day
    return datetime.now(tz=UTC).date()


# The days a build may be for: dates a build computes from its day (an expiry soon, a reminder, a
# CPD window) stay within the calendar (--today 9999-12-02 failed after output/ was written: a
# fuzz test).
FIRST_DAY, LAST_DAY = date(1971, 1, 1), date(9000, 12, 31)


def _print_warnings(warnings: tuple[Diagnostic, ...]) -> None:
    for warning in warnings:
        click.echo(warning.render(), err=True)


source_option = click.option(
    "--source",
    "source",
    type=ReachablePath(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The site's source folder.",
)
base_url_option = click.option("--base-url", help="Override site.yaml's base_url (e.g. for a preview deploy).")
today_option = click.option(
    "--today", help="The date statuses are computed for (YYYY-MM-DD). Default: SOURCE_DATE_EPOCH, else today (UTC)."
)


@dataclass
class RunOptions:
    """Settings of one run of the command line that outlive the command (``ctx.obj``)."""

    verbose: bool = False  # print the full trace of an internal error


VERBOSE_HELP = "Print the full trace of an internal error (also: BADGEKILN_VERBOSE=1)."


def _set_verbose(ctx: click.Context, _param, value: bool) -> None:
    if value:
        ctx.ensure_object(RunOptions).verbose = True


verbose_option = click.option(
    "--verbose", is_flag=True, expose_value=False, is_eager=True, callback=_set_verbose, help=VERBOSE_HELP
)


class _TextCommand(click.Command):
    """A command whose text options and arguments must be text: a usage error otherwise.

    Bytes that are not UTF-8 on the command line reach Python as lone surrogates, which nothing
    can write out (YAML, pages, a workbook); the same check as every source text field
    (:func:`~badgekiln.sources.fields.bad_character`). Paths are not text options and keep any bytes.
    """

    def invoke(self, ctx: click.Context) -> Any:
        for param in self.params:
            if not isinstance(param.type, click.types.StringParamType) or param.name is None:
                continue
            value = ctx.params.get(param.name)
            for item in value if isinstance(value, tuple) else (value,):
                bad = bad_character(item, allow_newlines=True) if isinstance(item, str) else None
                if bad is not None:
                    raise click.BadParameter(f"{item!r} contains a character that is not text ({bad})", ctx, param)
        return super().invoke(ctx)


class _Group(click.Group):
    """The command groups: their commands check their text options (:class:`_TextCommand`)."""

    command_class = _TextCommand
    group_class = type  # sub-groups (keys, report) are _Group too


class _FiniteSeconds(click.FloatRange):
    """Seconds in a range, a number: ``nan`` passed ``FloatRange`` (every comparison with it is
    false), and made "no answer within nan s" of a refused connection (a review)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return number


_FINITE_SECONDS = _FiniteSeconds(0.1, 3600)
_FINITE_SECONDS_0 = _FiniteSeconds(0, 3600)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="badgekiln")
@verbose_option
def cli() -> None:
    """badgekiln: verifiable Open Badges from a git repository, published as a static site."""


@cli.command("build")
@source_option
@click.option(
    "--output",
    type=ReachablePath(file_okay=False, path_type=Path),
    help="Where to write the site (default: <source>/output).",
)
@base_url_option
@today_option
@click.option(
    "--frozen",
    is_flag=True,
    help="Fail instead of assigning new award ids or changing awards.lock (for CI builds of the published site).",
)
@click.option(
    "--production",
    is_flag=True,
    help="Build the site to publish: implies --frozen, and refuses development keys and missing private keys.",
)
@click.option(
    "--timings",
    "show_timings",
    is_flag=True,
    help="Print where the build's time went, phase by phase (also: BADGEKILN_TIMINGS=FILE writes it as JSON).",
)
@verbose_option  # (also here, for 'python build.py --verbose')
def build_command(
    source: Path,
    output: Path | None,
    base_url: str | None,
    today: str | None,
    frozen: bool,
    production: bool,
    show_timings: bool,
) -> None:
    """Build the static site into output/."""
    from badgekiln.engine import outputscan, stamp, timings
    from badgekiln.engine.site import check_output_dir

    shown = output or source / "output"
    # (at once: before anything, the scan below, looks inside it; the folder as the file system
    # reaches it, where the build then writes)
    output = check_output_dir(shown, source)
    day = today_from_environment(today)
    options = {"base_url": base_url, "today": day.isoformat(), "frozen": frozen, "production": production}
    with timings.phase("stamp"):  # nothing changed since the last build: say what it said (engine/stamp.py)
        replayed, before = stamp.replay(source, output, options)
    if replayed is not None:
        for line in replayed.warnings:
            click.echo(line, err=True)
        click.echo(built_line(replayed.files, shown, 0, replayed.files))
        for line in replayed.summary:
            click.echo(line)
        _report_timings(show_timings)
        return
    scanner = outputscan.start(source, output)  # before the slow imports: see outputscan.py
    from badgekiln.engine import forking  # (not before: a replayed build needs none of it)

    # (the stamp's listing of the sources, 27,000 files at 100,000 awards, lives as long as the
    # build: out of the collector's sight, or a full collection while the modules below load walks
    # it, 0.02 s; given back when the build ends, as the build's own, see forking.frozen)
    with forking.frozen():
        from badgekiln.commands.build import run_build
        from badgekiln.commands.progress import Progress

        with Progress() as progress:
            result = run_build(
                source,
                output,
                base_url=base_url,
                today=day,
                frozen=frozen,
                production=production,
                scanner=scanner,
                progress=progress,
                stamp_inputs=before,
            )
    _print_warnings(result.warnings)
    for folder in result.leftovers:
        click.echo(f"removed {printable(str(folder), newlines=False)}, left behind by an interrupted build", err=True)
    for rel, ids in sorted(result.pinned.items()):
        click.echo(f"pinned {len(ids)} new award id(s) in {rel}: {', '.join(ids)}", err=True)
    if result.pinned or result.ledger_added:
        click.echo("commit recipients/ and site_src/awards.lock so that these URLs stay the same.", err=True)
    click.echo(built_line(result.files, shown, result.written, result.linked))
    if result.summary is not None:
        click.echo(result.summary.line())
        for award_id in result.summary.unrevoked:  # (a revert or a merge: nothing else notices it, a review)
            click.echo(
                f"warning[unrevoked]: award {award_id} was revoked at the last build and is not now: a "
                "revocation is for good (verifiers may have seen it); if its 'revoked:' was lost by a revert "
                "or a merge, put it back; to give the badge back, award it again",
                err=True,
            )
    _report_timings(show_timings)


def built_line(files: int, output: Path, written: int, linked: int) -> str:
    """The line a build ends with."""
    return f"built {files} files into {printable(str(output), newlines=False)} ({written} written, {linked} unchanged)"


def _report_timings(show: bool) -> None:
    """The build's phase timings, on stderr (``--timings``) and in ``$BADGEKILN_TIMINGS``."""
    from badgekiln.engine import timings

    record = timings.snapshot()
    if show:
        click.echo(timings.table(record), err=True)
    target = os.environ.get(timings.ENV_TIMINGS)
    if target:
        timings.write(Path(target), record)


@cli.command("check")
@source_option
@base_url_option
@today_option
@click.option(
    "--frozen",
    is_flag=True,
    help="Also fail on awards without a pinned id and an out-of-date awards.lock (what 'build --frozen' refuses).",
)
def check_command(source: Path, base_url: str | None, today: str | None, frozen: bool) -> None:
    """Validate the sources and templates without writing anything (for pre-commit hooks and CI)."""
    from badgekiln.commands.build import run_check

    prepared = run_check(source, base_url=base_url, today=today_from_environment(today), frozen=frozen)
    _print_warnings(prepared.warnings)
    project = prepared.loaded.project
    click.echo(
        f"ok: {len(project.badges)} badge(s), {len(project.recipients)} recipient(s), {len(project.awards)} award(s)"
    )


@cli.group("keys")
def keys_group() -> None:
    """Manage signing keys (public records in site_src/keys/, private keys outside the repository)."""


def _announce_new_keys(new, source: Path) -> None:
    from badgekiln.signing.keypaths import keys_dir
    from badgekiln.signing.keys import ENV_KEYS, read_records

    for key in new:
        click.echo(f"new {key.record.algorithm} key {key.record.kid}")
        click.echo(f"  public record: site_src/keys/{key.record.kid}.yaml (commit it)")
        click.echo(f"  private key:   {key.private_path} (never commit it; back it up)")
    # Every key a production build signs or re-signs with, not only the new ones: 'gh secret set'
    # replaces the secret, and a build without a superseded key's private key stops (a review).
    needed = [record.kid for record in read_records(source, []) if record.published]
    paths = " ".join(shlex.quote(str(keys_dir() / f"{kid}.pem")) for kid in needed)
    click.echo(
        f"For CI, the secret {ENV_KEYS} must hold the private key of every key that is not retired "
        f"({', '.join(needed)}): set it to all of them, e.g.:\n"
        f"  gh secret set {ENV_KEYS} < <(cat {paths})"
    )


@keys_group.command("generate")
@source_option
@today_option
def keys_generate_command(source: Path, today: str | None) -> None:
    """Create the site's first key pair (RSA for JWS/JWT, Ed25519 for Data Integrity proofs)."""
    from badgekiln.commands import keys

    _announce_new_keys(keys.generate(source.resolve(), today_from_environment(today)), source.resolve())


@keys_group.command("rotate")
@source_option
@today_option
def keys_rotate_command(source: Path, today: str | None) -> None:
    """New keys sign new awards; earlier awards keep verifying with the old, still-published keys."""
    from badgekiln.commands import keys

    new, superseded = keys.rotate(source.resolve(), today_from_environment(today))
    for record in superseded:
        click.echo(f"{record.kid} is now superseded: still published, still verifies the awards it signed")
    _announce_new_keys(new, source.resolve())


@keys_group.command("retire")
@source_option
@today_option
@click.argument("kid")
@click.option("--reason", required=True, help="Why, e.g. 'compromised' (kept in the public record).")
def keys_retire_command(source: Path, today: str | None, kid: str, reason: str) -> None:
    """Withdraw a key (e.g. compromised): verifiers reject it; its awards are re-signed at the next build."""
    from badgekiln.commands import keys

    record, new = keys.retire(source.resolve(), kid, reason, today_from_environment(today))
    click.echo(f"{record.kid} is retired: it is no longer published as a valid key.")
    if new:
        _announce_new_keys(new, source.resolve())
    click.echo("Run 'python build.py': it re-signs every award that this key signed and lists them.")


@keys_group.command("list")
@source_option
def keys_list_command(source: Path) -> None:
    """List the site's keys, their status and whether their private key is available here."""
    from badgekiln.commands import keys

    rows = keys.listing(source.resolve())
    if not rows:
        click.echo("no keys yet: run 'badgekiln keys generate'")
    for record, available in rows:
        dates = f"created {record.created}"
        if record.superseded_on:
            dates += f", superseded {record.superseded_on}"
        if record.retired_on:
            dates += f", retired {record.retired_on} ({record.retired_reason})"
        click.echo(
            f"{record.kid:32} {record.algorithm:8} {record.status:10} "
            f"{'private key here' if available else 'no private key here':20} {dates}"
        )


@cli.command("revoke")
@source_option
@today_option
@click.argument("award_id")
@click.option("--reason", required=True, help="Published with the badge, e.g. 'Issued in error'.")
@click.option("--on", "on", help="Date of the revocation (YYYY-MM-DD); default today.")
def revoke_command(source: Path, today: str | None, award_id: str, reason: str, on: str | None) -> None:
    """Revoke an award: its URL stays and says 'Revoked', and revocation lists include it."""
    from badgekiln.commands.revoke import award_id_from, revoke

    award_id = award_id_from(award_id)  # (pasted with spaces, in capitals, or as the page's URL)
    day = today_from_environment(today)
    when = today_from_environment(on, option="--on") if on else day
    path = revoke(source.resolve(), award_id, reason, when, day)
    click.echo(
        f"revoked {award_id} in {path.relative_to(source.resolve()).as_posix()}; "
        "review the change, commit it and rebuild"
    )


@cli.command("suspend")
@source_option
@today_option
@click.argument("award_id")
@click.option("--reason", required=True, help="Published with the badge, e.g. 'Under investigation'.")
@click.option("--on", "on", help="Date of the suspension (YYYY-MM-DD); default today.")
def suspend_command(source: Path, today: str | None, award_id: str, reason: str, on: str | None) -> None:
    """Suspend an award until 'badgekiln unsuspend': its page and lists say 'Suspended'."""
    from badgekiln.commands.revoke import award_id_from
    from badgekiln.commands.suspend import suspend

    award_id = award_id_from(award_id)  # (pasted with spaces, in capitals, or as the page's URL)
    day = today_from_environment(today)
    when = today_from_environment(on, option="--on") if on else day
    path, warning = suspend(source.resolve(), award_id, reason, when, day)
    click.echo(
        f"suspended {award_id} in {path.relative_to(source.resolve()).as_posix()}; "
        "review the change, commit it and rebuild"
    )
    if warning:
        click.echo(f"warning: {warning}", err=True)


@cli.command("unsuspend")
@source_option
@today_option
@click.argument("award_id")
def unsuspend_command(source: Path, today: str | None, award_id: str) -> None:
    """Lift an award's suspension (written by 'badgekiln suspend')."""
    from badgekiln.commands.revoke import award_id_from
    from badgekiln.commands.suspend import unsuspend

    award_id = award_id_from(award_id)  # (pasted with spaces, in capitals, or as the page's URL)
    path, still = unsuspend(source.resolve(), award_id, today_from_environment(today))
    click.echo(
        f"lifted the suspension of {award_id} in {path.relative_to(source.resolve()).as_posix()}; "
        "review the change, commit it and rebuild"
    )
    if still:
        click.echo(f"note: {award_id} stays suspended ({still}): the earner's membership has lapsed", err=True)


@cli.group("report")
def report_group() -> None:
    """Reports for the provider (they include earners' email addresses: do not publish them)."""


def _days_left(days: int) -> str:
    """``3 days left``, ``1 day left``, ``expired today``, ``expired 1 day ago``."""
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''} left"
    if days == 0:
        return "expired today"
    return f"expired {-days} day{'s' if days != -1 else ''} ago"


@report_group.command("expiring")
@source_option
@today_option
@click.option("--within", default="90d", show_default=True, help="Window: 90d, 12w, 6m or 1y.")
@click.option("--include-expired", is_flag=True, help="Also list awards that have already expired.")
@click.option(
    "--remind", is_flag=True, help="Also show the reminders to each earner: when each is due and whether it was sent."
)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def report_expiring_command(
    source: Path, today: str | None, within: str, include_expired: bool, remind: bool, fmt: str
) -> None:
    """Awards that need renewal soon (renewed awards are left out)."""
    import csv
    import json

    from badgekiln.commands.report import expiring, parse_within

    try:
        window = parse_within(within)
    except BadgekilnError as exc:  # (an option written wrongly: a usage error, exit 2, as a bad --today is)
        raise click.UsageError(str(exc)) from None
    rows = expiring(
        source.resolve(),
        window,
        today_from_environment(today),
        include_expired=include_expired,
        remind=remind,
    )
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        fields = [*ExpiringFields, *(["reminders"] if remind else []), "suspended_on"]  # (new columns go last)
        writer = csv.DictWriter(click.get_text_stream("stdout"), fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            values = row.as_dict()
            if remind:
                values["reminders"] = "; ".join(point.text() for point in row.reminders or ())
            writer.writerow({key: csv_cell(value) for key, value in values.items()})
    else:
        if not rows:
            click.echo(f"no awards expire within {within}")
        lines = _aligned(
            [["expires", "", "award", "earner <email>", "badge"]]
            + [
                [
                    str(row.expires),
                    _days_left(row.days_left),
                    row.award_id,
                    f"{row.recipient} <{row.email}>",
                    row.badge_name + (f" (suspended since {row.suspended_on})" if row.suspended_on else ""),
                ]
                for row in rows
            ]
        )
        if rows:
            click.echo(lines[0])
        for row, line in zip(rows, lines[1:]):
            click.echo(line)
            for point in row.reminders or ():
                click.echo(f"    reminder {point.text()}")
            if remind and not row.reminders:
                click.echo("    no reminders (set remind_before in the badge class or site.yaml)")


@report_group.command("suspended")
@source_option
@today_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def report_suspended_command(source: Path, today: str | None, fmt: str) -> None:
    """Suspended awards, written and from lapsed memberships."""
    import csv
    import json

    from badgekiln.commands.suspend import suspended

    rows = suspended(source.resolve(), today_from_environment(today))
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        fields = (
            "award_id",
            "recipient",
            "email",
            "badge",
            "badge_name",
            "suspended_on",
            "suspended_reason",
            "kind",
            "membership_until",
            "membership_lapsed",
        )
        writer = csv.DictWriter(click.get_text_stream("stdout"), fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: csv_cell(_yes_no(value)) for key, value in row.as_dict().items()})
    else:
        if not rows:
            click.echo("no award is suspended")
            return
        table = [["since", "award", "earner <email>", "badge", "why"]] + [
            [
                str(row.since),
                row.award_id,
                f"{row.recipient} <{row.email}>",
                row.badge_name,
                row.why(),
            ]
            for row in rows
        ]
        for line in _aligned(table):
            click.echo(line)


def _aligned(table: list[list[str]]) -> list[str]:
    """The rows of ``table`` as lines whose columns line up (two spaces between columns), by the
    width a terminal gives each character (李 takes two columns, a combining accent none)."""
    widths = [max(_width(row[column]) for row in table) for column in range(len(table[0]))]
    return [
        "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(row, widths)).rstrip() for row in table
    ]


def _width(text: str) -> int:
    import unicodedata

    if text.isascii():
        return len(text)
    return sum(
        0
        if unicodedata.combining(c) or unicodedata.category(c) == "Cf"
        else 2
        if unicodedata.east_asian_width(c) in "WF"
        else 1
        for c in text
    )


@report_group.command("eligible")
@source_option
@today_option
@click.option("--badge", metavar="SLUG", help="Only this badge.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def report_eligible_command(source: Path, today: str | None, badge: str | None, fmt: str) -> None:
    """Who qualifies for which badge earned by CPD points or a pathway, and why."""
    import csv
    import json

    from badgekiln.commands.eligible import report

    rows = report(source.resolve(), today_from_environment(today), badge=badge)
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        fieldnames = ["recipient", "email", "file", "badge", "badge_name", "cpd_points", "components", "why"]
        writer = csv.DictWriter(click.get_text_stream("stdout"), fieldnames=fieldnames, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            cells = {**row.as_dict(), "components": " ".join(row.components)}
            writer.writerow({key: csv_cell(value) for key, value in cells.items()})
    else:
        if not rows:
            click.echo("nobody qualifies for a badge earned by CPD points or a pathway")
        for row in rows:
            click.echo(f"{row.badge}  {row.recipient} <{row.email}> ({row.file}): {row.why}")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _yes_no(value):
    """A boolean as a CSV cell says it to a person ("yes"/"no"); anything else as it is."""
    return ("yes" if value else "no") if isinstance(value, bool) else value


def csv_cell(value):
    """A CSV cell that spreadsheets show as text: a leading = + - @ would start a formula (CSV injection)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


ExpiringFields = (
    "award_id",
    "recipient",
    "email",
    "badge",
    "badge_name",
    "issued_on",
    "expires",
    "days_left",
)


@cli.command("award")
@source_option
@today_option
@click.option(
    "--csv",
    "csv_path",
    type=ReachablePath(dir_okay=False, exists=True, path_type=Path),
    metavar="FILE.csv|FILE.xlsx",
    help="Import awards from a spreadsheet (CSV separated by commas, semicolons or tabs, or .xlsx) with "
    "columns name, email, badge, issued_on [, expires, narrative, evidence_url, evidence_narrative].",
)
@click.option(
    "--map",
    "column_map",
    metavar="'SHEET=COLUMN,...'",
    help='Read differently named columns, e.g. --map "Mail=email,Course=badge,Date=issued_on".',
)
@click.option(
    "--date-format",
    metavar="FORMAT",
    help="How the sheet writes dates as text, e.g. %d/%m/%Y (YYYY-MM-DD and Excel date cells always work).",
)
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    type=click.Choice(["utf-8", "cp1252", "latin-1"]),
    help="The encoding of a CSV that is not UTF-8 (a BOM and UTF-16 are detected).",
)
@click.option("--sheet", help="The sheet of an .xlsx workbook to read, by its tab's name (default: the first).")
@click.option("--name", help="The earner's name (for one award; an earner on file: their file's name).")
@click.option("--email", help="The earner's email (matches an existing recipient file).")
@click.option("--badge", help="The badge slug.")
@click.option("--issued-on", help="Issue date YYYY-MM-DD (default today).")
@click.option("--expires", help="Expiry date YYYY-MM-DD (default: the badge's valid_for).")
@click.option("--narrative", help="Text about this award.")
@click.option("--evidence-url", help="A link to evidence.")
@click.option(
    "--renew",
    "renew_id",
    metavar="AWARD_ID",
    help="Renew this award: a new award of the same badge to the same earner, with 'renews: AWARD_ID' "
    "(with --issued-on, default today).",
)
@click.option(
    "--eligible",
    is_flag=True,
    help="Award every badge earned by CPD points or a pathway to whoever qualifies (see 'report eligible'); "
    "with --badge, only that badge.",
)
def award_command(
    source: Path,
    today: str | None,
    csv_path: Path | None,
    column_map: str | None,
    date_format: str | None,
    encoding: str,
    sheet: str | None,
    name,
    email,
    badge,
    issued_on,
    expires,
    narrative,
    evidence_url,
    renew_id: str | None,
    eligible: bool = False,
) -> None:
    """Add awards: one from the options, many from a spreadsheet (checked in full before anything is
    written), the renewal of an award (--renew), or every badge earned by CPD points or a pathway
    (--eligible)."""
    from badgekiln.commands import award as award_mod
    from badgekiln.commands.revoke import award_id_from

    day = today_from_environment(today)
    source = source.resolve()
    if eligible:
        if (
            renew_id is not None
            or csv_path is not None
            or any((name, email, issued_on, expires, narrative, evidence_url, column_map))
        ):
            raise click.UsageError("--eligible takes only --badge (and --source, --today)")
        from badgekiln.commands.eligible import award_eligible

        done = award_eligible(source, day, badge=badge)
        for award_id, slug, rel in done.added:
            click.echo(f"added {award_id} ({slug}) to {rel}")
        if done.recorded:
            click.echo(f"site_src/awards.lock records {done.recorded} new award(s): commit it with recipients/")
        _print_warnings(tuple(done.warnings))
        then = "review, commit and rebuild" if done.added else "nobody is newly eligible, nothing changed"
        click.echo(f"{len(done.added)} award(s) added; {then}")
        return
    if renew_id is not None:
        if csv_path is not None or any((name, email, badge, expires, narrative, evidence_url)):
            raise click.UsageError("--renew takes only --issued-on (the earner and badge are the renewed award's)")
        when = today_from_environment(issued_on, option="--issued-on") if issued_on else day
        result = award_mod.renew(source, award_id_from(renew_id), when, day)  # (any case, or the page's URL)
    elif csv_path is not None:
        if any((name, email, badge, issued_on, expires, narrative, evidence_url)):
            raise click.UsageError("give either --csv or the options of one award, not both")
        from badgekiln.commands.progress import Progress

        with Progress() as progress:
            progress.stage(f"checking and importing {printable(csv_path.name, newlines=False)}")
            result = award_mod.import_sheet(
                source, csv_path, day, column_map=column_map, date_format=date_format, encoding=encoding, sheet=sheet
            )
    else:
        if column_map or date_format or sheet:
            raise click.UsageError("--map, --date-format and --sheet are for --csv imports")
        from badgekiln.commands.eligible import report as eligible_report

        # (who was eligible before: only those this award makes eligible are said after it)
        already = {(row.file, row.badge) for row in eligible_report(source, day)}
        row = {
            "name": name or "",
            "email": email or "",
            "badge": badge or "",
            "issued_on": issued_on or day.isoformat(),
            "expires": expires or "",
            "narrative": narrative or "",
            "evidence_url": evidence_url or "",
        }
        result = award_mod.add_awards(source, [award_mod.check_single(source, row, day)], day)
    _print_warnings(tuple(result.warnings))
    for award_id, rel in result.added:
        click.echo(f"added {award_id} to {rel}")
    for _award_id, reason in result.skipped:
        click.echo(f"skipped: {reason}")
    if result.created_files:
        click.echo(f"{len(result.created_files)} new earner(s), each with a new file in recipients/")
    if result.recorded:
        click.echo(f"site_src/awards.lock records {result.recorded} new award(s): commit it with recipients/")
    then = "review, commit and rebuild" if result.added else "nothing changed"
    click.echo(f"{len(result.added)} award(s) added, {len(result.skipped)} skipped; {then}")
    if csv_path is None and renew_id is None and result.added:  # (one award: it may have completed a pathway)
        for now in eligible_report(source, day):
            if (now.file, now.badge) not in already:
                click.echo(
                    f"now eligible: {now.recipient} for {now.badge} ({now.why}); run 'badgekiln award --eligible'"
                )


@cli.command("init")
@click.argument("target", type=ReachablePath(file_okay=False, path_type=Path), default=".")
@click.option("--name", default="My Training Provider", show_default=True, help="The issuer's name.")
@click.option("--base-url", default="https://badges.example.org/", show_default=True)
@click.option("--email", default="badges@example.org", show_default=True, help="The issuer's public address.")
@click.option(
    "--github",
    "github_only",
    is_flag=True,
    help="In an existing site: add the GitHub workflows and issue "
    "forms it lacks, and renew the award form's list of badges.",
)
@today_option
def init_command(target: Path, name: str, base_url: str, email: str, github_only: bool, today: str | None) -> None:
    """Create a starter badge site with its GitHub workflows (refuses to overwrite any file)."""
    from badgekiln.commands.scaffold import init, init_github
    from badgekiln.errors import SourceLocation, ValidationFailed
    from badgekiln.sources.config import check_base_url
    from badgekiln.sources.fields import EMAIL_RE

    problems: list[Diagnostic] = []
    if not github_only and check_base_url(base_url, SourceLocation("--base-url"), problems) is None:
        raise ValidationFailed(problems)
    if not github_only and not EMAIL_RE.match(email.strip()):  # (as site.yaml's check would say, later)
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="--email")

    if github_only:
        done = init_github(target.resolve(), today=today_from_environment(today))
        for line in done:
            click.echo(line)
        click.echo("review and commit .github/" if done else "the GitHub files are up to date")
        return
    for rel in init(target, name=name, base_url=base_url, email=email):
        click.echo(f"created {rel}")
    click.echo("next: edit site_src/site.yaml, then 'python build.py'; README.md says how to publish")


@cli.command("github-issue")
@source_option
@today_option
@click.argument("event", type=ReachablePath(dir_okay=False, path_type=Path), envvar="GITHUB_EVENT_PATH")
@click.option(
    "--sender-permission",
    help="The repository permission of whoever added the label "
    "(admin, maintain, write, ...), as the GitHub API reports it.",
)
@click.option(
    "--reply",
    type=click.Path(dir_okay=False, path_type=Path),
    help="When the issue cannot be acted on, write why to this file, as a comment to post on the issue.",
)
def github_issue_command(
    source: Path, today: str | None, event: Path, sender_permission: str | None, reply: Path | None
) -> None:
    """Add (or revoke) the award an issue form asks for; for the workflow that makes the pull request.

    EVENT is the 'issues' event file GitHub Actions saves (default: $GITHUB_EVENT_PATH). The
    branch, title and body of the pull request go to $GITHUB_OUTPUT when it is set.
    """
    from badgekiln.commands.github import handle_event, reply_text, write_outputs

    try:
        change = handle_event(
            source.resolve(), event, sender_permission=sender_permission, today=today_from_environment(today)
        )
    except BadgekilnError as exc:
        if reply is not None:
            reply.write_text(reply_text(exc), encoding="utf-8")
        raise
    if os.environ.get("GITHUB_OUTPUT"):
        write_outputs(Path(os.environ["GITHUB_OUTPUT"]), change)
    click.echo(f"branch: {change.branch}\ntitle: {change.title}\n\n{change.body}")
    for line in change.log:
        click.echo(line, err=True)


@cli.command("serve")
@source_option
@today_option
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0 = any free port).",
)
@click.option("--watch", is_flag=True, help="Rebuild when the sources change, and reload the open page.")
def serve_command(source: Path, today: str | None, port: int, watch: bool) -> None:
    """Preview the site at http://127.0.0.1:PORT/ (built into a temporary folder; sources untouched)."""
    import signal
    import time

    from badgekiln.commands.serve import start, stop

    stops = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])

    def terminate(signum, frame):  # leave through the clean-up below, whichever signal it is
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    def ignore_stops() -> None:  # a second signal (Ctrl-C pressed again) must not cut the clean-up short
        for other in stops:
            signal.signal(other, signal.SIG_IGN)

    for stop_signal in stops:
        signal.signal(stop_signal, terminate)
    started = None
    try:
        # (start() removes its folder itself if stopped; from its return on, the finally below
        # does: a signal arriving while the first lines are printed must not leave it behind)
        started = start(
            source.resolve(),
            port=port,
            today=today_from_environment(today),
            watch=watch,
            report=lambda message: click.echo(message, err=True),
        )
        server, result, _ = started
        _print_warnings(result.warnings)
        watching = "; rebuilding when sources change" if watch else ""
        click.echo(
            f"serving {result.files} files at http://127.0.0.1:{server.server_address[1]}/{watching} (Ctrl-C to stop)"
        )
        while True:
            time.sleep(3600)
    finally:
        ignore_stops()  # (only now: a signal the build swallowed must still be able to stop serve)
        if started is not None:
            stop(started[0], started[2])


@cli.command("notify")
@source_option
@today_option
@click.option(
    "--award",
    "only",
    multiple=True,
    help="Only this award, by id or page URL (repeatable); sends again if already sent.",
)
@click.option("--dry-run", is_flag=True, help="Print the messages instead of sending them (no network at all).")
@click.option("--digest", is_flag=True, help="One message per earner listing all their new awards.")
@click.option(
    "--save",
    "save_to",
    type=ReachablePath(file_okay=False, path_type=Path),
    help="With --dry-run: also save each message as an .eml file in this folder, to open in a mail program.",
)
@click.option(
    "--skip-online-check", is_flag=True, help="Do not check first that each award page answers 200 at its URL."
)
@click.option(
    "--retries",
    type=click.IntRange(0, 20),
    default=3,
    show_default=True,
    help="Further attempts after a temporary failure (4xx answer, dropped connection, timeout).",
)
@click.option(
    "--retry-delay",
    type=_FINITE_SECONDS_0,
    default=30.0,
    show_default=True,
    help="Seconds before the first retry; each later retry waits twice as long (10 minutes at most).",
)
@click.option(
    "--timeout",
    type=_FINITE_SECONDS,
    default=60.0,
    show_default=True,
    help="Seconds one message may take, connecting included.",
)
def notify_command(
    source: Path,
    today: str | None,
    only: tuple[str, ...],
    dry_run: bool,
    digest: bool,
    save_to: Path | None,
    skip_online_check: bool,
    retries: int,
    retry_delay: float,
    timeout: float,
) -> None:
    """Email each earner the link to their new badge (once; run it after deploying), the reminders
    before expiry that are due (remind_before), and the news that an award was suspended, is valid
    again or was revoked."""
    from badgekiln.commands.notify import notify, progress_display, summary_lines
    from badgekiln.commands.revoke import award_id_from
    from badgekiln.delivery.mail import RetryPolicy

    only = tuple(award_id_from(award_id) for award_id in only)  # (as revoke reads one: any case, or the page's URL)
    day = today_from_environment(today)
    policy = RetryPolicy(retries=retries, delay=retry_delay, deadline=timeout)
    if save_to is not None:
        from badgekiln.commands.export import check_private_target

        if not dry_run:
            raise click.UsageError("--save is for --dry-run (messages to look at, not send)")
        check_private_target(source.resolve(), save_to / "message.eml", "a saved message")
        if save_to.resolve().is_relative_to(source.resolve()):  # (a link committed there could lead anywhere)
            raise click.UsageError("--save writes earners' addresses: give a folder outside the site's sources")
    with progress_display() as progress:
        result = notify(
            source.resolve(),
            day,
            now=datetime.now(UTC),
            only=only,
            digest=digest,
            dry_run=dry_run,
            check_online=not (skip_online_check or dry_run),
            policy=policy,
            on_start=progress.start,
            on_event=progress.update,
        )
    if dry_run:
        from badgekiln.commands.notify import html_references

        for message in result.messages:
            references = "\n".join(html_references(message, result.own))
            click.echo(
                f"From: {message['From']}\nReply-To: {message['Reply-To']}\nTo: {message['To']}\n"
                f"Subject: {message['Subject']}\n\n{_plain_body(message)}\n{references}\n{'-' * 60}"
            )
    if save_to is not None:
        from badgekiln.commands.notify import save_messages

        save_messages(save_to, result.messages)
        click.echo(
            f"saved {len(result.messages)} message(s) as .eml files in {printable(str(save_to), newlines=False)} (open them in a mail program)"
        )
    for line, for_stderr in summary_lines(result, dry_run=dry_run):
        click.echo(line, err=for_stderr)
    if not result.ok:
        sys.exit(130 if result.delivery and result.delivery.stopped == "interrupted" else 1)


def _export_filters(
    today: date, badges: tuple[str, ...], statuses: tuple[str, ...], issued_from: str | None, issued_to: str | None
):
    from badgekiln.commands.export import Filters

    start = today_from_environment(issued_from, option="--from") if issued_from else None
    end = today_from_environment(issued_to, option="--to") if issued_to else None
    if start and end and end < start:
        raise click.BadParameter(f"--to ({end}) is before --from ({start})", param_hint="--to")
    return Filters(badges=badges, statuses=statuses, issued_from=start, issued_to=end)


# commands.export.STATUSES, without importing it at start-up
EXPORT_STATUSES = ("active", "expired", "revoked", "suspended", "renewed")


def _export_filter_options(function):
    for option in reversed(
        [
            click.option(
                "--badge", "badges", multiple=True, metavar="SLUG", help="Only awards of this badge (repeatable)."
            ),
            click.option(
                "--status",
                "statuses",
                multiple=True,
                type=click.Choice((*EXPORT_STATUSES, "valid")),
                callback=lambda _context, _option, values: tuple("active" if v == "valid" else v for v in values),
                help="Only awards with this status (repeatable; 'valid', as pages say, is 'active').",
            ),
            click.option(
                "--from", "issued_from", metavar="YYYY-MM-DD", help="Only awards issued on or after this date."
            ),
            click.option("--to", "issued_to", metavar="YYYY-MM-DD", help="Only awards issued on or before this date."),
        ]
    ):
        function = option(function)
    return function


@cli.command("export")
@source_option
@today_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "xlsx"]),
    help="Default: from the --output file's extension (.csv, .json, .xlsx), else csv.",
)
@click.option("--excel", is_flag=True, help="CSV for Excel: a UTF-8 byte order mark and CRLF line ends.")
@_export_filter_options
@click.option(
    "--output",
    "-o",
    type=ReachablePath(dir_okay=False, path_type=Path),
    help="Write to this file (needed for xlsx on a terminal); default: standard output.",
)
def export_command(
    source: Path,
    today: str | None,
    fmt: str | None,
    excel: bool,
    badges,
    statuses,
    issued_from,
    issued_to,
    output: Path | None,
) -> None:
    """Every award with its status, dates and URLs, for HR (includes earners' emails: never publish it)."""
    from badgekiln.commands.export import export_rows, in_the_sources, render, write_report

    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    if fmt is None:
        fmt = suffix if suffix in ("csv", "json", "xlsx") else "csv"
    elif output is not None and suffix in ("csv", "json", "xlsx") and suffix != fmt:  # (CSV in an .xlsx: unopenable)
        raise click.UsageError(f"--format {fmt} does not match the file name {output.name}: use a .{fmt} name")
    if excel and fmt != "csv":
        raise click.UsageError("--excel is for --format csv (an .xlsx file needs no such help)")
    day = today_from_environment(today)
    rows = export_rows(source.resolve(), day, filters=_export_filters(day, badges, statuses, issued_from, issued_to))
    data = render(rows, fmt, day, excel=excel)
    if output is not None:
        write_report(source.resolve(), output, data)
        click.echo(f"wrote {len(rows)} award(s) to {output}", err=True)
        if kept := in_the_sources(source, output):
            where = "where the next 'git add .' commits it" if kept == "git" else "where it is kept"
            click.echo(
                f"warning: {output} is inside the site's folder, {where} with the sources (it holds earners' "
                "emails and their statuses): move it out, or write exports elsewhere (--output "
                f"~/{shlex.quote(output.name)})" + (", or add it to .gitignore" if kept == "git" else ""),
                err=True,
            )
    elif fmt == "xlsx" and sys.stdout.isatty():
        raise click.UsageError("an .xlsx export goes to a file: add --output awards.xlsx")
    else:
        stream = click.get_binary_stream("stdout")
        stream.write(data)
        stream.flush()


@report_group.command("stats")
@source_option
@today_option
@_export_filter_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def report_stats_command(source: Path, today: str | None, badges, statuses, issued_from, issued_to, fmt: str) -> None:
    """Awards by badge, by month of issue and by status, and how many earners were emailed."""
    import json

    from badgekiln.commands.export import export_rows, stats, stats_table

    day = today_from_environment(today)
    rows = export_rows(source.resolve(), day, filters=_export_filters(day, badges, statuses, issued_from, issued_to))
    summary = stats(rows)
    click.echo(json.dumps(summary, indent=2, ensure_ascii=False) if fmt == "json" else stats_table(summary))


@cli.command("endorse")
@source_option
@today_option
@click.option(
    "--target",
    required=True,
    metavar="URL_OR_DID",
    help="What this site endorses: a badge class's badge.json URL, or an issuer's profile URL or did:web.",
)
@click.option("--comment", required=True, help="The endorsement's text (endorsementComment).")
@click.option("--name", "slug", help="The endorsement's file name (slug); default: from the target.")
@click.option("--on", "on", help="Date of the endorsement (YYYY-MM-DD); default today.")
@click.option(
    "--out",
    type=ReachablePath(dir_okay=False, path_type=Path),
    help="Also write the signed EndorsementCredential here, to send to the endorsed site.",
)
def endorse_command(
    source: Path, today: str | None, target: str, comment: str, slug: str | None, on: str | None, out: Path | None
) -> None:
    """Endorse another issuer or badge class, signed with this site's own key and did:web."""
    from badgekiln.commands.endorse import endorse

    day = today_from_environment(today)
    done = endorse(
        source.resolve(),
        target=target,
        comment=comment,
        slug=slug,
        out=out,
        today=day,
        on=today_from_environment(on, option="--on") if on else day,
    )
    click.echo(
        f"recorded {done.record.relative_to(source.resolve()).as_posix()}; commit it and rebuild to publish "
        f"{done.credential_url}"
    )
    if done.out is not None:
        click.echo(
            f"wrote the signed endorsement to {done.out}; send it with your DID document "
            f"({done.did_document_url}) for the endorsed site to pin"
        )


@cli.group("endorsers")
def endorsers_group() -> None:
    """The endorsers' DID documents pinned in site_src/endorsers/: fetch one, or check them all."""


_NETWORK_OPTIONS = (
    click.option(
        "--offline-root",
        "offline_roots",
        multiple=True,
        metavar="URL=DIR",
        help="Serve URLs under URL from the files in DIR (repeatable), as for verify.",
    ),
    click.option("--allow-local", is_flag=True, help="Also fetch from this machine (loopback), as for verify."),
)


def _network_options(command):
    for option in reversed(_NETWORK_OPTIONS):
        command = option(command)
    return command


@endorsers_group.command("pin")
@source_option
@click.argument("did_or_url", metavar="DID_OR_URL")
@click.option("--name", help="The file name in site_src/endorsers/ (default: from the DID).")
@click.option("--replace", is_flag=True, help="Replace a pinned document of that name that differs.")
@_network_options
def endorsers_pin_command(
    source: Path,
    did_or_url: str,
    name: str | None,
    replace: bool,
    offline_roots: tuple[str, ...],
    allow_local: bool,
) -> None:
    """Fetch an endorser's DID document from where its did:web says and pin it, byte for byte."""
    from badgekiln.commands import endorsers
    from badgekiln.commands.verify import network_fetch
    from badgekiln.sources.validate import load_site_config

    site = source.resolve()
    own = load_site_config(site).published.did  # (not the whole site: the endorsement waiting for this pin fails it)
    try:
        fetch = network_fetch(offline_roots, allow_local=allow_local)
        path, did, changed = endorsers.pin(site, did_or_url, own_did=own, fetch=fetch, name=name, replace=replace)
    except BadgekilnError as exc:  # (it may quote what a server answered: escaped for the terminal)
        raise click.ClickException(printable(str(exc))) from None
    rel = path.relative_to(site).as_posix()
    if changed:
        click.echo(f"pinned {did} as {rel}: review and commit it; endorsements it signed now verify at build")
    else:
        click.echo(f"{rel} already holds what {did} publishes: nothing changed")


@endorsers_group.command("check")
@source_option
@_network_options
def endorsers_check_command(source: Path, offline_roots: tuple[str, ...], allow_local: bool) -> None:
    """Fetch every pinned DID document again and compare: exit 1 if one differs or cannot be fetched.

    Run it when reviewing a change to site_src/endorsers/ (a pin is what makes a page name the
    endorser), or on a schedule: an endorser that rotated its keys needs its pin fetched again."""
    from badgekiln.commands import endorsers
    from badgekiln.commands.verify import network_fetch

    try:
        network_fetch(offline_roots, allow_local=allow_local)  # (the options, checked once)
    except BadgekilnError as exc:
        raise click.ClickException(str(exc)) from None
    # (a fetch of its own for each pin, with its own deadline and budgets)
    checks = endorsers.check(source.resolve(), fetcher=lambda: network_fetch(offline_roots, allow_local=allow_local))
    if not checks:
        click.echo("no DID document is pinned in site_src/endorsers/")
        return
    words = {
        "same": "the same as published",
        "differs": "DIFFERS from what is published",
        "unreachable": "NOT CONFIRMED: the published document could not be read",
        "unreadable": "NOT READ",
    }
    for found in checks:  # (file names and details may hold anything: escaped for the terminal)
        detail = f" ({found.detail})" if found.detail else ""
        click.echo(printable(f"{found.file}: {found.did or '-'}: {words[found.outcome]}{detail}", newlines=False))
    bad = [c for c in checks if c.outcome != "same"]
    click.echo(f"{len(checks) - len(bad)} of {len(checks)} pinned document(s) confirmed")
    if bad:
        click.echo(
            "a pin that is not confirmed may not be the endorser's own: check it with them before you trust it",
            err=True,
        )
        for found in bad:
            if found.outcome == "differs" and found.did:
                command = endorsers.pin_command(found.did, Path(found.file).stem)
                click.echo(printable(f"  to take what {found.did} publishes now: {command}", newlines=False), err=True)
        sys.exit(1)


UNCHECKED_EXIT = 3  # verify: nothing checked was wrong, but a check could not be made (1: not valid)
NOT_A_BADGE_EXIT = 2  # verify: what was given is no badge (a web page): given wrongly, as a usage error


@cli.command("verify")
@click.argument("target", metavar="PATH_OR_URL")
@click.option("--now", help="When to check validity (ISO date or date-time, e.g. 2026-01-31). Default: now.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--recipient", metavar="EMAIL", help="Also check that the badge was awarded to this email address.")
@click.option(
    "--offline-root",
    "offline_roots",
    multiple=True,
    metavar="URL=DIR",
    help="Serve URLs under URL from the files in DIR (repeatable), e.g. to check output/ before deploying.",
)
@click.option(
    "--allow-local",
    is_flag=True,
    help="Also fetch from this machine (localhost, 127.0.0.1, ::1), over http too, e.g. a build that "
    "`badgekiln serve` shows. Private and link-local addresses are never fetched.",
)
def verify_command(
    target: str,
    now: str | None,
    as_json: bool,
    recipient: str | None,
    offline_roots: tuple[str, ...],
    allow_local: bool,
) -> None:
    """Verify an Open Badges 2.0/3.0 badge: hosted URL, JSON, JWS/VC-JWT or baked PNG/SVG.

    Exit status: 0 valid; 1 not valid (invalid, revoked, suspended, expired, not yet valid); 2 the
    command was given wrongly (no such file, a bad option) or what it was given is no badge (a
    web page, an image with none baked in); 3 not checked: a document it needs could not be
    fetched, and nothing that was checked is wrong.
    """
    from badgekiln.commands.verify import render_json, render_text, run_verify

    try:
        result = run_verify(target, now=now, recipient=recipient, offline_roots=offline_roots, allow_local=allow_local)
    except BadgekilnError as exc:  # (a target or option given wrongly: not a verdict on a badge)
        raise click.UsageError(str(exc)) from None
    click.echo(render_json(result) if as_json else render_text(result))
    if not result.valid:
        sys.exit({"unchecked": UNCHECKED_EXIT, "not a badge": NOT_A_BADGE_EXIT}.get(result.status, 1))


# OSError numbers that say something about the machine or the path given (a full disk, a read-only
# folder, missing permissions, a disk error, a path through a file or a loop of links), not about
# badgekiln: reported as an error naming the file, not as a bug.
ENVIRONMENT_ERRNOS = frozenset(
    (
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EMFILE,
        errno.ENFILE,
        errno.ENAMETOOLONG,
        errno.ENOTDIR,
        errno.ELOOP,
        errno.EIO,
    )
)


def _plain_body(message: Any) -> str:
    """The plain-text part of an email message (what a dry run shows)."""
    body = message.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command; print diagnostics, never a traceback, for user errors.

    Exit status: 0 success, 1 an error in the sources, settings or environment (or a badge that
    does not verify), 2 a usage error or an internal error (a bug: one line asks to report it;
    ``--verbose`` or ``BADGEKILN_VERBOSE=1`` adds the full trace), 130 interrupted (Ctrl-C).
    """
    options = RunOptions(verbose=os.environ.get("BADGEKILN_VERBOSE", "") not in ("", "0"))
    try:
        cli.main(args=argv, prog_name="badgekiln", standalone_mode=False, obj=options)
    except click.exceptions.Abort as exc:  # click turns Ctrl-C (and EOF at a prompt) into Abort
        click.echo("interrupted" if isinstance(exc.__context__, KeyboardInterrupt) else "aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BadgekilnError as exc:
        click.echo(exc.diagnostics(), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:  # e.g. 'badgekiln export | head': the reader went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:
        if exc.errno not in ENVIRONMENT_ERRNOS:
            _internal_error(exc, options.verbose)
        where = f"{printable(os.fsdecode(exc.filename), newlines=False)}: " if exc.filename else ""
        click.echo(f"error: {where}{printable(str(exc.strerror or exc))}", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the safety net: a bug must not end in a bare traceback
        _internal_error(exc, options.verbose)
    sys.exit(0)


def run(argv: list[str] | None = None) -> NoReturn:
    """The program's entry point (the ``badgekiln`` script, ``python -m badgekiln``, ``build.py``):
    :func:`main`, then the interpreter's exit handlers, then an exit that does not free every
    object one by one first. A build of 100,000 awards holds millions of them, and freeing them
    took 1.3 s of a 9 s rebuild; nothing is left to write by then (files are written and closed
    as the commands go, and the exit handlers end worker processes and remove temporary files).
    """
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = _exit_status(exc.code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # (a reader gone away, or a stream closed: nothing more to say)
            pass
    # (in the order the interpreter's own exit takes them: threads that are not daemons joined,
    # then the exit handlers)
    threading_shutdown = getattr(threading, "_shutdown", None)
    if threading_shutdown is not None:
        threading_shutdown()
    atexit._run_exitfuncs()
    os._exit(code)


def _exit_status(code: object) -> int:
    """The status ``sys.exit(code)`` ends a program with (a text is printed, and is 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(printable(str(code)), file=sys.stderr)
    return 1


def _internal_error(exc: BaseException, verbose: bool) -> NoReturn:
    """Report a bug in one line (the full trace first with ``verbose``) and exit with status 2."""
    if verbose:
        traceback.print_exception(exc)
    message = printable(" ".join(str(exc).split()))
    if len(message) > 300:
        message = message[:300] + "…"
    line = f"badgekiln: internal error: {type(exc).__name__}: {message} — please report this at {_report_to()}"
    click.echo(line if verbose else line + " (run with --verbose for the full trace)", err=True)
    sys.exit(2)


def _report_to() -> str:
    """Where to report a bug: the package's issue tracker URL, if its metadata names one."""
    try:
        from importlib.metadata import metadata

        for entry in metadata("badgekiln").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() in ("issues", "bug tracker", "tracker", "bugs") and url.strip():
                return url.strip()
    except Exception:  # noqa: BLE001 - never fail while reporting a failure
        pass
    return "the badgekiln issue tracker"


if __name__ == "__main__":
    main()

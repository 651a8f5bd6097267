"""``badgekiln export`` and ``badgekiln report stats``: every award for HR, as CSV, JSON or Excel.

For the provider's records and mail merges: it includes earners' email addresses, so it is
written for the provider, never published (an ``--output`` inside the site's output folder, or
inside any folder a build made, is refused).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from badgekiln.commands.award import badge_names, badge_slug
from badgekiln.engine.site import MARKER
from badgekiln.errors import BadgekilnError
from badgekiln.formats import urls
from badgekiln.models import Award, Recipient
from badgekiln.sources.eligibility import hundredths, show_points
from badgekiln.sources.notified import NOTIFIED, read_dates
from badgekiln.sources.validate import load_project

# The first eleven columns are those of earlier versions, in the same order (scripts read them).
COLUMNS = (
    "award_id",
    "recipient",
    "email",
    "badge",
    "issued_on",
    "expires",
    "status",
    "revoked_reason",
    "page_url",
    "assertion_url",
    "credential_url",
    "badge_name",
    "revoked_on",
    "notified_on",
    "skills",
    "renews",
    "renewed_by",
    "cpd_points",
    "cpd_points_last_year",
    "suspended_on",
    "suspended_reason",
)
DATE_COLUMNS = ("issued_on", "expires", "revoked_on", "notified_on", "suspended_on")
FORMATS = ("csv", "json", "xlsx")

# What HR reads in the status column. Award.status() says what the award itself is (and gains
# 'suspended' with membership lapses); this table only renames for people. An award that a later
# award renews reads 'renewed' (see award_status), unless it was revoked or suspended.
STATUS_NAMES = {"valid": "active"}
STATUSES = ("active", "expired", "revoked", "suspended", "renewed")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Filters:
    """Which awards to export; empty means all."""

    badges: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    issued_from: date | None = None
    issued_to: date | None = None

    def keep(self, row: dict) -> bool:
        """True when ``row`` passes every filter."""
        issued = date.fromisoformat(row["issued_on"])
        return (
            (not self.badges or row["badge"] in self.badges)
            and (not self.statuses or row["status"] in self.statuses)
            and (self.issued_from is None or issued >= self.issued_from)
            and (self.issued_to is None or issued <= self.issued_to)
        )


def award_status(award: Award, today: date, *, renewed: frozenset[str] = frozenset()) -> str:
    """The status of ``award`` on ``today`` as HR reads it: active, expired, revoked (and more to come).

    ``renewed`` holds the ids of awards that a later award renews; they read ``renewed`` rather
    than ``expired`` or ``active`` (a revoked or suspended award keeps that status).
    """
    own = award.status(today)
    if award.id in renewed and own in ("valid", "expired"):
        return "renewed"
    return STATUS_NAMES.get(own, own)


def export_rows(source: Path, today: date, *, base_url: str | None = None, filters: Filters = Filters()) -> list[dict]:
    """One row per award (see COLUMNS; ``skills`` is a list), ordered by recipient file then issue date."""
    loaded = load_project(source, base_url=base_url, today=today)
    config, project = loaded.config, loaded.project
    names = badge_names(project.badges)  # (a badge by its name too, in any case, as imports take it)
    filters = replace(filters, badges=tuple(badge_slug(text, project.badges, names) for text in filters.badges))
    unknown = [slug for slug in filters.badges if slug not in project.badges]
    shared = [text for text in unknown if names.get(" ".join(text.split()).casefold()) == ""]
    if shared:  # (a name several badges have: never guessed)
        raise BadgekilnError(f"{shared[0]!r} is the name of several badges: give --badge the slug of the one you mean")
    if unknown:
        raise BadgekilnError(
            f"there is no badge {', '.join(map(repr, unknown))}; badges are: {', '.join(sorted(project.badges))}"
        )
    notified = read_dates(source / NOTIFIED)
    renewed_by = project.renewed_by
    renewed = frozenset(renewed_by)
    rows = []
    for recipient in project.recipients:
        for award in sorted(recipient.awards, key=lambda a: (a.issued_on, a.id)):
            badge = project.badges[award.badge]
            row = {
                "award_id": award.id,
                "recipient": recipient.name,
                "email": recipient.email,
                "badge": award.badge,
                "issued_on": award.issued_on.isoformat(),
                "expires": award.expires.isoformat() if award.expires else "",
                "status": award_status(award, today, renewed=renewed),
                "revoked_reason": award.revoked.reason if award.revoked else "",
                "page_url": config.url(urls.award_dir(award.id)),
                "assertion_url": config.url(urls.assertion_json(award.id)),
                "credential_url": config.url(urls.credential_json(award.id)),
                "badge_name": badge.name,
                "revoked_on": award.revoked.on.isoformat() if award.revoked else "",
                "notified_on": notified.get(award.id, ""),
                "skills": list(badge.tags),
                # renewal links: the page URLs of the award this one renews and of the one renewing it
                "renews": config.url(urls.award_dir(award.renews)) if award.renews else "",
                "renewed_by": config.url(urls.award_dir(renewed_by[award.id].id)) if award.id in renewed_by else "",
                **cpd_totals(recipient, today),
                # (a suspension written in the YAML, or the build's for a lapsed membership)
                "suspended_on": award.suspended.on.isoformat() if award.suspended else "",
                "suspended_reason": award.suspended.reason if award.suspended else "",
            }
            if filters.keep(row):
                rows.append(row)
    return rows


def cpd_totals(recipient: Recipient, today: date) -> dict[str, str]:
    """The earner's CPD points logged up to ``today``: in all, and in the year ending on ``today``
    (both ends included, as for a badge's ``within: P1Y``); "" when they logged none."""
    if not recipient.cpd:
        return {"cpd_points": "", "cpd_points_last_year": ""}
    start = _year_before(today)
    logged = [a for a in recipient.cpd if a.on <= today]
    return {
        "cpd_points": show_points(sum(hundredths(a.points) for a in logged) / 100),
        "cpd_points_last_year": show_points(sum(hundredths(a.points) for a in logged if a.on >= start) / 100),
    }


def _year_before(today: date) -> date:
    """The first day of the year ending on ``today``: the same day a year earlier (28 February for 29)."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:
        return today.replace(year=today.year - 1, day=28)


# A separator a spreadsheet may split a cell at (a semicolon where it is the list separator, as in
# much of Europe; a tab or bar when the file is read with another), then spaces, then what would
# start a formula in the part after it.
_FORMULA_AFTER_SEPARATOR = re.compile("([,;\t|][ \u00a0\u2000-\u200b\u3000]*)(?=[=+\\-@])")


def spreadsheet_text(value: str) -> str:
    """A CSV cell that spreadsheets show as text: a leading = + - @ would start a formula (CSV
    injection), and so would one after a separator that a spreadsheet reading the file with
    another separator splits the cell at (``Ann;=HYPERLINK(…)``: a review, 2026-12-07), so each
    such part starts with an apostrophe too."""
    value = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _flat(row: dict) -> dict[str, str]:
    return {key: "; ".join(value) if isinstance(value, list) else value for key, value in row.items()}


def to_csv(rows: list[dict], *, excel: bool = False) -> str:
    """CSV text; ``excel``: with a UTF-8 BOM and CRLF line ends, as Excel expects."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n" if excel else "\n")
    writer.writeheader()
    writer.writerows({key: spreadsheet_text(value) for key, value in _flat(row).items()} for row in rows)
    return ("\ufeff" if excel else "") + buffer.getvalue()


def to_json(rows: list[dict]) -> str:
    """JSON text: a list of objects with the COLUMNS keys."""
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def to_xlsx(rows: list[dict], today: date) -> bytes:
    """An Excel workbook: dates as date cells, text never read as a formula; deterministic bytes."""
    from badgekiln.sources.sheets import xlsx_bytes

    def cell(key, value):
        if key in DATE_COLUMNS and value:
            return date.fromisoformat(value)
        return value

    table = [[cell(key, value) for key, value in _flat(row).items()] for row in rows]
    return xlsx_bytes(list(COLUMNS), table, title="Awards", when=today)


def render(rows: list[dict], fmt: str, today: date, *, excel: bool = False) -> bytes:
    """The export in ``fmt`` (csv, json or xlsx) as bytes."""
    if fmt == "xlsx":
        return to_xlsx(rows, today)
    return (to_json(rows) if fmt == "json" else to_csv(rows, excel=excel)).encode("utf-8")


def check_private_target(source: Path, target: Path, what: str = "an export") -> None:
    """Refuse ``target`` inside the site's output or any folder badgekiln built: ``what`` holds
    earners' emails and must never be published."""
    resolved = target.resolve()
    published = (source / "output").resolve()
    built = next((folder for folder in resolved.parents if os.path.lexists(folder / MARKER)), None)
    if resolved == published or published in resolved.parents or built is not None:
        where = f"a folder badgekiln built ({built}, marked by {MARKER})" if built else "the site's output folder"
        raise BadgekilnError(
            f"{target} is inside {where}: {what} holds earners' emails and must never be published; "
            "write it somewhere else"
        )


def in_the_sources(source: Path, target: Path) -> str | None:
    """How ``target`` inside the site's folder would be kept with the sources: ``"git"`` in a git
    repository that does not ignore it (``git check-ignore``: the next ``git add .`` commits it),
    ``"folder"`` where git cannot tell (not a repository, no git, no answer within
    :data:`GIT_TIMEOUT`); None outside the site's folder, in ``.badgekiln/``, or ignored. An
    export left there went into git with the next commit of the sources (a membership body's
    review: the README's examples wrote ``awards.xlsx`` there)."""
    resolved, root = target.resolve(), source.resolve()
    if root not in resolved.parents or (root / ".badgekiln") in resolved.parents:
        return None
    try:
        checked = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "-q", "--", str(resolved)],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "folder"
    return {0: None, 1: "git"}.get(checked.returncode, "folder")  # (128: not a repository, or an error)


GIT_TIMEOUT = 3.0  # seconds


def write_report(source: Path, target: Path, data: bytes) -> None:
    """Write an export to ``target`` in one rename; never inside the site's published output."""
    check_private_target(source, target)
    resolved = target.resolve()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{resolved.name}.", dir=resolved.parent)
    except OSError as exc:
        raise BadgekilnError(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o600)  # personal data: readable by its owner only
        os.replace(tmp, resolved)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def stats(rows: list[dict]) -> dict:
    """Counts for ``report stats``: by badge, by month of issue, by status, and awards announced by email."""
    by_badge: dict[str, dict] = {}
    for row in rows:
        entry = by_badge.setdefault(
            row["badge"], {"name": row["badge_name"], "awards": 0, **{status: 0 for status in STATUSES}}
        )
        entry["awards"] += 1
        entry[row["status"]] = entry.get(row["status"], 0) + 1
    statuses = Counter(row["status"] for row in rows)
    return {
        "awards": len(rows),
        "by_badge": dict(sorted(by_badge.items())),
        "by_month": dict(sorted(Counter(row["issued_on"][:7] for row in rows).items())),
        "by_status": {
            status: statuses.get(status, 0) for status in (*STATUSES, *sorted(set(statuses) - set(STATUSES)))
        },
        "cpd": _cpd_stats(rows),
        "emails": {
            "sent": sum(1 for row in rows if row["notified_on"]),
            "not_sent_active": sum(1 for row in rows if not row["notified_on"] and row["status"] == "active"),
        },
    }


def _cpd_stats(rows: list[dict]) -> dict:
    """CPD totals of the earners in ``rows`` (each earner counted once)."""
    earners = {row["email"]: row for row in rows if row.get("cpd_points")}
    return {
        "earners": len(earners),
        "points": show_points(sum(hundredths(float(r["cpd_points"])) for r in earners.values()) / 100),
        "points_last_year": show_points(
            sum(hundredths(float(r["cpd_points_last_year"])) for r in earners.values()) / 100
        ),
    }


def stats_table(summary: dict) -> str:
    """``report stats`` as text for a terminal."""
    lines = [f"{summary['awards']} award(s)", "", "by badge:"]
    for slug, entry in summary["by_badge"].items():
        counts = ", ".join(f"{entry[s]} {s}" for s in STATUSES)
        lines.append(f"  {entry['awards']:6}  {entry['name']} ({slug}): {counts}")
    lines += ["", "by month of issue:"]
    lines += [f"  {month}  {count:6}" for month, count in summary["by_month"].items()]
    lines += ["", "by status:"]
    lines += [f"  {status:10} {count:6}" for status, count in summary["by_status"].items()]
    cpd = summary["cpd"]
    lines += [
        "",
        f"CPD: {cpd['points']} point(s) logged by {cpd['earners']} earner(s), {cpd['points_last_year']} in the last year",
    ]
    emails = summary["emails"]
    # (awards whose announcement went out: reminders and news of the same awards are not counted,
    # and "emails sent: 5" after ten messages read as a miscount: a membership body's review)
    lines += [
        "",
        f"awards announced by email: {emails['sent']}; active awards not yet announced: {emails['not_sent_active']}",
    ]
    return "\n".join(lines)

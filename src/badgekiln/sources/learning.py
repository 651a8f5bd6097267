"""CPD logs, CPD requirements, pathways (stacked badges) and portfolios, as the sources write them.

:mod:`badgekiln.sources.validate` calls these while it reads a badge or recipient file (one file
at a time, and memoized) and, once every file is read, for what spans files: the badges a
pathway names must exist and never require themselves (a cycle is reported with its path),
portfolio handles must be unique, and ``site_src/cpd.csv`` adds activities to the earners its
``email`` column names. Every problem is a located :class:`~badgekiln.errors.Diagnostic`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from badgekiln.errors import Diagnostic, SourceError, SourceLocation
from badgekiln.models import BadgeClass, CpdActivity, CpdRequirement, Pathway, Recipient
from badgekiln.sources import safefiles
from badgekiln.sources.fields import (
    DATE_RE,
    EMAIL_RE,
    SLUG_RE,
    Fields,
    bad_character,
    did_you_mean,
    url_problem,
)

CPD_CSV = "site_src/cpd.csv"
CPD_CSV_COLUMNS = ("email", "date", "points", "activity", "evidence")
MAX_CPD_CSV_BYTES = 8 * 1024 * 1024
MAX_CPD_ROWS = 100_000
MAX_POINTS = 1000  # in one activity, or required by one badge
MAX_COMPONENTS = 50  # badges one pathway may name
HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,39}\Z")
# Handles that read as something else than an earner's chosen name.
RESERVED_HANDLES = frozenset({"index", "portfolio", "earners", "admin", "badges", "awards", "assets", "static"})


# -- one badge file ---------------------------------------------------------------------------


def cpd_requirement(fields: Fields) -> CpdRequirement | None:
    """A badge's ``cpd: {points: 20, within: P1Y}`` (``within`` optional: every point logged counts)."""
    data = fields.raw("cpd")
    if data is None:
        return None
    where = fields.where("cpd")
    sub = Fields(data, where, fields.diagnostics, "cpd")
    points = _points(sub, "points", required=True)
    within = sub.duration("within")
    sub.finish()
    if points is None or not sub.ok:
        return None
    return CpdRequirement(points=points, within=within, location=where)


def pathway(fields: Fields) -> Pathway | None:
    """A badge's ``requires: {all: [a, b]}`` or ``requires: {any: 2, of: [a, b, c]}`` (+ ``current: true``).

    Only the shape is checked here; that the slugs are badges, and that no badge requires itself,
    is :func:`check_pathways` (it needs every badge).
    """
    data = fields.raw("requires")
    if data is None:
        return None
    where = fields.where("requires")
    sub = Fields(data, where, fields.diagnostics, "requires")
    if not sub.ok:
        return None
    has_all, has_any = "all" in sub.data, "any" in sub.data
    current = sub.boolean("current", False)
    if has_all == has_any:
        for key in ("all", "any", "of"):
            sub.raw(key)
        sub.finish()
        sub.error(
            "bad-requires",
            "'requires' takes either 'all: [badge, …]' or 'any: N' with 'of: [badge, …]'",
            where,
            "for example requires: {all: [first-aid-at-work, confined-space-entry]}",
        )
        return None
    key = "all" if has_all else "of"
    items = sub.items(key, required=True)
    needed = None
    if has_any:
        needed = sub.integer("any", 0)
        if needed < 1:
            sub.error("bad-requires", f"'any' must be a whole number of at least 1, not {sub.written('any')}", where)
            needed = None
    sub.finish()
    slugs: list[str] = []
    locations: list[SourceLocation] = []
    for item, location in items:
        if not isinstance(item, str) or not SLUG_RE.match(item):
            sub.error("bad-identifier", f"every item of '{key}' must be a badge slug, not {item!r}", location)
            return None
        if item in slugs:
            sub.error("duplicate-component", f"{item!r} is named twice in '{key}'", location)
            return None
        slugs.append(item)
        locations.append(location)
    if not slugs:
        if items == [] and sub.raw(key) is not None:
            sub.error("bad-requires", f"'{key}' must name at least one badge", sub.where(key))
        return None
    if len(slugs) > MAX_COMPONENTS:
        sub.error("bad-requires", f"a pathway may name at most {MAX_COMPONENTS} badges", sub.where(key))
        return None
    if needed is not None and needed > len(slugs):
        sub.error(
            "bad-requires",
            f"'any: {needed}' asks for more badges than the {len(slugs)} that 'of' names",
            sub.where("any"),
        )
        return None
    if has_any and needed is None:
        return None
    return Pathway(
        of=tuple(slugs),
        needed=len(slugs) if has_all else needed or 0,
        all=has_all,
        current=current,
        location=where,
        item_locations=tuple(locations),
    )


def check_pathways(badges: dict[str, BadgeClass], badge_files: set[str], diagnostics: list[Diagnostic]) -> None:
    """Every component of every pathway is a badge, and no badge requires itself, however indirectly."""
    for _, badge in sorted(badges.items()):
        if badge.requires is None:
            continue
        locations = list(badge.requires.item_locations) + [None] * len(badge.requires.of)
        for component, location in zip(badge.requires.of, locations, strict=False):
            if component in badges or component in badge_files:  # (a badge file with errors: reported there)
                continue
            diagnostics.append(
                Diagnostic(
                    "error",
                    "unknown-badge",
                    f"the pathway names {component!r}, but there is no badge {component!r} "
                    f"(no file badges/{component}.yaml)",
                    location or badge.requires.location,
                    did_you_mean(component, badges) or f"badges are: {', '.join(sorted(badges))}",
                )
            )
    reported: set[frozenset[str]] = set()
    for start in sorted(badges):
        cycle = _cycle_from(start, badges)
        if cycle is None or frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        first = badges[cycle[0]]
        alone = len(cycle) == 1  # (a badge that requires itself: "x → x" read as a riddle, a review)
        diagnostics.append(
            Diagnostic(
                "error",
                "pathway-cycle",
                f"the badge {cycle[0]!r} names itself in its 'requires' (a badge cannot be a step to itself)"
                if alone
                else "these badges require each other, so none could ever be earned: " + " → ".join([*cycle, cycle[0]]),
                first.requires.location if first.requires else first.location,
                f"remove {cycle[0]!r} from its own 'requires'"
                if alone
                else "remove one of these badges from the other's 'requires'",
            )
        )


def _cycle_from(start: str, badges: dict[str, BadgeClass]) -> list[str] | None:
    """The cycle of required badges that leads back to ``start`` (depth first, without recursion:
    a pathway may be thousands of badges deep), or None."""
    seen: set[str] = set()
    path: list[str] = [start]
    stack = [iter(_components(start, badges))]
    while stack:
        component = next(stack[-1], None)
        if component is None:
            stack.pop()
            path.pop()
            continue
        if component == start:
            return list(path)
        if component in seen or component not in badges:
            continue
        seen.add(component)
        path.append(component)
        stack.append(iter(_components(component, badges)))
    return None


def _components(slug: str, badges: dict[str, BadgeClass]) -> tuple[str, ...]:
    badge = badges.get(slug)
    return badge.requires.of if badge and badge.requires else ()


# -- one recipient file -----------------------------------------------------------------------


def cpd_log(fields: Fields, today: date | None) -> tuple[CpdActivity, ...]:
    """A recipient's ``cpd: [{date, points, activity, evidence?}, …]``, oldest first."""
    found = []
    for item, location in fields.items("cpd"):
        sub = Fields(item, location, fields.diagnostics, "CPD activity")
        on = sub.date("date", required=True)
        points = _points(sub, "points", required=True)
        activity = sub.text("activity", required=True, single_line=True, max_len=300)
        evidence = sub.url("evidence", schemes=("https",))
        sub.finish()
        if on and today and on > today:
            sub.error(
                "future-date",
                f"the CPD activity's date ({on}) is in the future",
                sub.where("date"),
                "log an activity once it has taken place",
            )  # (kept in the log all the same: the build fails, and a memo of this file knows the date)
        if on and points is not None and activity:
            found.append(CpdActivity(on=on, points=points, activity=activity, evidence=evidence, location=location))
    return tuple(sorted(found, key=lambda a: (a.on, a.activity)))


def portfolio(fields: Fields) -> tuple[bool, str | None]:
    """``portfolio: true`` and the ``handle`` its page is published under (``earners/<handle>/``)."""
    wanted = fields.boolean("portfolio", False)
    handle = fields.raw("handle")
    if handle is not None and (not isinstance(handle, str) or not HANDLE_RE.match(handle)):
        fields.error(
            "bad-handle",
            f"'handle' must be 3 to 40 characters of a-z, 0-9 and '-', starting with a letter or digit (got {handle!r})",
            fields.where("handle"),
            "it is part of the portfolio's address: earners/<handle>/",
        )
        handle = None
    elif handle in RESERVED_HANDLES:
        fields.error("bad-handle", f"the handle {handle!r} is reserved", fields.where("handle"), "choose another one")
        handle = None
    if wanted and handle is None and "handle" not in fields.data:
        fields.error(
            "missing-key",
            "a portfolio needs a 'handle': the name its address uses (earners/<handle>/)",
            fields.where("portfolio"),
            "add a line 'handle: …' chosen by the earner (it is published)",
        )
    if handle is not None and not wanted:
        fields.warning(
            "unused-handle",
            "'handle' is only used with 'portfolio: true'; no portfolio page is published",
            fields.where("handle"),
            "add 'portfolio: true' if the earner wants a public portfolio",
        )
    return wanted and handle is not None, handle if wanted else None


# -- across files -----------------------------------------------------------------------------


def check_handles(recipients: list[Recipient], diagnostics: list[Diagnostic]) -> None:
    """No two earners share a portfolio handle."""
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        if not recipient.handle:
            continue
        first = seen.setdefault(recipient.handle, recipient)
        if first is not recipient:
            diagnostics.append(
                Diagnostic(
                    "error",
                    "duplicate-handle",
                    f"the portfolio handle {recipient.handle!r} is also used by {first.location}",
                    recipient.location,
                    "every portfolio needs its own handle",
                )
            )


def add_cpd_csv(
    source: Path, recipients: list[Recipient], today: date | None, diagnostics: list[Diagnostic]
) -> list[Recipient]:
    """The recipients with the activities of ``site_src/cpd.csv`` (if there is one) added to their logs.

    Columns (a header line first, any order and case): ``email`` (an earner's address, as in their
    file), ``date``, ``points``, ``activity`` and optionally ``evidence`` (an https URL).
    """
    try:
        found = safefiles.lookup(source, CPD_CSV)
        if found is None:
            return recipients
        raw = safefiles.read_bytes(source, CPD_CSV, limit=MAX_CPD_CSV_BYTES)
    except SourceError as exc:
        diagnostics.append(exc.diagnostic)
        return recipients
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        diagnostics.append(
            Diagnostic(
                "error",
                "bad-encoding",
                f"the file is not UTF-8 text (byte {exc.start})",
                SourceLocation(CPD_CSV, raw[: exc.start].count(b"\n") + 1),  # (its line, as members.csv says)
                "save it as 'CSV UTF-8'",
            )
        )
        return recipients
    by_email = {r.email: r for r in recipients}
    added: dict[str, list[CpdActivity]] = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(reader, [])]
    except csv.Error as exc:
        diagnostics.append(Diagnostic("error", "bad-csv", f"cannot read the header: {exc}", SourceLocation(CPD_CSV, 1)))
        return recipients
    missing = [c for c in ("email", "date", "points", "activity") if c not in header]
    unknown = [h for h in header if h not in CPD_CSV_COLUMNS]
    if missing or unknown:
        diagnostics.append(
            Diagnostic(
                "error",
                "bad-columns",
                f"the header must name the columns {', '.join(CPD_CSV_COLUMNS[:4])} (and optionally evidence)"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
                SourceLocation(CPD_CSV, 1, 1),
            )
        )
        return recipients
    rows = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            diagnostics.append(
                Diagnostic("error", "bad-csv", f"cannot read this row: {exc}", SourceLocation(CPD_CSV, reader.line_num))
            )
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        rows += 1
        if rows > MAX_CPD_ROWS:
            diagnostics.append(
                Diagnostic("error", "too-many-rows", f"more than {MAX_CPD_ROWS} rows", SourceLocation(CPD_CSV, line))
            )
            break
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            diagnostics.append(
                Diagnostic(
                    "error",
                    "extra-cells",
                    f"this row has {len(cells)} cells but the header names {len(header)} columns",
                    SourceLocation(CPD_CSV, line, 1),
                    "a value probably contains a comma: put that value in double quotes",
                )
            )
            continue
        activity = _csv_activity(dict(zip(header, cells, strict=False)), line, by_email, today, diagnostics)
        if activity is not None:
            email, entry = activity
            added.setdefault(email, []).append(entry)
    if not added:
        return recipients
    return [
        replace(r, cpd=tuple(sorted(r.cpd + tuple(added[r.email]), key=lambda a: (a.on, a.activity))))
        if r.email in added
        else r
        for r in recipients
    ]


def _csv_activity(
    row: dict[str, str], line: int, by_email: dict[str, Recipient], today: date | None, diagnostics: list[Diagnostic]
) -> tuple[str, CpdActivity] | None:
    location = SourceLocation(CPD_CSV, line, 1)

    def error(message: str, hint: str | None = None) -> None:
        diagnostics.append(Diagnostic("error", "bad-cpd-row", message, location, hint))

    email = row.get("email", "").strip().lower()
    text = {k: (v or "").strip() for k, v in row.items()}
    for key, value in text.items():
        bad = bad_character(value, allow_newlines=False)
        if bad is not None:
            error(f"'{key}' contains a character that is not text ({bad})")
            return None
    if not EMAIL_RE.match(email):
        error(f"'email' is not an email address: {text.get('email')!r}")
        return None
    if email not in by_email:
        error("no recipient file has this email address", "add the earner's file in recipients/ first")
        return None
    day = None
    if DATE_RE.match(text.get("date", "")):
        try:
            day = date.fromisoformat(text["date"])
        except ValueError:
            pass
    if day is None:
        error(f"'date' must be a date written YYYY-MM-DD, not {text.get('date')!r}")
        return None
    if today and day > today:
        error(f"the CPD activity's date ({day}) is in the future")
        return None
    given = text.get("points", "").strip()
    # (ASCII digits only: float() reads "٥" or "５" as 5, which the sheet's reader may not see as a number)
    points = float(given) if _POINTS_TEXT.fullmatch(given) else -1.0
    if not _good_points(points):
        error(f"'points' must be a number above 0 and at most {MAX_POINTS}, not {text.get('points')!r}")
        return None
    activity = text.get("activity", "")
    if not activity or len(activity) > 300:
        error("'activity' must be a text of 1 to 300 characters")
        return None
    if email in activity.lower():
        error("'activity' contains the earner's email address, which would be published")
        return None
    evidence = text.get("evidence") or None
    if evidence is not None and email in evidence.lower():
        error("'evidence' contains the earner's email address, which would be published")
        return None
    if evidence is not None and (problem := url_problem(evidence, ("https",))) is not None:
        error(f"'evidence' must be an https URL, not {evidence!r}: {problem}")
        return None
    return email, CpdActivity(on=day, points=points, activity=activity, evidence=evidence, location=location)


def _points(fields: Fields, key: str, *, required: bool) -> float | None:
    value: Any = fields.raw(key, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not _good_points(float(value)):
        fields.error(
            "bad-points",
            f"'{key}' must be a number above 0 and at most {MAX_POINTS} (two decimals at most), not {value!r}",
            fields.where(key),
        )
        return None
    return float(value)


_POINTS_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")


def _good_points(points: float) -> bool:
    """Above zero, at most MAX_POINTS, with at most two decimals (totals are kept exact in hundredths)."""
    return 0 < points <= MAX_POINTS and abs(points * 100 - round(points * 100)) < 1e-6

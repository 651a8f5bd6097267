"""``badgekiln report eligible`` and ``badgekiln award --eligible``: badges earned by CPD points and pathways.

The rules are :mod:`badgekiln.sources.eligibility`'s. An award made here is written like any
other (``badgekiln award``): appended to the earner's file with its permanent id, a minimal diff;
its evidence lists what earned it: the CPD activities (activity, date, points, evidence link) or
the component awards (their pages). Never the earner's email: the evidence is published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from badgekiln.commands.award import renewed_award
from badgekiln.commands.awardledger import record_new_awards
from badgekiln.errors import BadgekilnError, Diagnostic, ValidationFailed
from badgekiln.formats import ids, urls
from badgekiln.models import Project
from badgekiln.sources.config import SiteConfig
from badgekiln.sources.editlock import editing_sources
from badgekiln.sources.eligibility import Check, eligible, has_rules, show_points
from badgekiln.sources.fields import MAX_EVIDENCE, did_you_mean
from badgekiln.sources.members import last_days, read_members
from badgekiln.sources.records import Field, append_award, yaml_plain, yaml_scalar
from badgekiln.sources.validate import load_project


@dataclass(frozen=True)
class EligibleRow:
    """One line of ``report eligible`` (for the provider: it includes the earner's email)."""

    recipient: str
    email: str
    file: str
    badge: str
    badge_name: str
    cpd_points: str
    components: tuple[str, ...]
    why: str

    def as_dict(self) -> dict:
        return {
            "recipient": self.recipient,
            "email": self.email,
            "file": self.file,
            "badge": self.badge,
            "badge_name": self.badge_name,
            "cpd_points": self.cpd_points,
            "components": list(self.components),
            "why": self.why,
        }


@dataclass
class EligibleResult:
    """What ``award --eligible`` did."""

    added: list[tuple[str, str, str]] = field(default_factory=list)  # (award id, badge, recipient file)
    recorded: int = 0  # awards added to site_src/awards.lock
    warnings: list[Diagnostic] = field(default_factory=list)  # (why the ledger does not record them, if it does not)


def _checks(source: Path, today: date, badge: str | None) -> tuple[SiteConfig, Project, list[Check]]:
    loaded = load_project(source, today=today)
    project = loaded.project
    if badge is not None and badge not in project.badges:
        hint = did_you_mean(badge, project.badges) or f"badges are: {', '.join(sorted(project.badges))}"
        raise BadgekilnError(f"there is no badge {badge!r}; {hint}")
    if badge is not None and not has_rules(project.badges[badge]):
        raise BadgekilnError(
            f"badge {badge!r} has no 'cpd:' or 'requires:' rule, so nobody becomes eligible for it; "
            "award it with 'badgekiln award --badge'"
        )
    memberships = last_days(project.recipients, read_members(source, []))  # (as the build decides a lapse)
    return loaded.config, project, eligible(project, today, badge=badge, memberships=memberships)


def report(source: Path, today: date, *, badge: str | None = None) -> list[EligibleRow]:
    """Who qualifies, on ``today``, for which badge earned by CPD points or a pathway, and why."""
    _, _, checks = _checks(source, today, badge)
    return [
        EligibleRow(
            recipient=c.recipient.name,
            email=c.recipient.email,
            file=c.recipient.location.path if c.recipient.location else "",
            badge=c.badge.slug,
            badge_name=c.badge.name,
            cpd_points=show_points(c.points) if c.badge.cpd else "",
            components=tuple(a.id for a in c.components),
            why="; ".join(c.reasons),
        )
        for c in checks
    ]


@editing_sources
def award_eligible(source: Path, today: date, *, badge: str | None = None) -> EligibleResult:
    """Award every badge that an earner qualifies for on ``today`` (issued on ``today``).

    Rounds repeat while they award something: a pathway badge awarded now may complete a pathway
    of pathways. Each round reads the files again, so what it writes is what was validated.
    """
    result = EligibleResult()
    # Each round gives every earner at most one award of each badge they do not hold yet (valid
    # or suspended), so the rounds end (a chain of N stacked badges takes N rounds). A round that
    # would award an earner a badge this run awarded them already is going round in circles (a
    # review found one: a lapsed member's award, suspended at once, made them eligible again, for
    # ever): it stops before writing it (_award_round).
    while True:
        try:
            if not _award_round(source, today, badge, result):
                if result.added:
                    result.recorded = record_new_awards(source, today, result.warnings)
                return result
        except ValidationFailed as failed:
            if not result.added:
                raise
            raise ValidationFailed(
                failed.items, written=tuple(dict.fromkeys(rel for _, _, rel in result.added))
            ) from None


def _award_round(source: Path, today: date, badge: str | None, result: EligibleResult) -> bool:
    config, project, checks = _checks(source, today, badge)
    if not checks:
        return False
    taken = {a.id for a in project.awards}
    given = {(rel, slug) for _, slug, rel in result.added}
    again = [c for c in checks if c.recipient.location and (c.recipient.location.path, c.badge.slug) in given]
    if again:
        check = again[0]
        raise BadgekilnError(
            f"award --eligible stopped: {check.recipient.location} would get {check.badge.slug} a second time "
            "in this run (the award it was just given does not count as held on the day it is issued); "
            f"{len(result.added)} award(s) were written: review them (git diff) and report this"
        )
    for check in checks:
        recipient = check.recipient
        rank = 0
        while True:
            award_id = ids.derive_award_id(recipient.email, check.badge.slug, today.isoformat(), rank)
            if award_id not in taken:
                break
            rank += 1
        taken.add(award_id)
        assert recipient.location is not None  # (validated records know where they were written)
        rel = recipient.location.path
        renewed = renewed_award(project, recipient, check.badge.slug, today)
        fields = award_fields(
            config,
            check,
            award_id,
            today,
            names={s: b.name for s, b in project.badges.items()},
            renews=renewed.id if renewed is not None else None,
        )
        append_award(source / rel, rel, fields, award_id)
        result.added.append((award_id, check.badge.slug, rel))
    return True


def award_fields(
    config: SiteConfig, check: Check, award_id: str, today: date, *, names: dict[str, str], renews: str | None = None
) -> list[Field]:
    """The YAML of the award that ``check`` earned: id, badge, date, a narrative, the evidence and
    the award it renews (``renews``), if any."""
    evidence = []
    narrative = []
    if check.badge.cpd is not None:
        start, end = check.window
        span = f"between {start} and {end}" if start else f"up to {end}"
        narrative.append(
            f"Earned with {show_points(check.points)} CPD points logged {span} "
            f"({show_points(check.badge.cpd.points)} required)."
        )
        room = MAX_EVIDENCE - len(check.components)  # (the build refuses more evidence: a verifier does)
        activities = check.activities
        if len(activities) > room:
            activities = activities[-room:]  # (oldest first)
            narrative.append(f"The latest {room:,} of its {len(check.activities):,} activities are its evidence.")
        for activity in activities:
            item = {
                "name": activity.activity,
                "narrative": f"CPD activity on {activity.on}: {show_points(activity.points)} points",
            }
            if activity.evidence:
                item["url"] = activity.evidence
            evidence.append(item)
    if check.badge.requires is not None:
        narrative.append(
            "Completes the pathway: "
            + ", ".join(names.get(a.badge, a.badge) for a in check.components)
            + (
                ""
                if check.badge.requires.all
                else f" ({check.badge.requires.needed} of {len(check.badge.requires.of)})"
            )
            + "."
        )
        for component in check.components:
            evidence.append(
                {
                    "url": config.url(urls.award_dir(component.id)),
                    "name": f"{names.get(component.badge, component.badge)} (award {component.id})",
                    "narrative": f"Component of the pathway, issued on {component.issued_on}",
                }
            )
    fields: list[Field] = [
        ("id", yaml_plain(award_id)),
        ("badge", yaml_plain(check.badge.slug)),
        ("issued_on", today.isoformat()),
        ("narrative", yaml_scalar(" ".join(narrative))),
    ]
    if evidence:
        fields.append(("evidence", [[(key, yaml_scalar(value)) for key, value in item.items()] for item in evidence]))
    if renews is not None:  # (a CPD badge earned again after it expired: its renewal, as award does)
        fields.append(("renews", yaml_plain(renews)))
    return fields

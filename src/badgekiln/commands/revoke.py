"""``badgekiln revoke``: a revocation written into the earner's YAML (nothing is ever deleted)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from badgekiln.errors import BadgekilnError
from badgekiln.models import Award, Project, Recipient
from badgekiln.sources.editlock import editing_sources
from badgekiln.sources.fields import bad_character, did_you_mean, email_in_text
from badgekiln.sources.records import add_revocation
from badgekiln.sources.validate import MAX_REASON, load_project


def published_reason(reason: str, what: str) -> str:
    """``reason`` on one line, refused when empty or when it holds an email address (it is
    published with the badge: the build would refuse it, after the file was edited)."""
    reason = " ".join(reason.split())
    if not reason:
        raise BadgekilnError(f'a {what} needs a reason (--reason "…"); it is published with the badge')
    bad = bad_character(reason, allow_newlines=False)  # (the command line checks its own; an issue form's does not)
    if bad:
        raise BadgekilnError(f"the reason is published with the badge, and holds a character that is not text ({bad})")
    found = email_in_text(reason)
    if found:
        raise BadgekilnError(
            f"the reason is published with the badge, and holds an email address ({found}): "
            "name the person or their role instead"
        )
    if len(reason) > MAX_REASON:  # (the build refused it, after the file was edited: a review)
        raise BadgekilnError(
            f"the reason is published with the badge, and is {len(reason)} characters; the limit is {MAX_REASON}"
        )
    return reason


def award_id_from(text: str) -> str:
    """An award id as given on the command line or in a form: pasted with spaces (around it or
    inside it), in capitals, with the full stop of a sentence, or as the badge page's URL or path
    (``https://…/awards/<id>/``, ``awards/<id>``)."""
    text = text.strip()
    if "://" in text:  # (a page's address: its query and fragment name no award, a review)
        text = text.split("?", 1)[0].split("#", 1)[0]
    if "/awards/" in text:  # (the last: a site at …/staff-awards/ or …/awards-site/awards/ too, a review)
        text = text.rsplit("/awards/", 1)[1].split("/", 1)[0]
    elif text.startswith("awards/"):
        text = text[len("awards/") :].split("/", 1)[0]
    return "".join(text.split()).strip(".,;:!?'\"()<>").lower()


def find_award(project: Project, award_id: str) -> tuple[Recipient, Award]:
    """The award with ``award_id`` (as :func:`award_id_from` reads it) and its recipient."""
    award_id = award_id_from(award_id)
    for recipient in project.recipients:
        for award in recipient.awards:
            if award.id == award_id:
                return recipient, award
    hint = did_you_mean(award_id, [award.id for award in project.awards])
    raise BadgekilnError(
        f"there is no award {award_id!r}; "
        + (hint or "award ids are the last part of badge page URLs (…/awards/<id>/)")
    )


@editing_sources
def revoke(source: Path, award_id: str, reason: str, on: date, today: date) -> Path:
    """Write the revocation into the recipient's YAML; returns the file edited."""
    reason = published_reason(reason, "revocation")
    loaded = load_project(source, today=today)
    recipient, award = find_award(loaded.project, award_id)
    award_id = award.id
    if award.revoked is not None:
        raise BadgekilnError(f"award {award_id} is already revoked (on {award.revoked.on}: {award.revoked.reason})")
    if on > today:
        raise BadgekilnError(
            f"the revocation date {on} is in the future; give today's date or an earlier one with --on, or revoke on that day"
        )
    if on < award.issued_on:
        raise BadgekilnError(f"the revocation date {on} is before the award was issued ({award.issued_on})")
    assert (
        recipient.location is not None and award.location is not None
    )  # (validated records know where they were written)
    rel = recipient.location.path
    add_revocation(
        source / rel, rel, award.location, award_id, on=on.isoformat(), reason=reason, pin_id=not award.id_pinned
    )
    return source / rel

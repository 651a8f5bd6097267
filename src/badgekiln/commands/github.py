"""GitHub glue: the workflows and issue forms ``init`` writes, and ``badgekiln github-issue``.

``github-issue`` reads the ``issues`` event GitHub Actions saves in ``$GITHUB_EVENT_PATH`` and
turns an issue made with the "Award a badge" or "Revoke an award" form into changed sources, for
the workflow to propose as a pull request. The issue's body is hostile input (anyone may open an
issue on a public repository): it is read from the event file only, parsed as data, checked like
a CSV row, and acted on only for people with write access.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from badgekiln.errors import (
    BadgekilnError,
    Diagnostic,
    SourceLocation,
    ValidationFailed,
)
from badgekiln.formats import htmltext
from badgekiln.sources.fields import emails_in_text

WORKFLOWS = ".github/workflows"
PUBLISH = f"{WORKFLOWS}/publish.yml"
DAILY = f"{WORKFLOWS}/daily.yml"
CHECK = f"{WORKFLOWS}/check.yml"  # (pull requests: the sources checked, the endorsers' pins too)
AWARD_FORM = ".github/ISSUE_TEMPLATE/award.yml"
GITATTRIBUTES = ".gitattributes"
REVOKE_FORM = ".github/ISSUE_TEMPLATE/revoke.yml"
AWARD_LABEL, REVOKE_LABEL = "award", "revoke"
TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
NO_RESPONSE = "_No response_"
MAX_EVENT_BYTES = 1_000_000

# The form's labels (as GitHub renders them into the issue body) → badgekiln's field names.
AWARD_FIELDS = {
    "Earner's name": "name",
    "Earner's email": "email",
    "Badge": "badge",
    "Date issued": "issued_on",
    "Evidence URL": "evidence_url",
    "Narrative": "narrative",
}
REVOKE_FIELDS = {"Award id": "award_id", "Reason": "reason", "Date revoked": "revoked_on"}

# A level-3 heading as CommonMark reads one: up to three spaces before it, any closing #s after.
_HEADING = re.compile(r"^ {0,3}###[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
# What GitHub renders as HTML, and so may show nothing of: a comment, a <! or <? construct, or a
# tag, opening or closing, anywhere in a line (an unclosed <details> in the middle of a line
# folds away the headings after it: a second review); not an autolink, <https://…> or
# <name@host>, whose name is followed by ':' or '@'.
_HTML_COMMENT = "<!--"
_HTML_TAG = re.compile(r"<[!?]|</?[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)")  # (\s: a form feed or vertical tab too)
_OPTION_SLUG = re.compile(r"\(([a-z0-9][a-z0-9-]*)\)$")


class IssueError(BadgekilnError):
    """An issue or event that cannot be turned into a change of the sources. ``edit``: editing the
    issue's answers puts it right (the reply says so); else its message says what to do."""

    def __init__(self, message: str, *, edit: bool = False):
        super().__init__(message)
        self.edit = edit


def _data(name: str) -> str:
    from importlib import resources

    return resources.files("badgekiln").joinpath("data/github", name).read_text(encoding="utf-8")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("badgekiln")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0.1.0"


def badge_option(slug: str, name: str) -> str:
    """The dropdown text for one badge: ``Name (slug)``; the slug in brackets is what is read back."""
    return f"{' '.join(name.split())} ({slug})"


def award_form(badges: list[tuple[str, str]]) -> str:
    """The award issue form, its dropdown listing ``badges`` ((slug, name) pairs) in slug order."""
    options = "".join(
        f"        - {json.dumps(badge_option(slug, name), ensure_ascii=False)}\n" for slug, name in sorted(badges)
    )
    return _data("award.yml").replace("@BADGE_OPTIONS@\n", options or '        - "(no badges yet)"\n')


def github_files(badges: list[tuple[str, str]]) -> dict[str, str]:
    """Relative path → text of the GitHub workflows and issue forms for a site with ``badges``."""
    pinned = _version()
    return {
        PUBLISH: _data("publish.yml").replace("@VERSION@", pinned),
        f"{WORKFLOWS}/issue-to-pr.yml": _data("issue-to-pr.yml").replace("@VERSION@", pinned),
        DAILY: _data("daily.yml"),
        CHECK: _data("check.yml").replace("@VERSION@", pinned),
        AWARD_FORM: award_form(badges),
        REVOKE_FORM: _data("revoke.yml"),
        # Two notify runs that each append to the lock merge by keeping both sides' lines (a
        # rebase conflict lost what the second had sent, which it then sent again: a review).
        GITATTRIBUTES: "site_src/notified.lock merge=union\n",
    }


def form_options(text: str) -> list[str] | None:
    """The badge dropdown's options in an award form's text, or None when it has none."""
    try:  # (a hand-edited form: anything YAML can say, nested as deep as it likes)
        form = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):
        return None
    body = form.get("body") if isinstance(form, dict) else None
    for element in body if isinstance(body, list) else []:
        if isinstance(element, dict) and element.get("id") == "badge":
            attributes = element.get("attributes")
            options = attributes.get("options") if isinstance(attributes, dict) else None
            # Plain texts only: an option that is a list may be a YAML alias bomb, a few hundred
            # bytes that str() would spell out in gigabytes (an attack review).
            if not isinstance(options, list) or not all(isinstance(o, (str, int, float, bool)) for o in options):
                return None
            return [str(o) for o in options]
    return None


def stale_form(source: Path, badges: list[tuple[str, str]]) -> Diagnostic | None:
    """A warning when the award form's badge list is not the site's badges (None when fine or absent)."""
    path = source / AWARD_FORM
    if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_EVENT_BYTES:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    expected = [badge_option(slug, name) for slug, name in sorted(badges)]
    if form_options(text) == expected:
        return None
    return Diagnostic(
        "warning",
        "stale-issue-form",
        "the badge list of the award form is not the site's badges",
        SourceLocation(AWARD_FORM),
        "run 'badgekiln init --github' to renew it, and commit it",
    )


def repository_warnings(source: Path, badges: dict[str, Any]) -> tuple[Diagnostic, ...]:
    """The warnings about the site's GitHub files that ``build`` and ``check`` give: an award form
    whose badge list is out of date, a Daily workflow that cannot run the Publish workflow."""
    found = (stale_form(source, [(slug, badge.name) for slug, badge in badges.items()]), stale_workflow(source))
    return tuple(warning for warning in found if warning is not None)


def stale_workflow(source: Path) -> Diagnostic | None:
    """A warning when the Daily workflow runs a Publish workflow that cannot be run by another (a
    site made by an earlier ``init`` whose ``init --github`` added daily.yml), or None."""
    daily, publish = source / DAILY, source / PUBLISH
    if not daily.is_file() or not publish.is_file() or publish.is_symlink():
        return None
    try:
        if publish.stat().st_size > MAX_EVENT_BYTES or "workflow_call" in publish.read_text(encoding="utf-8"):
            return None
    except (OSError, UnicodeDecodeError):
        return None
    return Diagnostic(
        "warning",
        "stale-workflow",
        f"{DAILY} runs {PUBLISH}, which does not allow it (its 'on:' has no 'workflow_call:'): the daily run fails",
        SourceLocation(PUBLISH),
        "add the line '  workflow_call:' under 'on:' in it (or delete it, run 'badgekiln init --github' and commit)",
    )


def _as_shown(heading: str) -> str:
    """A heading's text as a page shows it: references undone, every run of spaces (a no-break
    one too) one space. 'Earner's  email' and 'Badge&nbsp;' look like the form's labels, so they
    are read as them (a third review: decoy answers under such headings, the real ones hidden)."""
    return " ".join(htmltext.unescape(heading).split())


def parse_form(body: str, labels: dict[str, str], where: str) -> dict[str, str]:
    """The answers of an issue form as GitHub renders them (``### Label`` then the value).

    Headings that are not the form's labels stay part of the answer above them (a Markdown
    narrative may have headings); a label given twice is refused, since the body is free text
    that anyone could have written to look like a form.

    Raises:
        IssueError: when a label is missing or repeated.
    """
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # Text that GitHub does not show could hold answers that whoever adds the label never saw
    # (a review, 2026-12-07: the form's labels again inside an HTML comment, under look-alike
    # headings the parser had passed over): refused, as the form never writes any.
    hidden = next((n for n, line in enumerate(lines, start=1) if _HTML_COMMENT in line or _HTML_TAG.search(line)), None)
    if hidden is not None:
        raise IssueError(
            f"{where}: the issue holds HTML (line {hidden}: a comment or a tag), which GitHub may not "
            "show, so the answers cannot be trusted to be the ones on the page; edit it out of the issue",
            edit=True,
        )
    answers: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        match = _HEADING.match(line)
        shown = _as_shown(match.group(1)) if match else ""
        if match and shown in labels:
            label = shown
            if label in answers:
                raise IssueError(f"{where}: the answer '{label}' appears twice; make a new issue with the form")
            current = answers[label] = []
        elif current is not None:
            current.append(line)
    missing = [label for label in labels if label not in answers]
    if missing:
        raise IssueError(
            f"{where}: this issue was not made with the form (no answer for {', '.join(missing)}); "
            "open a new issue with the form"
        )
    values = {}
    for label, value_lines in answers.items():
        value = "\n".join(value_lines).strip()
        values[labels[label]] = "" if value == NO_RESPONSE else value
    return values


@dataclass(frozen=True)
class IssueChange:
    """What ``github-issue`` did, for the workflow's pull request."""

    branch: str
    title: str
    body: str
    log: tuple[str, ...] = ()  # (what only the workflow's log says: warnings naming other earners)


def read_event(path: Path) -> dict:
    """The event GitHub Actions saved, checked to be an ``issues`` event with a label.

    Raises:
        IssueError: for a file that is not such an event.
    """
    try:
        raw = path.read_bytes()[: MAX_EVENT_BYTES + 1]
    except OSError as exc:
        raise IssueError(f"{path}: cannot read the event file: {exc.strerror}") from None
    if len(raw) > MAX_EVENT_BYTES:
        raise IssueError(f"{path}: the event file is larger than {MAX_EVENT_BYTES} bytes")
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):
        raise IssueError(f"{path}: not a JSON event file") from None
    issue = event.get("issue") if isinstance(event, dict) else None
    if not isinstance(issue, dict) or type(issue.get("number")) is not int or issue["number"] < 1:
        raise IssueError(f"{path}: not an 'issues' event (no issue number)")
    if not isinstance(issue.get("body"), (str, type(None))):
        raise IssueError(f"{path}: the issue's body is not text")
    return event


def trusted(event: dict, sender_permission: str | None) -> bool:
    """Whether to act: the label was added by someone with write access, or the author is trusted."""
    association = event["issue"].get("author_association")
    return (sender_permission or "").lower() in WRITE_PERMISSIONS or association in TRUSTED_ASSOCIATIONS


def handle_event(source: Path, event_path: Path, *, sender_permission: str | None, today: date) -> IssueChange:
    """Change the sources as the issue in the event asks (add an award, or revoke one).

    Raises:
        IssueError: for an event this cannot act on (wrong label, untrusted, not a form).
        ValidationFailed: for answers that are not a valid award.
    """
    event = read_event(event_path)
    issue = event["issue"]
    number = issue["number"]
    where = f"issue #{number}"
    label = (event.get("label") or {}).get("name") if isinstance(event.get("label"), dict) else None
    if label not in (AWARD_LABEL, REVOKE_LABEL):
        raise IssueError(f"{where}: nothing to do for the label {label!r} (only '{AWARD_LABEL}' and '{REVOKE_LABEL}')")
    if not trusted(event, sender_permission):
        raise IssueError(
            f"{where}: ignored: the label was not added by someone with write access to the repository, "
            "and the issue's author is not its owner, a member or a collaborator"
        )
    body = issue.get("body") or ""
    if label == AWARD_LABEL:
        return _award(source, number, parse_form(body, AWARD_FIELDS, where), today)
    return _revoke(source, number, parse_form(body, REVOKE_FIELDS, where), today)


def _award(source: Path, number: int, answers: dict[str, str], today: date) -> IssueChange:
    from badgekiln.commands import award as award_mod
    from badgekiln.sources.validate import load_project

    match = _OPTION_SLUG.search(answers["badge"])
    answers["badge"] = match.group(1) if match else answers["badge"]
    answers["issued_on"] = answers["issued_on"] or today.isoformat()
    location = SourceLocation(f"issue #{number}")
    diagnostics: list[Diagnostic] = []
    project = load_project(source, today=today).project
    badges = project.badges
    award = award_mod.check_row(answers, location, badges, diagnostics, today)
    if award is None or any(d.is_error for d in diagnostics):
        raise ValidationFailed(diagnostics)
    on_file = next((r.name for r in project.recipients if r.email == award.email), None)
    result = award_mod.add_awards(source, [award], today)
    if not result.added:
        raise IssueError(f"issue #{number}: nothing to add: {result.skipped[0][1]}")  # (it names the award)
    award_id, rel = result.added[0]
    # (the earner as their file names them: the award is theirs, whatever name the form gave)
    title = f"Award {_inert(badges[award.badge].name)} to {_inert(on_file or award.name)}"
    body = (
        f"Closes #{number}.\n\nAdds award `{award_id}` ({award.badge}, issued {award.issued_on}) "
        f"to `{rel}`. Review the change; when it is merged the site publishes the badge.\n"
    )
    # (what `badgekiln award` would have said: a name that differs, a renewal, a namesake), but
    # never a warning that names another earner's address: the pull request is read by whoever
    # filed the issue (a third review: a namesake's address was quoted; the log has them all)
    own = {award.email.lower()}
    said = [
        d.render()
        for d in result.warnings
        if d.location is not None  # (about the issue: one about the site's own files may quote them)
        and d.location.path.startswith("issue #")
        and {a.lower() for a in emails_in_text(d.render())} <= own
    ]
    log = tuple(d.render() for d in result.warnings if d.render() not in said)
    if log:
        said.append(f"({len(log)} more, about other earners or the site's files: see the workflow's log)")
    if said:
        body += f"\nbadgekiln says, before you merge:\n\n{_fenced(said[:REPLY_LINES])}\n"
    # (every answer as it was read, the address included, so that the reviewer compares them with
    # the issue's page: a review)
    read = [_answer_line(label, answers.get(field, "")) for label, field in AWARD_FIELDS.items()]
    body += f"\nThe issue's answers, as badgekiln read them (compare them with the issue):\n\n{_fenced(read)}"
    return IssueChange(f"badgekiln/issue-{number}", title, body, log)


def _answer_line(label: str, value: str) -> str:
    """``Label: value`` on one line, a long value cut short, line breaks shown as ⏎."""
    text = " ⏎ ".join(line.strip() for line in value.strip().splitlines()) or "(none)"
    return f"{label}: {text[:REPLY_WIDTH]}{'…' if len(text) > REPLY_WIDTH else ''}"


def _revoke(source: Path, number: int, answers: dict[str, str], today: date) -> IssueChange:
    from badgekiln.commands.revoke import award_id_from, find_award, revoke
    from badgekiln.sources.validate import load_project

    where = SourceLocation(f"issue #{number}")
    problems: list[Diagnostic] = []  # (every problem of the answers at once, as the award form's)

    def problem(code: str, message: str) -> None:
        problems.append(Diagnostic("error", code, message, where))

    award_id = award_id_from(answers["award_id"])  # (pasted with spaces, in capitals, or as the page's URL)
    if not re.fullmatch(r"[a-z0-9_-]{1,64}", award_id):
        problem(
            "bad-id",
            f"{answers['award_id'][:80]!r} is not an award id (the last part of a badge page's address, …/awards/<id>/)",
        )
    if not answers["reason"].strip():
        problem("missing-key", "'reason' must be filled in: it is published with the badge")
    on = today
    if answers["revoked_on"]:
        try:
            on = date.fromisoformat(answers["revoked_on"])
        except ValueError:
            problem("bad-date", f"'revoked_on' must be written YYYY-MM-DD, not {answers['revoked_on'][:40]!r}")
        else:
            if on > today:
                problem("bad-date", f"'revoked_on' ({on}) is in the future: give today's date or an earlier one")
    if problems:
        raise ValidationFailed(problems)
    try:
        path = revoke(source, award_id, answers["reason"], on, today)
    except BadgekilnError as exc:  # (no such award, a date before its issue, a reason it will not publish:
        # answers to correct; an award revoked already is not put right by editing the issue)
        raise IssueError(f"issue #{number}: {exc}", edit="already revoked" not in str(exc)) from None
    project = load_project(source, today=today).project
    recipient, award = find_award(project, award_id)
    rel = path.relative_to(source).as_posix()
    body = f"Closes #{number}.\n\nRevokes award `{award_id}` in `{rel}` on {on}. Review the change before merging.\n"
    # (the badge and the earner named, so that a wrong id is seen before the merge: a review)
    return IssueChange(
        f"badgekiln/issue-{number}",
        f"Revoke {_inert(project.badges[award.badge].name)} award {award_id} of {_inert(recipient.name)}",
        body,
    )


def write_outputs(path: Path, change: IssueChange) -> None:
    """Append the change as step outputs (``name<<DELIMITER`` blocks) to ``$GITHUB_OUTPUT``."""
    import secrets

    with path.open("a", encoding="utf-8") as out:
        for name in ("branch", "title", "body"):
            value = getattr(change, name)
            delimiter = f"badgekiln_{secrets.token_hex(16)}"  # cannot occur in the value: it is new
            out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def reply_text(error: BadgekilnError) -> str:
    """The comment the workflow posts on an issue it could not act on: every problem, with the
    form's labels for badgekiln's field names ("Date issued", not 'issued_on'), in a code block.

    The problems quote the issue's answers, which anyone may have written: in a fenced block
    (its fence longer than any run of backticks in them) nothing of them is rendered, so no link,
    image or @mention reaches the page. At most :data:`REPLY_LINES` lines of
    :data:`REPLY_WIDTH` characters."""
    if isinstance(error, ValidationFailed):
        errors = [d for d in error.items if d.is_error]
        # Only the issue's own answers are quoted on the issue: an error in the site's files
        # (another earner's record: their address) must not reach a comment anyone may read.
        own = [d for d in errors if d.location is not None and d.location.path.startswith("issue #")]
        lines = [f"{d.message}" + (f" ({d.hint})" if d.hint else "") for d in own]
        if len(own) < len(errors):
            lines.append(
                f"the site's own files have {len(errors) - len(own)} error(s): a maintainer finds them in the "
                "workflow's log (or with 'badgekiln check')"
            )
    else:
        lines = [str(error)]
    lines = [_form_labels(line)[:REPLY_WIDTH] for line in lines[:REPLY_LINES]]
    # (the advice only where editing the answers puts it right: not for an answer given twice, an
    # issue not made with the form, a labeller without write access or an award held already)
    edit = not isinstance(error, IssueError) or error.edit
    return f"badgekiln could not make a pull request from this issue:\n\n{_fenced(lines)}" + (
        "\nEdit the issue to correct its answers, then remove the label and add it again.\n" if edit else ""
    )


def _inert(name: str) -> str:
    """An earner's or a badge's name (anyone's text: a form's answer, once) for a pull request's title, which is
    also its commit's message: its ``#``, ``@`` and ``/`` as their full-width forms, so that
    "fixes #3" or "fixes https://github.com/o/r/issues/3" in it closes no issue and "@someone"
    mentions nobody when the pull request is merged (a review), and the hyphen of "GH-3" (which
    GitHub links to issue 3) a non-breaking one."""
    inert = name.replace("#", "\uff03").replace("@", "\uff20").replace("/", "\uff0f")
    return _ISSUE_LINK.sub("\\1\u2011", inert)


# GitHub's "GH-123" link to an issue: wherever it is (not only after a boundary as Python's re
# reads one, which is Unicode's: "_GH-3" or "éGH-3" was left, and GitHub's own reading is not
# ours to guess); a non-breaking hyphen elsewhere ("Singh-2") looks the same.
_ISSUE_LINK = re.compile(r"(gh)-(?=[0-9])", re.IGNORECASE)


def _fenced(lines: list[str]) -> str:
    """``lines`` in a fenced code block, its fence longer than any run of backticks in them: text
    anyone wrote (an issue's answers, quoted) renders as nothing but text: no link, image or @mention."""
    text = "\n".join(lines)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence}text\n{text}\n{fence}\n"


REPLY_LINES = 20
REPLY_WIDTH = 400
_FIELD_LABELS = {field: label for label, field in (AWARD_FIELDS | REVOKE_FIELDS).items()}


def _form_labels(line: str) -> str:
    """``line`` with badgekiln's quoted field names given as the form's labels."""
    return re.sub(
        r"'(\w+)'", lambda m: f'"{_FIELD_LABELS[m.group(1)]}"' if m.group(1) in _FIELD_LABELS else m.group(0), line
    )

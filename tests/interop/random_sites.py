"""Seeded random badge sites for tests/interop/test_random_sites.py.

``generate(seed)`` makes the sources of a small site that is valid but unusual: names and texts in
many scripts (from the lists below and random words of ``BLOCKS``), emoji (some past U+FFFF, some
ZWJ sequences), full-width, combining and invisible characters, tabs, CR LF and U+2028 in
multi-line texts, quotes, backslashes, ``&``, ``<>``, ``]]>``, template and Markdown syntax,
evidence, alignment, issuer and renewal URLs with escapes (also of bytes that are not UTF-8),
queries, fragments, IPv6 hosts, ports and dot segments, tags (repeated ones too), alignments,
achievement types, expiry dates (``valid_for`` and ``expires``, from 29 February too), revoked and
suspended awards (written, or by a lapsed membership), hidden names, and a ``base_url`` under a
sub-path (escaped, non-ASCII, an emoji, a port, an upper-case or punycode host). Every choice
comes from ``random.Random(seed)``, so a seed is a reproducible site (with the same Python: random
words depend on its Unicode database). Each award carries the status it must have (``valid``,
``expired``, ``revoked``, ``suspended``; exactly one) and the unusual values it carries, for
assertion messages.

``build_site(spec, ...)`` builds it with real keys (``badgekiln keys generate``) twice from the same
sources: for its https ``base_url`` (what every verifier but the 1EdTech validator checks, its
addresses answered from the built files or mapped onto the loopback static server), and for a
loopback ``http://127.0.0.1:PORT/...`` address (``--base-url``), served by that server for the
1EdTech validator, which fetches from loopback only. A build the sources make
refuse must be a clean located error; the one refusal expected here (``utf16_order_problem`` in
src/badgekiln/crypto/dataintegrity.py: a tag past U+FFFF next to one from U+E000 to U+FFFF) drops
the tag it names, and the site is built again.

Dates are chosen far from the real clock the verifiers use: issued 2019 to mid-2023, expired by
the end of 2025, valid until 2060 or later (or no expiry), so verdicts do not drift with time.
"""

from __future__ import annotations

import functools
import json
import random
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

import yaml
from conftest import REPO, TODAY, copy_example
from support.cli import CliResult, run_cli

SEEDS = tuple(range(1, 17))
STATUSES = ("valid", "expired", "revoked", "suspended")
ORDER_REFUSAL = "verifiers built on JavaScript"

# ------------------------------------------------------------------------------ values
NAMES = [
    "Zoë Ø'Connell-Ñúñez",
    "Łukasz Wiśniewski",
    "Þórunn Ærøskøbing",
    "Αθηνά Παπαδοπούλου",
    "Юлия Кузнецова-Щербакова",
    "مريم الحسيني",
    "נועה כהן",
    "अनन्या शर्मा",
    "山田 花子",
    "김민준",
    "สมชาย ใจดี",
    "ნინო ბერიძე",
    "Արամ Պետրոսյան",
    "ሰላም ተስፋዬ",
    "Nguyễn Thị Hồng",
    "Renée O\u0301'Brien",  # a combining acute accent (not NFC)
    "Ｆｕｌｌ Ｗｉｄｔｈ ｶﾀｶﾅ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛",
    "👩🏽‍🔧 Mechanic",
    "🇫🇷 Élodie",
    'Dr. "Quote" O\'Neil',
    "«Guillemets» „Anführung“ ‘single’",
    "R&D <Team>",
    "Tom & Jerry's <b>Co</b>",
    "{{ 7*7 }} {% raw %}",
    "]]> <![CDATA[ x",
    "a\\b \\u0000 c",
    "100% <script>alert(1)</script>",
    "Ann\u00a0Lee\u202fJr.",
    "Ὀδυσσεύς ʻŌlelo Hawaiʻi",
    "Ǆemal İstanbul ı ß ẞ",
    "Tab\tSeparated",
    "  Leading and trailing spaces  ",
    "Ｚ\u3000ideographic space ☺️",
    "zero\u200bwidth soft\u00adhyphen mark\u200e",
    "\ufeffBOM first",
]
TITLES = [
    "Soudure TIG — 溶接 🔥",
    "Schweißen ✓ «MAG»",
    "Сварка 🔥 & резка",
    "안전 교육 ⛑️",
    "Primeros auxilios ❤️‍🩹",
    "تدريب السلامة",
    "C++ & C# <Advanced>",
    '50% "Level 2" \\ backslash',
    "Ｆｕｌｌ‐ｗｉｄｔｈ ＢＡＤＧＥ",
    "𝐌𝐚𝐭𝐡 𝐁𝐨𝐥𝐝 🧮",
    "Emoji 🛠️🧑‍🏭🏳️‍🌈",
    "Čeština & Slovenčina <3",
    "</title><h1>x</h1>",
    "{{ badge.name }} ${HOME} %s %(x)s",
]
TAGS = [
    "safety",
    "溶接",
    "ünïcödé",
    "C#",
    "R&D",
    "<b>",
    'a "q"',
    "x&amp;y",
    "Ａ",
    "ｶﾀｶﾅ",
    "😀",
    "🔥",
    "👩🏽‍🔧",
    "한",
    "𝔘",
    "emoji 🙂",
    "٣ arabic-indic",
    "]]>",
    "{{tag}}",
]
SEGMENTS = ["badges", "org", "insignes-é", "%C3%BCber", "徽章", "a~b", "v1.2", "x_y", "a'b", "c(1)", "😀", "Ω"]
HOSTS = ["s{seed}.badges.example", "S{seed}.Example.ORG", "xn--bcher-kva.s{seed}.example", "s{seed}.example:8443"]
EVIDENCE_URLS = [
    "https://example.org/e?a=1&b=%3C2%3E&c=é",
    "https://example.org/ünï/café?q=a+b&r=%20%2F%25#frag-ö",
    "https://sub.example.com:8443/p/a%20b/(c)?x=%5B1%5D",
    "https://example.org/路径/文件.pdf?页=1",
    "https://example.org/emoji/🙂?e=%F0%9F%99%82",
    "https://xn--bcher-kva.example/buch?id=1&amp;x=2",
    "https://example.org/a'b/c;d,e=f!g*h$i",
    "https://example.org/~user/%7Euser/?a=b;c=d",
    "https://example.org/",
    "https://example.org/path?q=%E2%9C%93&empty=&flag",
    "http://example.org/plain-http",
    "https://EXAMPLE.org/UPPER/Case",
    "https://example.org/a%2Fb%3Ac%25d",
    "https://[2001:db8::1]:8443/v6?x=1",
    "HTTPS://Example.ORG:443/Default-Port",
    "https://example.org./trailing-dot",
    "https://example.org/%FF%FE/not-utf8?%E9=latin1",
    "https://example.org/a/../b/./c",
    "https://example.org/%7e%2a/lower-escapes",
    "https://example.org/a?b=c#d?e/f",
    "https://example.org/q?a=%00",
]
MARKDOWN = [
    "## {a}\n\n| {b} | {c} |\n|---|:---:|\n| {d} | 100 % |\n",
    "- **{a}** _{b}_ ~~{c}~~ `code <x> & y`\n1. [{d}]({url})\n",
    "> {a}\n>\n> — {b}\n\n<{url}>\n",
    '{a}\r\n{b}\t(tab)\u2028{c}\n\n```\n{d} <not html> & "quoted"\n```\n',
    "<script>alert('{a}')</script> <b>{b}</b> &lt;{c}&gt; &amp; {d}",
]
# Blocks random words are drawn from (assigned letters, digits, punctuation and symbols only; no
# '@' look-alike: a name must not read as an email address). Two lie past U+FFFF.
BLOCKS = [
    (0x00C0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x04FF),  # Cyrillic
    (0x0590, 0x05FF),  # Hebrew
    (0x0600, 0x06FF),  # Arabic
    (0x0900, 0x097F),  # Devanagari
    (0x0E00, 0x0E7F),  # Thai
    (0xAC00, 0xD7A3),  # Hangul syllables
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xFF01, 0xFF5E),  # full-width ASCII
    (0xFF66, 0xFF9D),  # half-width katakana
    (0x20000, 0x2A6DF),  # CJK extension B
    (0x1F300, 0x1F64F),  # emoji
    (0x1D400, 0x1D7FF),  # mathematical alphanumerics
]
REASONS = ["Issued in error", "Fraude présumée — «copie»", "不正行為 🚫", 'Quote "x" & <y>', "Ошибка \\ backslash"]


# ------------------------------------------------------------------------------ the spec
@dataclass
class AwardPlan:
    """One award: where it is written, the status it must have, and its unusual values."""

    recipient: str
    index: int
    badge: str
    status: str
    email: str
    values: dict[str, object]
    id: str = ""


@dataclass
class SiteSpec:
    """The sources of one seed's site (dicts written as YAML), and the plan of its awards."""

    seed: int
    base: str  # site.yaml's base_url
    site: dict
    badges: dict[str, dict]
    recipients: dict[str, dict]
    awards: list[AwardPlan]
    dropped: list[str] = field(default_factory=list)  # tags dropped after a refusal, with its message

    def describe(self, award: AwardPlan) -> str:
        """What to quote in an assertion message: the seed and the values the award carries."""
        badge = self.badges[award.badge]
        values = {
            "base_url": self.base,
            "badge": {k: badge.get(k) for k in ("name", "description", "tags", "alignment", "valid_for")},
            **award.values,
        }
        return f"seed {self.seed}, award {award.id} ({award.status}): {json.dumps(values, ensure_ascii=False)}"


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _word(rng: random.Random) -> str:
    """One to eight random characters of one block: a combining mark only after another character."""
    start, end = rng.choice(BLOCKS)
    word, length = "", rng.randint(1, 8)
    while len(word) < length:
        c = chr(rng.randint(start, end))
        kind = unicodedata.category(c)[0]
        if (kind in "LNPS" or (kind == "M" and word)) and c not in "@＠﹫":
            word += c
    return word


def _text(rng: random.Random, pool: list[str], parts: int = 2, sep: str = " ") -> str:
    """One to ``parts`` values of ``pool``, and sometimes a random word."""
    chosen = rng.sample(pool, rng.randint(1, parts))
    if rng.random() < 0.4:
        chosen.insert(rng.randint(0, len(chosen)), _word(rng))
    return sep.join(chosen)


def _url(rng: random.Random) -> str:
    """A URL of ``EVIDENCE_URLS``, or one made of random words, raw or percent-encoded."""
    if rng.random() < 0.6:
        return rng.choice(EVIDENCE_URLS)
    segments = [rng.choice([_word(rng), quote(_word(rng))]) for _ in range(rng.randint(1, 3))]
    query = "&".join(f"{quote(_word(rng))}={rng.choice([_word(rng), quote(_word(rng), safe='')])}" for _ in range(2))
    return f"https://{rng.choice(['example.org', 'sub.example.com:8443'])}/{'/'.join(segments)}?{query}#{_word(rng)}"


def _markdown(rng: random.Random) -> str:
    words = {k: _text(rng, NAMES + TITLES, 1) for k in "abcd"}
    return rng.choice(MARKDOWN).format(url=_url(rng), **words)


def _badge(rng: random.Random, images: list[str], membership: bool) -> dict:
    badge: dict = {
        "name": _text(rng, TITLES),
        "description": _text(rng, TITLES + NAMES, 3),
        "image": rng.choice(images),
        "criteria": _markdown(rng),
    }
    if rng.random() < 0.8:
        tags = rng.sample(TAGS, rng.randint(1, 4)) + ([_word(rng)] if rng.random() < 0.3 else [])
        badge["tags"] = tags + tags[:1] if rng.random() < 0.2 else tags  # (a repeated tag)
    badge["valid_for"] = rng.choice([None, "P1Y", "P18M", "P10W", "P90D", "P60Y"])
    if rng.random() < 0.5:
        badge["achievement_type"] = rng.choice(["micro-credential", "Certification", "ext:Our_Type-1.0", "badge"])
    badge["alignment"] = [
        {
            "name": _text(rng, TITLES, 1),
            "url": _url(rng),
            **({"framework": _text(rng, NAMES, 1), "code": "ÉSCO-7212.1/α"} if rng.random() < 0.5 else {}),
            **({"description": _markdown(rng)} if rng.random() < 0.3 else {}),
        }
        for _ in range(rng.randint(0, 2))
    ]
    if membership:
        badge["requires_membership"] = True
    if rng.random() < 0.3:
        badge["renewal_url"] = next(url for url in iter(lambda: _url(rng), None) if url.startswith("https://"))
    return {k: v for k, v in badge.items() if v not in (None, [])}


def _short_valid_for(badge: dict) -> bool:
    return badge.get("valid_for") not in (None, "P60Y")


def _award(rng: random.Random, slug: str, badge: dict, status: str) -> dict:
    """An award of ``badge`` (slug ``slug``) that has ``status`` on the real clock, whatever it is."""
    issued = date(2020, 2, 29) if rng.random() < 0.1 else _day(rng, date(2019, 1, 1), date(2023, 6, 30))
    award: dict = {"badge": slug, "issued_on": issued}
    if status == "expired" and (not _short_valid_for(badge) or rng.random() < 0.5):
        award["expires"] = _day(rng, issued + timedelta(days=1), date(2025, 6, 30))
    elif status != "expired" and (_short_valid_for(badge) or rng.random() < 0.3):
        award["expires"] = _day(rng, date(2060, 1, 1), date(2099, 12, 31))
    if rng.random() < 0.7:
        award["narrative"] = _markdown(rng)
    award["evidence"] = [
        {
            k: v
            for k, v in {
                "url": _url(rng) if rng.random() < 0.8 else None,
                "name": _text(rng, TITLES, 1) if rng.random() < 0.5 else None,
                "narrative": _markdown(rng),
                "description": _text(rng, NAMES, 2) if rng.random() < 0.3 else None,
            }.items()
            if v is not None
        }
        for _ in range(rng.randint(0, 2))
    ]
    if not award["evidence"]:
        del award["evidence"]
    if status in ("revoked", "suspended"):
        when = _day(rng, issued, date(2025, 12, 31))
        award[status] = {"on": when, "reason": _text(rng, REASONS, 2, " / ")}
    return award


def _email(rng: random.Random, seed: int, n: int) -> str:
    local = rng.choice(["Ann.Lee", "o'neil+badges", "ZOE", "first_last-1", "x.y.z"])
    return f"{local}-{seed}-{n}@{rng.choice(['Example.ORG', 'mail.example.com', 'xn--bcher-kva.example'])}"


def _site(rng: random.Random, seed: int) -> dict:
    """site.yaml: a base_url with a sub-path (host and path differ from seed to seed)."""
    host = rng.choice(HOSTS).format(seed=seed)
    return {
        "base_url": f"https://{host}/" + "".join(s + "/" for s in rng.sample(SEGMENTS, rng.randint(1, 3))),
        "title": _text(rng, TITLES),
        "language": rng.choice(["en", "fr", "de-CH", "ja", "ar", "zh-Hant-TW"]),
        "issuer": {
            "name": _text(rng, NAMES + TITLES),
            "url": _url(rng),
            "email": f"badges-{seed}@example.org",
            "description": _text(rng, TITLES + NAMES, 3),
            "image": "assets/logo.svg",
        },
        "footer": _text(rng, NAMES, 2),
        "certificate": {"signatory": {"name": _text(rng, NAMES, 1), "title": _text(rng, TITLES, 1)}},
    }


def _recipients(rng: random.Random, seed: int, badges: dict[str, dict]) -> tuple[dict[str, dict], list[AwardPlan]]:
    """Earners and their awards: every status at least once, more valid ones. When the first badge
    requires a membership, the first earner's lapsed in 2025 (their awards of it are suspended by
    that alone) and the others' lasts."""
    statuses = list(STATUSES) + rng.choices(STATUSES, weights=[4, 1, 1, 1], k=rng.randint(2, 4))
    rng.shuffle(statuses)
    membership = any(badge.get("requires_membership") for badge in badges.values())
    recipients: dict[str, dict] = {}
    awards: list[AwardPlan] = []
    while statuses:
        slug, email = f"r{seed}-{len(recipients) + 1}", _email(rng, seed, len(recipients) + 1)
        person: dict = {"name": _text(rng, NAMES), "email": email, "awards": []}
        if rng.random() < 0.3:
            person["show_name"] = False
        lapsed = membership and not recipients
        if membership:
            person["membership"] = {"until": date(2025, 3, 31) if lapsed else date(2099, 12, 31)}
        for _ in range(min(len(statuses), rng.randint(1, 3))):
            status, badge = statuses.pop(), rng.choice(sorted(badges))
            values = {"name": person["name"], "email": email}
            if lapsed and badges[badge].get("requires_membership"):
                statuses.append(status)  # (kept for another award)
                written = _award(rng, badge, badges[badge], "valid")  # (nothing written, and it must not expire)
                status, values["membership"] = "suspended", person["membership"]
            else:
                written = _award(rng, badge, badges[badge], status)
            values.update((k, v) for k, v in written.items() if k != "badge")
            awards.append(AwardPlan(slug, len(person["awards"]), badge, status, email, _jsonable(values)))
            person["awards"].append(written)
        recipients[slug] = person
    return recipients, awards


def generate(seed: int) -> SiteSpec:
    """The sources of the random site of ``seed`` (see the module's docstring)."""
    rng = random.Random(seed)
    site = _site(rng, seed)
    images = sorted(f"assets/badges/{p.name}" for p in (REPO / "site_src/assets/badges").iterdir())
    membership = rng.random() < 0.5
    badges = {f"b{seed}-{i}": _badge(rng, images, membership and i == 0) for i in range(rng.randint(2, 3))}
    recipients, awards = _recipients(rng, seed, badges)
    return SiteSpec(seed, site["base_url"], site, badges, recipients, awards)


def _jsonable(value):
    """``value`` as JSON would carry it (dates as text), for assertion messages."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def dump(data: dict) -> str:
    """YAML as badgekiln reads it: safe, UTF-8 text as is, dates unquoted, no folded lines."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1 << 20)


# ------------------------------------------------------------------------------ building
def cli(root: Path, *args: str) -> CliResult:
    """Run the badgekiln CLI in-process with the key folders under ``root``."""
    return run_cli(*args, env={"XDG_CACHE_HOME": str(root / "cache"), "BADGEKILN_KEYS_DIR": str(root / "keys")})


@dataclass
class BuiltSite:
    """A spec built twice: for its ``base`` into ``output``, for ``local_base`` into ``local_output``."""

    spec: SiteSpec
    source: Path
    output: Path
    local_base: str
    local_output: Path
    awards: dict[str, AwardPlan]  # by award id

    @functools.cached_property
    def base(self) -> str:
        """The site's address as the build publishes it (site.yaml's, with the host lower-cased)."""
        issuer = json.loads((self.output / "issuer.json").read_text(encoding="utf-8"))["id"]
        assert issuer.endswith("/issuer.json"), issuer
        return issuer.removesuffix("issuer.json")

    def folder(self, award: str, *, local: bool = False) -> Path:
        return (self.local_output if local else self.output) / "awards" / award

    def file(self, award: str, name: str, *, local: bool = False) -> Path:
        return self.folder(award, local=local) / name

    def json(self, award: str, name: str) -> dict:
        return json.loads(self.file(award, name).read_text(encoding="utf-8"))


def write_sources(spec: SiteSpec, source: Path) -> None:
    (source / "site_src/site.yaml").write_text(dump(spec.site), encoding="utf-8")
    for slug, badge in spec.badges.items():
        (source / f"badges/{slug}.yaml").write_text(dump(badge), encoding="utf-8")
    for slug, person in spec.recipients.items():
        (source / f"recipients/{slug}.yaml").write_text(dump(person), encoding="utf-8")


def _drop_refused_tag(spec: SiteSpec, result: CliResult) -> None:
    """The build refused a badge whose tags JavaScript verifiers order otherwise: it must be a
    clean, located error naming the values; the tag past U+FFFF it names is dropped."""
    what = f"seed {spec.seed}: build refused (exit {result.code}):\n{result.err[-3000:]}"
    assert result.code == 1 and "Traceback" not in result.err and "internal error" not in result.err, what
    located = re.search(
        r"^error: recipients/r[\w-]+\.yaml: award \w+ \((b[\w-]+)\): .*" + ORDER_REFUSAL + ".*", result.err, re.M
    )
    assert located, what
    slug = located.group(1)
    named = [
        tag
        for tag in spec.badges[slug].get("tags", [])
        if re.search("[\U00010000-\U0010ffff]", tag)
        and repr(json.dumps(tag, ensure_ascii=False)) in located.group(0)  # (as _shown() quotes it)
    ]
    assert named, what
    tag = named[0]
    spec.badges[slug]["tags"] = [t for t in spec.badges[slug]["tags"] if t != tag]
    spec.dropped.append(f"{slug}: tag {tag!r}: {located.group(0)[:400]}")


def build_site(spec: SiteSpec, root: Path, served: Path, server_url: str) -> BuiltSite:
    """Build ``spec`` with real keys into ``served`` (see the module's docstring)."""
    source = copy_example(root / "source")
    for old in ("badges", "recipients"):
        shutil.rmtree(source / old)
        (source / old).mkdir()
    for old in ("site_src/awards.lock", "site_src/notified.lock"):
        (source / old).unlink(missing_ok=True)
    assert cli(root, "keys", "generate", "--source", str(source), "--today", TODAY).code == 0
    output = served / f"https-{spec.seed}"
    for _ in range(8):
        write_sources(spec, source)
        result = cli(root, "build", "--source", str(source), "--today", TODAY, "--output", str(output))
        if result.code == 0:
            break
        _drop_refused_tag(spec, result)
    assert result.code == 0, f"seed {spec.seed}: {result.err[-3000:]}"
    path = spec.base.split("/", 3)[3]
    local_base = f"{server_url}local-{spec.seed}/{path}"
    local_output = served / f"local-{spec.seed}" / unquote(path)
    result = cli(
        root,
        "build",
        "--source",
        str(source),
        "--today",
        TODAY,
        "--output",
        str(local_output),
        "--base-url",
        local_base,
    )
    assert result.code == 0, f"seed {spec.seed}: {result.err[-3000:]}"
    awards = {}
    for plan in spec.awards:
        written = yaml.safe_load((source / f"recipients/{plan.recipient}.yaml").read_text(encoding="utf-8"))
        plan.id = str(written["awards"][plan.index]["id"])
        awards[plan.id] = plan
    return BuiltSite(spec, source, output, local_base, local_output, awards)

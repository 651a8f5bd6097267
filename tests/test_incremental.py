"""Incremental builds: after any edit, a rebuild gives the bytes of a clean build, and a rebuild
of unchanged sources signs and renders nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import TODAY, build, copy_example, edit_bundle_texts, tree_bytes, write_site
from hypothesis import given, settings
from hypothesis import strategies as st

from badgekiln.engine import cache as cache_mod
from badgekiln.engine import site
from badgekiln.engine import workers as parallel
from badgekiln.errors import ValidationFailed
from badgekiln.pages import sharecard
from badgekiln.pages.render import Renderer
from badgekiln.signing.signer import Signer
from badgekiln.sources.validate import load_project

SOURCES = ("site_src", "badges", "recipients", "templates", "pages")


def clean_build(run, site_dir: Path, tmp_path: Path, *extra: str) -> dict[str, bytes]:
    """The same sources built in a fresh copy: no cache, no earlier output."""
    copy = tmp_path / f"clean-{len(list(tmp_path.glob('clean-*')))}"
    copy.mkdir()
    for name in SOURCES:
        if (site_dir / name).exists():
            shutil.copytree(site_dir / name, copy / name)
    build(run, copy, *extra)
    return tree_bytes(copy / "output")


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + text, encoding="utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _add_award(site_dir: Path) -> None:
    append(
        site_dir / "recipients/jane-doe.yaml",
        "  - id: jane-added-1\n    badge: first-aid-at-work\n    issued_on: 2026-09-01\n    narrative: Added later.\n",
    )


def _revoke(site_dir: Path) -> None:
    edit(
        site_dir / "recipients/jane-doe.yaml",
        "    badge: confined-space-entry\n    issued_on: 2026-04-14\n",
        "    badge: confined-space-entry\n    issued_on: 2026-04-14\n    revoked:\n      on: 2026-06-01\n"
        "      reason: Issued in error\n",
    )


def _suspend(site_dir: Path) -> None:
    edit(
        site_dir / "recipients/jane-doe.yaml",
        "    narrative: Assessed on site at Teesside.\n",
        "    narrative: Assessed on site at Teesside.\n    suspended:\n      on: 2026-10-01\n      reason: Under review\n",
    )


def _lift(site_dir: Path) -> None:
    edit(
        site_dir / "recipients/jane-doe.yaml", "    suspended:\n      on: 2026-10-01\n      reason: Under review\n", ""
    )


def _redate(site_dir: Path) -> None:
    edit(site_dir / "recipients/jane-doe.yaml", "    issued_on: 2026-03-01\n", "    issued_on: 2026-03-02\n")


def _edit_badge(site_dir: Path) -> None:
    edit(site_dir / "badges/pipefitting-mji10.yaml", "small-bore pipework", "small-bore stainless pipework")


def _edit_template(site_dir: Path) -> None:
    write_site(
        site_dir,
        {
            "templates/award.html": (
                "{% extends '!builtin/award.html' %}{% block main %}<p class=\"local\">Local note.</p>{{ super() }}"
                "{% endblock %}"
            )
        },
    )


def _rotate_keys(site_dir: Path, run) -> None:
    assert run("keys", "rotate", "--source", str(site_dir), "--today", TODAY).code == 0


def _rename_earner(site_dir: Path) -> None:
    edit(site_dir / "recipients/elena-garcia.yaml", "name: Elena García", "name: Elena García López")


def _hide_name(site_dir: Path) -> None:
    edit(site_dir / "recipients/akira-tanaka.yaml", "name: 田中 明\n", "name: 田中 明\nshow_name: false\n")


def _edit_page(site_dir: Path) -> None:
    append(next((site_dir / "site_src/pages").glob("*.md")), "\nOne more paragraph.\n")


def _new_recipient(site_dir: Path) -> None:
    write_site(
        site_dir,
        {
            "recipients/new-earner.yaml": """
        name: New Earner
        email: new.earner@example.org
        awards:
          - badge: network-cabling
            issued_on: 2026-11-01
    """
        },
    )


def _edit_site(site_dir: Path) -> None:
    edit(site_dir / "site_src/site.yaml", "Teesside.", "Middlesbrough.")


EDITS = [
    ("add an award", _add_award),
    ("revoke an award", _revoke),
    ("suspend an award", _suspend),  # (the status lists read each award's suspension: engine/keys.py)
    ("lift the suspension", _lift),
    ("change an issue date", _redate),
    ("edit a badge class", _edit_badge),
    ("edit a template", _edit_template),
    ("rotate keys", _rotate_keys),
    ("rename an earner", _rename_earner),
    ("hide an earner's name", _hide_name),
    ("edit a page", _edit_page),
    ("add a recipient without ids", _new_recipient),
    ("edit site.yaml", _edit_site),
]


def test_each_edit_rebuilds_to_the_bytes_of_a_clean_build(keyed_site, run, tmp_path):
    for label, change in EDITS:
        if change is _rotate_keys:
            change(keyed_site, run)
        else:
            change(keyed_site)
        build(run, keyed_site)
        build(run, keyed_site)  # a second build pins nothing new: its output is what we compare
        assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path), label


def test_base_url_and_date_changes_rebuild_to_clean_bytes(keyed_site, run, tmp_path):
    preview = ("--base-url", "https://preview.example.net/badges/")
    build(run, keyed_site, *preview)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path, *preview)
    later = ("--today", "2027-06-01")  # the confined-space award (P1Y) has expired by then
    build(run, keyed_site, *later)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path, *later)
    assert b"Expired" in (keyed_site / "output/awards/k3v8n0d2rt/index.html").read_bytes()


class Counter:
    """Counts signatures (every one asks the signer for a private key) and rendered pages."""

    def __init__(self, monkeypatch):
        self.signatures = self.renders = self.award_cards = 0
        self.rendered: set[str] = set()  # the templates rendered
        private_key, render, award_card = Signer.private_key, Renderer.render, sharecard.award_card

        def counting_private_key(signer, kid):
            self.signatures += 1
            return private_key(signer, kid)

        def counting_render(renderer, name, **context):
            self.renders += 1
            self.rendered.add(name)
            return render(renderer, name, **context)

        def counting_award_card(*args, **kwargs):
            self.award_cards += 1
            return award_card(*args, **kwargs)

        monkeypatch.setattr(Signer, "private_key", counting_private_key)
        monkeypatch.setattr(Renderer, "render", counting_render)
        monkeypatch.setattr(sharecard, "award_card", counting_award_card)


def test_a_rebuild_of_unchanged_sources_signs_renders_and_writes_nothing(keyed_site, run, monkeypatch):
    before = {p: p.stat().st_ino for p in (keyed_site / "output").rglob("*") if p.is_file()}
    counter = Counter(monkeypatch)
    result = build(run, keyed_site)
    assert (counter.signatures, counter.renders) == (0, 0)
    assert "(0 written," in result.out
    assert {p: p.stat().st_ino for p in (keyed_site / "output").rglob("*") if p.is_file()} == before


def test_revoking_one_award_makes_only_that_award_and_the_lists(keyed_site, run, monkeypatch):
    award = keyed_site / "output/awards/k3v8n0d2rt"  # (the award _revoke revokes)
    credential = {name: (award / name).read_bytes() for name in ("credential.json", "credential.jwt", "credential.svg")}
    _revoke(keyed_site)
    counter = Counter(monkeypatch)
    result = build(run, keyed_site)
    # The award's OB 2.0 JWS (its assertion says revoked) and the proofs of the two status lists
    # (revocation and suspension: one unit), not its OB 3.0 credential (proof and VC-JWT), which
    # states no status and keeps its bytes; its page, and the site's pages (the home page's
    # catalogue counts the awards held: one fewer), of which only index.html changes; not check/,
    # a unit of its own since session 41.
    assert counter.signatures == 3
    assert counter.renders == 6
    written = int(result.out.split("(")[1].split(" written")[0])
    assert 0 < written <= 9
    assert b'"revoked": true' in (award / "assertion.json").read_bytes()
    assert {name: (award / name).read_bytes() for name in credential} == credential


def test_a_rebuild_keys_only_the_awards_of_the_recipient_files_that_changed(keyed_site, run, monkeypatch, tmp_path):
    """The other files' groups are kept whole by their bundle key: no award of theirs is keyed."""
    from badgekiln.engine.keys import UnitKeys

    keyed: list[str] = []
    award_parts = UnitKeys.award_parts

    def counting(keys, recipient, index):
        keyed.append(recipient.location.path)
        return award_parts(keys, recipient, index)

    monkeypatch.setattr(UnitKeys, "award_parts", counting)
    _revoke(keyed_site)
    build(run, keyed_site)
    assert set(keyed) == {"recipients/jane-doe.yaml"} and len(keyed) == 2  # (her two awards)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)
    keyed.clear()
    shutil.rmtree(keyed_site / "output")  # not as the last build left it: every group is looked at
    build(run, keyed_site)
    assert len(set(keyed)) == len(list((keyed_site / "recipients").glob("*.yaml"))) > 1


EDITED = ("\ndescription: ", "\ndescription: Edited. ")


@pytest.mark.parametrize(
    "badge, edit, earners",
    [
        ("first-aid-at-work", EDITED, {"marcus-johnson", "zofia-wisniewska"}),
        # (a class a stacked badge requires: its earner's page of the stacked badge shows it)
        ("confined-space-entry", EDITED, {"jane-doe", "zofia-wisniewska", "sean-obrien"}),
        ("maintenance-technician", ("any: 2", "any: 1"), {"sean-obrien"}),  # (the stacked badge's pathway)
    ],
)
def test_editing_a_badge_class_keys_only_the_awards_of_its_earners(
    keyed_site, run, monkeypatch, tmp_path, badge, edit, earners
):
    """A bundle's key holds the classes of its own awards (and the classes a stacked one requires),
    not every class: the other recipient files' groups are kept whole."""
    from badgekiln.engine.keys import UnitKeys

    keyed: list[str] = []
    award_parts = UnitKeys.award_parts

    def counting(keys, recipient, index):
        keyed.append(Path(recipient.location.path).stem)
        return award_parts(keys, recipient, index)

    monkeypatch.setattr(UnitKeys, "award_parts", counting)
    path = keyed_site / "badges" / f"{badge}.yaml"
    text = path.read_text(encoding="utf-8")
    assert edit[0] in text
    path.write_text(text.replace(*edit, 1), encoding="utf-8")
    build(run, keyed_site)
    assert set(keyed) == earners
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_damaged_or_changed_output_is_repaired(keyed_site, run, tmp_path):
    out = keyed_site / "output"
    page = out / "awards/7q4kz2m9xw/index.html"
    with open(page, "ab") as handle:  # in place: the cache's blob is the same file
        handle.write(b"<!-- edited by hand -->")
    (out / "awards/7q4kz2m9xw/assertion.json").unlink()
    (out / "stray.txt").write_text("not part of the site")
    build(run, keyed_site)
    assert tree_bytes(out) == clean_build(run, keyed_site, tmp_path)


def test_deleting_the_output_or_the_cache_gives_the_same_bytes(keyed_site, run, tmp_path):
    expected = tree_bytes(keyed_site / "output")
    shutil.rmtree(keyed_site / "output")
    build(run, keyed_site)
    assert tree_bytes(keyed_site / "output") == expected
    shutil.rmtree(keyed_site / ".badgekiln")
    build(run, keyed_site)
    assert tree_bytes(keyed_site / "output") == expected


def test_unused_blobs_are_deleted(keyed_site, run):
    blobs = keyed_site / ".badgekiln/cache/blobs"
    count = sum(1 for p in blobs.rglob("*") if p.is_file())
    for old, new in [("small-bore", "small-bore steel"), ("small-bore steel", "small-bore")] * 2:
        edit(keyed_site / "badges/pipefitting-mji10.yaml", old, new)
        build(run, keyed_site)
    assert sum(1 for p in blobs.rglob("*") if p.is_file()) == count


def test_a_build_afresh_deletes_the_blobs_no_group_names_and_keeps_every_other(keyed_site, run, tmp_path):
    """A build with no record of the last one's groups (its state gone) deletes, folder by folder,
    every blob no group of its own names: planted ones in a folder of used blobs and in a folder
    of their own go; every used blob, and one that shares a used blob's first 128 bits (how a
    blob is known there), stays."""
    blobs = keyed_site / ".badgekiln/cache/blobs"
    used = sorted(p for p in blobs.rglob("*") if p.is_file())
    assert used
    some = used[len(used) // 2]
    # (a blob's file is blobs/<its first two digits>/<the other 62>: its first 128 bits, the
    # folder and 30 digits of the name)
    twin_of_prefix = some.with_name(
        some.name[:30] + some.name[30:].translate(str.maketrans("0123456789abcdef", "123456789abcdef0"))
    )
    near = some.parent / (some.name[:29] + ("f" if some.name[29] != "f" else "e") + some.name[30:])
    lonely = blobs / ("ff" if some.parent.name != "ff" else "fe") / ("0" * 62)
    lonely.parent.mkdir(exist_ok=True)
    for planted in (near, lonely, twin_of_prefix):
        planted.write_bytes(b"stale")
    (keyed_site / ".badgekiln/cache/state.json").unlink()
    build(run, keyed_site)
    assert not near.exists() and not lonely.exists()  # (another 128-bit prefix: not used)
    assert twin_of_prefix.exists()  # (its first 128 bits are a used blob's: kept, as documented)
    assert all(p.exists() for p in used)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_build_afresh_keeps_the_used_blobs_of_a_store_folder_named_in_upper_case(keyed_site, run, monkeypatch):
    """On a file system blind to case (macOS's, Windows' by default) a store folder may be listed
    as "5F" while the store reaches it as "5f" (BlobStore.path): its blobs are this build's. The
    build afresh knew a blob by its first 128 bits, the folder's two digits read as hex, and kept
    them; matched by the folder's name as listed, every used blob there was deleted. (The listing
    of such a file system is simulated: the folder keeps its lower-case name on disk.)"""
    blobs = keyed_site / ".badgekiln/cache/blobs"
    used = sorted(p for p in blobs.rglob("*") if p.is_file())
    upper = sorted({p.parent.name for p in used if p.parent.name != p.parent.name.upper()})
    assert upper  # (some used blob sits in a folder whose name has a letter)
    real_entries = cache_mod._entries

    class Listed:  # (a DirEntry as such a file system lists it: the name as first made, in upper case)
        def __init__(self, entry):
            self._entry, self.name, self.path = entry, entry.name.upper(), entry.path

        def is_dir(self, **kwargs):
            return self._entry.is_dir(**kwargs)

    def entries(folder):
        found = real_entries(folder)
        return [Listed(e) if Path(folder) == blobs and e.name in upper else e for e in found]

    monkeypatch.setattr(cache_mod, "_entries", entries)
    (keyed_site / ".badgekiln/cache/state.json").unlink()
    build(run, keyed_site)
    assert [p for p in used if not p.exists()] == []


def test_a_failed_in_place_update_leaves_the_output_as_it_was(keyed_site, run, monkeypatch):
    before = tree_bytes(keyed_site / "output")
    _revoke(keyed_site)
    replace, calls = os.replace, []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError("disk trouble")
        return replace(src, dst)

    monkeypatch.setattr(site.os, "replace", failing_replace)
    result = run("build", "--source", str(keyed_site), "--today", TODAY)
    assert result.code == 1 and "disk trouble" in result.err and "Traceback" not in result.err
    assert len(calls) >= 3
    assert tree_bytes(keyed_site / "output") == before


def test_cached_validation_equals_a_fresh_one(keyed_site):
    reused = []

    def loaded(day):
        cache = cache_mod.BuildCache.open(keyed_site, keyed_site / "output")
        try:
            return cache.load_project(keyed_site, base_url=None, today=day)
        finally:
            reused.append(cache.stats["recipients_reused"])
            cache.save()
            cache.close()

    _new_recipient(keyed_site)
    write_site(
        keyed_site,
        {
            "recipients/recent.yaml": """
        name: Recent Earner
        email: recent@example.org
        awards:
          - badge: network-cabling
            issued_on: 2026-11-20
    """
        },
    )
    for day in (date(2026, 11, 22), date(2026, 11, 22), date(2027, 2, 1), date(2026, 11, 20)):
        fresh, cached = load_project(keyed_site, today=day), loaded(day)
        assert cached == fresh
        assert [r.location for r in cached.project.recipients] == [r.location for r in fresh.project.recipients]
        assert [a.location for a in cached.project.awards] == [a.location for a in fresh.project.awards]
        assert [a.id_pinned for a in cached.project.awards] == [a.id_pinned for a in fresh.project.awards]
    recipients = len(list((keyed_site / "recipients").glob("*.yaml")))
    assert reused[:2] == [recipients - 2, recipients]
    # Months later every file is reused (validation compares only issue and revocation dates with
    # today, never an expiry date); back on the day 'recent' was issued, it is validated again.
    assert reused[2] == recipients and 0 < reused[3] < recipients
    with pytest.raises(ValidationFailed) as fresh_error:  # 'recent' is issued in the future that day
        load_project(keyed_site, today=date(2026, 11, 19))
    with pytest.raises(ValidationFailed) as cached_error:
        loaded(date(2026, 11, 19))
    assert cached_error.value.diagnostics() == fresh_error.value.diagnostics()


def test_a_committed_cache_is_not_used(keyed_site, run, monkeypatch):
    monkeypatch.setattr(cache_mod, "_tracked_by_git", lambda source, name: True)
    assert cache_mod.BuildCache.open(keyed_site, keyed_site / "output") is None
    result = build(run, keyed_site)
    # (the counts add up without a cache too: the marker file is not one of the site's files)
    files, written, unchanged = map(
        int, re.search(r"built (\d+) files .*\((\d+) written, (\d+) unchanged", result.out).groups()
    )
    assert written + unchanged == files and unchanged > 0


@pytest.mark.parametrize("waves", [1, 4])
def test_many_awards_are_made_on_two_cores_with_the_same_bytes(tmp_path, run, monkeypatch, waves):
    """On two cores, by one set of workers or by a new set for each wave of groups (see
    workers._waves), the site's bytes are those made on one core."""
    pools = []
    released = []  # tasks already made and recorded when each wave's workers fork (they do not inherit them)
    real_pool = parallel.pool

    def counted_pool(count):
        pools.append(count)
        released.append(sum(task is None for task in parallel._JOB["todo"]))
        return real_pool(count)

    monkeypatch.setattr(parallel, "pool", counted_pool)
    if waves > 1:
        monkeypatch.setattr(parallel, "WAVE_GROUPS", 120)  # (about 480 groups to make: 4 waves)
    site_dir = copy_example(tmp_path / "big")
    badges = sorted(p.stem for p in (site_dir / "badges").glob("*.yaml"))
    lines = ["name: Many Awards", "email: many@example.org", "awards:"]
    for number in range(parallel.MIN_PARALLEL // 2 + 10):
        lines += [
            f"  - id: many-{number:04d}",
            f"    badge: {badges[number % len(badges)]}",
            f"    issued_on: 2026-{1 + number % 9:02d}-{1 + number % 27:02d}",
        ]
    (site_dir / "recipients/many.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv(parallel.ENV_JOBS, "2")
    build(run, site_dir)
    assert pools == [2] * waves
    assert released[0] == 0 and all(a < b for a, b in zip(released, released[1:]))
    parallel_bytes = tree_bytes(site_dir / "output")
    monkeypatch.setenv(parallel.ENV_JOBS, "1")
    assert clean_build(run, site_dir, tmp_path) == parallel_bytes


def test_the_site_wide_groups_are_made_before_the_workers_fork(tmp_path, run, monkeypatch):
    """The groups of the site (status lists, revocation list, site pages, portfolios) read every
    award: made in a worker, each copied the pages of the whole site's models (about 80 MB per
    worker of the first wave at 100,000 awards). They, and the badge classes' groups before them,
    are made in the build's own process, before any worker forks."""
    made = tmp_path / "made.txt"
    produce = parallel._produce
    forked = []
    real_pool = parallel.pool

    def logging_produce(plan, unit, inputs, renderer, item):
        with open(made, "a", encoding="utf-8") as log:
            log.write(f"{unit.scope} {unit.name} {os.getpid()} {len(forked)}\n")
        return produce(plan, unit, inputs, renderer, item)

    def counted_pool(count):
        forked.append(count)
        return real_pool(count)

    monkeypatch.setattr(parallel, "_produce", logging_produce)
    monkeypatch.setattr(parallel, "pool", counted_pool)
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 2)
    monkeypatch.setenv(parallel.ENV_JOBS, "2")
    site_dir = copy_example(tmp_path / "site")
    build(run, site_dir)
    rows = [line.split() for line in made.read_text(encoding="utf-8").splitlines()]
    site = [(name, int(pid), int(pools)) for scope, name, pid, pools in rows if scope in ("site", "badge")]
    assert {"status-list", "revocation-list", "site-pages", "badge-class"} <= {name for name, _pid, _pools in site}
    assert all(pid == os.getpid() and pools == 0 for _name, pid, pools in site)  # here, before any fork
    assert {int(pid) for scope, _name, pid, _pools in rows if scope == "award"} - {os.getpid()}  # (workers made those)
    parallel_bytes = tree_bytes(site_dir / "output")
    monkeypatch.setenv(parallel.ENV_JOBS, "1")
    assert clean_build(run, site_dir, tmp_path) == parallel_bytes


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_first_group_that_fails_is_the_error_whatever_the_cores(tmp_path, run, monkeypatch, jobs):
    """A badge class's page and the home page both fail: the build reports the badge class's, the
    first of the groups, on one core as on two (a review found the site's groups made first)."""
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 2)
    monkeypatch.setenv(parallel.ENV_JOBS, jobs)
    site_dir = copy_example(tmp_path / "site")
    write_site(site_dir, {"templates/badge.html": "{{ 1 // 0 }}", "templates/index.html": "{{ nothing_here.x }}"})
    result = run("build", "--source", str(site_dir), "--today", TODAY)
    assert result.code == 1
    assert "templates/badge.html:1" in result.err and "index.html" not in result.err


def test_many_recipient_files_are_validated_on_two_cores_as_one(example_site, monkeypatch):
    for number in range(parallel.MIN_PARALLEL + 5):
        write_site(
            example_site,
            {
                f"recipients/earner-{number:04d}.yaml": f"""
            name: Earner {number}
            email: earner{number}@example.org
            awards:
              - badge: network-cabling
                issued_on: 2026-0{1 + number % 9}-1{number % 10}
        """
            },
        )
    monkeypatch.setenv(parallel.ENV_JOBS, "2")
    cache = cache_mod.BuildCache.open(example_site, example_site / "output")
    try:
        cached = cache.load_project(example_site, base_url=None, today=date(2026, 11, 22))
    finally:
        cache.close()
    fresh = load_project(example_site, today=date(2026, 11, 22))
    assert cached == fresh
    assert [a.location for a in cached.project.awards] == [a.location for a in fresh.project.awards]


def test_a_badge_image_that_changes_is_validated_again(keyed_site):
    def loaded():
        cache = cache_mod.BuildCache.open(keyed_site, keyed_site / "output")
        try:
            return cache.load_project(keyed_site, base_url=None, today=date(2026, 11, 22))
        finally:
            cache.save()
            cache.close()

    assert loaded() == load_project(keyed_site, today=date(2026, 11, 22))
    (keyed_site / "site_src/assets/badges/network-cabling.svg").write_bytes(b"<svg><script>alert(1)</script></svg>")
    with pytest.raises(ValidationFailed) as fresh_error:
        load_project(keyed_site, today=date(2026, 11, 22))
    with pytest.raises(ValidationFailed) as cached_error:
        loaded()
    assert cached_error.value.diagnostics() == fresh_error.value.diagnostics()


@pytest.mark.parametrize("by_times", [True, False], ids=["folder times", "listing"])
@pytest.mark.parametrize("damage", ["none", "append", "delete", "stray", "replace"])
def test_output_is_intact_only_when_it_holds_exactly_what_the_last_build_recorded(keyed_site, run, damage, by_times):
    """An intact output/ lets unchanged groups be reused without listing their files; any change
    to it (a file removed, added or replaced; edited in place, when its files are listed) must
    turn that shortcut off. Told by its folders' times (the record the last build kept: see
    engine/outputstamp.py), a file edited in place is not noticed, as README says."""
    out = keyed_site / "output"
    stamp = keyed_site / ".badgekiln/cache/output-stamp.json"
    assert stamp.is_file()
    if not by_times:
        stamp.unlink()
    page = out / "awards/7q4kz2m9xw/index.html"
    if damage == "append":
        with open(page, "ab") as handle:
            handle.write(b" ")
    elif damage == "delete":
        page.unlink()
    elif damage == "stray":
        (out / "awards/stray.txt").write_text("x")
    elif damage == "replace":  # same bytes, another file: it is not the blob any more
        data = page.read_bytes()
        page.unlink()
        page.write_bytes(data)
    opened = cache_mod.BuildCache.open(keyed_site, out)
    try:
        assert opened.intact is (damage == "none" or (damage == "append" and by_times))
    finally:
        opened.close()


def _lock_is_free(site_dir: Path) -> bool:
    import fcntl

    with open(site_dir / ".badgekiln/cache/lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def test_each_build_records_the_folders_of_output_and_the_next_scan_trusts_them(keyed_site, run, tmp_path):
    """After an in-place update that makes folders (a new award) and removes some (a page gone),
    the folders the build recorded are exactly those of output/, and the next scan finds the
    output intact by their times alone, without a listing of its files."""
    import json

    from badgekiln.engine import outputscan, outputstamp

    out, cache = keyed_site / "output", keyed_site / ".badgekiln/cache"

    def recorded() -> list[str]:
        return json.loads((cache / outputstamp.NAME).read_text())["folders"]

    assert recorded() == outputstamp.folders(out)
    _add_award(keyed_site)
    build(run, keyed_site)
    (keyed_site / "site_src/pages/about.md").unlink()
    time.sleep(0.1)  # (a source changed in the clock tick of the build's start keeps no no-op stamp)
    result = build(run, keyed_site)
    assert "written" in result.out and not (out / "pages/about").exists()
    assert recorded() == outputstamp.folders(out)
    # (the no-op stamp of that build holds the same list: it is given the build's own)
    assert json.loads((cache / "stamp.json").read_text())["folders"] == recorded()
    found = outputscan.scan(cache / "state.json", out)
    assert found.intact and found.listing is None and found.folders == recorded()
    assert tree_bytes(out) == clean_build(run, keyed_site, tmp_path)
    (out / "awards/stray").mkdir()  # (a folder added changes its parent's times: the files are listed)
    found = outputscan.scan(cache / "state.json", out)
    assert found.folders is None  # (listed instead: an empty folder holds no file of the site)


@settings(max_examples=300, deadline=None)
@given(
    st.sets(st.sampled_from(["", "a", "a/b", "a/c", "b", "b/a", "c", "c/d/e", "d"])),
    st.sets(st.sampled_from(["", "a", "a/b", "a/c", "b", "b/a", "c", "c/d/e", "d"])),
    st.sets(st.sampled_from(["", "a", "a/b", "b", "c/d/e", "z"])),
)
def test_the_folders_after_an_update_are_the_scans_list_put_right_where_it_wrote(before, after, touched):
    """The folders recorded after an in-place update: the scan's sorted list with the folders the
    update wrote in (touched) put right, not a sort of every folder (0.05 s at 100,000 awards).
    Where a folder changed outside ``touched`` (no update does that), the check finds the
    list wrong and every folder is sorted."""
    from badgekiln.engine.cache import _with_changes

    found = _with_changes(sorted(before), after, touched)
    assert found == sorted(found) and len(set(found)) == len(found)
    if before ^ after <= touched:
        assert found == sorted(after)
    else:
        assert len(found) != len(after) or not after.issuperset(found)


def test_the_folder_record_takes_the_scans_times_of_the_folders_a_build_did_not_write_in(keyed_site, run, monkeypatch):
    """Only the folders an in-place update wrote in are stat-ed again for the record (at 100,000
    awards, 100,000 folders were, 0.3 s of a rebuild); the rest come from the scan, which found
    them as the last record had them. The next scan must still find output/ intact by them."""
    from badgekiln.engine import outputscan, outputstamp

    out, cache = keyed_site / "output", keyed_site / ".badgekiln/cache"
    given: list[dict[str, str] | None] = []
    real = outputstamp.record

    def watched(cache, output, state_sha, names=None, known=None):
        given.append(known)
        return real(cache, output, state_sha, names, known)

    monkeypatch.setattr(outputstamp, "record", watched)
    _add_award(keyed_site)
    build(run, keyed_site)
    (known,), folders = given, outputstamp.folders(out)
    assert known is not None and 0 < len(folders) - len(known) <= 6  # (the new award's, those above it, and "")
    assert "" not in known and "awards" not in known
    found = outputscan.scan(cache / "state.json", out)
    assert found.intact and found.listing is None and found.folders == folders


def test_a_file_put_in_an_untouched_folder_during_an_update_is_found_by_the_next_build(keyed_site, run, monkeypatch):
    """A folder the update did not write in keeps the times the scan found; a file someone else
    put there meanwhile makes them stale, so the next scan lists output/ (and the build removes
    the file) instead of trusting the record (stranger review: before, a fresh stat hid it)."""
    from badgekiln.engine import outputscan

    out, cache = keyed_site / "output", keyed_site / ".badgekiln/cache"
    other = sorted((out / "awards").iterdir())[0]
    real = cache_mod.update_site

    def update_then_meddle(plan, output, **options):
        counts = real(plan, output, **options)
        assert other.name not in options["touched"]  # (a folder of an award this build does not change)
        (other / "stray.html").write_text("not made by this build")
        return counts

    monkeypatch.setattr(cache_mod, "update_site", update_then_meddle)
    _add_award(keyed_site)
    build(run, keyed_site)
    monkeypatch.setattr(cache_mod, "update_site", real)
    found = outputscan.scan(cache / "state.json", out)
    assert not found.intact and found.listing is not None  # (listed: the record did not vouch for it)
    build(run, keyed_site)
    assert not (other / "stray.html").exists()


def _damage_bundle(site_dir: Path, recipient: str) -> None:
    """Garble the group names in a recipient file's bundle (what the output scan does not read)."""
    edit_bundle_texts(site_dir, lambda texts: texts.update({recipient: texts[recipient].replace("award/", "awarX/")}))


def test_a_damaged_bundle_of_a_changed_file_leaves_no_stale_file(keyed_site, run, tmp_path):
    # (review: its old files were never found stale, and the folder times kept them for good)
    _damage_bundle(keyed_site, "recipients/akira-tanaka.yaml")
    edit(keyed_site / "recipients/akira-tanaka.yaml", "badge: network-cabling", "badge: first-aid-at-work")
    first = run("build", "--source", str(keyed_site), "--today", "2026-11-23")
    assert first.code == 0 and "warning[cache-damaged]" in first.err, first.err
    second = run("build", "--source", str(keyed_site), "--today", "2026-11-23")
    assert second.code == 0 and "cache-damaged" not in second.err
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path, "--today", "2026-11-23")


def test_a_damaged_bundle_kept_unread_starts_the_build_afresh_when_its_files_are_needed(keyed_site, run, tmp_path):
    # (review: when too much changed to update output/ in place, the kept bundles' files are
    # listed; a damaged one failed every build until .badgekiln/ was deleted)
    _damage_bundle(keyed_site, "recipients/akira-tanaka.yaml")
    for number in range(300):  # (more new files than half the site: output/ is restaged)
        (keyed_site / f"site_src/assets/x{number}.css").write_text(f"/* {number} */\n")
    result = run("build", "--source", str(keyed_site), "--today", TODAY)
    assert result.code == 0 and "warning[cache-damaged]" in result.err, result.err
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)
    assert "cache-damaged" not in build(run, keyed_site).err


def test_a_damaged_shard_found_when_it_is_written_again_forgets_its_kept_bundles(keyed_site, run, tmp_path):
    """A bundle kept whole whose shard file is damaged (found only when a new recipient file of the
    same shard is saved) is forgotten, said, and made again by the next build."""
    from badgekiln.engine import bundletexts

    kept = "recipients/akira-tanaka.yaml"
    shard = bundletexts.shard_of(kept)
    name = next(
        f"recipients/new-{n}.yaml" for n in range(10_000) if bundletexts.shard_of(f"recipients/new-{n}.yaml") == shard
    )
    state = json.loads((keyed_site / ".badgekiln/cache/state.json").read_text())
    path = keyed_site / ".badgekiln/cache/bundles" / f"{state['shards'][shard]}.json"
    path.write_bytes(path.read_bytes().replace(b"award/", b"awarX/"))  # (in place: the folder record still holds)
    (keyed_site / name).write_text(
        "name: Nia New\nemail: nia@example.org\nawards:\n  - badge: first-aid-at-work\n    issued_on: 2026-09-01\n",
        encoding="utf-8",
    )
    first = run("build", "--source", str(keyed_site), "--today", TODAY)
    assert first.code == 0 and f"warning[cache-damaged]: the build cache's record of '{kept}'" in first.err, first.err
    assert kept not in json.loads((keyed_site / ".badgekiln/cache/state.json").read_text())["bundles"]
    second = run("build", "--source", str(keyed_site), "--today", TODAY)
    assert second.code == 0 and "cache-damaged" not in second.err, second.err
    assert kept in json.loads((keyed_site / ".badgekiln/cache/state.json").read_text())["bundles"]
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_shard_deleted_under_an_intact_output_leaves_no_stale_file_in_that_build(keyed_site, run, tmp_path):
    # (stranger review: the folder record still vouched for output/, and the changed bundle's old
    # files were found stale only by the next build)
    from badgekiln.engine import bundletexts

    root, bundle = keyed_site / ".badgekiln/cache", "recipients/akira-tanaka.yaml"
    state = json.loads((root / "state.json").read_text())
    (root / "bundles" / f"{state['shards'][bundletexts.shard_of(bundle)]}.json").unlink()
    edit(keyed_site / bundle, "badge: network-cabling", "badge: first-aid-at-work")
    first = run("build", "--source", str(keyed_site), "--today", "2026-11-23")
    assert first.code == 0 and "warning[cache-damaged]" in first.err, first.err
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path, "--today", "2026-11-23")


def test_a_bundle_text_in_another_shard_file_is_not_believed(keyed_site, run, tmp_path):
    # (stranger review: the output scan merged every shard file's texts, the cache read only the
    # bundle's own: a forged cache showed the scan the true text and the cache an empty one)
    from badgekiln.engine import bundletexts

    root, bundle = keyed_site / ".badgekiln/cache", "recipients/akira-tanaka.yaml"
    state = json.loads((root / "state.json").read_text())
    own = bundletexts.shard_of(bundle)
    texts = bundletexts.read_shard(root, state["shards"][own], own)
    true, texts[bundle] = texts[bundle], ""
    state["shards"][own] = bundletexts.write_shard(root, texts)
    other = next(shard for shard in sorted(state["shards"]) if shard != own)
    elsewhere = bundletexts.read_shard(root, state["shards"][other], other)
    elsewhere[bundle] = true
    state["shards"][other] = bundletexts.write_shard(root, elsewhere)
    (root / "state.json").write_text(json.dumps(state))
    edit(keyed_site / bundle, "badge: network-cabling", "badge: first-aid-at-work")
    for _ in range(2):
        result = run("build", "--source", str(keyed_site), "--today", "2026-11-23")
        assert result.code == 0, result.err
        assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path, "--today", "2026-11-23")


@pytest.mark.parametrize(
    "forgery", ["no folders", "a folder outside", "restored cache", "some folders only", "a folder twice"]
)
def test_a_forged_folder_record_does_not_vouch_for_output(keyed_site, run, tmp_path, forgery, monkeypatch):
    # (review: a record listing no folder digests to the hash of nothing, and vouched for any output/)
    import hashlib
    import json

    from badgekiln.engine import outputscan, outputstamp

    cache, out = keyed_site / ".badgekiln/cache", keyed_site / "output"
    page = out / "awards/t1a2n3k4ax/index.html"
    page.unlink()
    page.write_text("<h1>forged</h1>")  # (a new file: the folder's times change, the record is forged to match)
    record = json.loads((cache / outputstamp.NAME).read_text())
    if forgery == "no folders":
        record.update(folders=[], digest=hashlib.sha256().hexdigest())
    elif forgery == "a folder outside":
        record.update(folders=["", ".."], digest=outputstamp.digest(out, ["", ".."])[0])
    elif forgery == "some folders only":  # (stranger review: what is below the others went unchecked)
        record.update(folders=["", "awards"], digest=outputstamp.digest(out, ["", "awards"])[0])
    elif forgery == "a folder twice":  # (hostile review: a build takes the list for the set of folders)
        twice = sorted([*record["folders"], "awards"])
        record.update(folders=twice, digest=outputstamp.digest(out, twice)[0])
    else:
        monkeypatch.setenv("BADGEKILN_CACHE_RESTORED", "1")
        record.update(digest=outputstamp.digest(out, record["folders"])[0])
    (cache / outputstamp.NAME).write_text(json.dumps(record))
    state_sha = outputscan.state_sha((cache / "state.json").read_bytes())
    assert outputstamp.matches(cache, out, state_sha) is None
    build(run, keyed_site)
    assert tree_bytes(out) == clean_build(run, keyed_site, tmp_path)


def test_the_early_scan_holds_the_cache_lock_until_the_build_ends(keyed_site):
    """`badgekiln build` scans output/ before anything else; it takes the cache's lock first, so no
    other build can change output/ or the cache between that scan and this build's use of it."""
    from badgekiln.commands.build import run_build
    from badgekiln.engine import outputscan

    out = keyed_site / "output"
    assert _lock_is_free(keyed_site)
    scanner = outputscan.start(keyed_site, out)
    assert scanner is not None and scanner.lock is not None
    assert not _lock_is_free(keyed_site)  # another build would wait here
    result = run_build(keyed_site, out, base_url=None, today=date.fromisoformat(TODAY), scanner=scanner)
    assert result.written == 0
    assert _lock_is_free(keyed_site)


def test_no_early_scan_without_a_cache_state(minimal_site):
    from badgekiln.engine import outputscan

    assert outputscan.start(minimal_site, minimal_site / "output") is None
    assert not (minimal_site / ".badgekiln").exists()  # nothing is created before the build decides


def test_groups_whose_file_sets_change_leave_no_stale_file(keyed_site, run, tmp_path):
    """A badge image turned from SVG to PNG renames files of the badge and of every award of it; a
    page removed shrinks the site pages' group; an asset added, then removed, changes the loose files."""
    edit(keyed_site / "badges/network-cabling.yaml", "network-cabling.svg", "first-aid-at-work.png")
    next(iter(sorted((keyed_site / "site_src/pages").glob("*.md")))).unlink()
    (keyed_site / "site_src/assets/logo2.svg").write_bytes((keyed_site / "site_src/assets/logo.svg").read_bytes())
    build(run, keyed_site)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)
    (keyed_site / "site_src/assets/logo2.svg").unlink()
    build(run, keyed_site)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_building_into_another_folder_and_back(keyed_site, run, tmp_path):
    other = tmp_path / "other"
    build(run, keyed_site, "--output", str(other))
    _rename_earner(keyed_site)
    build(run, keyed_site, "--output", str(other))
    build(run, keyed_site)
    expected = clean_build(run, keyed_site, tmp_path)
    assert tree_bytes(keyed_site / "output") == expected
    assert tree_bytes(other) == expected


KILLED = r"""
import os, sys
from badgekiln.engine import cache, site
stop = os.environ["STOP"]
if stop == "save":  # killed (Ctrl-C, out of memory, power) after output/ was updated, before the state was saved
    cache.BuildCache.save = lambda self: os._exit(9)
else:  # killed after some of the renames of an in-place update
    real, count = os.replace, [0]
    def replace(a, b):
        count[0] += 1
        if count[0] > int(stop):
            os._exit(9)
        return real(a, b)
    site.os.replace = replace
from badgekiln.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("stop", ["0", "1", "5", "save"])
def test_a_build_killed_part_way_is_repaired_by_the_next(keyed_site, run, tmp_path, stop):
    import subprocess
    import sys

    _edit_template(keyed_site)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED, "build", "--source", str(keyed_site), "--today", TODAY],
        env=dict(os.environ, STOP=stop),
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 9, killed.stderr
    build(run, keyed_site)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def _restore(site_dir: Path, tmp_path: Path) -> Path:
    """The site with its output/ and cache as CI restores them from an archive: same bytes, same
    hard links between them, other inodes."""
    import subprocess

    copy = tmp_path / "restored"
    subprocess.run(["cp", "-a", str(site_dir), str(copy)], check=True)  # -a keeps hard links within the copy
    return copy


def test_a_restored_cache_is_reused_only_when_told_and_then_without_signing(keyed_site, run, tmp_path, monkeypatch):
    restored = _restore(keyed_site, tmp_path)
    counter = Counter(monkeypatch)
    monkeypatch.setenv(cache_mod.ENV_RESTORED, "1")
    result = build(run, restored)
    assert (counter.signatures, counter.renders) == (0, 0)
    assert "(0 written," in result.out  # output/ came back hard-linked to the blobs
    assert tree_bytes(restored / "output") == clean_build(run, keyed_site, tmp_path)
    again = build(run, restored)  # and the next build finds output/ intact under the new inodes
    assert "(0 written," in again.out
    opened = cache_mod.BuildCache.open(restored, restored / "output")
    try:
        assert opened.intact
    finally:
        opened.close()


def test_a_restored_cache_is_not_trusted_by_default(keyed_site, run, tmp_path, monkeypatch):
    restored = _restore(keyed_site, tmp_path)
    monkeypatch.delenv(cache_mod.ENV_RESTORED, raising=False)
    counter = Counter(monkeypatch)
    build(run, restored)
    assert counter.signatures > 0  # other inodes than recorded: everything is made again


def test_a_restored_blob_whose_bytes_do_not_match_its_name_is_not_used(keyed_site, run, tmp_path, monkeypatch):
    restored = _restore(keyed_site, tmp_path)
    page = restored / "output/awards/7q4kz2m9xw/index.html"
    data = page.read_bytes()
    page.unlink()  # (output/ loses the page; its blob, the same size, now says something else)
    blob = next(p for p in (restored / ".badgekiln/cache/blobs").rglob("*") if p.is_file() and p.read_bytes() == data)
    blob.write_bytes(data.replace(b"<html", b"<HTML", 1))
    monkeypatch.setenv(cache_mod.ENV_RESTORED, "1")
    build(run, restored)
    assert tree_bytes(restored / "output") == clean_build(run, keyed_site, tmp_path)


def test_restyling_the_site_renders_pages_and_signs_nothing(keyed_site, run, monkeypatch, tmp_path):
    """site.css, the accent colour and the footer are the pages' look: no signed document changes."""
    write_site(keyed_site, {"site_src/assets/site.css": "h1 { color: rebeccapurple; }\n"})
    edit(keyed_site / "site_src/site.yaml", 'accent_color: "#1f5f8b"', 'accent_color: "#b03a2e"')
    edit(keyed_site / "site_src/site.yaml", "footer: Northwind Training Ltd, Teesside.", "footer: Restyled.")
    counter = Counter(monkeypatch)
    build(run, keyed_site)
    assert counter.signatures == 0 and counter.renders > 0
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_new_footer_renders_pages_and_draws_no_share_card(keyed_site, run, monkeypatch, tmp_path):
    """A share card shows the issuer, the site's address and the accent colour, not the footer
    (every award's card was drawn again for a footer: minutes at 100,000 awards)."""
    edit(keyed_site / "site_src/site.yaml", "footer: Northwind Training Ltd, Teesside.", "footer: Restyled.")
    counter = Counter(monkeypatch)
    build(run, keyed_site)
    assert counter.renders > 0 and "award.html" in counter.rendered
    assert (counter.award_cards, counter.signatures) == (0, 0)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)
    edit(keyed_site / "site_src/site.yaml", 'accent_color: "#1f5f8b"', 'accent_color: "#b03a2e"')
    counter = Counter(monkeypatch)
    build(run, keyed_site)
    assert counter.award_cards > 0  # (the accent bar is on every card)


def test_a_new_signatory_or_title_renders_the_pages_and_signs_nothing(keyed_site, run, monkeypatch, tmp_path):
    """The certificates' signatory and the site's title are on the pages, and in no signed
    document (a new one signed every award of the site again)."""
    edit(keyed_site / "site_src/site.yaml", "title: Head of Assessment", "title: Director of Assessment")
    edit(keyed_site / "site_src/site.yaml", "title: Northwind Training badges", "title: Northwind badges")
    counter = Counter(monkeypatch)
    build(run, keyed_site)
    assert "award.html" in counter.rendered and (counter.signatures, counter.award_cards) == (0, 0)
    pages = list((keyed_site / "output/awards").glob("*/index.html"))
    assert pages and all("Director of Assessment" in page.read_text(encoding="utf-8") for page in pages)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_the_reminders_settings_make_no_file_again(keyed_site, run, monkeypatch):
    """remind_before, notify_revocations and a class's renewal_url are what notify reads: no page or
    document shows them."""
    edit(
        keyed_site / "site_src/site.yaml",
        "footer: Northwind Training Ltd, Teesside.",
        "footer: Northwind Training Ltd, Teesside.\nremind_before: [P90D]\nnotify_revocations: false",
    )
    append(
        keyed_site / "badges/first-aid-at-work.yaml", "remind_before: [P30D]\nrenewal_url: https://example.org/renew\n"
    )
    counter = Counter(monkeypatch)
    result = build(run, keyed_site)
    assert (counter.renders, counter.signatures, counter.award_cards) == (0, 0, 0)
    assert "(0 written," in result.out


def _override(site_dir: Path, name: str, note: str) -> None:
    write_site(site_dir, {f"templates/{name}": f"{{% extends '!builtin/{name}' %}}{{# {note} #}}"})


@pytest.mark.parametrize(
    ("template", "renders"),
    [
        (
            "index.html",
            {"index.html", "page.html", "404.html", "sitemap.xml"},
        ),  # (one group: the site's pages)
        ("check.html", {"check.html"}),  # (its own unit: the site pages' key did not read it, session 41)
        ("badge.html", {"badge.html"}),
        ("email.txt", set()),
        ("email-reminder.html", set()),
    ],
)
def test_editing_a_template_renders_only_the_pages_made_from_it(
    keyed_site, run, monkeypatch, tmp_path, template, renders
):
    """A page's key holds the text of the templates it is made from (by the names they extend,
    include and import), not every template's: an edit of the home page's, a badge class's page
    or an email's renders no award page again (each did, every award of the site)."""
    _override(keyed_site, template, "first")
    build(run, keyed_site)
    _override(keyed_site, template, "second")
    counter = Counter(monkeypatch)
    build(run, keyed_site)
    assert counter.rendered <= renders and counter.signatures == 0
    assert (counter.renders > 0) == bool(renders)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_template_that_an_award_page_includes_renders_every_award_page_again(keyed_site, run, monkeypatch):
    """What award.html includes is in its pages' keys: one it names first in a list, missing
    until now, or any template at all when it names one only as it renders."""
    write_site(
        keyed_site,
        {
            "templates/award.html": "{% extends '!builtin/award.html' %}{% block main %}"
            "{% include ['_note.html', '_alignment.html'] ignore missing %}{{ super() }}{% endblock %}"
        },
    )
    build(run, keyed_site)
    write_site(keyed_site, {"templates/_note.html": "<p>A note.</p>"})  # (missing before: now included)
    counter = Counter(monkeypatch)
    build(run, keyed_site)
    assert "award.html" in counter.rendered
    assert "<p>A note.</p>" in (next((keyed_site / "output/awards").glob("*/index.html"))).read_text(encoding="utf-8")

    # A name made as it renders, alone or in a list: any template may be read.
    for included, edit in [("('_no' ~ 'te.html')", "any edit"), ("[award.id ~ '.html', '_note.html']", "another edit")]:
        write_site(
            keyed_site,
            {
                "templates/award.html": "{% extends '!builtin/award.html' %}{% block main %}"
                f"{{% include {included} %}}{{{{ super() }}}}{{% endblock %}}"
            },
        )
        build(run, keyed_site)
        _override(keyed_site, "index.html", edit)
        counter = Counter(monkeypatch)
        build(run, keyed_site)
        assert "award.html" in counter.rendered, included


def test_a_site_template_under_the_builtin_prefix_is_in_the_keys(keyed_site, run, tmp_path):
    """templates/!builtin/x.html is served under that name (before a built-in one): a page that
    names it as it renders read a template no key held (a review: pages stayed as they were)."""
    write_site(
        keyed_site,
        {
            "templates/!builtin/x.html": "<p>MARK one</p>",
            "templates/award.html": "{% extends '!builtin/award.html' %}{% block main %}"
            "{% set n = '!builtin/x.html' %}{% include n %}{{ super() }}{% endblock %}",
        },
    )
    build(run, keyed_site)
    write_site(keyed_site, {"templates/!builtin/x.html": "<p>MARK two</p>"})
    build(run, keyed_site)
    pages = list((keyed_site / "output/awards").glob("*/index.html"))
    assert pages and all("MARK two" in page.read_text(encoding="utf-8") for page in pages)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def _recipients_read(monkeypatch) -> list[str]:
    """The recipient files the cache reads (to hash them) from now on."""
    from badgekiln.sources import safefiles

    read: list[str] = []
    original = safefiles.Folder.read_bytes

    def counting(self, name, **kwargs):
        if self.rel == "recipients":
            read.append(name)
        return original(self, name, **kwargs)

    monkeypatch.setattr(safefiles.Folder, "read_bytes", counting)
    return read


def test_a_rebuild_reads_only_the_recipient_files_whose_stat_changed(keyed_site, run, monkeypatch, tmp_path):
    from badgekiln.engine import cache as cache_mod

    monkeypatch.setattr(cache_mod, "SETTLED_NS", 0)  # (files just written count as settled)
    time.sleep(0.05)  # (past the tick of the files' last change, so that their stats are kept)
    (keyed_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    build(run, keyed_site)
    read = _recipients_read(monkeypatch)
    edit(keyed_site / "recipients/jane-doe.yaml", "issued_on: 2026-03-01", "issued_on: 2026-03-02")
    build(run, keyed_site)
    # (hashed, and hashed again after it was validated; once more as the build saves if its change
    # fell in the clock tick the build began in: see the next test)
    assert read in (["jane-doe.yaml"] * 2, ["jane-doe.yaml"] * 3)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def _settling_at_save(monkeypatch, before=None) -> None:
    """Builds from now on find every source file too recent to trust when they read it, and
    settled by the time they save (as a build that lasts longer than SETTLED_NS does); ``before``
    runs just before the save's settling."""
    monkeypatch.setattr(cache_mod, "SETTLED_NS", 10**15)  # (at hashing: every file too recent)
    real = cache_mod.BuildCache._settle

    def later(self):
        if before is not None:
            before()
        time.sleep(0.05)  # (past the clock tick of the files' last change)
        monkeypatch.setattr(cache_mod, "SETTLED_NS", 0)
        try:
            real(self)
        finally:
            monkeypatch.setattr(cache_mod, "SETTLED_NS", 10**15)

    monkeypatch.setattr(cache_mod.BuildCache, "_settle", later)


def test_a_build_that_outlasts_the_settling_time_keeps_the_stats_of_its_recent_sources(
    keyed_site, run, monkeypatch, tmp_path
):
    """Sources written just before a long build (a clean build of 100,000 awards lasts minutes)
    are read once more when it saves: their stats are kept, so the next build reads only what changed."""
    (keyed_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    _settling_at_save(monkeypatch)
    build(run, keyed_site)
    read = _recipients_read(monkeypatch)
    badges_read = _badges_read(monkeypatch)
    edit(keyed_site / "recipients/jane-doe.yaml", "issued_on: 2026-03-01", "issued_on: 2026-03-02")
    build(run, keyed_site)
    # (hashed, hashed again after it was validated, and once more as the build saved, settled)
    assert read == ["jane-doe.yaml"] * 3
    assert badges_read == []  # (the badge classes' stats were kept at the save too)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def _badges_read(monkeypatch) -> list[str]:
    """The badge class files the cache reads (to hash them) from now on."""
    from badgekiln.sources import safefiles

    read: list[str] = []
    original = safefiles.Folder.read_bytes

    def counting(self, name, **kwargs):
        if self.rel == "badges":
            read.append(name)
        return original(self, name, **kwargs)

    monkeypatch.setattr(safefiles.Folder, "read_bytes", counting)
    return read


def _kept_stats(site: Path) -> dict[str, list | None]:
    """Each source file's stat as the cache's state keeps it (None: read again by the next build)."""
    sources = json.loads((site / ".badgekiln/cache/state.json").read_text())["sources"]
    return {rel: record[5] for rel, record in sources.items()}


def test_a_source_changed_before_the_save_settles_it_keeps_no_stat(keyed_site, run, monkeypatch, tmp_path):
    """A file changed after the build validated it, before it saved (its bytes no longer those
    validated): its stat is not kept, and the next build reads it and builds the change."""
    path = keyed_site / "recipients/jane-doe.yaml"
    (keyed_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    changes = []

    def change():
        if not changes:
            edit(path, "Jane", "Jana")
            found = path.stat()
            changes.append((found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino))

    _settling_at_save(monkeypatch, change)
    build(run, keyed_site)
    assert changes
    kept = _kept_stats(keyed_site)
    # (its stat not kept, as the name says; the others' were: the save did settle them)
    assert kept["recipients/jane-doe.yaml"] is None
    assert all(stat is not None for rel, stat in kept.items() if rel != "recipients/jane-doe.yaml")
    output = tree_bytes(keyed_site / "output")
    assert not any(b"Jana Doe" in data for data in output.values())  # (validated before the change)
    monkeypatch.undo()
    monkeypatch.setattr(cache_mod, "SETTLED_NS", 0)
    read = _recipients_read(monkeypatch)
    build(run, keyed_site)
    found = path.stat()
    assert "jane-doe.yaml" in read and (found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino) == changes[0]
    output = tree_bytes(keyed_site / "output")
    assert any(b"Jana Doe" in data for data in output.values())
    assert output == clean_build(run, keyed_site, tmp_path)


def test_the_sources_are_listed_once_with_the_stamp(keyed_site, run, monkeypatch, tmp_path):
    """The stamp lists badges/ and recipients/ (with each file's stat) before the build; the build's
    sources use that listing instead of listing and stat-ing every file again."""
    from badgekiln.sources import safefiles

    listed: list[str] = []
    real = safefiles.list_dir

    def counting(root, rel, **kwargs):
        listed.append(str(rel))
        return real(root, rel, **kwargs)

    monkeypatch.setattr(safefiles, "list_dir", counting)
    edit(keyed_site / "recipients/jane-doe.yaml", "issued_on: 2026-03-01", "issued_on: 2026-03-02")
    build(run, keyed_site)
    assert listed.count("recipients") == 1 and listed.count("badges") == 1
    monkeypatch.setattr(safefiles, "list_dir", real)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_file_changed_after_the_stamps_listing_is_built_by_the_next_build(keyed_site, run, monkeypatch, tmp_path):
    """A recipient file saved between the stamp's listing and the build's reading of it: the build
    uses the listing's stat (the file's record may then stand for its old bytes), and records
    that stat, so the next build sees the change, reads the file and builds what a clean build does."""
    from badgekiln.engine import stamp

    monkeypatch.setattr(cache_mod, "SETTLED_NS", 0)  # (files just written count as settled: their records are used)
    time.sleep(0.05)
    (keyed_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    build(run, keyed_site)
    time.sleep(0.05)
    real, edited = stamp.inputs, []

    def listing_then_edit(*args, **kwargs):
        found = real(*args, **kwargs)
        if not edited:
            edit(keyed_site / "recipients/jane-doe.yaml", "Jane", "Jana")
            edited.append(True)
        return found

    monkeypatch.setattr(stamp, "inputs", listing_then_edit)
    build(run, keyed_site)
    assert edited
    monkeypatch.setattr(stamp, "inputs", real)
    build(run, keyed_site)
    output = tree_bytes(keyed_site / "output")
    assert any(b"Jana Doe" in data for data in output.values())
    assert output == clean_build(run, keyed_site, tmp_path)


def test_a_file_changed_with_the_same_size_and_mtime_is_noticed_by_its_ctime(keyed_site, run, tmp_path, monkeypatch):
    from badgekiln.engine import cache as cache_mod

    monkeypatch.setattr(cache_mod, "SETTLED_NS", 0)
    time.sleep(0.05)
    path = keyed_site / "recipients/jane-doe.yaml"
    (keyed_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    build(run, keyed_site)
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    assert "Jane" in text
    path.write_text(text.replace("Jane", "Joan", 1), encoding="utf-8")  # (the same size)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    build(run, keyed_site)
    output = tree_bytes(keyed_site / "output")
    assert output == clean_build(run, keyed_site, tmp_path)
    assert any(b"Joan Doe" in data for data in output.values())


def test_a_file_changed_in_the_tick_of_its_stat_keeps_no_stat(tmp_path, monkeypatch):
    from badgekiln.engine import cache as cache_mod

    (tmp_path / "recipients").mkdir()
    path = tmp_path / "recipients/a.yaml"
    path.write_text("name: A\n", encoding="utf-8")
    found = path.stat()
    stats: dict = {}
    # (changed less than SETTLED_NS before the build: not kept, whatever the clock's tick)
    cache_mod._file_keys(
        tmp_path, path.parent, [path.name], "c", known={}, stats=stats, clock=(found.st_ctime_ns + 10**9, found.st_dev)
    )
    assert stats[path.name] is None
    monkeypatch.setattr(cache_mod, "SETTLED_NS", 0)
    for clock, kept in ((found.st_ctime_ns, False), (found.st_ctime_ns + 1, True)):
        stats.clear()
        cache_mod._file_keys(
            tmp_path, path.parent, [path.name], "c", known={}, stats=stats, clock=(clock, found.st_dev)
        )
        assert (stats[path.name] is not None) == kept
    stats.clear()  # (another file system than the clock's: its times are not compared with it)
    cache_mod._file_keys(
        tmp_path, path.parent, [path.name], "c", known={}, stats=stats, clock=(found.st_ctime_ns + 1, -1)
    )
    assert stats[path.name] is None


def test_a_restored_cache_does_not_trust_the_files_stats(keyed_site, run, monkeypatch):
    from badgekiln.engine import cache as cache_mod

    monkeypatch.setattr(cache_mod, "SETTLED_NS", 0)
    time.sleep(0.05)
    (keyed_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    build(run, keyed_site)
    read = _recipients_read(monkeypatch)
    monkeypatch.setenv("BADGEKILN_CACHE_RESTORED", "1")
    edit(keyed_site / "recipients/jane-doe.yaml", "issued_on: 2026-03-01", "issued_on: 2026-03-02")
    build(run, keyed_site)
    assert set(read) == {p.name for p in (keyed_site / "recipients").glob("*.yaml")}


def test_a_folder_record_holds_past_the_link_counts_ext4_keeps(tmp_path):
    """ext4 stops counting a folder's sub-folders at 65,000 (its link count reads 1): the awards/
    folder of a 100,000-award site. Its sub-folders are counted in its listing instead (the record
    was never trusted there, and every rebuild listed all 960,000 files)."""
    from badgekiln.engine import outputstamp

    out, cache = tmp_path / "output", tmp_path / "cache"
    cache.mkdir()
    awards = out / "awards"
    awards.mkdir(parents=True)
    for number in range(65_001):
        os.mkdir(awards / str(number))
    (awards / "0" / "x").mkdir()
    if os.lstat(awards).st_nlink != 1:
        pytest.skip("this file system counts every sub-folder")  # (not ext4: the listing is not needed)
    names = ["", "awards", "awards/0/x", *(f"awards/{number}" for number in range(65_001))]
    assert outputstamp.record(cache, out, "s" * 64, names)
    matched = outputstamp.matches(cache, out, "s" * 64)
    assert matched is not None and matched[0] == sorted(names)
    short = [name for name in names if name != "awards/7"]  # (a record that leaves a sub-folder out)
    assert outputstamp.record(cache, out, "s" * 64, short)
    assert outputstamp.matches(cache, out, "s" * 64) is None


def test_a_file_written_through_mmap_after_its_first_change_is_not_missed(keyed_site, run, tmp_path):
    """A shared mmap's later writes to a page still dirty change the bytes and no time (stranger
    review): a stat taken in between must not be kept, or every later build would miss them."""
    import mmap

    path = keyed_site / "recipients/jane-doe.yaml"
    text = path.read_bytes()
    handle = os.open(path, os.O_RDWR)
    try:
        mapped = mmap.mmap(handle, 0)
        mapped[0:1] = mapped[0:1]  # (the first write: the file's times change now, its page stays dirty)
        time.sleep(0.05)
        (keyed_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
        build(run, keyed_site)
        at = text.index(b"Jane")
        mapped[at : at + 4] = b"Joan"  # (the same page: no new time)
        mapped.close()
    finally:
        os.close(handle)
    os.sync()
    for _ in range(2):
        time.sleep(0.05)
        (keyed_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
        build(run, keyed_site)
    output = tree_bytes(keyed_site / "output")
    assert output == clean_build(run, keyed_site, tmp_path)
    assert any(b"Joan Doe" in data for data in output.values())

"""What many groups are made from, kept in the cache between builds (engine/sharedkeep.py).

A rebuild that changes one award's share card (added, revoked, suspended) drew its badge class's
base again (about 0.13 s of such a rebuild at 100,000 awards): the bases a build draws are kept in
``.badgekiln/cache/shared/`` and read back. Nothing a kept file holds may change a card's bytes
unless it is the base the build would draw, nor be read from where the build did not write it.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from conftest import build, tree_bytes
from PIL import Image
from test_incremental import _add_award, _revoke, clean_build

from badgekiln.engine import cache as cache_mod
from badgekiln.engine import sharedkeep
from badgekiln.outputs import share_cards
from badgekiln.pages import sharecard

SHARED = Path(".badgekiln/cache/shared")


class Draws:
    """Counts the bases drawn (in this process: the example site's few groups are made here)."""

    def __init__(self, monkeypatch):
        self.count = 0
        draw = sharecard.badge_base

        def counting(**kwargs):
            self.count += 1
            return draw(**kwargs)

        monkeypatch.setattr(sharecard, "badge_base", counting)
        share_cards._BASES.clear()  # (the in-process runs of the tests share the module's memory)


def _kept(site: Path) -> list[Path]:
    return sorted((site / SHARED).iterdir()) if (site / SHARED).is_dir() else []


def _add_and_rebuild(site: Path, run, monkeypatch, tmp_path: Path) -> int:
    """Add an award and build again; the bases drawn (the bytes are checked against a clean build's)."""
    _add_award(site)
    draws = Draws(monkeypatch)
    build(run, site)
    drawn = draws.count
    assert tree_bytes(site / "output") == clean_build(run, site, tmp_path)  # (which draws its own)
    return drawn


class MacKeys:
    """Records the HMAC key of each store a build opens (the site's: derived from its private keys)."""

    def __init__(self, monkeypatch):
        self.keys: list[bytes | None] = []
        init = sharedkeep.Kept.__init__

        def recording(kept, *args, **kwargs):
            init(kept, *args, **kwargs)
            self.keys.append(kept.mac_key)

        monkeypatch.setattr(sharedkeep.Kept, "__init__", recording)


@pytest.mark.parametrize("change", [_add_award, _revoke])
def test_a_rebuild_reads_the_base_the_last_build_kept_and_makes_the_same_cards(
    keyed_site, run, monkeypatch, tmp_path, change
):
    kept = _kept(keyed_site)
    assert kept, "the first build kept the bases it drew"
    change(keyed_site)
    draws, macs = Draws(monkeypatch), MacKeys(monkeypatch)
    build(run, keyed_site)
    assert draws.count == 0  # the award's card was drawn on the kept base
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)  # (which drew its bases)
    (key,) = set(macs.keys)
    assert key is not None and len(key) == 32
    for path in kept:  # each file named by its key and the HMAC of its key and bytes
        name, _, mac = path.name.partition(".")
        expected = hmac.new(key, b"badgekiln shared v1\0" + name.encode() + b"\0" + path.read_bytes(), "sha256")
        assert len(name) == 64 and mac == expected.hexdigest()


def test_a_base_planted_under_a_computed_name_is_not_read(keyed_site, run, monkeypatch, tmp_path):
    """What a writer of the cache without the site's private keys can make: the key of a class
    (code fingerprint, identity: all public) and a file named by it, holding another class's
    real base (the review's repro: First Aid's cards drawn with another class's artwork)."""
    kept = _kept(keyed_site)
    assert len(kept) >= 2
    datas = [path.read_bytes() for path in kept]
    for path, data in zip(kept, datas[1:] + datas[:1]):
        path.unlink()
        path.with_name(f"{path.name.partition('.')[0]}.{hashlib.sha256(data).hexdigest()}").write_bytes(data)
    assert _add_and_rebuild(keyed_site, run, monkeypatch, tmp_path) == 1  # the added award's class: drawn, not read


def test_a_kept_file_that_is_not_a_base_is_drawn_again_and_replaced(keyed_site, run, monkeypatch, tmp_path):
    """A file the site's keys did authenticate, but that is no base (load refuses it)."""
    macs = MacKeys(monkeypatch)
    _revoke(keyed_site)
    build(run, keyed_site)  # (to learn the site's key)
    store = sharedkeep.Kept(keyed_site / ".badgekiln/cache", "", restored=False, mac_key=macs.keys[0])
    buffer = io.BytesIO()
    Image.new("RGB", (sharecard.WIDTH, sharecard.HEIGHT), "red").save(buffer, "PNG")  # a PNG, not a base
    for path in _kept(keyed_site):
        name = path.name.partition(".")[0]
        path.unlink()
        path.with_name(f"{name}.{store._mac(name, buffer.getvalue())}").write_bytes(buffer.getvalue())
    assert _add_and_rebuild(keyed_site, run, monkeypatch, tmp_path) == 1  # the added award's class
    replaced = [path for path in _kept(keyed_site) if path.read_bytes() != buffer.getvalue()]
    assert len(replaced) == 1 and sharecard.CardBase.from_png(replaced[0].read_bytes())


def test_a_kept_file_whose_bytes_are_not_its_names_is_not_read(keyed_site, run, monkeypatch, tmp_path):
    kept = _kept(keyed_site)
    assert len(kept) >= 2
    datas = [path.read_bytes() for path in kept]
    for path, data in zip(kept, datas[1:] + datas[:1]):  # each holds another class's base: real, of the wrong class
        path.write_bytes(data)
    assert _add_and_rebuild(keyed_site, run, monkeypatch, tmp_path) == 1


def test_a_restored_cache_does_not_lend_its_bases(keyed_site, run, monkeypatch, tmp_path):
    monkeypatch.setenv(cache_mod.ENV_RESTORED, "1")
    assert _add_and_rebuild(keyed_site, run, monkeypatch, tmp_path) == 1


def test_a_link_at_the_folder_is_not_followed(keyed_site, run, monkeypatch, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for path in _kept(keyed_site):
        path.rename(elsewhere / path.name)
    there = {path.name: path.read_bytes() for path in elsewhere.iterdir()}
    (keyed_site / SHARED).rmdir()
    (keyed_site / SHARED).symlink_to(elsewhere, target_is_directory=True)
    assert _add_and_rebuild(keyed_site, run, monkeypatch, tmp_path) == 1  # not read through the link
    assert not (keyed_site / SHARED).is_symlink() and len(_kept(keyed_site)) == 1  # a folder again, the new base in it
    assert {path.name: path.read_bytes() for path in elsewhere.iterdir()} == there  # nothing removed or written there


# -- the store itself ----------------------------------------------------------------------------


KEY = b"k" * 32


def _store(root: Path, *, fingerprint: str = "code", restored: bool = False, mac_key: bytes | None = KEY):
    return sharedkeep.Kept(root, fingerprint, restored=restored, mac_key=mac_key)


def test_get_refuses_what_is_not_one_regular_file_of_this_sites_bytes(tmp_path):
    _store(tmp_path).put("bases", "a", b"one")
    assert _store(tmp_path).get("bases", "a") == b"one"
    assert _store(tmp_path, fingerprint="other code").get("bases", "a") is None
    assert _store(tmp_path, restored=True).get("bases", "a") is None
    assert _store(tmp_path, mac_key=b"another site's keys").get("bases", "a") is None
    assert _store(tmp_path, mac_key=None).get("bases", "a") is None  # (no private keys: nothing kept or read)
    _store(tmp_path, mac_key=None).put("bases", "b", b"two")
    assert len(_kept_in(tmp_path)) == 1
    (path,) = _kept_in(tmp_path)
    # a second file claiming the key, of this site's HMAC too: neither is read
    twin = path.with_name(_name(_store(tmp_path), "a", b"two"))
    twin.write_bytes(b"two")
    assert _store(tmp_path).get("bases", "a") is None
    twin.unlink()
    # the name's HMAC over other bytes
    path.write_bytes(b"changed")
    assert _store(tmp_path).get("bases", "a") is None
    path.write_bytes(b"one")
    # a link named as the file would be, to the bytes of its HMAC
    target = tmp_path / "target"
    target.write_bytes(b"one")
    path.unlink()
    path.symlink_to(target)
    assert _store(tmp_path).get("bases", "a") is None
    path.unlink()
    os.mkfifo(path)  # (never opened: it would block the build)
    assert _store(tmp_path).get("bases", "a") is None


def test_a_name_that_is_not_two_hex_digests_is_not_read_and_ends_no_build(keyed_site, run, monkeypatch, tmp_path):
    """A review's repro: every file renamed to its (public) key and 64 non-ASCII characters, which
    the HMAC comparison could not take (a TypeError on every later build)."""
    for path in _kept(keyed_site):
        path.rename(path.with_name(f"{path.name.partition('.')[0]}.{'é' * 64}"))
    assert _add_and_rebuild(keyed_site, run, monkeypatch, tmp_path) == 1
    store = _store(tmp_path)
    store.put("bases", "a", b"one")
    (path,) = _kept_in(tmp_path)
    for odd in ("\xff" * 64, "A" * 64, "g" * 64):
        path.rename(path.with_name(f"{path.name.partition('.')[0]}.{odd}"))
        assert _store(tmp_path).get("bases", "a") is None
        (path,) = _kept_in(tmp_path)


def test_a_file_refused_is_written_over_when_the_value_is_made_again(tmp_path):
    _store(tmp_path).put("bases", "a", b"one")
    (path,) = _kept_in(tmp_path)
    path.write_bytes(b"torn")  # (its name is what the good bytes would be named)
    store = _store(tmp_path)
    assert store.get("bases", "a") is None
    store.put("bases", "a", b"one")  # made again: the same bytes, the same name
    assert path.read_bytes() == b"one" and _store(tmp_path).get("bases", "a") == b"one"


def test_put_replaces_the_keys_old_value(tmp_path):
    store = _store(tmp_path)
    store.put("bases", "a", b"one")
    store.put("bases", "a", b"two")
    assert [p.read_bytes() for p in _kept_in(tmp_path)] == [b"two"]
    store.put("bases", "big", b"x" * (sharedkeep.MAX_BYTES + 1))  # too large: not kept
    assert len(_kept_in(tmp_path)) == 1


def test_pruning_keeps_what_this_build_used_and_then_the_most_recently_used(tmp_path, monkeypatch):
    monkeypatch.setattr(sharedkeep, "MAX_FILES", 3)
    old = _store(tmp_path)
    for n in range(3):
        old.put("bases", f"n{n}", f"value {n}".encode())
        os.utime(tmp_path / "shared" / _name(old, f"n{n}", f"value {n}".encode()), ns=(n * 10**9, n * 10**9))
    # files planted with dates far ahead (gone before any kept file), named as kept files are (their HMACs do not hold)
    for n in range(3):
        junk = tmp_path / "shared" / f"{'0' * 63}{n}.{'f' * 64}"
        junk.write_bytes(b"junk")
        os.utime(junk, ns=(4 * 10**18, 4 * 10**18))
    (tmp_path / "shared" / ".x.y.abc.tmp").write_bytes(b"half written")  # (a build killed while it wrote)
    build = _store(tmp_path)
    assert build.get("bases", "n0") == b"value 0"  # read: used by this build (and touched)
    build.put("bases", "new", b"new value")
    build.finish()
    kept = sorted(p.read_bytes() for p in _kept_in(tmp_path))
    assert kept == [b"new value", b"value 0", b"value 2"]  # (used by this build, then the most recent)


def test_what_a_killed_build_left_half_written_goes_with_the_next_write(tmp_path):
    _store(tmp_path).put("bases", "a", b"one")
    (tmp_path / "shared" / ".name.abc123.tmp").write_bytes(b"half written")  # (safefiles.replace_file's)
    store = _store(tmp_path)
    assert store.get("bases", "a") == b"one"
    store.finish()
    assert (tmp_path / "shared" / ".name.abc123.tmp").exists()  # (nothing written: the folder is not touched)
    store.put("bases", "b", b"two")
    store.finish()
    assert sorted(p.read_bytes() for p in _kept_in(tmp_path)) == [b"one", b"two"]


def test_a_file_or_link_at_the_folders_name_is_replaced_by_a_folder(tmp_path):
    (tmp_path / "shared").write_bytes(b"junk")
    _store(tmp_path).put("bases", "a", b"one")
    assert _store(tmp_path).get("bases", "a") == b"one"
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    root = tmp_path / "second"
    root.mkdir()
    (root / "shared").symlink_to(outside, target_is_directory=True)
    store = _store(root)
    assert store.get("bases", "a") is None
    store.put("bases", "a", b"one")
    assert list(outside.iterdir()) == [] and (root / "shared").is_dir() and not (root / "shared").is_symlink()


def _kept_in(root: Path) -> list[Path]:
    return sorted((root / "shared").iterdir())


def _name(kept: sharedkeep.Kept, identity: str, data: bytes) -> str:
    key = kept.key("bases", identity)
    return f"{key}.{kept._mac(key, data)}"


# -- a base read back ----------------------------------------------------------------------------


def _base() -> sharecard.CardBase:
    return sharecard.badge_base(
        badge_name="Pipefitting",
        issuer="Northwind",
        host="badges.example.org",
        accent="#1f5f8b",
        artwork=None,
        is_svg=False,
    )


def _png(header: bytes, palette: bytes, pixels: bytes | None, extra: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    body = chunk(b"IHDR", header) + chunk(b"PLTE", palette) + extra
    if pixels is not None:
        body += chunk(b"IDAT", zlib.compress(pixels))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def test_only_a_base_is_read_back():
    good = _base().png()
    with Image.open(io.BytesIO(good)) as image:
        palette, indices = bytes(image.getpalette() or []), image.tobytes()
    width, height = sharecard.WIDTH, sharecard.HEIGHT
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    rows = b"".join(b"\0" + indices[y * width : (y + 1) * width] for y in range(height))
    assert sharecard.CardBase.from_png(_png(header, palette, rows)).png() == good  # (the test's own PNG reads)
    rgb = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(rgb, "PNG")
    out_of_palette = b"".join(b"\0" + bytes([255]) * width for _ in range(height))
    refused = {
        "garbage": b"not a png",
        "cut short": good[: len(good) // 2],
        "RGB": rgb.getvalue(),
        "another size": _png(struct.pack(">IIBBBBB", width, height - 1, 8, 3, 0, 0, 0), palette, rows[: -(width + 1)]),
        "a bomb's header": _png(struct.pack(">IIBBBBB", 60000, 60000, 8, 3, 0, 0, 0), palette, None),
        "a pixel its palette has not": _png(header, palette, out_of_palette),
        "transparency": _png(
            header, palette, rows, struct.pack(">I", 1) + b"tRNS\0" + struct.pack(">I", zlib.crc32(b"tRNS\0"))
        ),
        "its greys white (an award's text would not show)": _png(header, b"\xff" * (3 * 10) + palette[3 * 10 :], rows),
        "a palette of greys alone": _png(
            header, palette[: 3 * 10], b"".join(b"\0" + bytes(width) for _ in range(height))
        ),
    }
    for label, data in refused.items():
        with pytest.raises(ValueError):
            sharecard.CardBase.from_png(data)
        assert label


def _add_svg_award(site: Path) -> None:
    """An award of a badge whose artwork is SVG (the example's first aid badge is a PNG)."""
    from test_incremental import append

    append(
        site / "recipients/jane-doe.yaml",
        "  - id: jane-added-2\n    badge: confined-space-entry\n    issued_on: 2026-09-01\n",
    )


class Rasters:
    """Counts the badge PNGs drawn from SVG artwork in this process (outputs.RASTERS)."""

    def __init__(self, monkeypatch):
        from badgekiln import outputs

        self.count = 0
        draw = outputs._rasterised

        def counting(artwork, image):
            self.count += 1
            return draw(artwork, image)

        monkeypatch.setattr(outputs, "_rasterised", counting)
        outputs._RASTERS.clear()  # (the in-process runs of the tests share the module's memory)


@pytest.mark.parametrize("change", [_add_svg_award, _revoke])
def test_a_rebuild_reads_the_badge_png_the_last_build_kept(keyed_site, run, monkeypatch, tmp_path, change):
    """The baked images of an award's OB 2.0 assertion and OB 3.0 credential are made from its
    badge's SVG artwork drawn as a PNG: a rebuild that adds or revokes one award drew it again
    (0.03 s); it is kept in the cache like a card base, and read back."""
    change(keyed_site)
    rasters = Rasters(monkeypatch)
    build(run, keyed_site)
    assert rasters.count == 0
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)
    assert rasters.count > 0  # (the clean build drew its own)


def test_new_svg_artwork_is_drawn_again(keyed_site, run, monkeypatch, tmp_path):
    art = keyed_site / "site_src/assets/badges/confined-space-entry.svg"
    art.write_bytes(art.read_bytes().replace(b"</svg>", b'<circle cx="1" cy="1" r="1"/></svg>'))
    rasters = Rasters(monkeypatch)
    build(run, keyed_site)
    assert rasters.count == 1
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_kept_file_that_is_not_the_badges_png_is_drawn_again_and_replaced(keyed_site, run, monkeypatch, tmp_path):
    """A file the site's keys authenticate, but that is not a 512-pixel RGBA PNG (load refuses
    it): every kept file is replaced by one such PNG; the added award's badge PNG is drawn again."""
    from badgekiln import outputs

    macs = MacKeys(monkeypatch)
    _revoke(keyed_site)
    build(run, keyed_site)  # (to learn the site's key)
    store = sharedkeep.Kept(keyed_site / ".badgekiln/cache", "", restored=False, mac_key=macs.keys[0])
    buffer = io.BytesIO()
    Image.new("RGB", (outputs.RASTER_WIDTH, outputs.RASTER_WIDTH), "red").save(buffer, "PNG")  # RGB, not RGBA
    for path in _kept(keyed_site):
        name = path.name.partition(".")[0]
        path.unlink()
        path.with_name(f"{name}.{store._mac(name, buffer.getvalue())}").write_bytes(buffer.getvalue())
    _add_svg_award(keyed_site)
    rasters = Rasters(monkeypatch)
    build(run, keyed_site)
    assert rasters.count == 1
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_only_a_badges_png_is_read_back():
    from badgekiln import outputs
    from badgekiln.formats import raster

    good = raster.rasterise(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', width=512)
    assert outputs._raster_load(good) == good
    other = io.BytesIO()
    Image.new("RGBA", (511, 512)).save(other, "PNG")
    rgb = io.BytesIO()
    Image.new("RGB", (512, 512)).save(rgb, "PNG")
    for refused in (b"not a png", good[: len(good) // 2], other.getvalue(), rgb.getvalue(), b"GIF89a" + good[6:]):
        with pytest.raises(ValueError):
            outputs._raster_load(refused)


def test_a_badges_png_read_back_is_only_what_rasterising_writes():
    """``load`` must refuse bytes ``dump`` would not write (a Shared's contract): resvg writes an
    8-bit RGBA PNG of IHDR, IDAT and IEND alone. These are 512-pixel-wide RGBA PNGs that decode,
    which ``_raster_load`` took (a review), and the baked images would have published as they are:
    an animated PNG (its second frame shown by viewers that animate), 16 bits a channel, one that
    already carries a baked ``openbadges`` chunk, and 512x180,000 (about 370 MB decoded, past
    Pillow's bomb warning, from a 350 KB file)."""
    from PIL import PngImagePlugin

    from badgekiln import outputs
    from badgekiln.formats import raster

    good = raster.rasterise(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', width=512)
    tall = raster.rasterise(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="30"/>', width=512)
    assert outputs._raster_load(good) == good and outputs._raster_load(tall) == tall
    animated = io.BytesIO()
    Image.new("RGBA", (512, 512)).save(
        animated, "PNG", save_all=True, append_images=[Image.new("RGBA", (512, 512), "red")]
    )
    text = PngImagePlugin.PngInfo()
    text.add_itxt("openbadges", '{"id": "https://elsewhere.example/assertion"}')
    baked = io.BytesIO()
    Image.new("RGBA", (512, 512)).save(baked, "PNG", pnginfo=text)

    def rows(width: int, height: int, depth: int) -> bytes:
        """An RGBA PNG of ``depth`` bits a channel, of chunks IHDR, IDAT and IEND as resvg's."""
        header = struct.pack(">IIBBBBB", width, height, depth, 6, 0, 0, 0)
        pixels = b"".join(b"\0" + bytes(width * 4 * depth // 8) for _ in range(height))
        empty_palette = struct.pack(">I", 0) + b"PLTE" + struct.pack(">I", zlib.crc32(b"PLTE"))
        return _png(header, b"", pixels).replace(empty_palette, b"", 1)  # (no palette: RGBA)

    assert outputs._raster_load(rows(512, 512, 8))  # (the test's own PNG of resvg's kind is taken)
    refused = {
        "animated": animated.getvalue(),
        "a baked chunk": baked.getvalue(),
        "16 bits": rows(512, 512, 16),
        "a bomb's height": rows(512, 180_000, 8),
    }
    for label, data in refused.items():
        with pytest.raises(ValueError):
            outputs._raster_load(data)
            pytest.fail(f"taken: {label}")

"""Is a PNG what it says? Structure checks made before anything decodes the image.

Artwork arrives in pull requests, and baked badges given to ``verify`` come from strangers.
Nothing here decodes pixels or inflates image data: the checks read chunk headers only, so
they cost about as much as copying the file and cannot be made to allocate more than it.

:func:`png_chunks` is the walk every reader needs (baking and unbaking): the signature,
``IHDR`` first, every chunk's length inside the file, its type made of letters and its CRC
right, ``IEND`` last and nothing after it. :func:`check_png_artwork` adds what only the
artwork we publish must satisfy: a sane ``IHDR`` (1 to :data:`MAX_PNG_SIDE` pixels a side,
a bit depth that fits the colour type), image data present, and no critical chunk that a
decoder would have to refuse. Both raise :class:`~badgekiln.errors.BakeError` with what is
wrong and where (the byte offset); the caller adds the file and the YAML line.

The names follow the PNG specification (third edition, sections 5 "Datastream structure"
and 11.2 "Critical chunks").
"""

from __future__ import annotations

import functools
import struct
import zlib
from dataclasses import dataclass

from badgekiln.errors import BakeError

__all__ = ["MAX_PNG_SIDE", "PNG_SIGNATURE", "PngChunk", "PngHeader", "check_png_artwork", "png_chunks"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Badge artwork is shown at a few hundred pixels; 4096 x 4096 (16 Mpx) leaves room for print
# and keeps a decoded image under 256 MiB even at 16 bits per RGBA channel.
MAX_PNG_SIDE = 4096  # pixels, width and height each
_MAX_CHUNK_LENGTH = 2**31 - 1  # PNG spec 5.3
# Chunks of one PNG, at most: an image's data comes in pieces of 8 KB to 1 MB (a 64 MB image of 8 KB
# pieces is 8,000 chunks); a file of 5 million empty chunks took 16 s and 1.2 GB to walk (a review).
MAX_CHUNKS = 100_000
_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
# Allowed bit depths per colour type (PNG spec 11.2.2, table 11.1).
_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


@dataclass(frozen=True)
class PngChunk:
    """One chunk: its type and where it sits (``stop`` is one past its CRC)."""

    type: bytes
    start: int
    stop: int

    @property
    def data_start(self) -> int:
        """Offset of the chunk's data (after length and type)."""
        return self.start + 8

    @property
    def data_stop(self) -> int:
        """One past the chunk's data (before the CRC)."""
        return self.stop - 4


@dataclass(frozen=True)
class PngHeader:
    """What ``IHDR`` says (PNG spec 11.2.2)."""

    width: int
    height: int
    bit_depth: int
    color_type: int
    interlaced: bool


# A build bakes the same artwork for every award of a badge, so the walk is memoized: passing
# the same bytes again costs a cached hash and a comparison. Errors are not cached.
@functools.lru_cache(maxsize=16)
def png_chunks(image: bytes) -> tuple[PngChunk, ...]:
    """Walk a PNG file chunk by chunk, checking its structure.

    Args:
        image: A complete PNG file.

    Returns:
        Every chunk, in file order, ``IHDR`` first and ``IEND`` last.

    Raises:
        BakeError: No PNG signature; more than :data:`MAX_CHUNKS` chunks; a chunk cut off by the end of the file, or declaring a
            length over 2^31-1; a chunk type that is not four ASCII letters; a bad CRC; a
            first chunk that is not a 13-byte ``IHDR``; no ``IEND``; data after ``IEND``.
    """
    if not image.startswith(PNG_SIGNATURE):
        raise BakeError("not a PNG file (the 8-byte PNG signature is missing)")
    view = memoryview(image)
    size = len(image)
    chunks: list[PngChunk] = []
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 12 > size:
            raise BakeError(f"truncated PNG: the chunk at byte {pos} is cut off (no IEND chunk)")
        length, ctype = struct.unpack_from(">I4s", image, pos)
        if not (ctype.isascii() and ctype.isalpha()):
            raise BakeError(f"corrupt PNG: the chunk at byte {pos} has an invalid type {ctype!r}")
        name = ctype.decode("ascii")
        if length > _MAX_CHUNK_LENGTH:
            raise BakeError(
                f"corrupt PNG: the {name} chunk at byte {pos} declares {length} bytes, "
                f"more than the PNG limit of {_MAX_CHUNK_LENGTH}"
            )
        stop = pos + 12 + length
        if stop > size:
            raise BakeError(
                f"truncated PNG: the {name} chunk at byte {pos} declares {length} bytes "
                f"but the file ends {size - pos - 8} bytes later"
            )
        (crc,) = struct.unpack_from(">I", image, stop - 4)
        if zlib.crc32(view[pos + 4 : stop - 4]) != crc:
            raise BakeError(f"corrupt PNG: the {name} chunk at byte {pos} has a bad CRC")
        if not chunks and (ctype != b"IHDR" or length != 13):
            raise BakeError("corrupt PNG: the first chunk is not a valid IHDR")
        chunks.append(PngChunk(ctype, pos, stop))
        if len(chunks) > MAX_CHUNKS:
            raise BakeError(f"corrupt PNG: more than {MAX_CHUNKS:,} chunks (no image is made of so many)")
        pos = stop
        if ctype == b"IEND":
            break
    if pos != size:
        raise BakeError(f"corrupt PNG: {size - pos} byte(s) of data after the IEND chunk at byte {chunks[-1].start}")
    return tuple(chunks)


@functools.lru_cache(maxsize=16)
def check_png_artwork(image: bytes) -> tuple[PngHeader, tuple[PngChunk, ...]]:
    """Check a PNG we are about to publish or bake, without decoding it.

    Everything :func:`png_chunks` checks, and: the ``IHDR`` fields are valid and the image
    is 1 to :data:`MAX_PNG_SIDE` pixels wide and high; there is image data (``IDAT``
    chunks, consecutive); an indexed-colour image has a palette; there is no critical chunk
    other than ``IHDR``, ``PLTE``, ``IDAT`` and ``IEND`` (decoders must refuse those).

    Args:
        image: A complete PNG file.

    Returns:
        The header and the chunks.

    Raises:
        BakeError: What is wrong, with the byte offset where it applies.
    """
    chunks = png_chunks(image)
    header = _header(image)
    idat = [i for i, chunk in enumerate(chunks) if chunk.type == b"IDAT"]
    if not idat:
        raise BakeError("corrupt PNG: there is no image data (no IDAT chunk)")
    if idat != list(range(idat[0], idat[-1] + 1)):
        gap = next(chunks[i] for i in range(idat[0], idat[-1]) if chunks[i].type != b"IDAT")
        raise BakeError(
            f"corrupt PNG: the IDAT chunks are not consecutive (a {gap.type.decode()} chunk "
            f"at byte {gap.start} sits between them)"
        )
    for chunk in chunks:
        if chunk.type[0:1].isupper() and chunk.type not in _CRITICAL:
            raise BakeError(
                f"corrupt PNG: the {chunk.type.decode()} chunk at byte {chunk.start} is a critical "
                "chunk that PNG decoders do not know and must refuse"
            )
    if header.color_type == 3 and not any(chunk.type == b"PLTE" for chunk in chunks):
        raise BakeError("corrupt PNG: an indexed-colour image without a palette (PLTE chunk)")
    return header, chunks


def _header(image: bytes) -> PngHeader:
    """The IHDR fields, checked (the walk has made sure IHDR is first and 13 bytes long)."""
    width, height, depth, color, compression, filtering, interlace = struct.unpack_from(">IIBBBBB", image, 16)
    if width == 0 or height == 0:
        raise BakeError(f"corrupt PNG: the image is {width}x{height} pixels; neither side may be 0")
    if width > MAX_PNG_SIDE or height > MAX_PNG_SIDE:
        raise BakeError(
            f"the PNG is {width}x{height} pixels; artwork may be at most "
            f"{MAX_PNG_SIDE}x{MAX_PNG_SIDE} pixels (scale it down: badges show at a few hundred)"
        )
    if depth not in _BIT_DEPTHS.get(color, ()):
        raise BakeError(f"corrupt PNG: colour type {color} with bit depth {depth} is not a valid combination")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise BakeError("corrupt PNG: the IHDR chunk names an unknown compression, filter or interlace method")
    return PngHeader(width, height, depth, color, bool(interlace))

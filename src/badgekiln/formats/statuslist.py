"""W3C Bitstring Status List: the revocation and suspension lists of OB 3.0 credentials, as static files.

Each award owns one bit at a permanent index (see :mod:`badgekiln.sources.ledger`), the same index
in both lists: ``status/revocation.json`` (``statusPurpose: revocation``, for good) and
``status/suspension.json`` (``statusPurpose: suspension``, reversible). Each list is a
``BitstringStatusListCredential`` whose ``encodedList`` is the GZIP-compressed bitstring (at least
131,072 bits, bit 0 = most significant bit of byte 0) in multibase base64url. The GZIP bytes are
made here, deterministically, with a tiny run-length DEFLATE encoder: the list is signed, so its
bytes must not depend on the Python version or the zlib build (zlib-ng compresses differently).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
import struct
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from badgekiln.errors import VerifyError
from badgekiln.formats import urls

if TYPE_CHECKING:  # (a type only: formats sit below the sources layer)
    from badgekiln.sources.config import SiteConfig

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
STATUS_PURPOSE = "revocation"
SUSPENSION_PURPOSE = "suspension"
# Where each purpose's list is published (relative to the site root).
STATUS_LISTS = {STATUS_PURPOSE: urls.STATUS_LIST, SUSPENSION_PURPOSE: urls.SUSPENSION_LIST}
STATUS_LIST_MIN_BITS = 131_072  # 16 KiB: the Bitstring Status List minimum, for herd privacy
STATUS_LIST_MAX_BYTES = 16 * 1024 * 1024  # decompression limit for lists read by verifiers


def status_entry(config: SiteConfig, index: int, purpose: str = STATUS_PURPOSE) -> dict[str, Any]:
    """A ``credentialStatus`` entry of a credential at ``index`` in the list of ``purpose``.

    Args:
        config: The site settings.
        index: The credential's bit in the list.
        purpose: ``revocation`` or ``suspension`` (see :data:`STATUS_LISTS`).

    Returns:
        A ``BitstringStatusListEntry``.

    Raises:
        ValueError: ``index`` is negative or not an integer.
    """
    _check_index(index)
    list_url = config.url(STATUS_LISTS[purpose])
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    config: SiteConfig, revoked_indexes: Iterable[int], *, valid_from: str, purpose: str = STATUS_PURPOSE
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` of ``purpose`` (``status/revocation.json``
    or ``status/suspension.json``).

    Args:
        config: The site settings.
        revoked_indexes: The status list indexes of revoked (or suspended) credentials.
        valid_from: The list's ``validFrom`` date-time (pass the build's "now" in).
        purpose: ``revocation`` or ``suspension``.

    Returns:
        The status list credential, issued by the site's ``did:web``.

    Raises:
        ValueError: An index is negative or not an integer.
    """
    list_url = config.url(STATUS_LISTS[purpose])
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": config.did,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_status_list(revoked_indexes),
        },
    }


def encode_status_list(indexes: Iterable[int]) -> str:
    """Encode a bitstring with ``indexes`` set as an ``encodedList`` value.

    The bitstring has at least :data:`STATUS_LIST_MIN_BITS` bits, rounded up to a multiple of
    that when an index needs more; bit 0 is the most significant bit of byte 0. It is then
    GZIP-compressed deterministically (see :func:`_gzip`) and written as multibase base64url
    without padding (prefix ``u``).

    Args:
        indexes: The bits to set.

    Returns:
        ``"u…"``.

    Raises:
        ValueError: An index is negative or not an integer.
    """
    wanted = sorted(set(indexes))
    for index in wanted:
        _check_index(index)
    size = STATUS_LIST_MIN_BITS
    if wanted:
        size *= -(-(wanted[-1] + 1) // STATUS_LIST_MIN_BITS)  # ceiling division
    bits = bytearray(size // 8)
    for index in wanted:
        bits[index >> 3] |= 0x80 >> (index & 7)
    return "u" + base64.urlsafe_b64encode(_gzip(bytes(bits))).rstrip(b"=").decode("ascii")


def decode_status_list(encoded: str) -> bytes:
    """Decode an ``encodedList`` value into its bitstring, as a verifier must.

    Args:
        encoded: Multibase base64url (prefix ``u``) of a GZIP-compressed bitstring.

    Returns:
        The bitstring (bit 0 = most significant bit of byte 0); see :func:`bit_is_set`.

    Raises:
        VerifyError: Not ``u``-prefixed base64url, not a single GZIP member, larger than
            :data:`STATUS_LIST_MAX_BYTES` once decompressed, or shorter than the minimum.
    """
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise VerifyError("encodedList must be multibase base64url text starting with 'u'")
    text = encoded[1:]
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise VerifyError("encodedList is not base64url without padding")
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as e:
        raise VerifyError(f"encodedList is not valid base64url: {e}") from e
    bits = _gunzip(compressed, limit=STATUS_LIST_MAX_BYTES)
    if len(bits) * 8 < STATUS_LIST_MIN_BITS:
        raise VerifyError(f"status list has {len(bits) * 8} bits; the minimum is {STATUS_LIST_MIN_BITS}")
    return bits


def bit_is_set(bits: bytes, index: int) -> bool:
    """Whether the status bit at ``index`` is set (1), e.g. the credential is revoked.

    Args:
        bits: A bitstring from :func:`decode_status_list`.
        index: The credential's ``statusListIndex``, as an integer.

    Returns:
        True when the bit is 1.

    Raises:
        VerifyError: ``index`` is not an integer inside the list.
    """
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(bits) * 8:
        raise VerifyError(f"status list index {index!r} is outside the list of {len(bits) * 8} entries")
    return bool(bits[index >> 3] & (0x80 >> (index & 7)))


def _check_index(index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"a status list index must be a non-negative integer, not {index!r}")


# GZIP member header (RFC 1952): deflate, no flags (no file name), MTIME 0, XFL 0, OS 255
# ("unknown"). Written here rather than by gzip.compress(mtime=0), whose OS byte depends on
# the Python version (3 on Unix from zlib in 3.11 and 3.12, 255 from 3.13).
_GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255])


def _gzip(data: bytes) -> bytes:
    """GZIP ``data`` into the same bytes on every platform, Python and zlib build."""
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return _GZIP_HEADER + _deflate_runs(data) + trailer


def _gunzip(data: bytes, *, limit: int) -> bytes:
    decompressor = zlib.decompressobj(wbits=31)  # 31: a GZIP member, header and CRC checked
    try:
        out = decompressor.decompress(data, limit + 1)
    except zlib.error as e:
        raise VerifyError(f"encodedList is not valid GZIP data: {e}") from e
    if len(out) > limit:
        raise VerifyError(f"status list is larger than {limit} bytes once decompressed")
    if not decompressor.eof or decompressor.unused_data:
        raise VerifyError("encodedList must hold exactly one complete GZIP member")
    return out


# Deflate length codes 257..285 (RFC 1951 section 3.2.5): base lengths and extra bits.
_LENGTH_BASE = (
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    13,
    15,
    17,
    19,
    23,
    27,
    31,
    35,
    43,
    51,
    59,
    67,
    83,
    99,
    115,
    131,
    163,
    195,
    227,
    258,
)
_LENGTH_EXTRA = (0,) * 8 + (1,) * 4 + (2,) * 4 + (3,) * 4 + (4,) * 4 + (5,) * 4 + (0,)
_MAX_MATCH = 258


def _deflate_runs(data: bytes) -> bytes:
    """Raw deflate of ``data`` in one fixed-Huffman block, coding runs as distance-1 matches.

    zlib's output is not pinned across implementations (zlib-ng, shipped by some Linux
    distributions and Python builds, compresses differently), and the status list is signed,
    so its bytes must not depend on the machine. A mostly-zero bitstring compresses well with
    run-length coding alone: 16 KiB of zeros take about 100 bytes.
    """
    out = _BitWriter()
    out.bits(1, 1)  # BFINAL: the only block
    out.bits(1, 2)  # BTYPE 01: fixed Huffman codes
    i, n = 0, len(data)
    while i < n:
        byte = data[i]
        _literal_length(out, byte)
        j = i + 1
        while j < n and data[j] == byte:
            j += 1
        run = j - i - 1  # copies of the literal that follow it
        while run >= 3:
            length = min(run, _MAX_MATCH)
            slot = bisect.bisect_right(_LENGTH_BASE, length) - 1
            _literal_length(out, 257 + slot)
            out.bits(length - _LENGTH_BASE[slot], _LENGTH_EXTRA[slot])
            out.code(0, 5)  # distance code 0: distance 1, no extra bits
            run -= length
        for _ in range(run):
            _literal_length(out, byte)
        i = j
    _literal_length(out, 256)  # end of block
    return out.finish()


def _literal_length(out: _BitWriter, symbol: int) -> None:
    # The fixed literal/length code of RFC 1951 section 3.2.6.
    if symbol < 144:
        out.code(0x30 + symbol, 8)
    elif symbol < 256:
        out.code(0x190 + symbol - 144, 9)
    elif symbol < 280:
        out.code(symbol - 256, 7)
    else:
        out.code(0xC0 + symbol - 280, 8)


class _BitWriter:
    """Deflate bit packing: values least significant bit first, Huffman codes most significant first."""

    def __init__(self) -> None:
        self._out = bytearray()
        self._acc = 0
        self._count = 0

    def bits(self, value: int, count: int) -> None:
        self._acc |= value << self._count
        self._count += count
        while self._count >= 8:
            self._out.append(self._acc & 0xFF)
            self._acc >>= 8
            self._count -= 8

    def code(self, code: int, length: int) -> None:
        self.bits(int(format(code, f"0{length}b")[::-1], 2), length)

    def finish(self) -> bytes:
        if self._count:
            self._out.append(self._acc)
        return bytes(self._out)


# --- Keys: did:web document and JWKS ------------------------------------------------------

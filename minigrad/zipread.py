"""Reading a zip archive with memory bounded by the bytes in it (used by ``minigrad.load``).

``zipfile`` lists the members, but their data is read here, because ``zipfile``'s own reader
hands a whole read of bzip2 or lzma input to the decompressor with no output limit: a 1 kB
member can come out as 1 GiB in one piece. Here every decompressor is asked for at most
``CHUNK`` bytes at a time, and every fact the archive states twice is compared (the member
count, each member's name in both headers, its length and its CRC), so a flipped byte is an
error rather than a silently missing or renamed key. Every problem is a :class:`BadFile`.
"""

from __future__ import annotations

import bz2
import lzma
import os
import struct
import zipfile
import zlib

CHUNK = 1 << 20  # the most one decompression step may produce
# The most a member may expand (plus CHUNK, so that tiny members never hit it): deflate, what
# np.savez_compressed writes, cannot exceed 1032:1, so every NumPy-written file loads; bzip2 and
# lzma can expand a million-fold.
MAX_RATIO = 1032
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature, versions, flags, method, time, date, crc, sizes, lengths
_END = struct.Struct("<4s4H2LH")  # end record: signature, 2 disk numbers, entries here, entries in all, ...
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")


class BadFile(ValueError):
    """The archive is truncated, corrupted or not what it claims; the message says what is wrong."""


def members(raw) -> list[zipfile.ZipInfo]:
    """The members listed in the central directory of the open binary file ``raw``."""
    try:
        if not zipfile.is_zipfile(raw):
            raise BadFile("it is not a zip archive of .npy arrays")
        infos = zipfile.ZipFile(raw).infolist()
    except BadFile:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, struct.error, KeyError, NotImplementedError) as e:
        raise BadFile(f"its zip directory is damaged ({type(e).__name__}: {e})") from None
    declared = _declared_count(raw)
    if declared != len(infos):
        raise BadFile(f"its zip directory lists {len(infos)} members but its end record says {declared}")
    return infos


def _declared_count(raw) -> int | None:
    """The member count the end-of-central-directory record states (its zip64 record if needed)."""
    size = raw.seek(0, os.SEEK_END)
    raw.seek(max(0, size - _END.size - 0xFFFF))
    tail = raw.read()
    at = tail.rfind(b"PK\x05\x06")  # zipfile found it too, so it is there
    total = _END.unpack_from(tail, at)[4]
    if total == 0xFFFF and at >= _ZIP64_LOCATOR.size:
        signature, _, offset, _ = _ZIP64_LOCATOR.unpack_from(tail, at - _ZIP64_LOCATOR.size)
        raw.seek(offset)
        record = raw.read(_ZIP64_END.size)
        if signature != b"PK\x06\x07" or len(record) < _ZIP64_END.size or record[:4] != b"PK\x06\x06":
            raise BadFile("its zip64 end record is damaged")
        total = _ZIP64_END.unpack(record)[7]
    return total


def member_chunks(raw, info: zipfile.ZipInfo):
    """Yield the decompressed bytes of member ``info``, at most ``CHUNK`` bytes per piece.

    After the last piece, the total length and the CRC are checked against the directory.
    """
    name = info.filename
    if info.flag_bits & 0x1:
        raise BadFile(f"member {name!r} is encrypted")
    if info.compress_type not in _DECOMPRESSORS:
        raise BadFile(f"member {name!r} uses compression method {info.compress_type}, which zip readers do not know")
    if info.file_size > MAX_RATIO * info.compress_size + CHUNK:
        raise BadFile(
            f"member {name!r} declares {info.file_size} bytes from {info.compress_size} compressed bytes, "
            f"more than {MAX_RATIO}x (the most np.savez_compressed can give); refused so that memory "
            f"stays bounded by the file's size"
        )
    if info.header_offset < 0:
        raise BadFile(f"member {name!r}: the directory points before the start of the file")
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise BadFile(f"member {name!r}: no local header where the directory points")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if raw.read(name_length) != info.orig_filename.encode(encoding):
        raise BadFile(f"member {name!r}: its local header gives another name")
    raw.seek(extra_length, os.SEEK_CUR)
    pieces = _inflate(_compressed(raw, info), info.compress_type, name, info.file_size)
    length, crc = 0, 0
    for piece in pieces:
        length += len(piece)
        if length > info.file_size:
            raise BadFile(f"member {name!r} holds more than the {info.file_size} bytes its directory entry says")
        crc = zlib.crc32(piece, crc)
        yield piece
    if length != info.file_size:
        raise BadFile(f"member {name!r} is truncated ({length} of {info.file_size} bytes)")
    if crc != info.CRC:
        raise BadFile(f"member {name!r} fails its CRC check (the data is corrupted)")


def _compressed(raw, info: zipfile.ZipInfo):
    left = info.compress_size
    while left > 0:
        data = raw.read(min(left, 1 << 16))
        if not data:
            raise BadFile(f"member {info.filename!r} is truncated (the file ends inside it)")
        left -= len(data)
        yield data


def _lzma(data: bytes, size: int):
    """A zip lzma member starts with 4 bytes (version, properties size), then 5 of properties.

    liblzma allocates the whole dictionary the properties ask for (up to 4 GiB) at once; one as
    long as the output (``size``) decodes the same, since no match reaches further back.
    """
    if len(data) < 9 or data[2:4] != b"\x05\x00":
        raise lzma.LZMAError("bad lzma properties header")
    lc_lp_pb, dict_size = data[4], int.from_bytes(data[5:9], "little")
    pb, rest = divmod(lc_lp_pb, 45)
    lp, lc = divmod(rest, 9)
    lzma1 = {"id": lzma.FILTER_LZMA1, "dict_size": max(4096, min(dict_size, size)), "lc": lc, "lp": lp, "pb": pb}
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma1]), data[9:]


_DECOMPRESSORS = {zipfile.ZIP_STORED: None, zipfile.ZIP_DEFLATED: "deflate",
                  zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}  # fmt: skip


def _inflate(chunks, method: int, name: str, size: int):
    """Decompress ``chunks`` (bytes) with at most ``CHUNK`` bytes of output per step."""
    if method == zipfile.ZIP_STORED:
        yield from chunks
        return
    d = zlib.decompressobj(-15) if method == zipfile.ZIP_DEFLATED else None
    if method == zipfile.ZIP_BZIP2:
        d = bz2.BZ2Decompressor()
    try:
        for data in chunks:
            if d is None:  # lzma: its properties come first
                d, data = _lzma(data, size)
            while True:
                if method == zipfile.ZIP_DEFLATED:  # zlib keeps unread input in unconsumed_tail
                    piece = d.decompress(data, CHUNK)
                    data = d.unconsumed_tail
                    more = bool(data)
                else:  # bz2 and lzma keep it inside and say when they need more
                    piece = d.decompress(data, CHUNK)
                    data = b""
                    more = not d.eof and not d.needs_input
                yield piece
                if not more:
                    break
        if method == zipfile.ZIP_DEFLATED:
            yield d.flush()  # at most what zlib still holds for the last step
    except (zlib.error, lzma.LZMAError, OSError, EOFError) as e:
        raise BadFile(f"member {name!r}: its compressed data is corrupted ({e})") from None

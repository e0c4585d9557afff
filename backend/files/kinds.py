"""What may be uploaded: per content type, its kind, size limit and magic bytes.

The declared type must match the file's first bytes, so a renamed executable is not
accepted as a photo."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Allowed:
    kind: str
    limit: int
    magic: tuple[tuple[int, bytes], ...]  # (offset, bytes) alternatives; empty: text


_ZIP = ((0, b"PK\x03\x04"),)
_FTYP = ((4, b"ftyp"),)

ALLOWED: dict[str, Allowed] = {
    "image/jpeg": Allowed("image", 10 * MB, ((0, b"\xff\xd8\xff"),)),
    "image/png": Allowed("image", 10 * MB, ((0, b"\x89PNG\r\n\x1a\n"),)),
    "image/webp": Allowed("image", 10 * MB, ((8, b"WEBP"),)),
    "image/heic": Allowed("image", 10 * MB, _FTYP),
    "audio/aac": Allowed("voice", 5 * MB, ((0, b"\xff\xf1"), (0, b"\xff\xf9"), (0, b"ADIF"))),
    "audio/mp4": Allowed("voice", 5 * MB, _FTYP),
    "audio/x-m4a": Allowed("voice", 5 * MB, _FTYP),
    "audio/mpeg": Allowed("voice", 5 * MB, ((0, b"ID3"), (0, b"\xff\xfb"), (0, b"\xff\xf3"))),
    "audio/amr": Allowed("voice", 5 * MB, ((0, b"#!AMR"),)),
    "audio/webm": Allowed("voice", 5 * MB, ((0, b"\x1a\x45\xdf\xa3"),)),
    "audio/ogg": Allowed("voice", 5 * MB, ((0, b"OggS"),)),
    "video/mp4": Allowed("video", 50 * MB, _FTYP),
    "video/quicktime": Allowed("video", 50 * MB, _FTYP),
    "application/pdf": Allowed("file", 20 * MB, ((0, b"%PDF-"),)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": Allowed("file", 20 * MB, _ZIP),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": Allowed("file", 20 * MB, _ZIP),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": Allowed(
        "file", 20 * MB, _ZIP
    ),
    "application/zip": Allowed("file", 20 * MB, _ZIP),
    "text/plain": Allowed("file", 20 * MB, ()),
}


def matches_magic(allowed: Allowed, head: bytes) -> bool:
    if not allowed.magic:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            # A cut in the middle of a multi-byte character is fine; binary is not.
            return b"\x00" not in head
        return True
    return any(head[offset : offset + len(magic)] == magic for offset, magic in allowed.magic)

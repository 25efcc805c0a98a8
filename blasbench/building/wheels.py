"""What a built wheel holds, member by member: the hashes a manifest records, where two builds of
one key differ (which member, the sizes, the first differing byte, and in a shared library which
ELF section holds it), and the cache's path taken out of the files that name it."""

from __future__ import annotations

import base64
import hashlib
import struct
import zipfile
from pathlib import Path


def wheel_members(wheel: Path) -> dict[str, str]:
    """sha256 of every member of ``wheel``, by name."""
    with zipfile.ZipFile(wheel) as archive:
        return {info.filename: hashlib.sha256(archive.read(info)).hexdigest()
                for info in archive.infolist() if not info.is_dir()}


def first_difference(a: bytes, b: bytes) -> int:
    """Offset of the first byte where ``a`` and ``b`` differ (the shorter one's length if one is a prefix)."""
    for offset, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return offset
    return min(len(a), len(b))


def elf_section_at(data: bytes, offset: int) -> str | None:
    """The name of the section of the 64-bit little-endian ELF file ``data`` that holds byte
    ``offset`` (or which header does); None when ``data`` is not such a file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if offset < 64:
        return "ELF header"
    if shoff <= offset < shoff + shnum * shentsize:
        return "section header table"
    sections = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names = sections[shstrndx][4] if shstrndx < shnum else None
    for name, kind, _flags, _addr, start, size in sections:
        if kind != 8 and start <= offset < start + size:  # 8: SHT_NOBITS (.bss) has no bytes in the file
            end = data.index(b"\0", names + name) if names is not None else None
            return data[names + name:end].decode(errors="replace") if names is not None else "unnamed section"
    return "between sections (program headers or padding)"


def compare_wheels(a: Path, b: Path) -> list[dict]:
    """The members in which two wheels differ: missing from one side, or their sizes, the first
    differing offset and, in an ELF file, the section there. Empty when the members are identical
    (the zip containers may still differ in member order or timestamps: compare their sha256 too)."""
    differences = []
    with zipfile.ZipFile(a) as left, zipfile.ZipFile(b) as right:
        names_a, names_b = set(left.namelist()), set(right.namelist())
        for name in sorted(names_a ^ names_b):
            differences.append({"member": name, "only_in": "first" if name in names_a else "second"})
        for name in sorted(names_a & names_b):
            x, y = left.read(name), right.read(name)
            if x == y:
                continue
            offset = first_difference(x, y)
            differences.append({"member": name, "sizes": [len(x), len(y)], "first_difference": offset,
                                "elf_section": elf_section_at(x, offset)})
    return differences


# What a wheel says instead of the cache's own path (NumPy's and SciPy's __config__.py name the
# pkg-config directory and the build environment's Python, both under the cache).
CACHE_WORD = b"$BLASBENCH_CACHE"


def without_cache_path(wheel: Path, cache: Path) -> list[str]:
    """Rewrite ``wheel`` in place so that no Python file in it names ``cache``: every occurrence becomes
    ``$BLASBENCH_CACHE``, RECORD gets the files' new hashes and sizes, and every member keeps its order,
    timestamp, mode and compression. The same key then gives the same bytes whichever directory the
    cache is in. Compiled members are left alone (a RUNPATH into the cache is an input of the key). The
    members rewritten, by name."""
    needle = str(cache).rstrip("/").encode()
    with zipfile.ZipFile(wheel) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    changed = {info.filename: data.replace(needle, CACHE_WORD) for info, data in members
               if info.filename.endswith(".py") and needle in data}
    if not changed:
        return []
    record = next(info.filename for info, _ in members if info.filename.endswith(".dist-info/RECORD"))

    def entry(line: str) -> str:
        name = line.split(",", 1)[0]
        if name not in changed:
            return line
        digest = base64.urlsafe_b64encode(hashlib.sha256(changed[name]).digest()).rstrip(b"=").decode()
        return f"{name},sha256={digest},{len(changed[name])}"

    contents = dict(changed)
    record_text = next(data for info, data in members if info.filename == record).decode()
    contents[record] = "".join(entry(line) + "\n" for line in record_text.splitlines()).encode()
    staging = wheel.with_name(wheel.name + ".rewrite")
    with zipfile.ZipFile(staging, "w") as out:
        for info, data in members:
            out.writestr(info, contents.get(info.filename, data), compress_type=info.compress_type)
    staging.replace(wheel)
    return sorted(changed)


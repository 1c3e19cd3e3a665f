"""Document sets as Python integers (bit *d* set = document number *d* is in the set).

Why integers: AND, OR and ``bit_count()`` run in C over machine words, so intersecting a
match set with the documents of each facet value and counting costs microseconds even
at 50,000 documents, where Python sets cost milliseconds and about 30 bytes per member.
A set of 50,000 documents is at most 6 KiB, so caches of them stay small.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from whoosh.idsets import DocIdSet

ONE = ord("1")


def from_ids(ids: Iterable[int], size: int) -> int:
    """The bitset of these document numbers (each below ``size``)."""
    if size <= 0:
        return 0
    flags = bytearray(b"0") * size
    for docnum in ids:
        flags[docnum] = ONE
    flags.reverse()  # int() reads the most significant bit first
    return int(flags, 2)


def flags_of(bits: int, size: int) -> bytes:
    """One ASCII byte per document (``b"1"`` = member): fast membership tests by index."""
    return format(bits, f"0{size}b")[::-1].encode("ascii") if size > 0 else b""


def ids_of(bits: int) -> list[int]:
    """The document numbers in the set, ascending."""
    flags = bin(bits)[:1:-1]  # least significant bit first, without "0b"
    found, position = [], flags.find("1")
    while position >= 0:
        found.append(position)
        position = flags.find("1", position + 1)
    return found


class BitsFilter(DocIdSet):
    """A bitset as Whoosh's ``filter=``: the collectors only test membership and truth."""

    def __init__(self, bits: int, size: int):
        self._flags = flags_of(bits, size)
        self._count = bits.bit_count()

    def __contains__(self, docnum: int) -> bool:
        return self._flags[docnum] == ONE

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        return iter(ids_of(int(self._flags[::-1], 2) if self._count else 0))



"""Visual order of one line's characters: the order they stand on the page, from left to right.

Engines and text layers hold text in logical order (the order it is read).  A PDF draws glyphs where
they are printed, and readers recover logical order from their positions with the Unicode
bidirectional algorithm, so a right-to-left line laid out in logical order comes back reversed.
This is the part of that algorithm (UAX #9) one line of recognised text needs: no explicit
embeddings or isolates; weak types resolved (W1-W7), neutrals by their neighbours (N1-N2), levels
(I1-I2), trailing spaces at the base level (L1), runs reversed by level (L2), brackets mirrored (L4).
"""

from __future__ import annotations

import unicodedata

_STRONG = frozenset({"L", "R", "AL"})
_NEUTRAL = frozenset({"B", "S", "WS", "ON", "BN", "LRI", "RLI", "FSI", "PDI"})
_MIRRORS = dict(zip("()[]{}<>«»‹›", ")(][}{><»«›‹", strict=True))


def right_to_left(text: str) -> bool:
    """Whether a line reads right to left (its base direction): more of its letters are of a right-to-left
    script than not."""
    kinds = [unicodedata.bidirectional(ch) for ch in text]
    return sum(k in ("R", "AL") for k in kinds) > sum(k == "L" for k in kinds)


def has_right_to_left(text: str) -> bool:
    """Whether any character of `text` is of a right-to-left script (only then can order differ)."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def _weak_types(text: str, sor: str) -> list[str]:
    """Each character's bidirectional type after the weak rules W1-W7."""
    types = [unicodedata.bidirectional(ch) or "L" for ch in text]
    previous = sor
    for i, kind in enumerate(types):  # W1: a combining mark takes its base's type
        if kind == "NSM":
            types[i] = previous
        previous = types[i]
    strong = sor
    for i, kind in enumerate(types):  # W2: European digits after Arabic letters are Arabic numbers; W3
        if kind in _STRONG:
            strong = kind
            types[i] = "R" if kind == "AL" else kind
        elif kind == "EN" and strong == "AL":
            types[i] = "AN"
    for i in range(1, len(types) - 1):  # W4: one separator between two numbers of a kind joins them
        before, kind, after = types[i - 1], types[i], types[i + 1]
        if before == after == "EN" and kind in ("ES", "CS") or before == after == "AN" and kind == "CS":
            types[i] = before
    for i, kind in enumerate(types):  # W5: terminators (%, currency signs) next to European digits
        if kind == "EN":
            j = i - 1
            while j >= 0 and types[j] == "ET":
                types[j] = "EN"
                j -= 1
            j = i + 1
            while j < len(types) and types[j] == "ET":
                types[j] = "EN"
                j += 1
    strong = sor
    for i, kind in enumerate(types):
        if kind in ("ES", "ET", "CS"):  # W6
            types[i] = kind = "ON"
        if kind in ("L", "R"):
            strong = kind
        elif kind == "EN" and strong == "L":  # W7
            types[i] = "L"
    return types


def levels(text: str, rtl: bool) -> list[int]:
    """The embedding level of each character of a line whose base direction is given."""
    base = 1 if rtl else 0
    sor = "R" if rtl else "L"
    types = _weak_types(text, sor)

    def direction(kind: str) -> str:  # for N1, numbers count as right to left
        return "L" if kind == "L" else "R"

    i = 0
    while i < len(types):  # N1/N2: a run of neutrals between two of one direction takes it, else the base's
        if types[i] not in _NEUTRAL:
            i += 1
            continue
        j = i
        while j < len(types) and types[j] in _NEUTRAL:
            j += 1
        before = direction(types[i - 1]) if i > 0 else sor
        after = direction(types[j]) if j < len(types) else sor
        resolved = before if before == after else sor
        types[i:j] = [resolved] * (j - i)
        i = j
    out = []
    for kind in types:  # I1/I2
        if base == 0:
            out.append(1 if kind == "R" else 2 if kind in ("AN", "EN") else 0)
        else:
            out.append(2 if kind in ("L", "AN", "EN") else 1)
    end = len(text)  # L1: trailing whitespace goes back to the base level
    while end > 0 and unicodedata.bidirectional(text[end - 1]) in ("WS", "S", "B", "BN"):
        end -= 1
        out[end] = base
    return out


def visual_order(text: str, rtl: bool) -> str:
    """`text` (logical order) as it stands on the page from left to right, right-to-left brackets mirrored."""
    if not has_right_to_left(text) and not rtl:
        return text
    level = levels(text, rtl)
    chars = [_MIRRORS.get(ch, ch) if lv % 2 else ch for ch, lv in zip(text, level, strict=True)]
    return "".join(chars[k] for k in _marks_in_order(visual_indices(level), text))


def visual_indices(level: list[int]) -> list[int]:
    """The positions of items at these embedding levels, in the order they stand from the left (L2:
    from the highest level down to the lowest odd one, each run at that level or above reversed)."""
    order = list(range(len(level)))
    lowest_odd = min((lv for lv in level if lv % 2), default=None)
    if lowest_odd is None:
        return order
    for target in range(max(level), lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if level[order[i]] < target:
                i += 1
                continue
            j = i
            while j < len(order) and level[order[j]] >= target:
                j += 1
            order[i:j] = order[i:j][::-1]
            i = j
    return order


def _marks_in_order(order: list[int], text: str) -> list[int]:
    """`order` with the combining marks that a reversed run put before their base in logical order
    again: readers put a base back before the marks that precede it, keeping the marks' order."""
    out = list(order)
    i = 0
    while i < len(out):
        j = i
        while j < len(out) and unicodedata.combining(text[out[j]]):
            j += 1
        if j - i > 1:
            out[i:j] = sorted(out[i:j])
        i = j + 1 if j == i else j
    return out

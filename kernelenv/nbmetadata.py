"""A notebook file's ``metadata.kernelspec``, rewritten with every other byte of the file kept.

Contract:
- ``set_kernelspec(text, name, display_name, language)`` returns ``(new_text, previous)``:
  the file's text with only the value of ``metadata.kernelspec`` replaced (or the key
  inserted), ``previous`` the kernelspec object it had (None if none). ``new_text`` is
  ``text`` itself when name and display name are already those.
- The new value follows the file's own style: its indentation unit (spaces or tabs), its
  newline, its ``": "`` or ``":"`` separator, compact or one key per line, ``\\uXXXX``
  escapes when the file uses them; existing kernelspec keys keep their order and any keys
  kernelenv does not set; a new ``kernelspec`` key goes where a key-sorted writer (nbformat,
  JupyterLab, VS Code) would put it. Identical input gives identical output on every machine.
- ``NotANotebook`` (a ValueError) when the text is not JSON or not a notebook object.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]  # the C scanner, not in typeshed
from typing import Any

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
KEY = "kernelspec"


class NotANotebook(ValueError):
    pass


@dataclass
class Member:
    key: str
    key_start: int  # index of the key's opening quote
    value_start: int
    value_end: int  # index just past the value


@dataclass
class Obj:
    start: int  # index of "{"
    end: int  # index just past "}"
    members: list[Member]


def _ws(text: str, i: int) -> re.Match[str]:
    """The whitespace run at ``i`` (possibly empty: the pattern always matches)."""
    found = _WS.match(text, i)
    assert found is not None
    return found


def _skip(text: str, i: int) -> int:
    return _ws(text, i).end()


def _object(text: str, start: int) -> Obj:
    """Spans of the members of the JSON object that starts at ``text[start] == "{"``."""
    if text[start : start + 1] != "{":
        raise NotANotebook("not a JSON object")
    members: list[Member] = []
    i = _skip(text, start + 1)
    if text[i : i + 1] == "}":
        return Obj(start, i + 1, members)
    while True:
        if text[i : i + 1] != '"':
            raise NotANotebook(f"a key was expected at character {i}")
        key, j = scanstring(text, i + 1)
        j = _skip(text, j)
        if text[j : j + 1] != ":":
            raise NotANotebook(f"':' was expected at character {j}")
        v = _skip(text, j + 1)
        _, end = _DECODER.raw_decode(text, v)
        members.append(Member(key, i, v, end))
        k = _skip(text, end)
        if text[k : k + 1] == "}":
            return Obj(start, k + 1, members)
        if text[k : k + 1] != ",":
            raise NotANotebook(f"',' or '}}' was expected at character {k}")
        i = _skip(text, k + 1)


def _line_indent(text: str, i: int) -> str:
    """The whitespace that starts the line holding index ``i``."""
    line_start = text.rfind("\n", 0, i) + 1
    return _ws(text, line_start).group(0).replace("\r", "").replace("\n", "")


@dataclass
class Style:
    multiline: bool
    unit: str  # one level of indentation
    newline: str
    key_sep: str  # ": " or ":"
    item_sep: str  # between members when compact: ", " or ","
    ascii_only: bool


def _style(text: str, top: Obj, meta: Obj | None) -> Style:
    head = text[top.start : top.members[0].key_start] if top.members else text[top.start : top.end]
    multiline = "\n" in head
    newline = "\r\n" if "\r\n" in head else "\n"
    unit = ""
    if multiline and top.members:
        first, outer = _line_indent(text, top.members[0].key_start), _line_indent(text, top.start)
        unit = first[len(outer) :] if first.startswith(outer) else first
    sample = meta if meta is not None and meta.members else top
    key_sep, item_sep = ": ", ", "
    if sample.members:
        m = sample.members[0]
        _, after_key = scanstring(text, m.key_start + 1)
        raw = text[after_key : m.value_start]
        key_sep = raw if "\n" not in raw and "\r" not in raw else ": "
        item_sep = ", " if key_sep.endswith(" ") else ","
    if len(sample.members) > 1 and not multiline:
        between = text[sample.members[0].value_end : sample.members[1].key_start]
        if "\n" not in between and "\r" not in between:
            item_sep = between
    ascii_only = bool(re.search(r"\\u[0-9a-fA-F]{4}", text)) and not any(ord(c) > 127 for c in text)
    return Style(multiline, unit, newline, key_sep, item_sep, ascii_only)


def _dump(value: Any, style: Style, base: str, multiline: bool) -> str:
    if multiline:
        out = json.dumps(value, indent=style.unit, separators=(",", style.key_sep), ensure_ascii=style.ascii_only)
        return out.replace("\n", style.newline + base)
    return json.dumps(value, separators=(style.item_sep, style.key_sep), ensure_ascii=style.ascii_only)


def _sorted_keys(keys: list[str]) -> bool:
    return keys == sorted(keys)


def set_kernelspec(text: str, name: str, display_name: str, language: str = "python") -> tuple[str, dict | None]:
    """``text`` with ``metadata.kernelspec`` naming ``name``/``display_name``; see the module's contract."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise NotANotebook(f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise NotANotebook("not a notebook: no list of cells")
    if doc.get("nbformat") != 4:
        raise NotANotebook(f"nbformat {doc.get('nbformat')!r} notebook: open and save it in Jupyter to make it nbformat 4")
    meta_value = doc.get("metadata", {})
    if not isinstance(meta_value, dict):
        raise NotANotebook("its metadata is not an object")
    found = meta_value.get(KEY)
    previous = found if isinstance(found, dict) else None
    if previous is not None and previous.get("name") == name and previous.get("display_name") == display_name:
        return text, previous

    start = _skip(text, 0)
    top = _object(text, start)
    meta_member = next((m for m in reversed(top.members) if m.key == "metadata"), None)
    meta = _object(text, meta_member.value_start) if meta_member else None
    style = _style(text, top, meta)

    if meta is None:  # no metadata at all: add it (sorted position among the top-level keys)
        value: dict[str, Any] = {KEY: {"display_name": display_name, "language": language, "name": name}}
        return _insert(text, top, "metadata", value, style, _line_indent(text, top.start)), None

    ks_member = next((m for m in reversed(meta.members) if m.key == KEY), None)
    if ks_member is not None and previous is not None:
        new = dict(previous)
        new["name"], new["display_name"] = name, display_name
        if _sorted_keys(list(previous)):
            new = dict(sorted(new.items()))
        old_value = text[ks_member.value_start : ks_member.value_end]
        value_text = _dump(new, style, _line_indent(text, ks_member.key_start), "\n" in old_value)
        return text[: ks_member.value_start] + value_text + text[ks_member.value_end :], previous
    if ks_member is not None:  # kernelspec is null or not an object: replace the value
        value_text = _dump(
            {"display_name": display_name, "language": language, "name": name},
            style,
            _line_indent(text, ks_member.key_start),
            style.multiline,
        )
        return text[: ks_member.value_start] + value_text + text[ks_member.value_end :], None
    assert meta_member is not None  # meta was read from it
    value = {"display_name": display_name, "language": language, "name": name}
    return _insert(text, meta, KEY, value, style, _line_indent(text, meta_member.key_start)), None


def _insert(text: str, obj: Obj, key: str, value: Any, style: Style, obj_indent: str) -> str:
    """``text`` with ``"key": value`` added to ``obj`` (whose key line is indented ``obj_indent``)."""
    inner = obj_indent + style.unit if style.multiline else ""
    member = json.dumps(key, ensure_ascii=style.ascii_only) + style.key_sep + _dump(value, style, inner, style.multiline)
    keys = [m.key for m in obj.members]
    if not obj.members:
        if style.multiline:
            body = style.newline + inner + member + style.newline + obj_indent
        else:
            body = member
        return text[: obj.start + 1] + body + text[obj.end - 1 :]
    at = len(keys)
    if _sorted_keys(keys):
        at = next((i for i, k in enumerate(keys) if k > key), len(keys))
    if style.multiline:
        sep = "," + style.newline + inner
    else:
        sep = style.item_sep
    if at == 0:
        first = obj.members[0]
        return text[: first.key_start] + member + sep + text[first.key_start :]
    prev = obj.members[at - 1]
    return text[: prev.value_end] + sep + member + text[prev.value_end :]

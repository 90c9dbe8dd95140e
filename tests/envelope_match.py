"""The fixture-matching rule of tests/fixtures/envelopes/README.md, as a function."""

from __future__ import annotations

from typing import Any


def mismatches(fixture: Any, real: Any, path: str = "$") -> list[str]:
    """Where ``real`` breaks the contract that ``fixture`` shows; [] when it matches."""
    if fixture is None or real is None:
        return []
    if isinstance(fixture, bool) or isinstance(real, bool):
        return [] if isinstance(fixture, bool) and isinstance(real, bool) else [f"{path}: {type(real).__name__} is not bool"]
    if isinstance(fixture, (int, float)):
        return [] if isinstance(real, (int, float)) else [f"{path}: {type(real).__name__} is not a number"]
    if isinstance(fixture, str):
        return [] if isinstance(real, str) else [f"{path}: {type(real).__name__} is not a string"]
    if isinstance(fixture, list):
        if not isinstance(real, list):
            return [f"{path}: {type(real).__name__} is not a list"]
        if not fixture:
            return []
        return [m for i, item in enumerate(real) for m in mismatches(fixture[0], item, f"{path}[{i}]")]
    if isinstance(fixture, dict):
        if not isinstance(real, dict):
            return [f"{path}: {type(real).__name__} is not an object"]
        out = []
        for k, v in fixture.items():
            if k not in real:
                out.append(f"{path}.{k}: missing")
            else:
                out += mismatches(v, real[k], f"{path}.{k}")
        return out
    return [f"{path}: unexpected fixture value {fixture!r}"]


def envelope_mismatches(fixture: dict, real: dict) -> list[str]:
    out = []
    for key in ("kernelenv", "command", "status"):
        if fixture.get(key) != real.get(key):
            out.append(f"$.{key}: {real.get(key)!r} != {fixture.get(key)!r}")

    def codes(e: dict) -> list:
        return [x.get("code") for x in e.get("errors", [])]

    if codes(fixture) != codes(real):
        out.append(f"$.errors codes: {codes(real)} != {codes(fixture)}")
    for e in real.get("errors", []):
        out += mismatches({"code": "", "message": "", "hint": None, "details": {}}, e, "$.errors[]")
    out += mismatches(fixture.get("data", {}), real.get("data"), "$.data")
    return out

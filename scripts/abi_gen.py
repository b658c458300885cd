#!/usr/bin/env python3
"""Generate every ABI artefact from the one manifest, abi/manifest.json.

    abi_gen.py [--manifest M] write [ROOT]     write the generated files under ROOT (default .)
    abi_gen.py [--manifest M] check [ROOT]     fail if a committed generated file differs
    abi_gen.py [--manifest M] crosscheck SWIFT_H
        compare the compiler's SpikeVaultC-Swift.h (the @c export layer) with the manifest:
        every function with the same parameter and return types, every @c enum with the
        same cases and numbers; it is a cross-check, never a source of types.

Generated (paths relative to ROOT), see docs/conventions.md "One source for the ABI":
include/spikevault.h, bindings/python/spikevault/_functions.py, bindings/python/spikevault/_enums.py,
docs/abi-reference.md, scripts/libspikevault.symbols. No C type is inferred from a name:
each is written in the manifest.
"""
from __future__ import annotations

import difflib
import json
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MANIFEST = os.path.join(HERE, "..", "abi", "manifest.json")
SCALARS = {"int", "int32_t", "int64_t", "size_t", "double", "void"}
GENERATED = ["include/spikevault.h", "bindings/python/spikevault/_functions.py",
             "bindings/python/spikevault/_enums.py", "docs/abi-reference.md", "scripts/libspikevault.symbols",
             "Sources/SpikeVault/Vault/VaultOptions.swift", "Sources/SpikeVaultC/OptionKeys.swift"]


# ---- the manifest -------------------------------------------------------------------------

class Manifest:
    def __init__(self, data: dict) -> None:
        self.data = data
        self.handles = list(data["handles"])
        self.all_options = list(data["options"])
        # int64 options (sv_options_set_int, with bounds) and text options (sv_options_set_string).
        self.options = [o for o in self.all_options if o["type"] == "int64"]
        self.text_options = [o for o in self.all_options if o["type"] == "text"]
        self.callbacks = list(data["callbacks"])
        self.groups = list(data["groups"])
        self.enums = []
        for e in data["enums"]:
            e = dict(e)
            if e.get("values_from") == "options":
                e["values"] = [{"c": o["c"], "value": o["value"],
                                "doc": ("text (sv_options_set_string): " if o["type"] == "text" else "") + o["doc"]}
                               for o in self.all_options]
            self.enums.append(e)
        self.enum_names = {e["name"] for e in self.enums}
        self.callback_names = {c["name"] for c in self.callbacks}
        self.functions = [f for g in self.groups for f in g["functions"]]
        self.validate()

    def validate(self) -> None:
        problems = []
        names = [f["name"] for f in self.functions]
        problems += [f"function {n} listed twice" for n in sorted({n for n in names if names.count(n) > 1})]
        for f in self.functions:
            if not re.fullmatch(r"sv_[a-z0-9_]+", f["name"]):
                problems.append(f"bad function name {f['name']!r}")
            if not f.get("doc"):
                problems.append(f"{f['name']}: no doc comment (ownership, threading)")
            if not re.fullmatch(r"\d+\.\d+", str(f.get("since", ""))):
                problems.append(f"{f['name']}: 'since' must be MAJOR.MINOR")
            for t in [f["returns"]] + [p[0] for p in f["params"]]:
                if not self.known_type(t):
                    problems.append(f"{f['name']}: unknown C type {t!r}")
        for e in self.enums:
            seen = {}
            for v in e["values"]:
                if not v["c"].startswith(e["prefix"]):
                    problems.append(f"{e['name']}: {v['c']} lacks the prefix {e['prefix']}")
                if v["value"] in seen:
                    problems.append(f"{e['name']}: {v['c']} and {seen[v['value']]} share {v['value']}")
                seen[v["value"]] = v["c"]
        for o in self.all_options:
            if o["type"] == "int64":
                if not (o["min"] <= o["default"] <= o["max"]):
                    problems.append(f"{o['c']}: default {o['default']} outside {o['min']}..{o['max']}")
            elif o["type"] == "text":
                for k in ("validate", "rule"):
                    if not o.get(k):
                        problems.append(f"{o['c']}: a text option needs '{k}' (the core's check and its message)")
                if any(k in o for k in ("min", "max", "default", "swift_type")):
                    problems.append(f"{o['c']}: a text option has no min/max/default/swift_type (nil = detected)")
            else:
                problems.append(f"{o['c']}: options are int64 (sv_options_set_int) or text (sv_options_set_string)")
        if problems:
            sys.exit("abi manifest: " + "; ".join(problems))

    def known_type(self, t: str) -> bool:
        base = t.replace("const ", "").replace("*", "").strip()
        return (base in SCALARS or base == "char" or base in self.handles or base in self.enum_names
                or base == "sv_status" or base in self.callback_names)


def load(path: str) -> Manifest:
    with open(path, encoding="utf-8") as f:
        return Manifest(json.load(f))


# ---- C header ------------------------------------------------------------------------------

def block_comment(doc, indent=""):
    if not doc:
        return []
    lines = [indent + "/* " + doc[0]] + [indent + ((" * " + d) if d else " *") for d in doc[1:]]
    lines[-1] += " */"
    return lines


def c_decl(ctype: str, name: str) -> str:
    return f"{ctype}{'' if ctype.endswith('*') else ' '}{name}"


def wrapped(head: str, params, tail: str, limit: int = 110):
    one = head + ", ".join(params) + tail
    if len(one) <= limit:
        return [one]
    lines, cur = [], head
    for i, p in enumerate(params):
        piece = p + (", " if i < len(params) - 1 else tail)
        if len(cur) + len(piece.rstrip()) > limit and cur.strip() != head.strip():
            lines.append(cur.rstrip())
            cur = " " * len(head) + piece
        else:
            cur += piece
    lines.append(cur.rstrip())
    return lines


def header(m: Manifest) -> str:
    out = [
        "/* spikevault.h - the C interface of libspikevault.",
        " *",
        " * GENERATED by scripts/abi_gen.py from abi/manifest.json (`make manifest`): do not edit.",
        " *",
        " * Conventions (docs/conventions.md): functions are sv_<noun>_<verb>; handles are opaque;",
        " * fallible calls return sv_status (SV_OK = 0, errors < 0) and sv_errmsg() gives this",
        " * thread's last failure; out-parameters come last and are named out_*; memory the",
        " * library hands over is released with sv_free(); every handle made by a _new or _open",
        " * call has a NULL-safe _free or _close. Strings are UTF-8 and NUL-terminated. Times are",
        " * milliseconds since the Unix epoch, UTC.",
        " */",
        "#ifndef SPIKEVAULT_H",
        "#define SPIKEVAULT_H",
        "",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        "/* SV_VERSION_MAJOR/MINOR/PATCH/NUMBER/STRING, generated from the VERSION file (as sqlite3.h",
        " * is from SQLite's): the version is written in one place only. */",
        '#include "spikevault_version.h"',
        "",
        "/* Opaque handles. They are keys, not pointers to memory: a stale or closed handle is",
        " * detected and refused with SV_ERR_CLOSED rather than dereferenced. */",
    ]
    out += [f"typedef struct {h} {h};" for h in m.handles]
    out.append("")
    for e in m.enums:
        out += block_comment(e["doc"])
        out.append(f"typedef enum {e['name']} {{")
        out += [f"    {v['c']} = {v['value']}," for v in e["values"]]
        out += [f"}} {e['name']};", ""]
    for cb in m.callbacks:
        out += block_comment(cb["doc"])
        out += wrapped(f"typedef {c_decl(cb['returns'], '(*' + cb['name'] + ')')}(",
                       [c_decl(t, n) for t, n in cb["params"]], ");")
        out.append("")
    for g in m.groups:
        out += [f"/* ---- {g['title']} ---- */", ""]
        for f in g["functions"]:
            out += block_comment(f["doc"])
            params = ", ".join(c_decl(t, n) for t, n in f["params"]) or "void"
            out += [f"{c_decl(f['returns'], f['name'])}({params});", ""]
    out += ["#ifdef __cplusplus", "}", "#endif", "", "#endif /* SPIKEVAULT_H */", ""]
    return "\n".join(out)


# ---- Python --------------------------------------------------------------------------------

def ctypes_of(m: Manifest, t: str, is_return: bool = False) -> str:
    """The binding's ctypes convention for a C type (docs/conventions.md)."""
    norm = " ".join(t.split())
    stars = norm.count("*")
    base = norm.replace("const", "").replace("*", "").strip()
    if stars == 0:
        if base == "sv_status":
            return "_status" if is_return else "c_int"
        if base in m.enum_names or base == "int":
            return "c_int"
        if base in m.callback_names:
            return base[3:].upper()
        return {"int64_t": "c_int64", "int32_t": "c_int32", "size_t": "c_size_t", "double": "c_double",
                "void": "None"}[base]
    if stars == 1:
        if base in m.handles:
            return "_handle"
        if base == "char" and "const" in norm:
            return "c_char_p"  # an input, or a string the library or a cursor owns (ctypes copies it)
        if base == "void":
            return "c_void_p"
        return f"POINTER({ctypes_of(m, base)})"
    if stars == 2:
        if base in m.handles and re.search(r"\*\s*const\s*\*", norm):
            return "POINTER(c_void_p)"  # sv_x *const *: an array of handles (sv_vault_save_many)
        if base in m.handles:
            return "_out_handle"
        if base in ("char", "void") and norm.count("const") == 0:
            return "POINTER(c_void_p)"  # caller-owned memory, kept as a pointer for sv_free
        if base == "char" and norm.count("const") == 1 and norm.startswith("const char"):
            return "POINTER(c_void_p)"  # const char **: borrowed bytes with a length (read with string_at)
        if base == "char":
            return "POINTER(c_char_p)"  # const char *const *: an argv array
    raise SystemExit(f"abi_gen: no ctypes convention for C type {t!r}")


def python_functions(m: Manifest) -> str:
    out = ['"""GENERATED by scripts/abi_gen.py from abi/manifest.json (`make manifest`): do not edit.',
           "",
           "The one table declaring every C function of spikevault.h: ``(name, argtypes, restype, errcheck)``.",
           "",
           "Conventions: opaque handles are ``c_void_p``; enums are ``c_int``; ``const char *`` inputs and",
           "strings owned by the library or a cursor are ``c_char_p`` (ctypes copies them to ``bytes``);",
           "buffers and strings the caller must ``sv_free`` are ``c_void_p`` so the pointer is kept.",
           "``errcheck`` is ``raise_for_status`` for every function returning ``sv_status``: on the checked",
           "namespace (``_library.api()``) a negative status raises its ``SpikeVaultError`` subclass with",
           "``sv_errmsg()``; the raw namespace (``_library.lib()``) returns the status as it is.",
           '"""',
           "",
           "from __future__ import annotations",
           "",
           "import ctypes",
           "from ctypes import POINTER, c_char_p, c_double, c_int, c_int32, c_int64, c_size_t, c_void_p  # noqa: F401",
           "from typing import Any, Callable, List, Optional, Sequence, Tuple",
           "",
           "from .errors import raise_for_status",
           "",
           "__all__ = [\"FUNCTIONS\", " + ", ".join(f'"{c["name"][3:].upper()}"' for c in m.callbacks) + ", \"apply\"]",
           "",
           "_status = c_int",
           "_handle = c_void_p",
           "_out_handle = POINTER(c_void_p)",
           ""]
    for cb in m.callbacks:
        out += ["# " + line for line in wrapped(f"typedef {c_decl(cb['returns'], '(*' + cb['name'] + ')')}(",
                                                [c_decl(t, n) for t, n in cb["params"]], ");")]
        out += ["# " + d for d in cb["doc"]]
        res = "None" if cb["returns"] == "void" else ctypes_of(m, cb["returns"])
        args = ", ".join([res] + [ctypes_of(m, t) for t, _ in cb["params"]])
        out += [f"{cb['name'][3:].upper()} = ctypes.CFUNCTYPE({args})", ""]
    out += ["FUNCTIONS: Sequence[Tuple[str, List[Any], Optional[Any], Optional[Callable[..., Any]]]] = ("]
    for g in m.groups:
        out.append(f"    # {g['title']}")
        for f in g["functions"]:
            args = ", ".join(ctypes_of(m, t) for t, _ in f["params"])
            check = "raise_for_status" if f["returns"] == "sv_status" else "None"
            out.append(f"    (\"{f['name']}\", [{args}], {ctypes_of(m, f['returns'], True)}, {check}),")
    out += [")",
            "",
            "",
            "def apply(library: ctypes.CDLL, checked: bool = False) -> List[str]:",
            '    """Declare every function of the table on ``library`` (with errcheck when ``checked``);',
            '    return the names it lacks."""',
            "    missing: List[str] = []",
            "    for name, argtypes, restype, errcheck in FUNCTIONS:",
            "        try:",
            "            function = getattr(library, name)",
            "        except AttributeError:",
            "            missing.append(name)",
            "            continue",
            "        function.argtypes = argtypes",
            "        function.restype = restype",
            "        if checked and errcheck is not None:",
            "            function.errcheck = errcheck",
            "    return missing",
            ""]
    return "\n".join(out)


def python_enums(m: Manifest) -> str:
    classes = [e["python"] for e in m.enums]
    out = ['"""GENERATED by scripts/abi_gen.py from abi/manifest.json (`make manifest`): do not edit.',
           "",
           "Python mirrors of the C enums in spikevault.h (values are ABI), the tunables' keyword table",
           "and bounds. Methods beyond the values live in _enum_methods.py (mixins).",
           '"""',
           "",
           "from __future__ import annotations",
           "",
           "from enum import IntEnum",
           "from typing import Dict, NamedTuple, Optional",
           "",
           "from . import _enum_methods",
           "",
           "__all__ = [" + ", ".join(f'"{c}"' for c in classes) + ", \"OPTION_KEYWORDS\", \"OPTION_SPECS\", \"TEXT_OPTION_SPECS\"]",
           ""]
    for e in m.enums:
        mixin = e["python"] + "Methods"
        bases = f"_enum_methods.{mixin}, IntEnum" if mixin in MIXINS else "IntEnum"
        out += ["", f"class {e['python']}({bases}):", f'    """{e["python_doc"]}"""', ""]
        out += [f"    {v['c'][len(e['prefix']):]} = {v['value']}" for v in e["values"]]
        out.append("")
        texts = [v for v in e["values"] if "text" in v]
        if texts:
            out.append(f"_enum_methods.register_names({e['python']}, {{")
            out += [f"    {e['python']}.{v['c'][len(e['prefix']):]}: {json.dumps(v['text'])}," for v in texts]
            out.append("})")
            out.append("")
    out += ["",
            "class OptionSpec(NamedTuple):",
            '    """A tunable of ``Vault(...)``: its key, Python keyword, bounds, default and doc line."""',
            "",
            "    key: Option",
            "    keyword: Optional[str]",
            "    minimum: int",
            "    maximum: int",
            "    default: int",
            "    doc: str",
            "",
            "",
            "OPTION_SPECS: Dict[Option, OptionSpec] = {"]
    for o in m.options:
        member = o["c"][len("SV_OPT_"):]
        kw = json.dumps(o["python"]) if o["python"] else "None"
        out.append(f"    Option.{member}: OptionSpec(Option.{member}, {kw}, {o['min']}, {o['max']}, {o['default']},")
        out.append(f"                                {json.dumps(o['doc'])}),")
    out += ["}",
            "",
            "",
            "class TextOptionSpec(NamedTuple):",
            '    """A text tunable of ``Vault(...)`` (``sv_options_set_string``): None keeps the detected value."""',
            "",
            "    key: Option",
            "    keyword: str",
            "    rule: str",
            "    doc: str",
            "",
            "",
            "TEXT_OPTION_SPECS: Dict[Option, TextOptionSpec] = {"]
    for o in m.text_options:
        member = o["c"][len("SV_OPT_"):]
        out.append(f"    Option.{member}: TextOptionSpec(Option.{member}, {json.dumps(o['python'])}, {json.dumps(o['rule'])},")
        out.append(f"                                    {json.dumps(o['doc'])}),")
    out += ["}",
            "# Keyword arguments of Vault(...) and the key each sets (OPEN_EXISTING is Vault(create=False)).",
            "OPTION_KEYWORDS: Dict[str, Option] = {s.keyword: k for k, s in OPTION_SPECS.items() if s.keyword}",
            "OPTION_KEYWORDS.update({s.keyword: k for k, s in TEXT_OPTION_SPECS.items()})",
            ""]
    return "\n".join(out)


MIXINS = {"MetricMethods", "CaptureStatusMethods"}


# ---- docs and the symbol baseline ----------------------------------------------------------

def md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def docs(m: Manifest) -> str:
    out = ["# ABI reference tables", "",
           "GENERATED by `scripts/abi_gen.py` from `abi/manifest.json` (`make manifest`): do not edit.",
           "The header `include/spikevault.h` has each function's full doc comment.", "",
           "## Options (`sv_options_set_int`; Python `Vault(...)` keywords)", "",
           "| key | number | Python keyword | min | max | default | meaning |",
           "|---|---|---|---|---|---|---|"]
    for o in m.options:
        kw = f"`{o['python']}`" if o["python"] else "`create=False`"
        out.append(f"| `{o['c']}` | {o['value']} | {kw} | {o['min']:,} | {o['max']:,} | {o['default']:,} | "
                   f"{md_escape(o['doc'])} |")
    if m.text_options:
        out += ["", "## Text options (`sv_options_set_string`; NULL / Python None keeps the detected value)", "",
                "| key | number | Python keyword | rule | meaning |", "|---|---|---|---|---|"]
        for o in m.text_options:
            out.append(f"| `{o['c']}` | {o['value']} | `{o['python']}` | {md_escape(o['rule'])} | {md_escape(o['doc'])} |")
    for e in m.enums:
        if e.get("values_from"):
            continue
        has_type = any("type" in v for v in e["values"])
        has_doc = any("doc" in v for v in e["values"])
        has_text = any("text" in v for v in e["values"])
        out += ["", f"## `{e['name']}` (Python `{e['python']}`)", "", " ".join(e["doc"]), ""]
        cols = ["constant", "number"] + (["name"] if has_text else []) + (["type"] if has_type else []) \
            + (["meaning"] if has_doc else [])
        out += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for v in e["values"]:
            row = [f"`{v['c']}`", str(v["value"])] + ([f"`{v.get('text', '')}`"] if has_text else []) \
                + ([v.get("type", "")] if has_type else []) + ([md_escape(v.get("doc", ""))] if has_doc else [])
            out.append("| " + " | ".join(row) + " |")
    out += ["", "## Functions", "", "| function | returns | since | section |", "|---|---|---|---|"]
    for g in m.groups:
        for f in g["functions"]:
            out.append(f"| `{f['name']}` | `{f['returns']}` | {f['since']} | {md_escape(g['title'].split(':')[0])} |")
    out.append("")
    return "\n".join(out)


def symbols(m: Manifest) -> str:
    out = ["# Exported symbols of libspikevault and the version that added each (like dpkg-gensymbols).",
           "# GENERATED by scripts/abi_gen.py from abi/manifest.json ('since' of each function): do not edit.",
           "# make check-abi (scripts/check_abi.py) fails when the library exports a symbol not listed here, or lacks one that is.",
           "# A new function: raise MINOR in VERSION and give it that version as 'since' in the manifest.",
           "# Removing or changing one: raise MAJOR (a new soname) and start a new list."]
    out += [f"{f['name']} {f['since']}" for f in sorted(m.functions, key=lambda f: f["name"])]
    return "\n".join(out) + "\n"


def swift_case(constant: str, prefix: str) -> str:
    words = constant[len(prefix):].lower().split("_")
    return words[0] + "".join(w.capitalize() for w in words[1:])


def swift_literal(n: int) -> str:
    return f"{n:_}" if abs(n) >= 10_000 else str(n)


def swift_options(m: Manifest) -> str:
    """The core's VaultOptions: fields, defaults, bounds and the by-name setter/getter."""
    out = ["// GENERATED by scripts/abi_gen.py from abi/manifest.json (`make manifest`): do not edit.",
           "// Each tunable is declared once, in the manifest's \"options\"; its uses live where their",
           "// folder's responsibility lies (VaultOptions+Durability.swift holds the Durability type).",
           "",
           "/// Tunables of a vault. Every field has a default and inclusive bounds (`bounds`), mirrored one",
           "/// to one by the C ABI's `sv_option` keys. The core validates them (`set`), once per call.",
           "public struct VaultOptions: Sendable, Equatable {"]
    for o in m.options:
        out.append(f"    /// {o['doc']}")
        if o.get("swift_type"):
            out.append(f"    public var {o['swift']}: {o['swift_type']} = {o['swift_type']}(rawValue: {o['default']})!")
        else:
            out.append(f"    public var {o['swift']}: Int64 = {swift_literal(o['default'])}")
    for o in m.text_options:
        out.append(f"    /// {o['doc']} (text: `set(_:string:)`; nil keeps the detected value)")
        out.append(f"    public var {o['swift']}: String?")
    out += ["", "    public init() {}", "",
            "    /// The text tunables, by field name (the C ABI's `sv_options_set_string`).",
            "    public static let stringKeys: Set<String> = [" + ", ".join(f'"{o["swift"]}"' for o in m.text_options) + "]", "",
            "    /// Inclusive bounds and default for each tunable, by field name.",
            "    public static let bounds: [String: (min: Int64, max: Int64, defaultValue: Int64)] = ["]
    out += [f"        \"{o['swift']}\": ({swift_literal(o['min'])}, {swift_literal(o['max'])}, {swift_literal(o['default'])}),"
            for o in m.options]
    out += ["    ]", "",
            "    /// Sets a tunable by field name after checking its bounds.",
            "    public mutating func set(_ key: String, _ value: Int64) throws {",
            "        guard let b = Self.bounds[key] else {",
            "            if Self.stringKeys.contains(key) {",
            "                throw SpikeVaultError(.invalidArgument, \"option \\(key) is text: set it with sv_options_set_string\")",
            "            }",
            "            throw SpikeVaultError(.invalidArgument, \"unknown option \\(key)\")",
            "        }",
            "        guard value >= b.min && value <= b.max else {",
            "            throw SpikeVaultError(.invalidArgument, \"option \\(key) = \\(value) is outside \\(b.min)...\\(b.max)\")",
            "        }",
            "        switch key {"]
    for o in m.options:
        if o.get("swift_type"):
            out.append(f"        case \"{o['swift']}\": {o['swift']} = {o['swift_type']}(rawValue: value) ?? {o['swift']}")
        else:
            out.append(f"        case \"{o['swift']}\": {o['swift']} = value")
    out += ["        default: break  // unreachable: `bounds` rejected unknown keys above", "        }", "    }", "",
            "    /// Reads a tunable by field name.",
            "    public func get(_ key: String) throws -> Int64 {",
            "        switch key {"]
    for o in m.options:
        raw = ".rawValue" if o.get("swift_type") else ""
        out.append(f"        case \"{o['swift']}\": return {o['swift']}{raw}")
    out += ["        default: throw SpikeVaultError(.invalidArgument, \"unknown option \\(key)\")", "        }", "    }", "",
            "    /// Sets a text tunable by field name after checking it; nil restores the detected value.",
            "    public mutating func set(_ key: String, string value: String?) throws {",
            "        switch key {"]
    for o in m.text_options:
        rule = o["rule"].replace("\\", "\\\\").replace('"', '\\"')
        out += [f"        case \"{o['swift']}\":",
                f"            if let value, !{o['validate']}(value) {{",
                f"                throw SpikeVaultError(.invalidArgument, \"option {o['swift']} must be {rule}\")",
                "            }",
                f"            {o['swift']} = value"]
    names = ", ".join(o["swift"] for o in m.text_options)
    out += ["        default:",
            f"            throw SpikeVaultError(.invalidArgument, \"\\(key) is not a text option (text options: {names})\")",
            "        }", "    }", "}", ""]
    return "\n".join(out)


def swift_option_keys(m: Manifest) -> str:
    """The export layer's sv_option enum and its key -> VaultOptions field map."""
    e = next(e for e in m.enums if e["name"] == "sv_option")
    out = ["// GENERATED by scripts/abi_gen.py from abi/manifest.json (`make manifest`): do not edit.",
           "import SpikeVault", ""]
    out += [f"/// {d}" for d in e["doc"]]
    out.append("@c public enum sv_option: Int32 {")
    out += [f"    case {swift_case(o['c'], 'SV_OPT_')} = {o['value']}" for o in m.all_options]
    out += ["}", "", "extension sv_option {", "    /// The `VaultOptions` field behind a raw key.",
            "    static func name(_ raw: Int32) throws -> String {", "        switch sv_option(rawValue: raw) {"]
    out += [f"        case .{swift_case(o['c'], 'SV_OPT_')}: return \"{o['swift']}\"" for o in m.all_options]
    out += ["        case nil: throw SpikeVaultError(.invalidArgument, \"unknown option key \\(raw)\")", "        }", "    }",
            "}", ""]
    return "\n".join(out)


def render(m: Manifest) -> dict:
    return {"Sources/SpikeVault/Vault/VaultOptions.swift": swift_options(m),
            "Sources/SpikeVaultC/OptionKeys.swift": swift_option_keys(m),
            "include/spikevault.h": header(m), "bindings/python/spikevault/_functions.py": python_functions(m),
            "bindings/python/spikevault/_enums.py": python_enums(m), "docs/abi-reference.md": docs(m),
            "scripts/libspikevault.symbols": symbols(m)}


def write(m: Manifest, root: str) -> None:
    for rel, text in render(m).items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def check(m: Manifest, root: str) -> int:
    stale = 0
    for rel, text in render(m).items():
        path = os.path.join(root, rel)
        try:
            with open(path, encoding="utf-8") as f:
                have = f.read()
        except OSError:
            have = ""
        if have != text:
            stale += 1
            sys.stdout.writelines(difflib.unified_diff(have.splitlines(True), text.splitlines(True), rel,
                                                       rel + " (from the manifest)", n=1))
    if stale:
        print(f"manifest: {stale} generated file(s) differ from abi/manifest.json: run 'make manifest' and commit")
        return 1
    print(f"manifest: {len(GENERATED)} generated files match abi/manifest.json "
          f"({len(m.functions)} functions, {len(m.enums)} enums, {len(m.options)} int options, {len(m.text_options)} text options, {len(m.callbacks)} callbacks)")
    return 0


# ---- cross-check against the compiler's header ---------------------------------------------

def snake_upper(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", camel).upper()


def split_top(params: str):
    parts, depth, cur = [], 0, ""
    for ch in params:
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def compiler_kind(t: str) -> str:
    """A compiler-header type reduced to what the ABI sees: base type and pointer depth."""
    t = re.sub(r"\b(_Nullable|_Nonnull|_Null_unspecified|const)\b", "", t)
    fm = re.match(r"(.*)\(\*\s*\w*\s*\)\s*\((.*)\)$", t.strip())
    if fm:
        inner = [] if fm.group(2).strip() == "void" else split_top(fm.group(2))
        return "fn(" + compiler_kind(fm.group(1)) + ":" + ",".join(compiler_kind(p) for p in inner) + ")"
    t = re.sub(r"\s+\w+$", "", t.strip()) if re.search(r"[\w*]\s+\w+$", t.strip()) and not t.strip().endswith("*") else t
    stars = t.count("*")
    base = t.replace("*", "").strip()
    base = {"int": "int32_t", "bool": "_Bool"}.get(base, base)
    return base + "*" * stars


def manifest_kind(m: Manifest, t: str) -> str:
    norm = " ".join(t.replace("const", "").split())
    stars = norm.count("*")
    base = norm.replace("*", "").strip()
    if base in m.callback_names:
        cb = next(c for c in m.callbacks if c["name"] == base)
        return "fn(" + manifest_kind(m, cb["returns"]) + ":" + ",".join(manifest_kind(m, p) for p, _ in cb["params"]) + ")"
    if base in m.handles:
        base = "void"
    elif base in m.enum_names or base in ("sv_status", "int"):
        base = "int32_t"
    return base + "*" * stars


def crosscheck(m: Manifest, swift_h: str) -> int:
    text = open(swift_h, encoding="utf-8").read()
    problems = []
    funcs = {}
    for fm in re.finditer(r"^SWIFT_EXTERN (.+?)\s*\b(sv_\w+)\((.*)\) SWIFT_NOEXCEPT", text, re.MULTILINE):
        params = [] if fm.group(3) == "void" else split_top(fm.group(3))
        funcs[fm.group(2)] = (compiler_kind(fm.group(1)), [compiler_kind(p) for p in params])
    declared = {f["name"]: f for f in m.functions}
    problems += [f"{n}: exported with @c but not in the manifest" for n in sorted(set(funcs) - set(declared))]
    problems += [f"{n}: in the manifest but no @c function" for n in sorted(set(declared) - set(funcs))]
    for name in sorted(set(funcs) & set(declared)):
        f = declared[name]
        want = (manifest_kind(m, f["returns"]), [manifest_kind(m, t) for t, _ in f["params"]])
        if funcs[name] != want:
            problems.append(f"{name}: Swift has {funcs[name][0]}({', '.join(funcs[name][1])}), "
                            f"the manifest {want[0]}({', '.join(want[1])})")
    enums = {}
    for em in re.finditer(r"typedef SWIFT_ENUM(?:_NAMED)?\(int32_t, (sv_\w+)[^{]*\{(.*?)\};", text, re.DOTALL):
        name = em.group(1)
        enums[name] = {int(v): c[len(name):] for c, v in re.findall(r"(sv_\w+?) = (-?\d+),", em.group(2))}
    for e in m.enums:
        have = enums.get(e["name"])
        if have is None:
            problems.append(f"enum {e['name']}: no @c enum in the export layer")
            continue
        want = {v["value"]: v["c"] for v in e["values"]}
        for value in sorted(set(want) | set(have)):
            if value not in have:
                problems.append(f"{e['name']}: {want[value]} = {value} has no Swift case")
            elif value not in want:
                problems.append(f"{e['name']}: Swift case {have[value]} = {value} is not in the manifest")
            else:
                swift_const = e["prefix"] + snake_upper(have[value])
                if e["name"] == "sv_status" and value < 0:
                    swift_const = "SV_ERR_" + snake_upper(have[value])
                if swift_const != want[value]:
                    problems.append(f"{e['name']}: Swift case {have[value]} = {value} reads as {swift_const}, "
                                    f"the manifest says {want[value]}")
    problems += [f"enum {n}: @c enum not in the manifest" for n in sorted(set(enums) - m.enum_names)]
    for p in problems:
        print(f"crosscheck: {p}")
    if problems:
        return 1
    print(f"crosscheck: the compiler's header matches the manifest ({len(funcs)} @c functions, {len(enums)} enums)")
    return 0


def main(argv) -> int:
    manifest = DEFAULT_MANIFEST
    if len(argv) >= 2 and argv[0] == "--manifest":
        manifest, argv = argv[1], argv[2:]
    if not argv or argv[0] not in ("write", "check", "crosscheck"):
        sys.exit(__doc__)
    m = load(manifest)
    if argv[0] == "write":
        write(m, argv[1] if len(argv) > 1 else ".")
        return 0
    if argv[0] == "check":
        return check(m, argv[1] if len(argv) > 1 else ".")
    if len(argv) != 2:
        sys.exit(__doc__)
    return crosscheck(m, argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The Python table and enums against include/spikevault.h (parsed with regexes), both ways."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from spikevault import Backend, CaptureStatus, Metric, MonitorCounter, Option, ReportField, Status
from spikevault._enums import Analytics, ExportFlag, FilterField, Format, Order
from spikevault._functions import (CAPTURE_CALLBACK, FUNCTIONS, MONITOR_CAPTURE_CALLBACK, MONITOR_FIRED_CALLBACK,
                                   PROGRESS_CALLBACK)

from conftest import HEADER, PACKAGE_ROOT

FUNCTION_RE = re.compile(r"^\s*([A-Za-z_][\w \t\*]*?[\s\*])(sv_\w+)\s*\(([^)]*)\)\s*;", re.MULTILINE)
CONSTANT_RE = re.compile(r"^\s*(SV_\w+)\s*=\s*(-?\d+)\s*,?", re.MULTILINE)


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)


@pytest.fixture(scope="module")
def header() -> str:
    if not HEADER.is_file():
        pytest.fail(f"header not found at {HEADER}")
    return _strip_comments(HEADER.read_text())


def _declarations(header: str) -> Dict[str, Tuple[str, List[str]]]:
    found: Dict[str, Tuple[str, List[str]]] = {}
    for match in FUNCTION_RE.finditer(header):
        restype, name, params = match.group(1), match.group(2), match.group(3).strip()
        args = [] if params in ("", "void") else [p.strip() for p in params.split(",")]
        assert name not in found, f"{name} declared twice"
        found[name] = (" ".join(restype.split()), args)
    return found


def _normalise(c_type: str) -> str:
    """'const char *' -> 'const char*'; 'sv_vault **' -> 'sv_vault**'."""
    return re.sub(r"\s*\*\s*", "*", " ".join(c_type.split())).strip()


def _param_type(param: str) -> str:
    """Drop the parameter name: 'const char *kind' -> 'const char*', 'int64_t value' -> 'int64_t'."""
    return _normalise(re.sub(r"\b[A-Za-z_]\w*\s*$", "", param))


def _ctype_for(c_type: str):
    """The ctypes type the binding's conventions require for a (normalised) C type."""
    t = _normalise(c_type)
    scalar = {"int": ctypes.c_int, "sv_status": ctypes.c_int, "sv_metric": ctypes.c_int, "sv_option": ctypes.c_int,
              "sv_capture_status": ctypes.c_int, "sv_backend": ctypes.c_int, "sv_report_field": ctypes.c_int,
              "sv_monitor_counter": ctypes.c_int, "sv_filter_field": ctypes.c_int, "sv_format": ctypes.c_int,
              "sv_analytics": ctypes.c_int, "int64_t": ctypes.c_int64, "int32_t": ctypes.c_int32,
              "size_t": ctypes.c_size_t, "double": ctypes.c_double, "void": None}
    if t in scalar:
        return scalar[t]
    if t == "const char*":
        return ctypes.c_char_p
    if t == "const char*const*":
        return ctypes.POINTER(ctypes.c_char_p)
    if t == "sv_capture_callback":
        return CAPTURE_CALLBACK
    if t == "sv_monitor_fired_callback":
        return MONITOR_FIRED_CALLBACK
    if t == "sv_monitor_capture_callback":
        return MONITOR_CAPTURE_CALLBACK
    if t in ("const int64_t*", "const int32_t*", "const double*", "int32_t*"):
        return ctypes.POINTER({"int64_t": ctypes.c_int64, "int32_t": ctypes.c_int32, "double": ctypes.c_double}[t.replace("const ", "")[:-1]])
    if t == "sv_progress_callback":
        return PROGRESS_CALLBACK
    if t in ("char**", "void**") or re.fullmatch(r"sv_\w+\*\*", t):
        return ctypes.POINTER(ctypes.c_void_p)  # caller-owned: kept as a pointer to sv_free / a handle
    if t == "sv_record*const*":
        return ctypes.POINTER(ctypes.c_void_p)  # an array of handles (sv_vault_save_many)
    if t == "const char**":
        return ctypes.POINTER(ctypes.c_void_p)  # borrowed bytes with a length (sv_cursor_next_page): read with string_at
    if t in ("void*", "const void*") or re.fullmatch(r"(const )?sv_\w+\*", t):
        return ctypes.c_void_p
    if t == "int64_t*":
        return ctypes.POINTER(ctypes.c_int64)
    if t == "double*":
        return ctypes.POINTER(ctypes.c_double)
    if t == "size_t*":
        return ctypes.POINTER(ctypes.c_size_t)
    raise AssertionError(f"no ctypes convention for C type {c_type!r}")


def test_header_parses(header: str) -> None:
    declarations = _declarations(header)
    assert len(declarations) >= 40  # sanity: the regex did find the API
    assert "sv_vault_open" in declarations and "sv_cursor_artefact_stored_bytes" in declarations


def test_every_header_function_is_in_the_table_with_same_arity(header: str) -> None:
    declared = _declarations(header)
    table = {name: (argtypes, restype) for name, argtypes, restype, _ in FUNCTIONS}
    assert len(table) == len(FUNCTIONS), "a function appears twice in the table"
    missing = sorted(set(declared) - set(table))
    extra = sorted(set(table) - set(declared))
    assert not missing, f"declared in spikevault.h but not in _functions.FUNCTIONS: {missing}"
    assert not extra, f"in _functions.FUNCTIONS but not in spikevault.h: {extra}"
    for name, (_, params) in declared.items():
        assert len(table[name][0]) == len(params), f"{name}: header has {len(params)} parameters, table {len(table[name][0])}"


def test_table_types_follow_the_conventions(header: str) -> None:
    table = {name: (argtypes, restype) for name, argtypes, restype, _ in FUNCTIONS}
    for name, (restype, params) in _declarations(header).items():
        argtypes, table_restype = table[name]
        assert table_restype == _ctype_for(restype), f"{name}: return type {restype!r}"
        for index, (param, argtype) in enumerate(zip(params, argtypes)):
            expected = _ctype_for(_param_type(param))
            assert argtype == expected, f"{name} parameter {index} {param!r}: table has {argtype}, expected {expected}"


def test_enums_equal_the_header_both_ways(header: str) -> None:
    constants = {name: int(value) for name, value in CONSTANT_RE.findall(header)}
    groups = {"SV_METRIC_": Metric, "SV_CAPTURE_": CaptureStatus, "SV_BACKEND_": Backend, "SV_OPT_": Option,
              "SV_REPORT_": ReportField, "SV_MONITOR_": MonitorCounter, "SV_FILTER_": FilterField, "SV_ORDER_": Order,
              "SV_FORMAT_": Format, "SV_EXPORT_": ExportFlag, "SV_ANALYTICS_": Analytics}
    seen = {enum: set() for enum in (Metric, CaptureStatus, Backend, Option, ReportField, MonitorCounter, Status,
                                     FilterField, Order, Format, ExportFlag, Analytics)}
    for name, value in constants.items():
        for prefix, enum in groups.items():
            if name.startswith(prefix):
                member = name[len(prefix):]
                break
        else:
            enum, member = Status, name[len("SV_"):]
        assert member in enum.__members__, f"{name} = {value} has no {enum.__name__}.{member}"
        assert enum[member] == value, f"{enum.__name__}.{member} = {int(enum[member])}, header {name} = {value}"
        seen[enum].add(member)
    for enum, names in seen.items():
        extra = set(enum.__members__) - names
        assert not extra, f"{enum.__name__} members missing from the header: {sorted(extra)}"
    assert {"SV_OK", "SV_ROW", "SV_DONE", "SV_ERR_ALREADY_EXISTS"} <= set(constants)


def test_callback_typedef_matches(header: str) -> None:
    match = re.search(r"typedef\s+void\s*\(\s*\*\s*sv_capture_callback\s*\)\s*\(([^)]*)\)\s*;", header)
    assert match, "sv_capture_callback typedef not found"
    params = [_param_type(p) for p in match.group(1).split(",")]
    expected = [_ctype_for(p) for p in params]
    assert list(CAPTURE_CALLBACK._argtypes_) == expected and CAPTURE_CALLBACK._restype_ is None
    match = re.search(r"typedef\s+int\s*\(\s*\*\s*sv_progress_callback\s*\)\s*\(([^)]*)\)\s*;", header)
    assert match, "sv_progress_callback typedef not found"
    expected = [_ctype_for(_param_type(p)) for p in match.group(1).split(",")]
    assert list(PROGRESS_CALLBACK._argtypes_) == expected and PROGRESS_CALLBACK._restype_ is ctypes.c_int


def test_every_c_call_in_the_package_is_declared() -> None:
    """Like clang's cindex test: walk the package source; every sv_* used is in the table."""
    table = {name for name, _, _, _ in FUNCTIONS}
    used = set()
    for source in (PACKAGE_ROOT / "spikevault").glob("*.py"):
        used |= set(re.findall(r"\.(sv_\w+)\b", source.read_text()))
    assert used, "no C calls found: the scan is broken"
    assert not (used - table), f"called but not declared in the table: {sorted(used - table)}"


def test_table_is_applied_to_the_loaded_library(lib) -> None:
    for name, argtypes, restype, _ in FUNCTIONS:
        function = getattr(lib, name)
        assert list(function.argtypes) == list(argtypes), name
        assert function.restype == restype, name


def test_version_macros_match_the_runtime(lib, header: str) -> None:
    macros = (HEADER.parent / "spikevault_version.h").read_text()  # generated from VERSION by make
    major = int(re.search(r"#define SV_VERSION_MAJOR (\d+)", macros).group(1))
    minor = int(re.search(r"#define SV_VERSION_MINOR (\d+)", macros).group(1))
    patch = int(re.search(r"#define SV_VERSION_PATCH (\d+)", macros).group(1))
    assert lib.sv_version_number() == major * 10000 + minor * 100 + patch
    assert lib.sv_version_string().decode() == f"{major}.{minor}.{patch}"


def test_status_strings_exist_for_every_status(lib) -> None:
    for status in Status:
        text = lib.sv_status_string(status)
        assert text and text.decode()
    assert lib.sv_status_string(-999)  # unknown codes get a generic text


def test_checked_namespace_raises_the_status_exception(lib, header: str) -> None:
    """The table's errcheck: api() raises the status's exception with sv_errmsg(); lib() stays raw."""
    from spikevault import _library
    from spikevault.errors import InvalidArgumentError, NullArgumentError

    assert lib.sv_options_new(None) == Status.ERR_NULL_ARGUMENT  # raw: the status itself
    with pytest.raises(NullArgumentError) as info:
        _library.api().sv_options_new(None)
    assert info.value.status == Status.ERR_NULL_ARGUMENT and "out_options" in info.value.message
    with pytest.raises(InvalidArgumentError):
        _library.api().sv_option_bounds(9999, None, None, None)
    declared = _declarations(header)
    for name, _, _, errcheck in FUNCTIONS:
        assert (errcheck is not None) == (declared[name][0] == "sv_status"), name
        assert getattr(getattr(lib, name), "errcheck", None) is None, name  # the raw table stays raw


def test_manifest_bounds_are_the_libraries(lib) -> None:
    """Every option of abi/manifest.json has the bounds and default the Swift core validates with,
    and the core has no key the manifest lacks."""
    from spikevault._enums import OPTION_SPECS

    low, high, default = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
    for key, spec in OPTION_SPECS.items():
        assert lib.sv_option_bounds(int(key), ctypes.byref(low), ctypes.byref(high), ctypes.byref(default)) == 0, key
        assert (low.value, high.value, default.value) == (spec.minimum, spec.maximum, spec.default), key
    core_keys = {k for k in range(-5, 200) if lib.sv_option_bounds(k, None, None, None) == 0}
    assert core_keys == {int(k) for k in OPTION_SPECS}

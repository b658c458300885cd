#!/usr/bin/env python3
"""Normalise the compiler's generated headers into include/spikevault.h.

Input: the `-Swift.h` header SwiftPM emits for the export layer (functions and enums). The
version macros live in spikevault_version.h, made from the VERSION file (scripts/version.py).
The compiler's output is clang-flavoured and types every handle as `void *`; this script
keeps its declarations and doc comments and rewrites them as portable C99: typed opaque
handles (by parameter name), `SV_*` enum constants, plain comments, grouped by noun.

Usage: gen_header.py EXPORT_SWIFT_H EXPORT_SOURCES_DIR OUT_H
(functions keep the order of their @c declarations in EXPORT_SOURCES_DIR)
"""
import re
import sys

HANDLE_PARAMS = {"vault": "sv_vault", "record": "sv_record", "cursor": "sv_cursor", "options": "sv_options",
                 "request": "sv_request", "job": "sv_job", "report": "sv_report", "monitor": "sv_monitor",
                 "rule": "sv_rule", "filter": "sv_filter", "sampler": "sv_sampler"}
# Arrays of handles, by name (sv_vault_save_many's records): `void * const *` becomes `sv_x *const *`.
HANDLE_ARRAY_PARAMS = {"records": "sv_record"}
ENUM_PARAMS = {"metric": "sv_metric", "key": "sv_option", "status": "sv_status", "backend": "sv_backend",
               "field": "sv_report_field", "counter": "sv_monitor_counter", "filter_field": "sv_filter_field",
               "format": "sv_format", "analysis": "sv_analytics"}
# Function-pointer parameters, by name: the typedef the header declares for them.
CALLBACK_PARAMS = {"callback": "sv_capture_callback", "on_fired": "sv_monitor_fired_callback",
                   "on_capture": "sv_monitor_capture_callback", "progress": "sv_progress_callback"}
CONST_HANDLES = {("sv_vault_open", "options"), ("sv_options_get_int", "options"), ("sv_report_get_int", "report"),
                 ("sv_monitor_add_rule", "rule"), ("sv_vault_query", "filter"), ("sv_vault_count", "filter"),
                 ("sv_vault_export_records", "filter"), ("sv_vault_export_bundle", "filter")}
RETURNS = {"sv_version_number": "int", "sv_cursor_metric": "sv_metric",
           "sv_cursor_status": "sv_capture_status", "sv_cursor_artefact_count": "int32_t"}
ENUM_PREFIX = {"sv_metric": "SV_METRIC_", "sv_capture_status": "SV_CAPTURE_", "sv_option": "SV_OPT_",
               "sv_backend": "SV_BACKEND_", "sv_report_field": "SV_REPORT_", "sv_monitor_counter": "SV_MONITOR_",
               "sv_filter_field": "SV_FILTER_", "sv_order": "SV_ORDER_", "sv_format": "SV_FORMAT_",
               "sv_export_flag": "SV_EXPORT_", "sv_analytics": "SV_ANALYTICS_"}
# Header sections in display order; a function goes to the section with its longest
# matching prefix (so sv_vault_maintain lands in Maintenance, not Vault).
GROUPS = [
    ("Library: version, errors, memory", ("sv_version", "sv_status", "sv_errmsg", "sv_free")),
    ("Options: tunables for sv_vault_open (like ZSTD_CCtx_setParameter)", ("sv_option",)),
    ("Vault: open, save, read, delete", ("sv_vault_",)),
    ("Maintenance: retention, footprint, reports", ("sv_vault_maintain", "sv_vault_footprint", "sv_report_")),
    ("Records: build a capture to save", ("sv_record_",)),
    ("Cursors: read stored captures (like sqlite3_step / sqlite3_column_*)", ("sv_cursor_",)),
    ("Capture requests: what to capture and how", ("sv_request_",)),
    ("Capture: synchronous, or asynchronous on library worker threads", ("sv_capture_", "sv_job_")),
    ("Review: filters, queries, summaries, exports, analytics, quick actions",
     ("sv_filter_", "sv_vault_query", "sv_vault_count", "sv_vault_summary", "sv_vault_export_stacks",
      "sv_vault_export_records", "sv_vault_export_bundle", "sv_vault_analytics", "sv_vault_export_duckdb",
      "sv_duckdb_", "sv_vault_rerun")),
    ("Monitor rules: what to watch and what to capture", ("sv_rule_",)),
    ("Monitor: watch processes, capture on sustained spikes (docs/monitor.md)", ("sv_monitor_",)),
    ("Sampler: the machine's processes as the monitor samples them (a live view)", ("sv_sampler_",)),
]


def snake_upper(camel):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", camel).upper()


def clean_doc(lines):
    out = []
    for line in lines:
        text = line.strip()[3:].strip()
        text = re.sub(r"</?code>", "", text)
        text = re.sub(r"</?em>", "*", text)
        text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"').replace("\u2014", "-")
        text = text.replace("/*", "/ *").replace("*/", "* /")
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        out.append(text)
    return out


def parse(path):
    """Yields ('enum', name, doc, [(case, value)]) and ('func', name, doc, ret, [(type, name)])."""
    lines = open(path, encoding="utf-8").read().splitlines()
    doc = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("///"):
            doc.append(line)
        elif m := re.match(r"typedef SWIFT_ENUM(?:_NAMED)?\(int32_t, (sv_\w+)", line):
            name, cases = m.group(1), []
            i += 1
            while not lines[i].startswith("};"):
                cm = re.match(r"\s*(sv_\w+?) = (-?\d+),", lines[i])
                if cm:
                    cases.append((cm.group(1)[len(name):], int(cm.group(2))))
                i += 1
            yield ("enum", name, clean_doc(doc), cases)
            doc = []
        elif line.startswith("SWIFT_EXTERN ") and " sv_" in line:
            fm = re.match(r"SWIFT_EXTERN (.+?)\s*\b(sv_\w+)\((.*)\) SWIFT_NOEXCEPT", line)
            ret, name, params = fm.group(1), fm.group(2), fm.group(3)
            plist = [] if params == "void" else split_params(params)
            yield ("func", name, clean_doc(doc), ret, [split_param(p) for p in plist])
            doc = []
        else:
            doc = []
        i += 1


def split_params(params):
    """Splits on top-level commas (a function-pointer parameter has commas inside)."""
    parts, depth, cur = [], 0, ""
    for ch in params:
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    parts.append(cur.strip())
    return parts


def split_param(p):
    fm = re.match(r".*\(\*\s*(?:_Nullable\s*)?(\w+)\)\s*\(.*\)$", p)
    if fm:
        return p, fm.group(1)
    m = re.match(r"(.*?)\s*(\w+)$", p)
    return m.group(1), m.group(2)


def c_type(func, ctype, pname):
    if pname in CALLBACK_PARAMS:
        return CALLBACK_PARAMS[pname]
    t = strip_nullability(ctype)
    base = pname[4:] if pname.startswith("out_") else pname
    if base in HANDLE_PARAMS and t.startswith("void *"):
        const = "const " if (func, pname) in CONST_HANDLES else ""
        return const + HANDLE_PARAMS[base] + " *" + ("*" if pname.startswith("out_") else "")
    if pname in HANDLE_ARRAY_PARAMS and re.fullmatch(r"void \* ?const \*", t):
        return HANDLE_ARRAY_PARAMS[pname] + " *const *"
    if pname in ENUM_PARAMS and t == "int32_t":
        return ENUM_PARAMS[pname]
    t = t.replace("char const *", "const char *").replace("void const *", "const void *")
    t = re.sub(r"\b(int64_t|int32_t|double) const \*", r"const \1 *", t)
    t = t.replace("* *", "**")
    return t


def strip_nullability(t):
    return t.replace(" _Nullable", "").replace(" _Nonnull", "").strip()


def declaration(func, ret, params):
    r = RETURNS.get(func, "sv_status" if ret == "int32_t" else strip_nullability(ret).replace("char const", "const char"))
    args = ", ".join(f"{c_type(func, t, n)}{'' if c_type(func, t, n).endswith('*') else ' '}{n}" for t, n in params) or "void"
    return f"{r}{'' if r.endswith('*') else ' '}{func}({args});"


def block_comment(doc):
    if not doc:
        return []
    lines = ["/* " + doc[0]] + [(" * " + d) if d else " *" for d in doc[1:]]
    lines[-1] += " */"
    return lines


def enum_block(name, doc, cases):
    lines = block_comment(doc)
    lines.append(f"typedef enum {name} {{")
    for case, value in cases:
        if name == "sv_status":
            const = ("SV_ERR_" if value < 0 else "SV_") + snake_upper(case)
        else:
            const = ENUM_PREFIX[name] + snake_upper(case)
        lines.append(f"    {const} = {value},")
    lines.append(f"}} {name};")
    return "\n".join(lines)


def source_order(sources_dir):
    import os
    names = []
    for fname in sorted(os.listdir(sources_dir)):
        if fname.endswith(".swift"):
            names += re.findall(r"@c\((sv_\w+)\)", open(os.path.join(sources_dir, fname), encoding="utf-8").read())
    return {n: i for i, n in enumerate(names)}


def main(export_h, sources_dir, out):
    import os
    rank = source_order(sources_dir)
    items = list(parse(export_h))
    enums = [i for i in items if i[0] == "enum"]
    funcs = {i[1]: i for i in items if i[0] == "func"}
    order = ["sv_status", "sv_metric", "sv_capture_status", "sv_backend", "sv_option", "sv_report_field",
             "sv_monitor_counter", "sv_filter_field", "sv_order", "sv_format", "sv_export_flag", "sv_analytics"]
    enums.sort(key=lambda e: order.index(e[1]) if e[1] in order else len(order))

    out_lines = [
        "/* spikevault.h - the C interface of libspikevault.",
        " *",
        " * GENERATED by scripts/gen_header.py from the Swift sources (`make header`): do not edit.",
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
        "typedef struct sv_vault sv_vault;",
        "typedef struct sv_options sv_options;",
        "typedef struct sv_record sv_record;",
        "typedef struct sv_cursor sv_cursor;",
        "typedef struct sv_request sv_request;",
        "typedef struct sv_job sv_job;",
        "typedef struct sv_report sv_report;",
        "typedef struct sv_monitor sv_monitor;",
        "typedef struct sv_rule sv_rule;",
        "typedef struct sv_filter sv_filter;",
        "typedef struct sv_sampler sv_sampler;",
        "",
    ]
    for _, name, doc, cases in enums:
        out_lines += [enum_block(name, doc, cases), ""]
    out_lines += [
        "/* Called once per asynchronous capture, on a library worker thread, with the job, its",
        " * final status (SV_OK, an error or SV_ERR_CANCELLED), the new capture id (0 unless SV_OK)",
        " * and the user_data given to sv_capture_start. It must return promptly and must not",
        " * close the vault. */",
        "typedef void (*sv_capture_callback)(sv_job *job, sv_status status, int64_t capture_id, void *user_data);",
        "",
        "/* Called ON THE MONITOR'S LIBRARY THREAD when a rule fires: the process, its name (owned by",
        " * the library, valid during the call only), the metric, the value that completed the",
        " * sustain window, the rule's index (from sv_monitor_add_rule) and the time in ms. */",
        "typedef void (*sv_monitor_fired_callback)(int64_t pid, const char *process_name, sv_metric metric,",
        "                                          double value, int32_t rule_index, int64_t time_ms, void *user_data);",
        "",
        "/* Called once per capture a firing started, ON A LIBRARY WORKER THREAD (on the monitor",
        " * thread when the vault refused to start it): SV_OK with the stored capture's id, or an",
        " * error (sv_errmsg() on this thread says why) with capture_id 0. */",
        "typedef void (*sv_monitor_capture_callback)(int64_t pid, sv_metric metric, int32_t rule_index,",
        "                                            sv_status status, int64_t capture_id, void *user_data);",
        "/* Progress of sv_vault_export_bundle, called ON THE CALLING THREAD before the first byte and",
        " * after each chunk, with the artefact bytes copied so far, the total expected and the",
        " * user_data given to the call. Return 0 to go on, nonzero to cancel (SV_ERR_CANCELLED). */",
        "typedef int (*sv_progress_callback)(int64_t done_bytes, int64_t total_bytes, void *user_data);",
        "",
    ]
    def section(name):
        matches = [(len(p), i) for i, (_, prefixes) in enumerate(GROUPS) for p in prefixes if name.startswith(p)]
        return max(matches)[1] if matches else None

    placed = set()
    for index, (title, _) in enumerate(GROUPS):
        out_lines += [f"/* ---- {title} ---- */", ""]
        members = [n for n in funcs if section(n) == index]
        for name in sorted(members, key=lambda n: rank.get(n, len(rank))):
            _, _, doc, ret, params = funcs[name]
            placed.add(name)
            out_lines += block_comment(doc)
            out_lines += [declaration(name, ret, params), ""]
    missing = set(funcs) - placed
    if missing:
        sys.exit(f"gen_header: functions in no group: {sorted(missing)}")
    out_lines += ["#ifdef __cplusplus", "}", "#endif", "", "#endif /* SPIKEVAULT_H */", ""]
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(out_lines))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])

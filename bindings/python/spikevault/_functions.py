"""The one table declaring every C function of spikevault.h: ``(name, argtypes, restype)``.

Conventions: opaque handles are ``c_void_p``; enums are ``c_int``; ``const char *`` inputs and
strings owned by the library or a cursor are ``c_char_p`` (ctypes copies them to ``bytes``);
buffers and strings the caller must ``sv_free`` are ``c_void_p`` so the pointer is kept.
The ABI test checks this table against the header, both ways, with the same arity.
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, c_char_p, c_double, c_int, c_int32, c_int64, c_size_t, c_void_p
from typing import Any, List, Optional, Sequence, Tuple

__all__ = ["FUNCTIONS", "CAPTURE_CALLBACK", "MONITOR_FIRED_CALLBACK", "MONITOR_CAPTURE_CALLBACK", "PROGRESS_CALLBACK",
           "apply"]

_status = c_int
_handle = c_void_p
_out_handle = POINTER(c_void_p)

# typedef void (*sv_capture_callback)(sv_job *job, sv_status status, int64_t capture_id, void *user_data);
# Called on a library worker thread; keep the CFUNCTYPE object alive until the job finishes.
# ``CAPTURE_CALLBACK()`` (no argument) is the NULL callback.
CAPTURE_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_int64, c_void_p)

# typedef void (*sv_monitor_fired_callback)(int64_t pid, const char *process_name, sv_metric metric,
#                                           double value, int32_t rule_index, int64_t time_ms, void *user_data);
MONITOR_FIRED_CALLBACK = ctypes.CFUNCTYPE(None, c_int64, c_char_p, c_int, c_double, c_int32, c_int64, c_void_p)
# typedef void (*sv_monitor_capture_callback)(int64_t pid, sv_metric metric, int32_t rule_index,
#                                             sv_status status, int64_t capture_id, void *user_data);
MONITOR_CAPTURE_CALLBACK = ctypes.CFUNCTYPE(None, c_int64, c_int, c_int32, c_int, c_int64, c_void_p)
# typedef int (*sv_progress_callback)(int64_t done_bytes, int64_t total_bytes, void *user_data);
# Called on the calling thread during sv_vault_export_bundle; nonzero cancels.
PROGRESS_CALLBACK = ctypes.CFUNCTYPE(c_int, c_int64, c_int64, c_void_p)

FUNCTIONS: Sequence[Tuple[str, List[Any], Optional[Any]]] = (
    # Library: version, errors, memory
    ("sv_version_number", [], c_int),
    ("sv_version_string", [], c_char_p),
    ("sv_status_string", [c_int], c_char_p),
    ("sv_errmsg", [], c_char_p),
    ("sv_free", [c_void_p], None),
    # Options
    ("sv_options_new", [_out_handle], _status),
    ("sv_options_free", [_handle], _status),
    ("sv_options_set_int", [_handle, c_int, c_int64], _status),
    ("sv_options_get_int", [_handle, c_int, POINTER(c_int64)], _status),
    ("sv_options_set_string", [_handle, c_int, c_char_p], _status),
    ("sv_option_bounds", [c_int, POINTER(c_int64), POINTER(c_int64), POINTER(c_int64)], _status),
    # Vault
    ("sv_vault_open", [c_char_p, _handle, _out_handle], _status),
    ("sv_vault_close", [_handle], _status),
    ("sv_vault_save", [_handle, _handle, POINTER(c_int64)], _status),
    # Background writes: user_data is the token of bindings/python/spikevault/background.py.
    ("sv_vault_save_start", [_handle, _handle, CAPTURE_CALLBACK, c_void_p, _out_handle], _status),
    ("sv_vault_purge_start", [_handle, c_int64, CAPTURE_CALLBACK, c_void_p, _out_handle], _status),
    ("sv_vault_maintain_start", [_handle, CAPTURE_CALLBACK, c_void_p, _out_handle], _status),
    ("sv_vault_save_many", [_handle, POINTER(c_void_p), c_size_t, POINTER(c_int64)], _status),
    ("sv_vault_get", [_handle, c_int64, _out_handle], _status),
    ("sv_vault_recent", [_handle, c_int64, _out_handle], _status),
    ("sv_vault_delete_older_than", [_handle, c_int64, POINTER(c_int64)], _status),
    ("sv_vault_read_artefact", [_handle, c_int64, c_char_p, POINTER(c_void_p), POINTER(c_size_t)], _status),
    ("sv_vault_read_artefact_redacted", [_handle, c_int64, c_char_p, POINTER(c_void_p), POINTER(c_size_t)], _status),
    ("sv_vault_export_artefact", [_handle, c_int64, c_char_p, c_char_p], _status),
    ("sv_vault_artefact_path", [_handle, c_int64, c_char_p, POINTER(c_void_p)], _status),
    # Maintenance
    ("sv_vault_maintain", [_handle, _out_handle], _status),
    ("sv_vault_footprint", [_handle, POINTER(c_int64)], _status),
    ("sv_report_get_int", [_handle, c_int, POINTER(c_int64)], _status),
    ("sv_report_free", [_handle], _status),
    # Records
    ("sv_record_new", [_out_handle], _status),
    ("sv_record_free", [_handle], _status),
    ("sv_record_set_process", [_handle, c_char_p], _status),
    ("sv_record_set_pid", [_handle, c_int64], _status),
    ("sv_record_set_trigger", [_handle, c_int, c_double], _status),
    ("sv_record_set_captured_at", [_handle, c_int64], _status),
    ("sv_record_set_duration", [_handle, c_double], _status),
    ("sv_record_set_notes", [_handle, c_char_p], _status),
    ("sv_record_set_process_start_time", [_handle, c_int64], _status),
    ("sv_record_add_artefact_file", [_handle, c_char_p, c_char_p], _status),
    ("sv_record_add_artefact_buffer", [_handle, c_char_p, c_void_p, c_size_t], _status),
    # Cursors
    ("sv_cursor_next", [_handle], _status),
    ("sv_cursor_close", [_handle], _status),
    ("sv_cursor_next_page", [_handle, POINTER(c_void_p), POINTER(c_size_t), POINTER(c_int32)], _status),
    ("sv_cursor_id", [_handle], c_int64),
    ("sv_cursor_process_name", [_handle], c_char_p),
    ("sv_cursor_pid", [_handle], c_int64),
    ("sv_cursor_metric", [_handle], c_int),
    ("sv_cursor_trigger_value", [_handle], c_double),
    ("sv_cursor_captured_at", [_handle], c_int64),
    ("sv_cursor_duration", [_handle], c_double),
    ("sv_cursor_notes", [_handle], c_char_p),
    ("sv_cursor_host", [_handle], c_char_p),
    ("sv_cursor_machine_id", [_handle], c_char_p),
    ("sv_cursor_status", [_handle], c_int),
    ("sv_cursor_process_start_time", [_handle], c_int64),
    ("sv_cursor_artefact_count", [_handle], c_int32),
    ("sv_cursor_artefact_kind", [_handle, c_int32], c_char_p),
    ("sv_cursor_artefact_path", [_handle, c_int32], c_char_p),
    ("sv_cursor_artefact_checksum", [_handle, c_int32], c_char_p),
    ("sv_cursor_artefact_raw_bytes", [_handle, c_int32], c_int64),
    ("sv_cursor_artefact_stored_bytes", [_handle, c_int32], c_int64),
    ("sv_cursor_key", [_handle], c_char_p),
    # Capture requests
    ("sv_request_new", [_out_handle], _status),
    ("sv_request_free", [_handle], _status),
    ("sv_request_set_pid", [_handle, c_int64], _status),
    ("sv_request_set_trigger", [_handle, c_int, c_double], _status),
    ("sv_request_set_duration", [_handle, c_double], _status),
    ("sv_request_set_interval", [_handle, c_double], _status),
    ("sv_request_set_backend", [_handle, c_int], _status),
    ("sv_request_set_command", [_handle, POINTER(c_char_p), c_size_t], _status),
    ("sv_request_set_perf_frequency", [_handle, c_int64], _status),
    ("sv_request_set_rate", [_handle, c_double], _status),
    ("sv_request_set_notes", [_handle, c_char_p], _status),
    ("sv_request_set_collectors", [_handle, c_char_p], _status),
    # Capture: synchronous, or asynchronous on library worker threads
    ("sv_capture_run", [_handle, _handle, POINTER(c_int64)], _status),
    ("sv_capture_start", [_handle, _handle, CAPTURE_CALLBACK, c_void_p, _out_handle], _status),
    ("sv_job_wait", [_handle, c_int64, POINTER(c_int64)], _status),
    ("sv_job_cancel", [_handle], _status),
    ("sv_job_free", [_handle], _status),
    # Monitor rules
    ("sv_rule_new", [c_int, c_double, _out_handle], _status),
    ("sv_rule_free", [_handle], _status),
    ("sv_rule_set_below", [_handle, c_int32], _status),
    ("sv_rule_set_sustain", [_handle, c_double], _status),
    ("sv_rule_set_cooldown", [_handle, c_double], _status),
    ("sv_rule_add_include", [_handle, c_char_p], _status),
    ("sv_rule_add_exclude", [_handle, c_char_p], _status),
    ("sv_rule_add_uid", [_handle, c_int64], _status),
    ("sv_rule_set_capture", [_handle, c_int, c_double], _status),
    ("sv_rule_set_notify_only", [_handle, c_int32], _status),
    ("sv_rule_set_history_stacks", [_handle, c_double], _status),
    # Monitor
    ("sv_monitor_new", [_handle, _out_handle], _status),
    ("sv_monitor_free", [_handle], _status),
    ("sv_monitor_set_interval", [_handle, c_double], _status),
    ("sv_monitor_set_max_per_hour", [_handle, c_int64], _status),
    ("sv_monitor_set_sampling", [_handle, c_int32], _status),
    ("sv_monitor_set_history", [_handle, c_double], _status),
    ("sv_monitor_set_history_memory", [_handle, c_int64], _status),
    ("sv_monitor_add_rule", [_handle, _handle, POINTER(c_int32)], _status),
    ("sv_monitor_add_default_rules", [_handle], _status),
    ("sv_monitor_set_callbacks", [_handle, MONITOR_FIRED_CALLBACK, MONITOR_CAPTURE_CALLBACK, c_void_p], _status),
    ("sv_monitor_start", [_handle], _status),
    ("sv_monitor_stop", [_handle], _status),
    ("sv_monitor_observe", [_handle, c_int64, c_int, c_double, c_int64], _status),
    ("sv_monitor_observe_batch", [_handle, POINTER(c_int64), POINTER(c_int32), POINTER(c_double), POINTER(c_int64),
                                  c_size_t], _status),
    ("sv_monitor_get_counter", [_handle, c_int, POINTER(c_int64)], _status),
    ("sv_monitor_sample", [_handle, POINTER(c_int64)], _status),
    # Sampler: the machine's processes as the monitor samples them (a live view)
    ("sv_sampler_new", [_out_handle], _status),
    ("sv_sampler_free", [_handle], _status),
    ("sv_sampler_refresh", [_handle, POINTER(c_int64)], _status),
    ("sv_sampler_row_process", [_handle, c_int64, POINTER(c_int64), POINTER(c_int64), POINTER(c_int64),
                                POINTER(c_int32)], _status),
    ("sv_sampler_row_value", [_handle, c_int64, c_int, POINTER(c_double)], _status),
    ("sv_sampler_row_name", [_handle, c_int64], c_char_p),
    # Review: filters, queries, summaries, exports, analytics, quick actions
    ("sv_filter_new", [_out_handle], _status),
    ("sv_filter_free", [_handle], _status),
    ("sv_filter_set_int", [_handle, c_int, c_int64], _status),
    ("sv_filter_set_double", [_handle, c_int, c_double], _status),
    ("sv_filter_set_text", [_handle, c_int, c_char_p], _status),
    ("sv_filter_clear", [_handle, c_int], _status),
    ("sv_vault_query", [_handle, _handle, _out_handle], _status),
    ("sv_vault_count", [_handle, _handle, POINTER(c_int64)], _status),
    ("sv_vault_summary", [_handle, c_int64, c_int, c_int32, POINTER(c_void_p)], _status),
    ("sv_vault_export_stacks", [_handle, c_int64, c_char_p, c_int, c_char_p, c_int32], _status),
    ("sv_vault_export_records", [_handle, _handle, c_int, c_char_p, c_int32, POINTER(c_int64)], _status),
    ("sv_vault_export_bundle", [_handle, _handle, c_char_p, c_int32, PROGRESS_CALLBACK, c_void_p, POINTER(c_int64)], _status),
    ("sv_vault_export_bundle_report", [_handle, _handle, c_char_p, c_int32, PROGRESS_CALLBACK, c_void_p, POINTER(c_void_p)],
     _status),
    ("sv_vault_analytics", [_handle, c_int, c_int64, c_int64, POINTER(c_void_p)], _status),
    ("sv_vault_export_duckdb", [_handle, c_char_p, c_char_p, c_int32, POINTER(c_int64)], _status),
    ("sv_vault_export_parquet", [_handle, c_char_p, c_int32, POINTER(c_int64)], _status),
    ("sv_duckdb_analytics", [c_char_p, c_int, c_int64, c_int64, c_char_p, POINTER(c_void_p)], _status),
    ("sv_vault_rerun", [_handle, c_int64, POINTER(c_int64)], _status),
)


def apply(library: ctypes.CDLL) -> List[str]:
    """Declare every function of the table on ``library``; return the names it lacks."""
    missing: List[str] = []
    for name, argtypes, restype in FUNCTIONS:
        try:
            function = getattr(library, name)
        except AttributeError:
            missing.append(name)
            continue
        function.argtypes = argtypes
        function.restype = restype
    return missing

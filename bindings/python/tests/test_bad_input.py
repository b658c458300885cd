"""Issue 2's "Bad input" list through the Python API: a specific exception with a useful
message, never a crash, and the vault stays intact (earlier records still readable)."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict

import pytest

import spikevault
from spikevault import (
    AlreadyExistsError, ClosedError, CorruptError, EmptyError, EncodingError, InvalidArgumentError,
    NotFoundError, PermissionDeniedError, SpikeVaultError, Status, TooLargeError, UnsafePathError, Vault,
)

from conftest import assert_intact

UTC = timezone.utc


def _save(vault: Vault, **overrides: object) -> int:
    args: Dict[str, object] = dict(process_name="bad", pid=77, metric="cpu", value=1.0, artefacts={"x": b"data"})
    args.update(overrides)
    return vault.save(**args)  # type: ignore[arg-type]


# -- vault path ------------------------------------------------------------------------------

def test_empty_path(lib) -> None:
    with pytest.raises(InvalidArgumentError, match="empty"):
        Vault("")


def test_path_with_nul_is_refused_not_truncated(lib, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="NUL"):
        Vault(str(tmp_path / "a\0b"))
    assert not (tmp_path / "a").exists()


def test_path_under_a_regular_file(lib, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(NotFoundError) as info:
        Vault(tmp_path / "file" / "vault")
    assert "Not a directory" in str(info.value) and str(tmp_path / "file") in str(info.value)
    assert info.value.status is Status.ERR_NOT_FOUND


def test_path_that_is_a_regular_file(lib, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgumentError, match="not a directory"):
        Vault(tmp_path / "file")


@pytest.mark.parametrize("path, error", [
    ("/proc/1/spikevault-test-vault", NotFoundError),   # procfs: cannot create, even as root
    ("/sys/spikevault-test-vault", PermissionDeniedError),  # sysfs: EPERM, even as root
])
def test_unwritable_path(lib, path: str, error: type) -> None:
    if not os.path.isdir(os.path.dirname(path)):
        pytest.skip(f"{os.path.dirname(path)} is not mounted here")
    with pytest.raises(error) as info:
        Vault(path)
    assert path in str(info.value)


def test_read_only_directory_as_non_root(lib, tmp_path: Path) -> None:
    """A vault under a directory its user cannot write: PermissionDeniedError. Root ignores file modes, so
    as root the check runs in a child dropped to uid 65534 (setpriv) in a directory that user can reach."""
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(PermissionDeniedError):
            Vault(ro / "vault")
        return
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot drop to an unprivileged user")
    base = Path(tempfile.mkdtemp(prefix="sv-ro-"))
    try:
        base.chmod(0o755)
        ro = base / "ro"
        ro.mkdir(mode=0o500)
        os.chown(ro, 65534, 65534)
        probe = ("import sys\nfrom spikevault import Vault, PermissionDeniedError\n"
                 "try:\n    Vault(sys.argv[1])\nexcept PermissionDeniedError as e:\n    print('denied:', e)\n")
        env = dict(os.environ, PYTHONPATH=str(Path(spikevault.__file__).parent.parent))
        r = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", probe,
                            str(ro / "vault")], env=env, capture_output=True, text=True, timeout=60)
        if r.returncode != 0 and "import" in r.stderr and "denied:" not in r.stdout:
            pytest.skip(f"uid 65534 cannot run this Python or load the library: {r.stderr.strip()[-200:]}")
        assert r.returncode == 0 and r.stdout.startswith("denied:") and str(ro / "vault") in r.stdout, (r.stdout, r.stderr)
        assert list(ro.iterdir()) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_vault_path_is_a_symlink(lib, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(UnsafePathError, match="symlink"):
        Vault(tmp_path / "link")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(UnsafePathError, match="symlink"):
        Vault(tmp_path / "dangling")
    assert not (tmp_path / "nowhere").exists()


def test_symlinked_vault_does_not_touch_existing_vault(vault: Vault, baseline: Dict[int, bytes], tmp_path: Path) -> None:
    (tmp_path / "alias").symlink_to(tmp_path / "vault")
    with pytest.raises(UnsafePathError):
        Vault(tmp_path / "alias")
    assert_intact(vault, baseline)


def test_out_of_bounds_option(lib, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="compression|outside|bounds"):
        Vault(tmp_path / "v", compression_level=99)
    with pytest.raises(InvalidArgumentError):
        Vault(tmp_path / "v", busy_timeout_ms=2**70)  # refused before ctypes would wrap it


# -- record fields -----------------------------------------------------------------------------

@pytest.mark.parametrize("pid", [0, -1, -(2**31), 2**31])
def test_bad_pid(vault: Vault, baseline: Dict[int, bytes], pid: int) -> None:
    with pytest.raises(InvalidArgumentError, match="pid") as info:
        _save(vault, pid=pid)
    assert str(pid) in str(info.value)
    assert_intact(vault, baseline)


def test_pid_that_ctypes_would_wrap(vault: Vault, baseline: Dict[int, bytes]) -> None:
    with pytest.raises(InvalidArgumentError, match="64 bits"):
        _save(vault, pid=2**64 + 5)  # would become pid 5 if passed to ctypes unchecked
    with pytest.raises(InvalidArgumentError, match="int"):
        _save(vault, pid="12")
    assert_intact(vault, baseline)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_value(vault: Vault, baseline: Dict[int, bytes], value: float) -> None:
    with pytest.raises(InvalidArgumentError, match="finite"):
        _save(vault, value=value)
    assert_intact(vault, baseline)


@pytest.mark.parametrize("metric", ["gpu", "", 99, 0, None])
def test_unknown_metric_python_layer(vault: Vault, baseline: Dict[int, bytes], metric: object) -> None:
    with pytest.raises(InvalidArgumentError, match="metric"):
        _save(vault, metric=metric)
    assert_intact(vault, baseline)


@pytest.mark.parametrize("notes", ["[1, 2]", '"just a string"', "{not json", "42", "", "null"])
def test_notes_not_a_json_object_c_layer(vault: Vault, baseline: Dict[int, bytes], notes: str) -> None:
    with pytest.raises(InvalidArgumentError, match="JSON object"):
        _save(vault, notes=notes)
    assert_intact(vault, baseline)


@pytest.mark.parametrize("notes", [[1, 2], ("a",), 3, {"x": {1, 2}}, {"x": math.nan}])
def test_notes_not_a_json_object_python_layer(vault: Vault, baseline: Dict[int, bytes], notes: object) -> None:
    with pytest.raises(InvalidArgumentError, match="notes"):
        _save(vault, notes=notes)
    assert_intact(vault, baseline)


def test_non_utf8_process_name_bytes(vault: Vault, baseline: Dict[int, bytes]) -> None:
    with pytest.raises(EncodingError, match="UTF-8") as info:
        _save(vault, process_name=b"caf\xe9\xff")
    assert info.value.status is Status.ERR_ENCODING
    assert_intact(vault, baseline)


def test_process_name_from_undecodable_os_bytes(vault: Vault, baseline: Dict[int, bytes]) -> None:
    # os.fsdecode(b"\xff") gives a surrogate escape: it is sent back as the raw byte and refused.
    with pytest.raises(EncodingError):
        _save(vault, process_name=os.fsdecode(b"proc\xff"))
    with pytest.raises(EncodingError):
        _save(vault, process_name="lone \ud800 surrogate")
    assert_intact(vault, baseline)


def test_bad_process_name_length_and_nul(vault: Vault, baseline: Dict[int, bytes]) -> None:
    with pytest.raises(InvalidArgumentError, match="1-4096"):
        _save(vault, process_name="")
    with pytest.raises(InvalidArgumentError, match="1-4096"):
        _save(vault, process_name="x" * 4097)
    with pytest.raises(InvalidArgumentError, match="NUL"):
        _save(vault, process_name="abc\0def")
    assert_intact(vault, baseline)


def test_naive_datetimes_are_rejected(vault: Vault, baseline: Dict[int, bytes]) -> None:
    with pytest.raises(InvalidArgumentError, match="naive"):
        _save(vault, captured_at=datetime(2026, 1, 1))
    with pytest.raises(InvalidArgumentError, match="naive"):
        vault.delete_older_than(datetime(2030, 1, 1))
    assert_intact(vault, baseline)


def test_capture_time_before_epoch(vault: Vault, baseline: Dict[int, bytes]) -> None:
    with pytest.raises(InvalidArgumentError, match="capture time"):
        _save(vault, captured_at=datetime(1969, 12, 31, 23, 59, tzinfo=UTC))
    assert_intact(vault, baseline)


def test_bad_duration_and_start_time(vault: Vault, baseline: Dict[int, bytes]) -> None:
    with pytest.raises(InvalidArgumentError, match="duration"):
        _save(vault, duration=-1.0)
    with pytest.raises(InvalidArgumentError, match="duration"):
        _save(vault, duration=math.nan)
    with pytest.raises(InvalidArgumentError, match="start time"):
        _save(vault, process_start_time=-5)
    assert_intact(vault, baseline)


# -- artefacts on the way in -------------------------------------------------------------------

def test_artefact_file_missing(vault: Vault, baseline: Dict[int, bytes], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-file.folded"
    with pytest.raises(NotFoundError) as info:
        _save(vault, artefacts={"ok": b"fine", "perf.folded": missing})
    assert str(missing) in str(info.value)
    assert_intact(vault, baseline)
    # all or nothing: the good artefact of the failed save left no row and no file
    assert len(vault.recent(1000)) == len(baseline)
    assert len(os.listdir(tmp_path / "vault" / "artefacts")) == len(baseline)


def test_zero_byte_artefact_file_and_buffer(vault: Vault, baseline: Dict[int, bytes], tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.touch()
    with pytest.raises(EmptyError, match="empty"):
        _save(vault, artefacts={"x": empty})
    for buffer in (b"", bytearray(), memoryview(b"")):
        with pytest.raises(EmptyError, match="empty"):
            _save(vault, artefacts={"x": buffer})
    assert_intact(vault, baseline)


def test_artefact_source_not_a_regular_file(vault: Vault, baseline: Dict[int, bytes], tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="regular file"):
        _save(vault, artefacts={"x": tmp_path})
    assert_intact(vault, baseline)


def test_artefact_given_as_str_or_other_type(vault: Vault, baseline: Dict[int, bytes]) -> None:
    with pytest.raises(InvalidArgumentError, match="pathlib.Path"):
        _save(vault, artefacts={"x": "/etc/hostname"})
    with pytest.raises(InvalidArgumentError, match="bytes"):
        _save(vault, artefacts={"x": 12})
    with pytest.raises(InvalidArgumentError, match="mapping"):
        _save(vault, artefacts=[("x", b"1")])
    assert_intact(vault, baseline)


@pytest.mark.parametrize("kind", ["", "UPPER", "../escape", "a/b", ".hidden", "k" * 65, "sp ace"])
def test_bad_artefact_kind(vault: Vault, baseline: Dict[int, bytes], kind: str) -> None:
    with pytest.raises(InvalidArgumentError, match="kind"):
        _save(vault, artefacts={kind: b"1"})
    assert_intact(vault, baseline)


# -- artefacts damaged on disk -----------------------------------------------------------------

def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flip_middle(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes(b ^ 0xFF for b in data[mid:mid + 8]) + data[mid + 8:]


DAMAGE: Dict[str, Callable[[bytes], bytes]] = {
    "truncated": _truncate,
    "flipped-middle": _flip_middle,
    "not-zstd-text": lambda data: b"this is plain text, not a zstd frame at all\n" * 4,
    "empty-file": lambda data: b"",
    "all-zero-bytes": lambda data: bytes(len(data)),
    "tail-dropped": lambda data: data[:-4],
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_corrupted_artefact_on_disk(vault: Vault, baseline: Dict[int, bytes], tmp_path: Path, damage: str) -> None:
    payload = b"".join(b"frame %06d main;work;%d\n" % (i, i * 7919 % 1000) for i in range(4000))
    rid = _save(vault, artefacts={"stack.txt": payload})
    path = Path(vault.artefact_path(rid))
    path.write_bytes(DAMAGE[damage](path.read_bytes()))

    with pytest.raises(CorruptError) as info:
        vault.read_artefact(rid)
    assert info.value.status is Status.ERR_CORRUPT and info.value.message
    dest = tmp_path / "out.txt"
    with pytest.raises(CorruptError):
        vault.export_artefact(rid, dest)
    assert not dest.exists()  # complete or not at all
    assert vault.get(rid).id == rid  # metadata still readable
    assert_intact(vault, baseline)


def test_artefact_file_deleted_behind_the_vaults_back(vault: Vault, baseline: Dict[int, bytes]) -> None:
    rid = _save(vault)
    os.unlink(vault.artefact_path(rid))
    with pytest.raises(SpikeVaultError) as info:
        vault.read_artefact(rid)
    assert isinstance(info.value, (NotFoundError, CorruptError))
    assert_intact(vault, baseline)


def test_artefact_larger_than_limit(lib, tmp_path: Path) -> None:
    with Vault(tmp_path / "v", durability=0, max_artefact_bytes=1000) as v:
        rid = v.save(process_name="big", pid=1, metric="cpu", value=1, artefacts={"x": b"z" * 5000})
        with pytest.raises(TooLargeError):
            v.read_artefact(rid)
        small = v.save(process_name="small", pid=1, metric="cpu", value=1, artefacts={"x": b"z" * 10})
        assert v.read_artefact(small) == b"z" * 10


# -- lookups and exports -----------------------------------------------------------------------

def test_unknown_id_and_kind(vault: Vault, baseline: Dict[int, bytes], tmp_path: Path) -> None:
    for call in (lambda: vault.get(999999), lambda: vault.read_artefact(999999),
                 lambda: vault.artefact_path(999999), lambda: vault.export_artefact(999999, tmp_path / "o")):
        with pytest.raises(NotFoundError, match="999999"):
            call()
    rid = next(iter(baseline))
    with pytest.raises(NotFoundError, match="no-such-kind"):
        vault.read_artefact(rid, "no-such-kind")
    assert_intact(vault, baseline)


def test_export_refuses_existing_destination(vault: Vault, baseline: Dict[int, bytes], tmp_path: Path) -> None:
    rid = next(iter(baseline))
    dest = tmp_path / "exists.txt"
    dest.write_bytes(b"precious")
    with pytest.raises(AlreadyExistsError):
        vault.export_artefact(rid, dest)
    assert dest.read_bytes() == b"precious"
    assert_intact(vault, baseline)


def test_bad_limits(vault: Vault, baseline: Dict[int, bytes]) -> None:
    with pytest.raises(InvalidArgumentError, match="limit"):
        vault.recent(-1)
    with pytest.raises(InvalidArgumentError, match="limit"):
        vault.recent(1_000_001)
    with pytest.raises(InvalidArgumentError, match="64 bits"):
        vault.get(2**63)
    assert_intact(vault, baseline)


# -- lifecycle -------------------------------------------------------------------------------

def test_use_after_close_and_double_close(lib, tmp_path: Path) -> None:
    v = Vault(tmp_path / "v", durability=0)
    rid = v.save(process_name="p", pid=1, metric="cpu", value=1, artefacts={"x": b"kept"})
    v.close()
    v.close()  # idempotent
    assert v.closed
    calls = [
        lambda: v.save(process_name="p", pid=1, metric="cpu", value=1),
        lambda: v.get(rid), lambda: v.recent(), lambda: v.read_artefact(rid),
        lambda: v.artefact_path(rid), lambda: v.export_artefact(rid, tmp_path / "o"),
        lambda: v.delete_older_than(datetime.now(UTC)), lambda: v.__enter__(),
    ]
    for call in calls:
        with pytest.raises(ClosedError, match="closed") as info:
            call()
        assert info.value.status is Status.ERR_CLOSED
    with Vault(tmp_path / "v") as again:  # nothing was lost
        assert again.read_artefact(rid) == b"kept"


def test_context_manager_closes_on_exception(lib, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with Vault(tmp_path / "v") as v:
            raise RuntimeError("boom")
    assert v.closed


def test_failed_open_leaves_a_closed_object(lib, tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path)
    try:
        Vault(tmp_path / "link")
    except UnsafePathError as exc:
        assert exc.__traceback__ is not None
    # __del__ of the half-built object must not raise: warnings would show in the output


def test_unknown_tunable_keyword_is_a_type_error(tmp_path) -> None:
    """Tunable keywords come from the manifest's table; a misspelt one is refused, nothing is created."""
    with pytest.raises(TypeError, match="compresion_level"):
        Vault(tmp_path / "v", compresion_level=3)
    assert not (tmp_path / "v").exists()

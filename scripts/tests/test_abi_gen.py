"""The generators of scripts/abi_gen.py: one edit of abi/manifest.json reaches every generated place."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "scripts" / "abi_gen.py"
sys.path.insert(0, str(ROOT / "scripts"))
import abi_gen  # noqa: E402


def _generate(manifest: Path, out: Path) -> dict:
    subprocess.run([sys.executable, str(GEN), "--manifest", str(manifest), "write", str(out)], check=True)
    return {rel: (out / rel).read_text(encoding="utf-8") for rel in abi_gen.GENERATED}


def test_committed_files_are_what_the_manifest_produces(tmp_path: Path) -> None:
    files = _generate(ROOT / "abi" / "manifest.json", tmp_path)
    for rel, text in files.items():
        assert (ROOT / rel).read_text(encoding="utf-8") == text, f"{rel} is stale: run 'make manifest'"


def test_a_dummy_option_changes_every_generated_place(tmp_path: Path) -> None:
    data = json.loads((ROOT / "abi" / "manifest.json").read_text(encoding="utf-8"))
    before = _generate(ROOT / "abi" / "manifest.json", tmp_path / "before")
    data["options"].append({"c": "SV_OPT_DUMMY_TUNABLE", "value": 199, "type": "int64", "min": 0, "max": 7,
                            "default": 5, "swift": "dummyTunable", "python": "dummy_tunable",
                            "doc": "a tunable that exists only in this test"})
    data["groups"][0]["functions"].append({
        "name": "sv_dummy_probe", "returns": "sv_status", "params": [["sv_option", "key"], ["int64_t *", "out_value"]],
        "doc": ["A function that exists only in this test."], "since": "0.2"})
    copy = tmp_path / "manifest.json"
    copy.write_text(json.dumps(data), encoding="utf-8")
    after = _generate(copy, tmp_path / "after")
    unchanged = [rel for rel in abi_gen.GENERATED if before[rel] == after[rel]]
    assert not unchanged, f"the dummy option/function did not reach: {unchanged}"
    assert "    SV_OPT_DUMMY_TUNABLE = 199," in after["include/spikevault.h"]
    assert "sv_status sv_dummy_probe(sv_option key, int64_t *out_value);" in after["include/spikevault.h"]
    assert "    DUMMY_TUNABLE = 199" in after["bindings/python/spikevault/_enums.py"]
    assert 'Option.DUMMY_TUNABLE: OptionSpec(Option.DUMMY_TUNABLE, "dummy_tunable", 0, 7, 5,' in \
        after["bindings/python/spikevault/_enums.py"]
    assert '("sv_dummy_probe", [c_int, POINTER(c_int64)], _status, raise_for_status),' in \
        after["bindings/python/spikevault/_functions.py"]
    assert "| `SV_OPT_DUMMY_TUNABLE` | 199 | `dummy_tunable` | 0 | 7 | 5 |" in after["docs/abi-reference.md"]
    assert "sv_dummy_probe 0.2\n" in after["scripts/libspikevault.symbols"]
    assert '        "dummyTunable": (0, 7, 5),' in after["Sources/SpikeVault/Vault/VaultOptions.swift"]
    assert "    public var dummyTunable: Int64 = 5" in after["Sources/SpikeVault/Vault/VaultOptions.swift"]
    assert "    case dummyTunable = 199" in after["Sources/SpikeVaultC/OptionKeys.swift"]
    assert '        case .dummyTunable: return "dummyTunable"' in after["Sources/SpikeVaultC/OptionKeys.swift"]


def test_the_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    _generate(ROOT / "abi" / "manifest.json", tmp_path)
    header = tmp_path / "include" / "spikevault.h"
    header.write_text(header.read_text().replace("SV_OPT_DURABILITY = 2", "SV_OPT_DURABILITY = 3"))
    run = subprocess.run([sys.executable, str(GEN), "check", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 1 and "include/spikevault.h" in run.stdout


@pytest.mark.parametrize("rel", abi_gen.GENERATED)
def test_the_check_fails_when_any_generated_file_is_edited_or_missing(tmp_path: Path, rel: str) -> None:
    """make check-manifest runs this check: one changed line of any generated file fails it, and so does its absence."""
    _generate(ROOT / "abi" / "manifest.json", tmp_path)
    ok = subprocess.run([sys.executable, str(GEN), "check", str(tmp_path)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout
    target = tmp_path / rel
    target.write_text(target.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    edited = subprocess.run([sys.executable, str(GEN), "check", str(tmp_path)], capture_output=True, text=True)
    assert edited.returncode == 1 and rel in edited.stdout and "1 generated file(s) differ" in edited.stdout
    target.unlink()
    missing = subprocess.run([sys.executable, str(GEN), "check", str(tmp_path)], capture_output=True, text=True)
    assert missing.returncode == 1 and rel in missing.stdout


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["options"].append(dict(d["options"][0])), "share"),
    (lambda d: d["options"][0].update(default=99), "outside"),
    (lambda d: d["groups"][0]["functions"][0].update(returns="sv_widget *"), "unknown C type"),
    (lambda d: d["groups"][0]["functions"][0].update(doc=[]), "no doc comment"),
])
def test_a_bad_manifest_is_refused(tmp_path: Path, edit, message: str) -> None:
    data = json.loads((ROOT / "abi" / "manifest.json").read_text(encoding="utf-8"))
    edit(data)
    copy = tmp_path / "manifest.json"
    copy.write_text(json.dumps(data), encoding="utf-8")
    run = subprocess.run([sys.executable, str(GEN), "--manifest", str(copy), "write", str(tmp_path / "out")],
                         capture_output=True, text=True)
    assert run.returncode != 0 and message in run.stderr


def test_a_dummy_text_option_reaches_every_option_place(tmp_path: Path) -> None:
    data = json.loads((ROOT / "abi" / "manifest.json").read_text(encoding="utf-8"))
    data["options"].append({"c": "SV_OPT_DUMMY_LABEL", "value": 198, "type": "text", "swift": "dummyLabel",
                            "python": "dummy_label", "validate": "HostIdentity.isValidMachineID",
                            "rule": "1-64 characters of A-Z a-z 0-9 - _", "doc": "a text tunable of this test only"})
    copy = tmp_path / "manifest.json"
    copy.write_text(json.dumps(data), encoding="utf-8")
    after = _generate(copy, tmp_path / "after")
    swift = after["Sources/SpikeVault/Vault/VaultOptions.swift"]
    assert "    public var dummyLabel: String?" in swift
    assert '"dummyLabel"]' in swift and '        case "dummyLabel":' in swift
    assert "            if let value, !HostIdentity.isValidMachineID(value) {" in swift
    assert '"dummyLabel": (' not in swift  # a text option has no bounds
    assert "    case dummyLabel = 198" in after["Sources/SpikeVaultC/OptionKeys.swift"]
    assert "    SV_OPT_DUMMY_LABEL = 198," in after["include/spikevault.h"]
    assert 'Option.DUMMY_LABEL: TextOptionSpec(Option.DUMMY_LABEL, "dummy_label",' in \
        after["bindings/python/spikevault/_enums.py"]
    assert "Option.DUMMY_LABEL: OptionSpec(" not in after["bindings/python/spikevault/_enums.py"]
    assert "| `SV_OPT_DUMMY_LABEL` | 198 | `dummy_label` |" in after["docs/abi-reference.md"]


@pytest.mark.parametrize("edit, message", [
    (lambda o: o.pop("validate"), "needs 'validate'"),
    (lambda o: o.update(min=0), "no min/max/default"),
    (lambda o: o.update(type="float"), "int64 (sv_options_set_int) or text"),
])
def test_a_bad_text_option_is_refused(tmp_path: Path, edit, message: str) -> None:
    data = json.loads((ROOT / "abi" / "manifest.json").read_text(encoding="utf-8"))
    edit(next(o for o in data["options"] if o["c"] == "SV_OPT_HOST_NAME"))
    copy = tmp_path / "manifest.json"
    copy.write_text(json.dumps(data), encoding="utf-8")
    run = subprocess.run([sys.executable, str(GEN), "--manifest", str(copy), "write", str(tmp_path / "out")],
                         capture_output=True, text=True)
    assert run.returncode != 0 and message in run.stderr


def test_conventions_list_every_handle() -> None:
    """docs/conventions.md names every handle type of the manifest (it once listed 6 of 10)."""
    handles = json.loads((ROOT / "abi" / "manifest.json").read_text(encoding="utf-8"))["handles"]
    section = (ROOT / "docs" / "conventions.md").read_text(encoding="utf-8").split("## Handles", 1)[1]
    section = section.split("\n## ", 1)[0]
    missing = [h for h in handles if f"`{h}`" not in section]
    assert not missing, f"docs/conventions.md's Handles section does not list {missing}"

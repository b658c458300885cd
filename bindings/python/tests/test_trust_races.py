"""No race loses a save (issue #11): saves from several processes run against a maintenance
loop with the smallest orphan grace the library allows, and every committed capture is whole."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import spikevault
from conftest import PACKAGE_ROOT

SAVERS = 3
SAVES_EACH = 40


def _spawn(code: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_saves_from_several_processes_survive_maintenance_with_zero_grace(lib, tmp_path: Path) -> None:
    path = tmp_path / "v"
    smallest_grace = spikevault.option_bounds(spikevault.Option.ORPHAN_GRACE_SECONDS)[0]
    spikevault.Vault(path).close()
    stop = tmp_path / "stop"
    maintainer = _spawn(f"""
        import os, spikevault
        runs = 0
        with spikevault.Vault({str(path)!r}, orphan_grace_seconds={smallest_grace}, max_age_seconds=0,
                              max_footprint_bytes=0, maintenance_interval_seconds=0) as v:
            while not os.path.exists({str(stop)!r}) or runs < 3:
                v.maintain()
                runs += 1
        print(runs)
    """)
    savers = [_spawn(f"""
        import spikevault
        with spikevault.Vault({str(path)!r}, orphan_grace_seconds={smallest_grace}, max_age_seconds=0,
                              max_footprint_bytes=0, maintenance_interval_seconds=0) as v:
            for i in range({SAVES_EACH}):
                v.save(process_name="saver{n}", pid={n + 1}, metric="cpu", value=i,
                       artefacts={{"a.txt": b"saver{n} a %d " % i * 50, "b.txt": b"saver{n} b %d" % i}})
        print("done")
    """) for n in range(SAVERS)]
    try:
        for s in savers:
            out, err = s.communicate(timeout=300)
            assert s.returncode == 0 and out.strip() == "done", err
    finally:
        stop.touch()
        out, err = maintainer.communicate(timeout=300)
    assert maintainer.returncode == 0, err
    assert int(out) >= 3  # maintenance really ran beside the saves (and at least 3 times)

    with spikevault.Vault(path, max_age_seconds=0, max_footprint_bytes=0) as v:
        records = v.recent(1000)
        assert len(records) == SAVERS * SAVES_EACH
        for r in records:
            assert r.status == spikevault.CaptureStatus.COMPLETE, (r.id, r.status)
            n = int(r.process_name[len("saver"):])
            i = int(r.value)
            assert v.read_artefact(r.id, "a.txt") == b"saver%d a %d " % (n, i) * 50  # read verifies the checksum
            assert v.read_artefact(r.id, "b.txt") == b"saver%d b %d" % (n, i)
        assert v.maintain().orphans_deleted == 0

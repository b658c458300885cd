#!/usr/bin/env python3
"""I/O fault sweep: fail the Nth file-system call of a save, a capture and a maintenance run.

The parent (this script, no shim) starts one worker process per (operation, N, mode), with
libfaultinject.so preloaded. The worker opens the vault, prepares (unarmed), arms the shim
(faultinject_arm(N, errno, mode) via ctypes), runs the operation, disarms, then runs the same
operation again, which must succeed now that the fault is gone, and reports as JSON. The
parent then checks the vault as a later host would see it (the worker has exited):
  - the call failed with a SpikeVault error, or succeeded (N beyond its I/O, or a fault the
    library could absorb); a fault never crashes the process;
  - PRAGMA integrity_check is ok (opened with Python's sqlite3 module);
  - after reopen + maintain: no row marked missing or quarantined (no row pointed to a
    missing or half-written artefact), every artefact of every row reads back with its
    checksum, no temp file (.tmp-*) is left in artefacts/, and no orphan file needed removal
    beyond those the failed call could not delete itself (counted and reported).
N runs over every call the operation makes (counted by an unarmed run first), for fail-once
and fail-always, errno alternating EIO / ENOSPC.
Usage: LIB=libfaultinject.so sweep.py [--ops save,capture,maintain] [--max-points K]
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
EIO, ENOSPC = 5, 28


def vault_options():
    # No background maintenance, no capture cooldown, short age limit for the maintenance op.
    return dict(maintenance_interval_seconds=0, capture_cooldown_seconds=0)


# ---------------------------------------------------------------- worker (shim preloaded)
def worker(args):
    import ctypes
    import signal
    import spikevault
    import importlib
    import pkgutil
    # The package imports most modules on first use; import them all before arming, so an
    # injected fault reaches the library's calls and never Python's own reads of its sources.
    for module in pkgutil.iter_modules(spikevault.__path__):
        if not module.ispkg:
            importlib.import_module("spikevault." + module.name)
    shim = ctypes.CDLL(None)
    arm, disarm = shim.faultinject_arm, shim.faultinject_disarm
    arm.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_int]
    calls, failed = shim.faultinject_calls, shim.faultinject_failed
    calls.restype = failed.restype = ctypes.c_long

    vault = spikevault.Vault(args.vault, orphan_grace_seconds=0, max_age_seconds=3600, **vault_options())
    child = None
    payload = {"procfs.txt": b"x" * 5000 + os.urandom(3000), "notes.json": b'{"k": 1}'}

    def prepare():
        if args.op == "maintain":   # old captures for the age purge to delete
            old = time.time() - 7200
            from datetime import datetime, timezone
            for i in range(3):
                vault.save(process_name="old", pid=1, metric="cpu", value=i,
                           captured_at=datetime.fromtimestamp(old, timezone.utc), artefacts=payload)

    def run():
        if args.op == "save":
            return vault.save(process_name="fault", pid=os.getpid(), metric="cpu", value=1.5, artefacts=payload,
                              notes={"n": args.n})
        if args.op == "capture":
            return vault.capture(child.pid, backend="procfs", duration=0.15, interval=0.05).id
        return vault.maintain().purged_by_age

    if args.op == "capture":
        child = subprocess.Popen(["sleep", "30"])
    prepare()
    result = {"n": args.n}
    arm(args.n, args.errno, args.mode)
    try:
        run()
        result["first"] = "ok"
    except spikevault.SpikeVaultError as e:
        result["first"] = type(e).__name__
        result["message"] = str(e)[:200]
    finally:
        disarm()
    result["calls"], result["failed"] = calls(), failed()
    prepare()
    try:
        run()
        result["second"] = "ok"
    except spikevault.SpikeVaultError as e:
        result["second"] = "%s: %s" % (type(e).__name__, str(e)[:200])
    vault.close()
    if child:
        child.send_signal(signal.SIGKILL)
        child.wait()
    print(json.dumps(result))


# ---------------------------------------------------------------- parent (no shim)
def verify(vault_path):
    """Problems found in the vault after a worker exited (empty list: all good)."""
    import spikevault
    problems = []
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(vault_path, "vault.sqlite3"), uri=True)
    ok = db.execute("PRAGMA integrity_check").fetchall()
    if ok != [("ok",)]:
        problems.append("integrity_check: %r" % ok[:3])
    db.close()
    with spikevault.Vault(vault_path, orphan_grace_seconds=0, max_age_seconds=0, **vault_options()) as v:
        report = v.maintain()
        if report.marked_missing or report.quarantined:
            problems.append("maintain marked %d missing, %d quarantined" % (report.marked_missing, report.quarantined))
        for rec in v.query(limit=100000):
            for a in rec.artefacts:
                try:
                    v.read_artefact(rec.id, a.kind)
                except spikevault.SpikeVaultError as e:
                    problems.append("capture %d artefact %s unreadable: %s" % (rec.id, a.kind, e))
        orphans = report.orphans_deleted
    temps = [n for n in os.listdir(os.path.join(vault_path, "artefacts")) if n.startswith(".tmp-")]
    if temps:
        problems.append("temp files left after reopen + maintain: %s" % temps[:3])
    return problems, orphans


def sweep(op, lib, max_points, log):
    vault_path = tempfile.mkdtemp(prefix="svfault-%s-" % op)
    env = dict(os.environ, LD_PRELOAD=lib, PYTHONPATH=os.path.join(ROOT, "bindings", "python"))

    def work(n, err, mode):
        p = subprocess.run([sys.executable, __file__, "--worker", "--op", op, "--vault", vault_path, "--n", str(n),
                            "--errno", str(err), "--mode", str(mode)], env=env, capture_output=True, text=True,
                           timeout=120)
        if p.returncode != 0:
            return {"n": n, "crash": p.returncode, "stderr": p.stderr[-1500:]}
        return json.loads(p.stdout.strip().splitlines()[-1])

    total = work(0, EIO, 0)["calls"]   # unarmed: count the operation's calls
    if total <= max_points:
        points = list(range(1, total + 2))
    else:  # every call of the last part (the save), a stride over the rest, and one beyond
        tail = max_points // 2
        stride = max(1, (total - tail) // (max_points - tail))
        points = sorted(set(list(range(1, total - tail, stride)) + list(range(total - tail, total + 2))))
    stats = {"op": op, "calls": total, "runs": 0, "errors": 0, "ok": 0, "absorbed": 0, "orphans": 0, "problems": []}
    for mode in (0, 1):
        for i, n in enumerate(points):
            err = EIO if i % 2 == 0 else ENOSPC
            r = work(n, err, mode)
            stats["runs"] += 1
            where = "%s N=%d %s %s" % (op, n, "always" if mode else "once", "EIO" if err == EIO else "ENOSPC")
            if "crash" in r:
                stats["problems"].append("%s: worker died (%s): %s" % (where, r["crash"], r["stderr"]))
                continue
            if r["first"] == "ok":
                stats["ok"] += 1
                if r["failed"]:
                    stats["absorbed"] += 1
            else:
                stats["errors"] += 1
                if not r["failed"]:
                    stats["problems"].append("%s: failed with no fault injected: %s" % (where, r.get("message")))
            if r["second"] != "ok":
                stats["problems"].append("%s: the call after the fault failed: %s" % (where, r["second"]))
            problems, orphans = verify(vault_path)
            stats["orphans"] += orphans
            stats["problems"] += ["%s: %s" % (where, p) for p in problems]
            print("%s -> %s (%d faults of %d calls; %d orphans)%s" % (where, r["first"], r["failed"], r["calls"], orphans,
                                                        "; PROBLEMS: %s" % problems if problems else ""), file=log)
    shutil.rmtree(vault_path, ignore_errors=True)
    return stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--op", default="save")
    ap.add_argument("--ops", default="save,capture,maintain")
    ap.add_argument("--vault")
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--errno", type=int, default=EIO)
    ap.add_argument("--mode", type=int, default=0)
    ap.add_argument("--max-points", type=int, default=60)
    ap.add_argument("--log", default=os.path.join(ROOT, "build", "faultinject.log"))
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    lib = os.environ.get("LIB") or os.path.join(ROOT, "build", "faultinject", "libfaultinject.so")
    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    failed = False
    with open(args.log, "w") as log:
        for op in args.ops.split(","):
            t0 = time.monotonic()
            s = sweep(op, lib, args.max_points, log)
            print("faults %-8s: %d calls swept in %d runs (fail-once and fail-always; EIO/ENOSPC): %d errors returned, "
                  "%d succeeded (%d absorbed a fault), %d orphan files reconciled, %d problems (%.0f s)"
                  % (op, s["calls"], s["runs"], s["errors"], s["ok"], s["absorbed"], s["orphans"], len(s["problems"]),
                     time.monotonic() - t0))
            for p in s["problems"][:20]:
                print("  PROBLEM: " + p)
            failed |= bool(s["problems"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

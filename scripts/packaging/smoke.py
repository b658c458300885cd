"""Open a vault, save a capture, list it and read its artefact back (run by the packaging
tests against an installed package or wheel: the deb test and the wheel test).
  smoke.py VAULT_DIR [EXPECTED_LIBRARY_SUBSTRING]
"""
import sys

import spikevault

vault_dir = sys.argv[1]
with spikevault.Vault(vault_dir) as vault:
    new_id = vault.save(process_name="smoke", pid=4242, metric="cpu", value=97.5,
                        artefacts={"folded.txt": b"main;work 7\n"})
    ids = [record.id for record in vault.recent(10)]
    assert ids == [new_id], ids
    assert vault.read_artefact(new_id) == b"main;work 7\n"
loaded = spikevault._library.library_path()
if len(sys.argv) > 2 and sys.argv[2] not in loaded:
    sys.exit(f"smoke: library loaded from {loaded}, expected {sys.argv[2]}")
print(f"smoke: spikevault {spikevault.__version__} from {spikevault.__file__}, library {loaded}: "
      f"saved and listed capture {new_id}")

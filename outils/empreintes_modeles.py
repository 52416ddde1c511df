"""After editing a default template in src/pacte_docs/modeles/ (in Word or LibreOffice), record its new SHA-256.

    .venv/bin/python outils/empreintes_modeles.py

The previous fingerprint joins the template's « precedents » when it is a released one (the version committed
at HEAD): `pacte init` then recognises a workspace's copy that nobody edited since an earlier version and updates
it, while an edited copy is kept. Run it as often as you like while editing: the intermediate versions nobody
received are not kept. tests/test_modeles.py fails until this is run after a change of template.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "src" / "pacte_docs" / "modeles"
MANIFEST = FOLDER / "empreintes.json"


def committed_sha(path: Path) -> str | None:
    """The SHA-256 of the template as committed at HEAD, None when it is new or git is not there."""
    relative = path.relative_to(FOLDER.parents[2]).as_posix()
    try:
        data = subprocess.run(["git", "show", f"HEAD:{relative}"], cwd=FOLDER.parents[2], capture_output=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return hashlib.sha256(data).hexdigest()


def main() -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {}
    for path in sorted(FOLDER.glob("*.docx")):
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        entry = manifest.setdefault(path.stem, {"actuel": sha, "precedents": []})
        if entry["actuel"] != sha:
            released = committed_sha(path)
            if entry["actuel"] == released and released not in entry["precedents"]:
                entry["precedents"].append(entry["actuel"])
            entry["actuel"] = sha
            print(f"{path.name} : nouvelle empreinte {sha[:12]}…")
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

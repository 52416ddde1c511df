"""Benchmark of pacte_docs at the scale of a large département, each job against the naive way in the same run.

    .venv/bin/python bench/run.py                 # every job, full size (about 15 minutes on 2 cores)
    .venv/bin/python bench/run.py --rapide        # small sizes, to check that the benchmark runs

Registries are built through the project's own importer. Each job runs in a child process of its own so that
its peak memory (VmHWM, the Python process; LibreOffice's own memory is not counted) is its own. Times are
medians over several runs; the naive way is measured on a sample in the same run and compared in documents
per second.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def workspace(root: Path) -> Any:
    from pacte_docs.workspace import Workspace

    return Workspace(root, None)


def fresh_copy(source: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def import_files(root: Path, files: list[Path]) -> float:
    from pacte_docs.intake import importer

    ws = workspace(root)
    start = time.perf_counter()
    with ws.db.session() as session:
        importer.import_files(session, files)
    elapsed = time.perf_counter() - start
    ws.close()
    return elapsed


def prepare_registry(base: Path, documents: int, partners: int, signed_in: int | None = None) -> Path:
    from pacte_docs.workspace import init_workspace

    root = base / f"registre-{documents}" if signed_in is None else base / f"registre-{documents}-{signed_in}"
    if root.exists():
        return root
    init_workspace(root, None)
    data = base / f"donnees-{root.name}"
    data.mkdir(parents=True, exist_ok=True)
    import_files(root, [synthetic.departement_yaml(data / "departement.yaml"),
                        synthetic.write_csv(data / "partenaires.csv", synthetic.PARTNER_COLUMNS,
                                            synthetic.partners(partners))])
    rows = synthetic.conventions(documents, partners, signed_in=signed_in)
    for start in range(0, len(rows), 20_000):  # files of 20 000 rows, as a user would split them
        import_files(root, [synthetic.write_csv(data / f"conventions-{start}.csv", synthetic.CONVENTION_COLUMNS,
                                                rows[start:start + 20_000])])
    return root


# ---------------------------------------------------------------- jobs (run in a child process)

def job_docx(base: Path, documents: int, runs: int, sample: int, cli: bool = False) -> dict[str, Any]:
    """DOCX of every convention: `generation.generate` against a loop of DocxTemplate(path).render().save().
    With *cli*, as a user runs it: `pacte conventions generer --toutes --sans-pdf` in a process of its own,
    start-up, registry opening and the end of the command included."""
    from docxtpl import DocxTemplate

    from pacte_docs.documents import context
    from pacte_docs.documents.rendering import make_environment
    from pacte_docs.registry import queries
    from pacte_docs.services import generation

    registry_root = prepare_registry(base, documents, 650)
    times = []
    for run in range(runs):
        root = fresh_copy(registry_root, base / "docx-run")
        if cli:
            pacte = Path(sys.executable).with_name("pacte")
            start = time.perf_counter()
            subprocess.run([str(pacte), "--espace", str(root), "conventions", "generer", "--toutes", "--sans-pdf"],
                           check=True, capture_output=True)
            times.append(time.perf_counter() - start)
            made = len(list((root / "conventions").glob("*/*.docx")))
            assert made == documents, made
        else:
            ws = workspace(root)
            start = time.perf_counter()
            report = generation.generate(ws, [], all_=True, with_pdf=False)
            times.append(time.perf_counter() - start)
            assert report.count("cree") == documents, report.count("cree")
            ws.close()
        if run == runs - 1:
            fresh_copy(root, base / f"docx-{documents}")
    ws = workspace(registry_root)
    with ws.db.session() as session:
        contexts = [context.convention_context(c) for c in queries.conventions(session)[:sample]]
    template = ws.modeles / "convention_ccas.docx"
    env = make_environment()
    start = time.perf_counter()
    for ctx in contexts:
        tpl = DocxTemplate(str(template))
        tpl.render(ctx, env, autoescape=True)
        tpl.save(io.BytesIO())
    naive = (time.perf_counter() - start) / len(contexts)
    ws.close()
    return {"times": times, "documents": documents, "naive_seconds_per_document": naive, "naive_sample": sample}


def job_pdf(base: Path, documents: int, runs: int, sample: int) -> dict[str, Any]:
    """PDF of every convention: the product's batches against one `soffice --convert-to pdf` per document."""
    from pacte_docs.documents import pdf
    from pacte_docs.services import generation

    source = base / f"docx-{documents}"
    if not source.exists():
        raise SystemExit("lancez d'abord le travail docx (il prépare les DOCX)")
    times = []
    for _ in range(runs):
        root = fresh_copy(source, base / "pdf-run")
        ws = workspace(root)
        start = time.perf_counter()
        report = generation.generate(ws, [], all_=True, with_pdf=True)
        times.append(time.perf_counter() - start)
        made = sum(1 for o in report.outputs if o.pdf_status == "cree")
        assert made == documents, made
        ws.close()
    fresh_copy(base / "pdf-run", base / f"pdf-{documents}")
    docx = sorted((base / "pdf-run" / "conventions").glob("*/*.docx"))[:sample]
    soffice = pdf.find_soffice()
    out = base / "naive-pdf"
    start = time.perf_counter()
    for path in docx:
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run([soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                            "--convert-to", "pdf", "--outdir", str(out), str(path)], check=True,
                           capture_output=True)
    naive = (time.perf_counter() - start) / len(docx)
    return {"times": times, "documents": documents, "naive_seconds_per_document": naive, "naive_sample": len(docx)}


def job_bilan(base: Path, annexes: int, runs: int) -> dict[str, Any]:
    """A bilan compiled with *annexes* annexed convention PDFs (all signed in the year); each compilation in a
    process of its own, as each `pacte bilan compiler` is, so that its peak memory is its own."""
    root = base / f"bilan-{annexes}"
    if not root.exists():  # prepared in a process of its own too
        run_child("preparer_bilan", base, {"annexes": annexes})
    results = [run_child("compiler_bilan", base, {"annexes": annexes}) for _ in range(runs)]
    return {"times": [r["times"][0] for r in results], "documents": annexes, "pages": results[0]["pages"],
            "rss_runs_mib": [round(r["rss_mib"]) for r in results]}


def job_compile_bilan(base: Path, annexes: int) -> dict[str, Any]:
    from sqlalchemy import delete

    from pacte_docs.registry.models import Document
    from pacte_docs.services import bilan

    root = base / f"bilan-{annexes}"
    for old in (root / "archives" / "bilans").glob("*/*"):
        old.chmod(0o644)
    shutil.rmtree(root / "archives" / "bilans", ignore_errors=True)
    ws = workspace(root)
    with ws.db.session() as session:
        session.execute(delete(Document).where(Document.nature == "bilan"))
    start = time.perf_counter()
    report = bilan.compile_bilan(ws, 2025)
    elapsed = time.perf_counter() - start
    assert len(report.annexes) == annexes, len(report.annexes)
    ws.close()
    return {"times": [elapsed], "documents": annexes, "pages": report.pages}


def job_prepare_bilan(base: Path, annexes: int) -> dict[str, Any]:
    """A registry of *annexes* conventions signed in 2025, their PDFs, and a PDI/PTI covering 2025."""
    from pacte_docs.intake import importer
    from pacte_docs.services import generation

    root = base / f"bilan-{annexes}"
    registry_root = prepare_registry(base, annexes, 650, signed_in=2025)
    fresh_copy(registry_root, base / "bilan-preparation")
    ws = workspace(base / "bilan-preparation")
    with ws.db.session() as session:
        importer.import_files(session, [synthetic.pacte_yaml(base / "pacte.yaml")])
    generation.generate(ws, [], all_=True, with_pdf=True)
    ws.close()
    (base / "bilan-preparation").rename(root)
    return {"times": [0.0], "documents": annexes}


def job_alertes(base: Path, conventions: int, runs: int) -> dict[str, Any]:
    """`pacte alertes --format json` over a registry of *conventions* conventions."""
    registry_root = base / f"registre-{conventions}"
    if not registry_root.exists():
        # prepared in a process of its own: a command started from a big process would be counted its memory
        run_child("preparer_registre", base, {"documents": conventions})
    times, peaks = [], []
    count = 0
    for _ in range(runs):
        with tempfile.TemporaryFile() as out:
            start = time.perf_counter()
            process = subprocess.Popen([sys.executable, "-m", "pacte_docs", "--espace", str(registry_root), "--au",
                                        "2026-11-22", "alertes", "--format", "json"], stdout=out)
            _, status, usage = os.wait4(process.pid, 0)  # the command's own peak memory, not this driver's
            times.append(time.perf_counter() - start)
            process.returncode = os.waitstatus_to_exitcode(status)
            assert process.returncode == 0, process.returncode
            peaks.append(usage.ru_maxrss / 1024)
            out.seek(0)
            count = len(json.loads(out.read()))
    return {"times": times, "documents": conventions, "alertes": count, "rss_command_mib": max(peaks)}


@contextlib.contextmanager
def _serve(base: Path, conventions: int) -> Iterator[tuple[str, str, str]]:
    """`pacte serveur` over the registry of *conventions* conventions (prepared if need be), in a process of its
    own, with a team link and a director's: (address, team token, director's token); stopped afterwards."""
    import socket
    import urllib.request

    from pacte_docs.services import access

    root = base / f"registre-{conventions}"
    if not root.exists():
        run_child("preparer_registre", base, {"documents": conventions})
    ws = workspace(root)
    token = access.create(ws, None).jeton
    director = access.create(ws, "direction3@essonne.example.fr").jeton  # a twelfth of the registry
    ws.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "pacte_docs", "--espace", str(root), "--au", "2026-11-22",
                                "serveur", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(address + "/", timeout=1).read()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield address, token, director
    finally:
        process.terminate()
        process.wait()


def _timed_gets(url: str, runs: int) -> tuple[list[float], bytes, float]:
    """*runs* requests of *url* after a first one (which warms the server: imports, templates, date rules' cache):
    their times, the last body, the first one's time."""
    import urllib.request

    start = time.perf_counter()
    urllib.request.urlopen(url, timeout=60).read()
    first = time.perf_counter() - start
    times = []
    body = b""
    for _ in range(runs):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as response:
            body = response.read()
            assert response.status == 200
        times.append(time.perf_counter() - start)
    return times, body, first


def job_pages(base: Path, conventions: int, runs: int) -> dict[str, Any]:
    """`pacte serveur`: the deadlines page of the team's link over a registry of *conventions* conventions (every
    convention's deadline computed, the bands counted, a page of 100 lines rendered), and one director's page;
    requested over HTTP from this process, the server in its own."""
    with _serve(base, conventions) as (address, token, director):
        times, body, first = _timed_gets(f"{address}/acces/{token}", runs)
        theirs, _, _ = _timed_gets(f"{address}/acces/{director}", runs)
        named, _, _ = _timed_gets(f"{address}/acces/{token}?partenaire=ccas-01", runs)  # every partner read
    assert b"<h1>" in body
    return {"times": times, "documents": conventions, "premiere_ms": round(first * 1000),
            "directeur_ms": round(statistics.median(theirs) * 1000),
            "filtre_partenaire_ms": round(statistics.median(named) * 1000), "octets": len(body)}


def job_calendrier(base: Path, conventions: int, runs: int) -> dict[str, Any]:
    """`pacte serveur`: the subscribed calendar of the team's link over *conventions* conventions."""
    with _serve(base, conventions) as (address, token, _):
        times, body, first = _timed_gets(f"{address}/calendrier/{token}.ics", runs)
    return {"times": times, "documents": conventions, "evenements": body.count(b"BEGIN:VEVENT"),
            "premiere_ms": round(first * 1000)}


def job_import(base: Path, rows: int, runs: int, fmt: str) -> dict[str, Any]:
    """`pacte importer` of a *rows*-row conventions file (CSV from French Excel, or XLSX) into a registry that
    holds the département and its partners."""
    from pacte_docs.workspace import init_workspace

    data = base / f"import-{fmt}"
    data.mkdir(parents=True, exist_ok=True)
    partners_file = synthetic.write_csv(data / "partenaires.csv", synthetic.PARTNER_COLUMNS, synthetic.partners(650))
    start_root = base / "import-base"
    if not start_root.exists():
        init_workspace(start_root, None)
        import_files(start_root, [synthetic.departement_yaml(data / "departement.yaml"), partners_file])
    rows_data = synthetic.conventions(rows, 650, seed=7)
    if fmt == "csv":
        source = synthetic.write_csv(data / "conventions.csv", synthetic.CONVENTION_COLUMNS, rows_data)
    else:
        source = synthetic.write_xlsx(data / "conventions.xlsx", "conventions", synthetic.CONVENTION_COLUMNS,
                                      rows_data)
    times = []
    for _ in range(runs):
        root = fresh_copy(start_root, base / "import-run")
        times.append(import_files(root, [source]))
    return {"times": times, "documents": rows}


JOBS = {"docx": job_docx, "pdf": job_pdf, "bilan": job_bilan, "alertes": job_alertes, "import": job_import,
        "pages": job_pages, "calendrier": job_calendrier,
        "preparer_bilan": job_prepare_bilan, "compiler_bilan": job_compile_bilan,
        "preparer_registre": lambda base, documents: {"chemin": str(prepare_registry(base, documents, 650))}}


# ---------------------------------------------------------------- driver

def run_child(name: str, base: Path, arguments: dict[str, Any]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--interne", name, "--dossier", str(base), "--arguments",
               json.dumps(arguments)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"le travail {name} a échoué :\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="Banc d'essai de pacte_docs (voir le README).")
    parser.add_argument("--rapide", action="store_true", help="petites tailles, pour vérifier le banc")
    parser.add_argument("--travaux", default="docx,pdf,bilan,alertes,import,pages,calendrier")
    parser.add_argument("--dossier", type=Path)
    parser.add_argument("--interne")
    parser.add_argument("--arguments", default="{}")
    args = parser.parse_args()
    if args.interne:
        result = JOBS[args.interne](args.dossier, **json.loads(args.arguments))
        result["rss_mib"] = peak_rss_mib()
        print(json.dumps(result))
        return

    small = args.rapide
    documents = 60 if small else 1000
    sizes = {
        "docx": [{"documents": documents, "runs": 3, "sample": 20 if small else 40},
                 {"documents": 60 if small else 300, "runs": 3, "sample": 20 if small else 40, "cli": True}],
        "pdf": {"documents": documents, "runs": 1 if small else 3, "sample": 3 if small else 8},
        "bilan": [{"annexes": n, "runs": 1 if small else 3} for n in ((20, 40, 60) if small else (250, 500, 1000))],
        "alertes": {"conventions": 2_000 if small else 100_000, "runs": 3},
        "import": [{"rows": 500 if small else 10_000, "runs": 3, "fmt": f} for f in ("csv", "xlsx")],
        "pages": {"conventions": 2_000 if small else 10_000, "runs": 21},
        "calendrier": {"conventions": 200 if small else 1_000, "runs": 21},
    }
    base = args.dossier or Path(tempfile.mkdtemp(prefix="pacte-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"Banc d'essai — {dt.datetime.now():%Y-%m-%d %H:%M}, dossier {base}")
    lines = []
    for name in args.travaux.split(","):
        for arguments in sizes[name] if isinstance(sizes[name], list) else [sizes[name]]:
            result = run_child(name, base, arguments)
            median = statistics.median(result["times"])
            label = name + ("" if name not in ("bilan", "import") else
                            f" ({arguments.get('annexes') or arguments.get('fmt')})") + \
                (" (commande pacte, démarrage compris)" if arguments.get("cli") else "")
            line = {"travail": label, "n": result["documents"], "mediane_s": round(median, 2),
                    "par_seconde": round(result["documents"] / median, 1), "rss_mib": round(result["rss_mib"]),
                    "essais": len(result["times"])}
            if "naive_seconds_per_document" in result:
                naive_rate = 1 / result["naive_seconds_per_document"]
                line["naif_par_seconde"] = round(naive_rate, 1)
                line["rapport"] = round(result["documents"] / median / naive_rate, 1)
            if name in ("pages", "calendrier"):
                line["mediane_ms"] = round(median * 1000)
                extra = ("premiere_ms", "directeur_ms", "filtre_partenaire_ms", "evenements")
                line.update({k: result[k] for k in extra if k in result})
            if "rss_command_mib" in result:
                line["rss_mib"] = round(result["rss_command_mib"])
            if name == "bilan":
                line["s_par_annexe"] = round(median / result["documents"], 4)
                line["pages"] = result["pages"]
                line["rss_mib"] = max(result["rss_runs_mib"])  # the compilations', not the driver's
            lines.append(line)
            print(json.dumps(line, ensure_ascii=False), flush=True)
    print("\n| travail | n | médiane (s) | docs/s | naïf docs/s | rapport | s/annexe | pic RSS (Mio) |")
    print("|---|---|---|---|---|---|---|---|")
    for line in lines:
        print(f"| {line['travail']} | {line['n']} | {line['mediane_s']} | {line['par_seconde']} | "
              f"{line.get('naif_par_seconde', '—')} | {line.get('rapport', '—')} | {line.get('s_par_annexe', '—')} | "
              f"{line['rss_mib']} |")


if __name__ == "__main__":
    main()

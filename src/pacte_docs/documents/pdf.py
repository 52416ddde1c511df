"""DOCX → PDF through LibreOffice headless: batches, one private profile per process, timeouts, checks.

LibreOffice runs in a process group of its own, under a small guard (this module run as a program): the guard
holds the reading end of a pipe whose writing end only pacte holds. When pacte closes it (conversion over, time
limit reached, Ctrl-C) or dies — even by `kill -9` — the guard reads end-of-file and kills LibreOffice's whole
group. No `soffice` outlives the run that started it.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pacte_docs.errors import ConverterError, InputFileError
from pacte_docs.files import capital

log = logging.getLogger("pacte.pdf")

# LibreOffice 7.4 was seen converting only 247 of 300 files given in one call, and exiting 0.
BATCH_SIZE = 150
# Every PDF is tagged (structure tree, /MarkInfo, /Lang from the document's language, table header rows as TH),
# shows its title rather than its file name (RGAA 13.3, accessibility of documents a collectivité publishes) and
# identifies itself as PDF/UA-1 (ISO 14289-1) as LibreOffice writes it; PDF/A-2b (ISO 19005-2), the default for
# the acts and the bilan, is added unless the user asks for --sans-pdfa.
_ACCESSIBLE = ('"UseTaggedPDF":{"type":"boolean","value":"true"},'
               '"PDFUACompliance":{"type":"boolean","value":"true"},'
               '"DisplayPDFDocumentTitle":{"type":"boolean","value":"true"}')
PDF_FILTER = 'pdf:writer_pdf_Export:{' + _ACCESSIBLE + '}'
PDFA_FILTER = 'pdf:writer_pdf_Export:{' + _ACCESSIBLE + ',"SelectPdfVersion":{"type":"long","value":"2"}}'
INSTALL_HINT = ("Installez-le : « apt-get install -y libreoffice-writer-nogui fonts-liberation2 fonts-dejavu », "
                "ou indiquez son chemin par la variable PACTE_SOFFICE.")


def find_soffice() -> str:
    """The soffice executable: PACTE_SOFFICE, else soffice or libreoffice on the PATH."""
    configured = os.environ.get("PACTE_SOFFICE")
    if configured:
        if shutil.which(configured):
            return configured
        raise ConverterError(f"LibreOffice introuvable à l'emplacement donné par PACTE_SOFFICE ({configured}). "
                             + INSTALL_HINT)
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise ConverterError("LibreOffice (soffice) est introuvable : impossible de produire les PDF. " + INSTALL_HINT)


def _run_batch(soffice: str, files: list[Path], outdir: Path, profile: Path, pdfa: bool, timeout: float) -> str:
    command = [
        soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
        "--nolockcheck", "--nodefault", "--convert-to", PDFA_FILTER if pdfa else PDF_FILTER, "--outdir", str(outdir),
        *map(str, files),
    ]
    lifeline, keep = os.pipe()  # the guard's stdin: end-of-file when this process closes it or dies
    try:
        process = subprocess.Popen([sys.executable, "-m", "pacte_docs.documents.pdf", *command], stdin=lifeline,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    except BaseException:
        os.close(keep)
        raise
    finally:
        os.close(lifeline)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ConverterError(
            f"LibreOffice n'a pas terminé la conversion de {len(files)} document(s) en {timeout:.0f} s ; "
            "il a été arrêté. Augmentez delai_pdf_secondes dans pacte.toml ([generation]) ou vérifiez qu'aucun "
            "document n'est anormalement lourd."
        ) from None
    finally:
        _stop(process, keep)
    text = output.decode("utf-8", "replace")
    if process.returncode != 0:
        raise ConverterError(f"LibreOffice a échoué (code {process.returncode}) : {text.strip()[-500:]}")
    return text


def _stop(guard: subprocess.Popen[bytes], lifeline: int) -> None:
    """Close the lifeline: the guard kills LibreOffice and every process it started (soffice.bin, Java) if they
    still run, and exits; should the guard itself not answer, its process group is killed. Then close the pipe."""
    os.close(lifeline)
    try:
        guard.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _kill(guard.pid)
        guard.wait()
    if guard.stdout is not None:
        guard.stdout.close()


def _kill(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


def convert(files: list[Path], outdir: Path, *, pdfa: bool = False, processes: int = 2, timeout: float = 600,
            on_done: Callable[[int], None] | None = None) -> dict[Path, Path]:
    """Convert every DOCX to outdir/<stem>.pdf; stems must be unique. Returns {docx: pdf}."""
    if not files:
        return {}
    stems = [f.stem for f in files]
    if len(set(stems)) != len(stems):
        raise ValueError("file stems must be unique within one conversion")
    soffice = find_soffice()
    outdir.mkdir(parents=True, exist_ok=True)
    workers = max(1, min(processes, len(files)))
    shares = [files[i::workers] for i in range(workers)]
    lock = threading.Lock()

    def work(share: list[Path]) -> None:
        # the profile lives in the output folder: a scratch folder that a killed run's successor removes
        with tempfile.TemporaryDirectory(prefix=".profil-lo-", dir=outdir) as profile:
            for start in range(0, len(share), BATCH_SIZE):
                batch = share[start:start + BATCH_SIZE]
                _run_batch(soffice, batch, outdir, Path(profile), pdfa, timeout)
                missing = [f for f in batch if not (outdir / f"{f.stem}.pdf").is_file()]
                if missing:  # LibreOffice sometimes skips files silently: one more try for those
                    _run_batch(soffice, missing, outdir, Path(profile), pdfa, timeout)
                if on_done:
                    with lock:
                        on_done(len(batch))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work, share) for share in shares if share]:
            future.result()
    result = {f: outdir / f"{f.stem}.pdf" for f in files}
    missing = [f.name for f, pdf in result.items() if not pdf.is_file() or pdf.stat().st_size == 0]
    if missing:
        raise ConverterError("LibreOffice n'a pas produit le PDF de : " + ", ".join(missing)
                             + ". Ouvrez ces documents dans LibreOffice pour vérifier qu'ils ne sont pas corrompus.")
    return result


def _guard(command: list[str]) -> int:
    """Run LibreOffice in a process group of its own and kill that group when stdin (pacte's lifeline) ends, or
    when LibreOffice exits leaving processes behind (a crash): nothing of it outlives the conversion."""
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)

    def watch() -> None:
        while os.read(0, 4096):
            pass
        _kill(child.pid)  # pacte is gone, or gave up waiting

    threading.Thread(target=watch, daemon=True).start()
    code = child.wait()
    _kill(child.pid)  # what a crashed soffice left running
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(_guard(sys.argv[1:]))


def readable_pages(data: bytes, what: str) -> int:
    """The page count of a PDF the user gives, read with pypdf the way the bilan will read it: a file that is not
    a PDF, is damaged, or is locked by a password is refused now, in French, rather than blocking a later job."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise InputFileError(f"{capital(what)} n'est pas un PDF : donnez le scan ou le PDF signé de la convention.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputFileError(f"{capital(what)} est protégé par un mot de passe : enregistrez-en une copie "
                                 "sans mot de passe (imprimer en PDF) et donnez cette copie.")
        pages = len(reader.pages)
        for page in reader.pages:
            page.mediabox  # noqa: B018 — every page must have a size the bilan can lay out
    except InputFileError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            NotImplementedError) as exc:
        log.info("PDF illisible %s : %s", what, type(exc).__name__)  # for whoever reads the log, not the user
        raise InputFileError(f"{capital(what)} est endommagé et ne peut pas être lu : faites-en une nouvelle copie "
                             "PDF (depuis le document d'origine, ou un nouveau scan).") from None
    if pages == 0:
        raise InputFileError(f"{capital(what)} ne contient aucune page.")
    return pages

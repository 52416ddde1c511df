"""The Département signs a convention electronically (`pacte conventions signer-electroniquement`, the staff
pages' button): once its visa circuit is complete, the final text (PDF/A, no « PROJET », dated the day of the
signature) is signed in PAdES B-LT with the Département's certificate (documents.esign), checked by the tool's own
verification (documents.signatures), recorded as the signed copy with its report, and the circuit's bordereau —
submission, visas, signature, each with its time — is produced and archived with the act. Any failure before the
record (a PIN, an expired certificate, an authority that does not answer) leaves the registry and the folders as
they were."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from pacte_docs import files
from pacte_docs.documents import context, esign, signatures
from pacte_docs.documents.rendering import TemplateCache
from pacte_docs.errors import LifecycleError, SignatureError
from pacte_docs.formatting import date_longue
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Agent, Visa
from pacte_docs.rules import periods, roles
from pacte_docs.services import circuit, generation, lifecycle
from pacte_docs.workspace import Workspace, holding

SIGNING_ROLE = "juriste"  # who may have the Département's certificate sign: the legal service, or above


def settings(ws: Workspace) -> dict[str, str]:
    found = ws.config.signature_electronique
    if not found:
        raise LifecycleError("La signature électronique du Département n'est pas configurée : ajoutez à pacte.toml "
                             "la section [signature_electronique] (son jeton PKCS#11 ou son fichier PKCS#12, et "
                             "l'autorité d'horodatage), voir le README, « Signer électroniquement ».")
    return found


def _signatory(session: Any, email: str) -> Agent:
    address = email.strip().lower()
    agent: Agent | None = session.scalar(select(Agent).where(Agent.email == address, Agent.actif.is_(True)))
    if agent is None or not roles.allows(agent.role, SIGNING_ROLE):
        raise LifecycleError(f"{address} ne peut pas faire signer le Département : il faut un compte d'agent actif "
                             f"de rôle « {SIGNING_ROLE} » ou « administration » (pacte agents creer).")
    return agent


@holding("registre")
@holding("documents")
def signer_electroniquement(ws: Workspace, reference: str, par: str, on: dt.date | None = None) -> lifecycle.Step:
    """Sign the draft *reference* with the Département's certificate, as agent *par* (see the module)."""
    config = settings(ws)
    day = on or periods.today()
    with ws.db.session() as session:
        c = queries.convention(session, reference)
        if c.date_signature is not None:
            raise LifecycleError(f"La convention {reference} est déjà signée (le {date_longue(c.date_signature)}).")
        agent = _signatory(session, par)
        who = f"{agent.nom} <{agent.email}>"
        circuit.check_signable(session, ws, c, False)
        if c.deliberation_date and day < c.deliberation_date:
            raise LifecycleError(f"La délibération qui autorise la signature de {reference} est du "
                                 f"{date_longue(c.deliberation_date)} : la convention ne peut être signée avant.")
        ctx = context.convention_context(c)
        blanks = context.blanks(ctx)
        if blanks:  # a text signed electronically is not completed by hand afterwards
            raise LifecycleError(f"Le texte de {reference} a encore des blancs : "
                                 + " ; ".join(b.what for b in blanks) + ". Complétez-les (classeur ou fichier "
                                 "d'import), réimportez, puis signez : un texte signé électroniquement ne se complète "
                                 "pas à la main.")
        signature = ctx["departement"]["signature"]
        place = ctx["departement"].get("ville")
    roots = ws.authorities()
    TemplateCache(ws).get("bordereau")  # the bordereau will be made: its template is checked before anything
    with esign.opened_signer(config, ws.root) as signer:
        holder = esign.signer_name(signer)
        moment = files.now()
        problem = esign.certificate_problem(signer, moment)
        if problem:
            raise SignatureError(problem)
        if not _same_person(holder, str(signature.get("nom") or "")):
            raise SignatureError(
                f"Le certificat est celui de {holder} ; l'acte nomme {signature.get('nom_complet')} comme signataire "
                f"du Département. Signez avec son certificat, ou corrigez le signataire (président ou délégation) "
                "et réimportez. Rien n'a été signé.")
        _, final = generation.final_text(ws, reference, day)
        stamp = esign.Stamp(holder, " ".join(str(signature.get("qualite") or "").split()), moment)
        signed = esign.sign(final, signer, config, roots, stamp, f"Signature de la convention {reference}", place)
    verification = signatures.verify(signed, final, reference, roots)
    if verification.refus or verification.verdict != signatures.VALIDE:
        raise LifecycleError("La signature faite n'est pas reconnue valide par la vérification de pacte :\n"
                             + "\n".join(f"  {line}" for line in signatures.describe(verification))
                             + "\nRien n'a été enregistré : vérifiez [signature] autorites.")
    step = lifecycle.Step()
    with ws.db.session() as session:
        archived, _ = lifecycle.record_signature(session, ws, reference, day, on=day, copy=(signed, verification))
        c = queries.convention(session, reference)
        c.signature_electronique = True  # its text says « en un original électronique »
        sha = files.sha256_bytes(signed)
        timestamp = next((s.horodatage for s in verification.signatures if s.horodatage), None)
        session.add(Visa(convention_id=c.id, nature="signature", tour=circuit.standing_of(session, ws, c).tour,
                         par=who, quand=moment, sha256=sha,
                         commentaire=f"certificat de {holder}" + (
                             f", horodatée le {context._moment(dt.datetime.fromisoformat(timestamp))}"
                             if timestamp else "")))
        journal.record(session, c, "signature_electronique",
                       f"Signée électroniquement pour le Département par {holder} (certificat), à la demande de "
                       f"{who} ; copie signée {archived} (SHA-256 {sha}).", date=day, document=archived, sha256=sha)
    step.lines.append(f"{reference} : signée électroniquement pour le Département par {holder}, le "
                      f"{date_longue(day)}.")
    step.lines.extend(signatures.describe(verification))
    step.lines.append(f"PDF signé archivé en lecture seule : {archived}")
    # the signed text, frozen (the same as the one signed), and the bordereau, one of its acts from now on
    step.generated.append(generation.generate(ws, [reference], with_pdf=True, pdfa=True))
    return step


def _same_person(holder: str, named: str) -> bool:
    """Whether the certificate's holder is the signatory the act names (their names' words, civility aside)."""
    words = {w.lower() for w in named.replace("-", " ").split() if len(w) > 1}
    return not words or words <= {w.lower() for w in holder.replace("-", " ").split()}

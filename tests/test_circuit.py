"""The visa circuit of a draft convention (issue 29, item 1): submitted, given its visas in order or sent back
with a comment, signed only once every visa is given on the version signed — from the command line and the
staff's pages."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import pytest

from pacte_docs.rules import circuit
from tests.helpers import Pacte, normalise, registry_state, start_server

DATA = Path(__file__).parent / "donnees"
JULES = ("jules@seinesaintdenis.example.fr", "Jules Juriste", "juriste", "motdepasse-juriste-1")
DIRECTEUR = "agent.test@seinesaintdenis.example.fr"  # the responsable of the draft
DRAFT = """conventions:
  - reference: CCAS-2027-020
    type: ccas
    partenaires: [CCAS-MONTREUIL]
    objet: {objet}
    date_effet: 2027-06-01
    renouvellement: expresse
    responsable: {{nom: Agent Test, email: agent.test@seinesaintdenis.example.fr}}
"""


def _workspace(pacte: Pacte, tmp_path: Path) -> Path:
    config = pacte.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[circuits]\nconvention = ["juriste", "directeur"]\n'
                      "\n[agents]\ncookie_securise = false\n", encoding="utf-8")
    pacte("importer", str(DATA / "registre.yaml"))
    email, nom, role, password = JULES
    pacte("agents", "creer", email, "--nom", nom, "--role", role, input=password + "\n")
    draft = tmp_path / "brouillon.yaml"
    draft.write_text(DRAFT.format(objet="La présente convention a pour objet de mieux orienter les usagers."),
                     encoding="utf-8")
    pacte("importer", str(draft))
    return draft


def _fails(pacte: Pacte, *args: str) -> str:
    before = registry_state(pacte.root, pacte.base)
    result = pacte(*args, ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert registry_state(pacte.root, pacte.base) == before  # nothing recorded
    return " ".join(result.output.split())


def test_a_draft_goes_through_its_visas_before_it_is_signed(pacte: Pacte, tmp_path: Path) -> None:
    _workspace(pacte, tmp_path)
    assert "produisez-le d'abord (pacte conventions generer CCAS-2027-020)" in _fails(
        pacte, "conventions", "soumettre", "CCAS-2027-020")
    pacte("conventions", "generer", "CCAS-2027-020", "--sans-pdf")
    said = pacte("conventions", "soumettre", "CCAS-2027-020").output
    assert "soumis au circuit de visas (tour 1) ; visa attendu d'un agent du rôle « juriste »" in said
    assert "celui d'un agent du rôle « juriste » : agent.test@seinesaintdenis.example.fr ne peut pas le donner" in \
        _fails(pacte, "conventions", "viser", "CCAS-2027-020", "--avis", "favorable", "--par", DIRECTEUR)
    assert "ne peut pas être signé : il est en cours de visa, visa attendu d'un agent du rôle « juriste »" in \
        _fails(pacte, "conventions", "signer", "CCAS-2027-020", "--date", "2026-12-01")
    assert "donnez un commentaire" in _fails(pacte, "conventions", "viser", "CCAS-2027-020", "--avis",
                                             "defavorable", "--par", JULES[0])
    sent_back = pacte("conventions", "viser", "CCAS-2027-020", "--avis", "defavorable", "--commentaire",
                      "Article 4 : préciser les actions.", "--par", JULES[0])
    assert "le projet retourne à son auteur avec ce commentaire : « Article 4 : préciser les actions. »" in \
        sent_back.output
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2027-020", "--format", "json").output)
    assert shown["circuit"]["etat"] == "renvoye"
    assert shown["circuit"]["renvoi"]["commentaire"] == "Article 4 : préciser les actions."
    assert "n'attend pas de visa : il est renvoyé par un avis défavorable (pacte conventions soumettre)" in _fails(
        pacte, "conventions", "viser", "CCAS-2027-020", "--avis", "favorable", "--par", JULES[0])
    assert "tour 2" in pacte("conventions", "soumettre", "CCAS-2027-020").output
    said = pacte("conventions", "viser", "CCAS-2027-020", "--avis", "favorable", "--par", JULES[0]).output
    assert "visa favorable enregistré ; visa attendu du directeur qui suit la convention" in said
    said = pacte("conventions", "viser", "CCAS-2027-020", "--avis", "favorable", "--par", DIRECTEUR).output
    assert "tous les visas sont donnés, la convention peut être signée" in said
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2027-020", "--format", "json").output)
    assert shown["circuit"]["etat"] == "vise" and shown["circuit"]["tour"] == 2
    assert [s["visa"]["par"] for s in shown["circuit"]["etapes"]] == [
        "Jules Juriste <jules@seinesaintdenis.example.fr>", DIRECTEUR]
    pacte("conventions", "signer", "CCAS-2027-020", "--date", "2026-12-01")
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2027-020", "--format", "json").output)
    assert shown["circuit"] is None  # signed: the circuit is closed, its steps stay in the journal
    natures = [e["nature"] for e in shown["journal"]]
    assert natures.count("soumission") == 2 and natures.count("visa") == 3 and natures[-2:] == ["signature",
                                                                                                   "generation"]
    docx = next(d for d in shown["documents"] if d["chemin"].endswith(".docx") and d["version"] == 1)
    visa = next(e for e in shown["journal"] if e["nature"] == "visa" and "Jules" in e["description"]
                and "favorable" in e["description"] and "défavorable" not in e["description"])
    assert visa["sha256"] == docx["sha256"] and f"Version SHA-256 {docx['sha256']}" in visa["description"]
    assert "Signée avec --force" not in " ".join(e["description"] for e in shown["journal"])


@pytest.mark.lent  # the fast tier keeps the circuit's main course
def test_a_draft_changed_after_a_visa_loses_it_and_force_is_recorded(pacte_sqlite: Pacte, tmp_path: Path) -> None:
    pacte = pacte_sqlite
    draft = _workspace(pacte, tmp_path)
    pacte("conventions", "generer", "CCAS-2027-020", "--sans-pdf")
    pacte("conventions", "soumettre", "CCAS-2027-020")
    pacte("conventions", "viser", "CCAS-2027-020", "--avis", "favorable", "--par", JULES[0])
    # the draft changes: its visas no longer hold, even before its document is made again
    draft.write_text(DRAFT.format(objet="La présente convention a pour objet d'accueillir les usagers."),
                     encoding="utf-8")
    pacte("importer", str(draft))
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2027-020", "--format", "json").output)
    assert shown["circuit"]["etat"] == "a_resoumettre"
    assert "modifié depuis sa soumission : à soumettre de nouveau" in _fails(
        pacte, "conventions", "viser", "CCAS-2027-020", "--avis", "favorable", "--par", DIRECTEUR)
    assert "ne peut pas être signé" in _fails(pacte, "conventions", "signer", "CCAS-2027-020", "--date",
                                               "2026-12-01")
    pacte("conventions", "generer", "CCAS-2027-020", "--sans-pdf")
    assert "visa attendu d'un agent du rôle « juriste »" in pacte("conventions", "soumettre", "CCAS-2027-020").output
    # signed without its visas: only with --force, and the journal says so
    pacte("conventions", "signer", "CCAS-2027-020", "--date", "2026-12-01", "--force")
    shown = json.loads(pacte("conventions", "afficher", "CCAS-2027-020", "--format", "json").output)
    signature = next(e for e in shown["journal"] if e["nature"] == "signature")
    assert "Signée avec --force, sans tous ses visas (circuit : en cours de visa)." in signature["description"]
    assert "son circuit de visas est clos" in _fails(pacte, "conventions", "soumettre", "CCAS-2027-020")


def test_a_circuit_names_roles_the_director_or_agents(pacte_sqlite: Pacte) -> None:
    config = pacte_sqlite.root / "pacte.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[circuits]\nconvention = ["chef", "juriste"]\n'
                      'avenant = ["juriste"]\n', encoding="utf-8")
    said = " ".join(pacte_sqlite("conventions", "lister", ok=False).output.split())
    assert "[circuits], champ « convention » : doit être une liste d'étapes : un rôle (lecture, redaction, juriste, " \
           "administration, directeur) ou l'adresse d'un agent" in said
    assert "champ « avenant » : seules les conventions ont un circuit de visas" in said


def test_where_an_act_stands_in_its_circuit() -> None:
    """The pure rule: in order, sent back by an unfavourable visa, lost with a new version, signable at the end."""
    moment = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    steps = ["juriste", "directeur"]

    def event(nature: str, tour: int, sha: str = "v1", etape: int | None = None, avis: str | None = None
              ) -> circuit.Event:
        return circuit.Event(nature, tour, moment, "x", sha, etape, avis)

    assert circuit.standing([], [], None).signable  # no circuit: signed as before
    assert circuit.standing(steps, [], "v1").etat == "non_soumis"
    submitted = [event("soumission", 1)]
    assert circuit.standing(steps, submitted, "v1").prochaine == 0
    first = [*submitted, event("visa", 1, etape=0, avis="favorable")]
    assert circuit.standing(steps, first, "v1").prochaine == 1
    assert circuit.standing(steps, first, "v2").etat == "a_resoumettre"
    assert circuit.standing(steps, first, None).etat == "a_resoumettre"
    back = [*first, event("visa", 1, etape=1, avis="defavorable")]
    assert circuit.standing(steps, back, "v1").etat == "renvoye"
    again = [*back, event("soumission", 2, "v2")]
    assert circuit.standing(steps, again, "v2").prochaine == 0  # a new round: every visa again
    done = [*again, event("visa", 2, "v2", 0, "favorable"), event("visa", 2, "v2", 1, "favorable")]
    assert circuit.standing(steps, done, "v2").signable
    assert circuit.may_give("juriste", "a@b.fr", "administration", None)  # a role that does more
    assert not circuit.may_give("juriste", "a@b.fr", "redaction", None)
    assert circuit.may_give("directeur", "D@b.fr", None, "d@b.fr") and not circuit.may_give("directeur", "e@b.fr",
                                                                                           "juriste", "d@b.fr")


@pytest.mark.lent  # a server of its own, sign-ins
def test_the_circuit_is_followed_from_the_staff_s_pages(pacte: Pacte, tmp_path: Path) -> None:
    from tests.test_agents import LECTURE, Browser

    _workspace(pacte, tmp_path)
    email, nom, role, password = LECTURE
    pacte("agents", "creer", email, "--nom", nom, "--role", role, input=password + "\n")
    pacte("agents", "creer", DIRECTEUR, "--nom", "Agent Test", "--role", "lecture", input="directeur-mot-de-passe\n")
    pacte("conventions", "generer", "CCAS-2027-020", "--sans-pdf")
    server = start_server(pacte.root, pacte.base)
    try:
        jules = Browser(server)
        assert jules.sign_in(JULES[0], JULES[3])[0] == 303
        status, _, page = jules.request("GET", "/agents/conventions/CCAS-2027-020")
        assert status == 200 and "non soumis au circuit de visas" in page and "Soumettre au circuit" in page
        assert "Enregistrer la signature" not in page and "une fois tous les visas du circuit donnés" in page
        token = jules.token("/agents/conventions/CCAS-2027-020")
        assert jules.request("POST", "/agents/conventions/CCAS-2027-020/soumettre", {"csrftoken": token})[0] == 303
        status, _, page = jules.request("GET", "/agents/conventions/CCAS-2027-020")
        assert "Donner mon visa" in page and "visa attendu" in page
        status, _, page = jules.request("POST", "/agents/conventions/CCAS-2027-020/viser",
                                        {"csrftoken": token, "avis": "defavorable", "commentaire": ""})
        assert status == 422 and "donnez un commentaire" in html.unescape(page)
        assert jules.request("POST", "/agents/conventions/CCAS-2027-020/viser",
                             {"csrftoken": token, "avis": "favorable", "commentaire": ""})[0] == 303
        reader = Browser(server)
        assert reader.sign_in(email, password)[0] == 303
        _, _, page = reader.request("GET", "/agents/conventions/CCAS-2027-020")
        assert "en cours de visa" in page and "Donner mon visa" not in page  # not the step of a lecture agent
        director = Browser(server)
        assert director.sign_in(DIRECTEUR, "directeur-mot-de-passe")[0] == 303
        _, _, page = director.request("GET", "/agents/conventions/CCAS-2027-020")
        assert "Donner mon visa" in page  # the director who follows it, with a lecture account
        token = director.token("/agents/conventions/CCAS-2027-020")
        assert director.request("POST", "/agents/conventions/CCAS-2027-020/viser",
                                {"csrftoken": token, "avis": "favorable", "commentaire": "Bon pour moi."})[0] == 303
        _, _, page = director.request("GET", "/agents/conventions/CCAS-2027-020")
        flat = " ".join(normalise(html.unescape(page)).split())
        assert "visé, prêt à être signé" in flat and "tous les visas sont donnés" in flat
        _, _, page = jules.request("GET", "/agents/conventions/CCAS-2027-020")
        assert "Enregistrer la signature" in page  # the juriste may now record it
        shown = json.loads(pacte("conventions", "afficher", "CCAS-2027-020", "--format", "json").output)
        assert [e["auteur"] for e in shown["journal"] if e["nature"] in ("soumission", "visa")] == [
            "Jules Juriste <jules@seinesaintdenis.example.fr>", "Jules Juriste <jules@seinesaintdenis.example.fr>",
            "Agent Test <agent.test@seinesaintdenis.example.fr>"]
    finally:
        server.stop()

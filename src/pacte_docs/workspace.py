"""The workspace folder: configuration, paths, templates copied from the package, the database."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tempfile
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from pacte_docs.errors import InputFileError, Problem, ValidationError, WorkspaceError
from pacte_docs.files import (
    MIB,
    owner_gone,
    owner_tag,
    read_input,
    sha256_bytes,
    sha256_file,
    write_atomic,
    write_new,
)
from pacte_docs.kinds import ConventionType, values
from pacte_docs.rules import circuit

if TYPE_CHECKING:
    from pacte_docs.registry.database import Database

CONFIG_NAME = "pacte.toml"
DB_NAME = "pacte.db"
FOLDERS = ("modeles", "conventions", "archives")

SITE_SECTION = """
[espace]
# Identifiant propre à cet espace : les documents qu'il produit sont enregistrés à son nom dans le registre, que
# d'autres sites peuvent partager (chacun ne voit, ne vérifie et n'archive que les siens). Ne le modifiez pas et
# ne le recopiez pas dans un autre espace.
identifiant = "{identifiant}"
"""

DEFAULT_CONFIG = """\
# Configuration de l'espace de travail pacte_docs.
# Les lignes commençant par « # » sont des commentaires : retirez le « # » pour activer un réglage.

[base]
# Par défaut, le registre est le fichier pacte.db de cet espace (SQLite).
# Pour une base partagée entre plusieurs sites (PostgreSQL) :
# url = "postgresql+psycopg://pacte@serveur.cd.local/pacte"
# (le mot de passe se donne par la variable PGPASSWORD, jamais dans ce fichier)

[departement]
# Département utilisé par défaut quand le registre en contient plusieurs :
# code = "92"

[generation]
# Durée maximale d'une conversion PDF par LibreOffice, en secondes (par lot de documents).
delai_pdf_secondes = 600
# Durée maximale du rendu d'un document à partir de son modèle, en secondes.
delai_rendu_secondes = 60
# Nombre de processus LibreOffice lancés en parallèle (un par cœur).
processus_pdf = 2

[alertes]
# Nombre de jours avant la date limite de décision auxquels une alerte est envoyée.
seuils_jours = [180, 90, 30, 0]
# Un envoi interrompu (processus arrêté) est repris par la course suivante après ce délai (5 minutes au moins).
reprise_minutes = 30

# Seuils propres à un type de convention (ccas, france_travail, autre) :
# [alertes.seuils_par_type]
# france_travail = [270, 180, 90, 30, 0]

[signature]
# Autorités de certification reconnues pour les copies signées électroniquement (fichiers PEM, chemins relatifs
# à l'espace) ; sans elles, une signature valide est dite « intègre, certificat non reconnu » :
# autorites = ["autorites/ac-departement.pem"]

[signature_electronique]
# La signature électronique du Département (pacte conventions signer-electroniquement) : son certificat sur un
# jeton PKCS#11 (module du fabricant, étiquette du jeton, étiquette de la clé et du certificat) ; le code PIN
# vient de la variable d'environnement PACTE_PIN_SIGNATURE, jamais de ce fichier :
# module = "/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so"
# jeton = "DEPARTEMENT"
# cle = "signature-departement"
# ou, pour un petit site, un fichier PKCS#12 (mot de passe : variable PACTE_MOT_DE_PASSE_SIGNATURE) :
# fichier = "certificats/departement.p12"
# L'autorité d'horodatage (RFC 3161) qui date chaque signature :
# horodatage = "https://horodatage.example.fr/tsa"

[archivage]
# Versement aux Archives départementales (pacte archives verser), d'après le tableau de gestion :
# service_archives = "FRAD091"              # identifiant du service d'archives
# service_versant = "FRDEP091-DIE"          # identifiant du service qui verse
# accord = "AV-DIE-2026-01"                 # accord de versement (facultatif)
# regle = "APP0010"                         # règle de sort final du tableau de gestion
# duree = "P10Y"                            # sa durée (ISO 8601 : P10Y = dix ans)
# sort_final = "conserver"                  # conserver ou eliminer

[serveur]
# Pages des directeurs et calendriers abonnés (pacte serveur, pacte acces creer).
# Par défaut, le serveur n'écoute que cette machine :
# hote = "127.0.0.1"
# port = 8000
# Adresse à laquelle les directeurs l'atteignent (derrière le mandataire HTTPS du département) ; quand elle est
# donnée, le courriel d'alerte donne à chacun le lien de ses pages et de son calendrier :
# url_publique = "https://pacte.departement.fr"

[smtp]
# hote = "localhost"
# port = 25
# starttls = false
# utilisateur = ""
# expediteur = "insertion@departement.fr"
# Le plus long qu'un message peut prendre, connexion comprise (au-delà, la connexion est coupée) :
# delai_secondes = 60
# Le mot de passe se donne uniquement par la variable d'environnement PACTE_SMTP_MOT_DE_PASSE.
"""


def default_template_fingerprints() -> dict[str, tuple[str, frozenset[str]]]:
    """For each default template, the SHA-256 of this version's file and of every earlier version's (recorded in
    modeles/empreintes.json by outils/empreintes_modeles.py), so that an untouched old default can be told from
    a template edited in a workspace."""
    manifest = json.loads((resources.files("pacte_docs") / "modeles" / "empreintes.json").read_text("utf-8"))
    return {name: (entry["actuel"], frozenset(entry["precedents"])) for name, entry in manifest.items()}


def package_templates() -> dict[str, bytes]:
    """The default DOCX templates shipped inside the package, by name."""
    folder = resources.files("pacte_docs") / "modeles"
    return {
        entry.name.removesuffix(".docx"): entry.read_bytes()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".docx")
    }


@dataclass
class InitReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # untouched defaults of an earlier version, replaced
    edited: list[str] = field(default_factory=list)  # defaults edited in the workspace, kept though a newer exists


# A claimed alert is taken over after this; longer than one message may take ([smtp] delai_secondes, 4 min at most).
MIN_REPRISE_MINUTES = 5
MAX_DELAY_SECONDS = 86_400  # a time limit in pacte.toml is at most a day
EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


SITE_ID = re.compile(r"[A-Za-z0-9-]{1,36}")


def new_site() -> str:
    return uuid.uuid4().hex


def with_site(config: str, site: str) -> str:
    """*config* with its [espace] section first, before every other section (keys a user appends at the end
    stay in the section they were appended to)."""
    first = re.search(r"^\[", config, re.MULTILINE)
    at = first.start() if first else len(config)
    return config[:at].rstrip("\n") + "\n" + SITE_SECTION.format(identifiant=site) + "\n" + config[at:]


@dataclass
class Config:
    base_url: str | None = None
    site: str | None = None
    departement: str | None = None
    pdf_timeout: float = 600.0
    render_timeout: float = 60.0
    pdf_processes: int = 2
    seuils_jours: list[int] = field(default_factory=lambda: [180, 90, 30, 0])
    seuils_par_type: dict[str, list[int]] = field(default_factory=dict)
    reprise_minutes: int = 30
    smtp: dict[str, Any] = field(default_factory=dict)
    autorites: list[str] = field(default_factory=list)  # [signature] autorites: PEM files of trusted authorities
    archivage: dict[str, Any] = field(default_factory=dict)  # [archivage]: who transfers to whom, which rule
    hote: str = "127.0.0.1"  # [serveur]: where `pacte serveur` listens
    port: int = 8000
    url_publique: str | None = None  # the address directors reach it at; the alert e-mails give their links
    inactivite_minutes: int = 30  # [agents]: a staff session ends after this long without a request
    cookie_securise: bool = True  # [agents]: the session cookie only over HTTPS (false only for a test on http)
    oidc_emetteur: str | None = None  # [agents]: the Département's OpenID provider (its issuer URL)
    oidc_client: str | None = None  # [agents]: pacte's client id there; the secret: PACTE_OIDC_SECRET only
    # [circuits]: the visas an act needs before it is signed, in order (rules.circuit): convention = [...]
    circuits: dict[str, list[str]] = field(default_factory=dict)
    # [signature_electronique]: the Département's certificate (a PKCS#11 token: module, jeton, cle; or a PKCS#12
    # file: fichier) and its timestamping authority (horodatage); its PIN or password from the environment only
    signature_electronique: dict[str, str] = field(default_factory=dict)

    def premier_seuil(self, type_: str) -> int:
        """The first alert threshold of a convention type, in days before its decision deadline."""
        return max(self.seuils_par_type.get(type_, self.seuils_jours))


def load_config(path: Path) -> Config:
    """Read and validate pacte.toml, reporting every problem at once."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(
            [Problem(str(path), None, None, f"fichier illisible ({exc})", "corrigez la syntaxe TOML")]
        ) from exc
    problems: list[Problem] = []
    config = Config()

    def section(name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            problems.append(Problem(str(path), f"[{name}]", None, "doit être une section", None))
            return {}
        return value

    espace = section("espace")
    if "identifiant" in espace:
        if isinstance(espace["identifiant"], str) and SITE_ID.fullmatch(espace["identifiant"]):
            config.site = espace["identifiant"]
        else:
            problems.append(Problem(str(path), "[espace]", "identifiant", "doit compter de 1 à 36 lettres sans "
                                    "accent, chiffres ou tirets", "retirez la ligne : pacte en écrira un nouveau"))
    base = section("base")
    if "url" in base:
        if isinstance(base["url"], str) and base["url"].strip():
            config.base_url = base["url"].strip()
        else:
            problems.append(Problem(str(path), "[base]", "url", "doit être une adresse SQLAlchemy", None))
    dep = section("departement")
    if "code" in dep:
        config.departement = str(dep["code"])
    gen = section("generation")
    for name, attribute, default in (("delai_pdf_secondes", "pdf_timeout", 600),
                                     ("delai_rendu_secondes", "render_timeout", 60)):
        timeout = gen.get(name, default)
        if isinstance(timeout, int | float) and not isinstance(timeout, bool) and 0 < timeout <= MAX_DELAY_SECONDS:
            setattr(config, attribute, float(timeout))
        else:  # inf and nan too: a limit that never comes is no limit
            problems.append(Problem(str(path), "[generation]", name,
                                    f"doit être un nombre de secondes, de plus de 0 à {MAX_DELAY_SECONDS}",
                                    f"par exemple {name} = {default}"))
    processes = gen.get("processus_pdf", 2)
    if isinstance(processes, int) and not isinstance(processes, bool) and 1 <= processes <= 64:
        config.pdf_processes = processes
    else:
        problems.append(Problem(str(path), "[generation]", "processus_pdf", "doit être un entier de 1 à 64"))
    alerts = section("alertes")

    def thresholds(value: Any, where: str, name: str) -> list[int] | None:
        if isinstance(value, list) and value and all(
                isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= 3650 for s in value):
            return sorted(set(value), reverse=True)
        problems.append(Problem(str(path), where, name, "doit être une liste non vide de jours (entiers de 0 à 3650)",
                                "par exemple seuils_jours = [180, 90, 30, 0]"))
        return None

    config.seuils_jours = thresholds(alerts.get("seuils_jours", config.seuils_jours), "[alertes]",
                                     "seuils_jours") or config.seuils_jours
    by_type = alerts.get("seuils_par_type", {})
    if isinstance(by_type, dict):
        for type_, value in by_type.items():
            if type_ not in values(ConventionType):
                problems.append(Problem(str(path), "[alertes.seuils_par_type]", type_, "type de convention inconnu",
                                        "types : " + ", ".join(values(ConventionType))))
                continue
            parsed = thresholds(value, "[alertes.seuils_par_type]", type_)
            if parsed:
                config.seuils_par_type[type_] = parsed
    else:
        problems.append(Problem(str(path), "[alertes]", "seuils_par_type", "doit être une section",
                                "[alertes.seuils_par_type] puis france_travail = [270, 180, 90, 30, 0]"))
    reprise = alerts.get("reprise_minutes", 30)
    if isinstance(reprise, int) and not isinstance(reprise, bool) and reprise >= MIN_REPRISE_MINUTES:
        config.reprise_minutes = reprise
    else:
        # below it, a run would take over alerts another run is still sending, and send them twice
        problems.append(Problem(str(path), "[alertes]", "reprise_minutes",
                                f"doit être un nombre de minutes, au moins {MIN_REPRISE_MINUTES}",
                                "un envoi interrompu est repris après ce délai ; en dessous, deux exécutions "
                                "enverraient deux fois la même alerte"))
    signature = section("signature")
    authorities = signature.get("autorites", [])
    if isinstance(authorities, list) and all(isinstance(a, str) and a.strip() for a in authorities):
        config.autorites = [a.strip() for a in authorities]
    else:
        problems.append(Problem(str(path), "[signature]", "autorites", "doit être une liste de fichiers PEM",
                                'par exemple autorites = ["autorites/ac-departement.pem"]'))
    config.archivage = section("archivage")
    serveur = section("serveur")
    host = serveur.get("hote", config.hote)
    if isinstance(host, str) and host.strip():
        config.hote = host.strip()
    else:
        problems.append(Problem(str(path), "[serveur]", "hote", "doit être une adresse",
                                'par exemple hote = "127.0.0.1"'))
    port = serveur.get("port", config.port)
    if isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535:
        config.port = port
    else:
        problems.append(Problem(str(path), "[serveur]", "port", "doit être un entier de 1 à 65535", "par exemple 8000"))
    public = serveur.get("url_publique")
    if public is not None:
        if isinstance(public, str) and re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", public.strip()):
            config.url_publique = public.strip().rstrip("/")
        else:
            problems.append(Problem(str(path), "[serveur]", "url_publique", "doit être une adresse http(s)://…",
                                    'par exemple url_publique = "https://pacte.departement.fr"'))
    staff = section("agents")
    idle = staff.get("inactivite_minutes", 30)
    if isinstance(idle, int) and not isinstance(idle, bool) and 1 <= idle <= 24 * 60:
        config.inactivite_minutes = idle
    else:
        problems.append(Problem(str(path), "[agents]", "inactivite_minutes", "doit être un entier de 1 à 1440",
                                "par exemple inactivite_minutes = 30"))
    secure = staff.get("cookie_securise", True)
    if isinstance(secure, bool):
        config.cookie_securise = secure
    else:
        problems.append(Problem(str(path), "[agents]", "cookie_securise", "doit être true ou false", None))
    for name in ("oidc_emetteur", "oidc_client"):
        value = staff.get(name)
        if value is None:
            continue
        if isinstance(value, str) and value.strip() and (name == "oidc_client" or
                                                         re.fullmatch(r"https?://[^\s?#]+", value.strip())):
            setattr(config, name, value.strip().rstrip("/") if name == "oidc_emetteur" else value.strip())
        else:
            problems.append(Problem(str(path), "[agents]", name, "doit être une adresse http(s)://… (l'émetteur) ou "
                                    "un identifiant (le client)", 'par exemple oidc_emetteur = '
                                    '"https://sso.departement.fr/realms/agents"'))
    if bool(config.oidc_emetteur) != bool(config.oidc_client):
        problems.append(Problem(str(path), "[agents]", "oidc_client", "oidc_emetteur et oidc_client vont ensemble",
                                "donnez les deux, ou aucun pour des comptes locaux seulement"))
    for secret in ("secret", "oidc_secret", "secret_session"):
        if secret in staff:
            problems.append(Problem(str(path), "[agents]", secret, "un secret ne doit jamais être écrit dans un "
                                    "fichier", "retirez cette ligne et utilisez la variable d'environnement "
                                    "PACTE_SECRET_SESSION ou PACTE_OIDC_SECRET"))
    for kind, steps in section("circuits").items():
        known = kind == "convention"
        valid = isinstance(steps, list) and all(
            isinstance(s, str) and (s.strip() in circuit.STEPS or EMAIL_LIKE.fullmatch(s.strip())) for s in steps)
        if known and valid:
            config.circuits[kind] = [s.strip() for s in steps]
        else:
            problems.append(Problem(str(path), "[circuits]", kind,
                                    "seules les conventions ont un circuit de visas" if not known else
                                    "doit être une liste d'étapes : un rôle (" + ", ".join(circuit.STEPS)
                                    + ") ou l'adresse d'un agent",
                                    'par exemple convention = ["juriste", "directeur"]'))
    config.signature_electronique = _electronic_signature(section("signature_electronique"), path, problems)
    config.smtp = section("smtp")
    if "mot_de_passe" in config.smtp:
        problems.append(
            Problem(str(path), "[smtp]", "mot_de_passe", "un mot de passe ne doit jamais être écrit dans un fichier",
                    "retirez cette ligne et utilisez la variable d'environnement PACTE_SMTP_MOT_DE_PASSE")
        )
    if problems:
        raise ValidationError(problems, f"Configuration {path} invalide :")
    return config


ELECTRONIC_SIGNATURE_KEYS = ("module", "jeton", "cle", "fichier", "horodatage")


def _electronic_signature(raw: dict[str, Any], path: Path, problems: list[Problem]) -> dict[str, str]:
    """[signature_electronique]: a PKCS#11 token (module, jeton, cle) or a PKCS#12 file (fichier), and the
    timestamping authority's address (horodatage); never a PIN or a password in the file."""
    if not raw:
        return {}
    where = "[signature_electronique]"
    found = len(problems)
    for secret in ("pin", "mot_de_passe"):
        if secret in raw:
            problems.append(Problem(str(path), where, secret, "un secret ne doit jamais être écrit dans un fichier",
                                    "retirez cette ligne et utilisez la variable d'environnement "
                                    + ("PACTE_PIN_SIGNATURE" if secret == "pin" else "PACTE_MOT_DE_PASSE_SIGNATURE")))
    for key, value in raw.items():
        if key in ("pin", "mot_de_passe"):
            continue
        if key not in ELECTRONIC_SIGNATURE_KEYS:
            problems.append(Problem(str(path), where, key, "clé inconnue", "clés : "
                                    + ", ".join(ELECTRONIC_SIGNATURE_KEYS)))
        elif not isinstance(value, str) or not value.strip():
            problems.append(Problem(str(path), where, key, "doit être un texte non vide", None))
    token = [k for k in ("module", "jeton", "cle") if k in raw]
    if "fichier" in raw and token:
        problems.append(Problem(str(path), where, "fichier", "un jeton PKCS#11 ou un fichier PKCS#12, pas les deux",
                                "gardez module, jeton et cle, ou fichier seul"))
    elif "fichier" not in raw and len(token) != 3:
        problems.append(Problem(str(path), where, "module", "le certificat du Département manque",
                                'un jeton PKCS#11 (module = "/usr/lib/…/pkcs11.so", jeton = "…", cle = "…") ou un '
                                'fichier PKCS#12 (fichier = "certificats/departement.p12")'))
    tsa = raw.get("horodatage")
    if not (isinstance(tsa, str) and re.fullmatch(r"https?://\S+", tsa.strip())):
        problems.append(Problem(str(path), where, "horodatage", "l'adresse de l'autorité d'horodatage (RFC 3161) "
                                "manque ou n'est pas une adresse http(s)",
                                'par exemple horodatage = "https://horodatage.example.fr/tsa"'))
    if len(problems) > found:
        return {}
    return {k: str(v).strip() for k, v in raw.items()}


def find_root(start: Path) -> Path:
    """The workspace *start* lies in: the nearest folder, from *start* up, that holds a pacte.toml (a command run
    from ws/conventions/CCAS-2024-001 works on ws); *start* itself when there is none."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return start


class Workspace:
    """An opened workspace: its folders, its configuration and its registry."""

    def __init__(self, root: Path, base_url: str | None = None) -> None:
        self.root = root.resolve()
        config_path = self.root / CONFIG_NAME
        if not config_path.is_file():
            raise WorkspaceError(
                f"Aucun espace de travail dans {self.root} (fichier {CONFIG_NAME} absent). "
                f"Créez-le avec « pacte init {root} » ou indiquez-en un avec --espace."
            )
        self.config = load_config(config_path)
        self.site = self.config.site or self._assign_site(config_path)
        from pacte_docs.registry.database import sqlite_url

        self.base_url = base_url or self.config.base_url or sqlite_url(self.root / DB_NAME)
        self._db: Database | None = None
        self.on_wait: Callable[[str], None] | None = None  # told when another process holds a lock we need

    def kept_files(self) -> list[Path]:
        """The files the tool keeps beside the folders it holds: the SQLite registry with its journal, WAL and lock
        files, and pacte.toml."""
        kept = [self.root / CONFIG_NAME]
        if self.base_url.startswith("sqlite:///"):
            base = Path(self.base_url.removeprefix("sqlite:///").split("?", 1)[0])
            kept += [base, *(base.with_name(base.name + suffix) for suffix in
                             ("-wal", "-shm", "-journal", ".documents.lock", ".registre.lock"))]
        return kept

    def check_output(self, path: Path, option: str) -> Path:
        """Where a file the user asks for (--sortie, an export, a calendar) may be written: never on what the tool
        keeps — the registry and its companion files, pacte.toml, archives/, conventions/, a template of
        modeles/ — whatever the path's spelling or links (PacteError, exit 1, nothing written). The path to write."""
        resolved = path.expanduser().resolve()
        kept = {k.resolve() for k in self.kept_files()}
        folders = [self.archives.resolve(), self.conventions.resolve()]
        template = resolved.parent == self.modeles.resolve() and resolved.suffix.lower() == ".docx"
        if resolved in kept or template or any(resolved == f or resolved.is_relative_to(f) for f in folders):
            raise WorkspaceError(
                f"{option} {path} : ce chemin est tenu par pacte (registre, pacte.toml, archives/, conventions/ ou "
                "modèle) et ne peut pas recevoir ce fichier. Choisissez un autre nom ou un autre dossier.")
        if resolved.is_dir():
            raise WorkspaceError(f"{option} {path} : c'est un dossier ; donnez un nom de fichier.")
        return path

    @classmethod
    def open(cls, root: str | Path | None = None, base_url: str | None = None) -> Workspace:
        """Open a workspace: *root*, else PACTE_ESPACE, else the current folder; on the registry *base_url*, else
        PACTE_BASE, else pacte.toml's [base] url, else its pacte.db. Use it as a context manager to close it."""
        folder = root if root is not None else os.environ.get("PACTE_ESPACE") or find_root(Path.cwd())
        return cls(Path(folder).expanduser(), base_url or os.environ.get("PACTE_BASE") or None)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _assign_site(self, config_path: Path) -> str:
        """Give a workspace made by an earlier version its site identifier, written into its pacte.toml; a
        read-only workspace is known by its folder instead (it writes no document anyway)."""
        site = new_site()
        try:
            write_atomic(config_path, with_site(config_path.read_text(encoding="utf-8"), site).encode("utf-8"))
        except OSError:
            return sha256_bytes(str(self.root).encode("utf-8"))[:32]
        return site

    @property
    def db(self) -> Database:
        if self._db is None:
            # Imported here: SQLAlchemy is a third of a command's start-up, and `pacte --help` needs none of it.
            from pacte_docs.registry.database import Database
            from pacte_docs.registry.queries import adopt_documents

            self._db = Database(self.base_url)
            with self._db.session() as session:
                adopt_documents(session, self.site)
        return self._db

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """The registry's lock *name* (Database.exclusive), telling on_wait if another process holds it."""
        return self.db.exclusive(name, self.on_wait)

    @property
    def modeles(self) -> Path:
        return self.root / "modeles"

    @property
    def conventions(self) -> Path:
        return self.root / "conventions"

    @property
    def archives(self) -> Path:
        return self.root / "archives"

    @property
    def tmp(self) -> Path:
        """Scratch space on the same file system, so that renames into place are atomic."""
        path = self.root / ".pacte-tmp"
        path.mkdir(exist_ok=True)
        return path

    @contextmanager
    def scratch(self, prefix: str) -> Iterator[Path]:
        """A private temporary folder in the scratch space, removed afterwards with the scratch space if empty.

        Its name carries this machine's name and this process's id (owner_tag): the folders of runs that were
        killed on this machine are removed here."""
        self.remove_dead_scratch()
        try:
            with tempfile.TemporaryDirectory(prefix=f"{prefix}{owner_tag()}-", dir=self.tmp) as folder:
                yield Path(folder)
        finally:
            if self.tmp.is_dir() and not any(self.tmp.iterdir()):
                self.tmp.rmdir()

    def remove_dead_scratch(self) -> None:
        """Remove the scratch folders of runs that are no longer running on this machine."""
        for folder in self.tmp.iterdir():
            if folder.is_dir() and owner_gone(folder.name):
                shutil.rmtree(folder, ignore_errors=True)

    def relative(self, path: Path) -> str:
        return self._resolved_inside(path).relative_to(self.root).as_posix()

    def authorities(self) -> list[bytes]:
        """The certificates of the authorities [signature] autorites names (paths relative to the workspace)."""
        found = []
        for name in self.config.autorites:
            path = self.root / name
            try:
                found.append(read_input(path, MIB, "le certificat d'autorité"))
            except InputFileError as exc:
                raise WorkspaceError(f"[signature] autorites dans {CONFIG_NAME} : {exc}") from None
        return found

    def confined(self, path: Path) -> Path:
        """*path*, when it stays inside the workspace once every symbolic link on the way is followed: nothing the
        tool writes, moves or records may land elsewhere (a folder conventions/REF linked to /tmp would)."""
        self._resolved_inside(path)
        return path

    def _resolved_inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise WorkspaceError(f"{path} mène hors de l'espace de travail (vers {resolved}), par un lien "
                                 f"symbolique : rien n'a été écrit. Remplacez le lien par un vrai dossier de "
                                 f"{self.root} et relancez.")
        return resolved

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


P = ParamSpec("P")
R = TypeVar("R")


def holding(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function, whose first argument is the workspace, holding the registry's lock *name*
    (see Database.exclusive): two processes never produce the same documents, or import, at once."""
    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            ws = args[0]
            if not isinstance(ws, Workspace):
                raise TypeError(f"{function.__name__} takes the workspace first")
            with ws.exclusive(name):
                return function(*args, **kwargs)
        return run
    return decorate


def init_workspace(root: Path, base_url: str | None = None) -> InitReport:
    """Create or complete a workspace; never overwrite a file the user may have edited."""
    report = InitReport()
    root.mkdir(parents=True, exist_ok=True)
    config_path = root / CONFIG_NAME
    if config_path.exists():
        report.kept.append(CONFIG_NAME)
    else:
        write_new(config_path, with_site(DEFAULT_CONFIG, new_site()).encode("utf-8"))
        report.created.append(CONFIG_NAME)
    for name in FOLDERS:
        folder = root / name
        if not folder.is_dir():
            folder.mkdir()
            report.created.append(name + "/")
    fingerprints = default_template_fingerprints()
    for name, data in package_templates().items():
        target = root / "modeles" / f"{name}.docx"
        label = f"modeles/{name}.docx"
        if not target.exists():
            write_new(target, data)
            report.created.append(label)
            continue
        current, earlier = fingerprints.get(name, (sha256_bytes(data), frozenset()))
        found = sha256_file(target)
        if found == current:
            report.kept.append(label)
        elif found in earlier:  # an earlier version's default that nobody edited: the new default replaces it
            write_new(target, data)
            report.updated.append(label)
        else:
            report.edited.append(label)
    workspace = Workspace(root, base_url)
    try:
        existed = workspace.base_url.startswith("sqlite") and (root / DB_NAME).exists()
        workspace.db  # noqa: B018 — opening runs the migrations
        if workspace.base_url.startswith("sqlite"):
            (report.kept if existed else report.created).append(DB_NAME)
    finally:
        workspace.close()
    return report

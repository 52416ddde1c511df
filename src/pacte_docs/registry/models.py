"""SQLAlchemy models of the registry: départements, partenaires, conventions, documents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Departement(Base):
    __tablename__ = "departement"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)
    nom: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str | None] = mapped_column(String(300))
    adresse: Mapped[str | None] = mapped_column(Text)
    ville: Mapped[str | None] = mapped_column(String(100))
    siret: Mapped[str | None] = mapped_column(String(14))  # idAttribuant of the published subsidies (SCDL)
    president_civilite: Mapped[str | None] = mapped_column(String(10))
    president_nom: Mapped[str | None] = mapped_column(String(200))
    president_qualite: Mapped[str | None] = mapped_column(String(200))
    # who signs for the Président by delegation (CGCT, L. 3221-3), and the arrêté that delegates
    signataire_civilite: Mapped[str | None] = mapped_column(String(10))
    signataire_nom: Mapped[str | None] = mapped_column(String(200))
    signataire_qualite: Mapped[str | None] = mapped_column(String(200))
    delegation_numero: Mapped[str | None] = mapped_column(String(60))
    delegation_date: Mapped[dt.date | None] = mapped_column(Date)

    conventions: Mapped[list[Convention]] = relationship(back_populates="departement")


class Partenaire(Base):
    __tablename__ = "partenaire"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    nom: Mapped[str] = mapped_column(String(300))
    commune: Mapped[str | None] = mapped_column(String(200))
    code_insee: Mapped[str | None] = mapped_column(String(5))
    siret: Mapped[str | None] = mapped_column(String(14))
    rna: Mapped[str | None] = mapped_column(String(10))  # an association's number in the Répertoire national (W…)
    adresse: Mapped[str | None] = mapped_column(Text)
    representant_civilite: Mapped[str | None] = mapped_column(String(10))
    representant_nom: Mapped[str | None] = mapped_column(String(200))
    representant_qualite: Mapped[str | None] = mapped_column(String(200))
    # the representative signs by delegation of this office (« Président du CCAS »), by this act
    delegation_delegant: Mapped[str | None] = mapped_column(String(200))
    delegation_numero: Mapped[str | None] = mapped_column(String(60))
    delegation_date: Mapped[dt.date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))


class ConventionPartenaire(Base):
    __tablename__ = "convention_partenaire"

    convention_id: Mapped[int] = mapped_column(
        ForeignKey("convention.id", ondelete="CASCADE"), primary_key=True
    )
    partenaire_id: Mapped[int] = mapped_column(ForeignKey("partenaire.id"), primary_key=True)
    rang: Mapped[int] = mapped_column(Integer)

    partenaire: Mapped[Partenaire] = relationship(lazy="joined")


class Convention(Base):
    __tablename__ = "convention"
    # a director's conventions, and the directors the team's link lists, read from the index alone
    __table_args__ = (Index("ix_convention_responsable", "responsable_email", "responsable_nom"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    departement_id: Mapped[int] = mapped_column(ForeignKey("departement.id"), index=True)
    type: Mapped[str] = mapped_column(String(20), index=True)
    modele: Mapped[str | None] = mapped_column(String(100))
    objet: Mapped[str] = mapped_column(Text)
    deliberation_instance: Mapped[str | None] = mapped_column(String(200))
    deliberation_numero: Mapped[str | None] = mapped_column(String(50))
    deliberation_date: Mapped[dt.date | None] = mapped_column(Date)
    # The partner's own délibération authorising its representant to sign (conseil municipal, CA du CCAS), if known.
    deliberation_partenaire_instance: Mapped[str | None] = mapped_column(String(200))
    deliberation_partenaire_numero: Mapped[str | None] = mapped_column(String(50))
    deliberation_partenaire_date: Mapped[dt.date | None] = mapped_column(Date)
    date_signature: Mapped[dt.date | None] = mapped_column(Date)
    # signed by the Département in pacte (services.esignature): one electronic original, signed by each party
    signature_electronique: Mapped[bool] = mapped_column(default=False, server_default=false())
    date_effet: Mapped[dt.date] = mapped_column(Date)
    duree_mois: Mapped[int] = mapped_column(Integer, default=36)
    renouvellement: Mapped[str] = mapped_column(String(10))
    renouvellements_max: Mapped[int] = mapped_column(Integer, default=1)
    preavis_mois: Mapped[int] = mapped_column(Integer, default=3)
    responsable_nom: Mapped[str | None] = mapped_column(String(200))
    responsable_email: Mapped[str] = mapped_column(String(254))
    territoire: Mapped[str | None] = mapped_column(String(300))
    montant: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    taux_fse: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    fse_accorde_le: Mapped[dt.date | None] = mapped_column(Date)  # the FSE+ grant decision; requested until then
    date_denonciation: Mapped[dt.date | None] = mapped_column(Date)
    motif_denonciation: Mapped[str | None] = mapped_column(Text)
    # the délibération that decides the dénonciation, which the letter notifies (its blanks are filled from it)
    denonciation_deliberation_numero: Mapped[str | None] = mapped_column(String(60))
    denonciation_deliberation_date: Mapped[dt.date | None] = mapped_column(Date)
    engagements_departement: Mapped[list[str]] = mapped_column(JSON, default=list)
    engagements_partenaire: Mapped[list[str]] = mapped_column(JSON, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # A subsidy's payment schedule, one payment per line (« 50 % à la signature de la convention »), and the
    # budget line it is charged to.
    versements: Mapped[list[str]] = mapped_column(JSON, default=list)
    imputation: Mapped[str | None] = mapped_column(String(300))
    objectifs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    departement: Mapped[Departement] = relationship(back_populates="conventions", lazy="joined")
    liens: Mapped[list[ConventionPartenaire]] = relationship(
        order_by=ConventionPartenaire.rang, cascade="all, delete-orphan", lazy="selectin"
    )

    renouvellements: Mapped[list[Renouvellement]] = relationship(
        order_by="Renouvellement.numero", cascade="all, delete-orphan", lazy="selectin")
    avenants: Mapped[list[Avenant]] = relationship(
        order_by="Avenant.numero", cascade="all, delete-orphan", lazy="selectin")

    @property
    def partenaires(self) -> list[Partenaire]:
        return [lien.partenaire for lien in self.liens]


# A director's link finds their conventions (and their references) on this index, whatever the case in which the
# registry writes the address (queries.of_responsable).
Index("ix_convention_responsable_minuscules", func.lower(Convention.responsable_email), Convention.reference)


class Renouvellement(Base):
    """An express renewal: the decision that opens period `periode`."""

    __tablename__ = "renouvellement"
    __table_args__ = (UniqueConstraint("convention_id", "numero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"))
    numero: Mapped[int] = mapped_column(Integer)  # 1 for the first renewal, which opens period 2
    date: Mapped[dt.date] = mapped_column(Date)
    deliberation_numero: Mapped[str | None] = mapped_column(String(50))


class Avenant(Base):
    __tablename__ = "avenant"
    __table_args__ = (UniqueConstraint("convention_id", "numero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"))
    numero: Mapped[int] = mapped_column(Integer)
    objet: Mapped[str] = mapped_column(Text)
    date: Mapped[dt.date | None] = mapped_column(Date)
    periode: Mapped[int] = mapped_column(Integer)  # the period whose end it may move
    nouvelle_fin: Mapped[dt.date | None] = mapped_column(Date)
    deliberation_numero: Mapped[str | None] = mapped_column(String(60))  # the délibération approving it
    deliberation_date: Mapped[dt.date | None] = mapped_column(Date)
    # The articles it changes, each with its new wording: {"article": "4", "mode": "complete"|"remplace", "texte"}
    modifications: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class Evenement(Base):
    """The append-only journal of a convention: what happened, when, with which document."""

    __tablename__ = "evenement"

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    quand: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    nature: Mapped[str] = mapped_column(String(30))
    date: Mapped[dt.date | None] = mapped_column(Date)  # the date the event has in the convention's life
    description: Mapped[str] = mapped_column(Text)
    document: Mapped[str | None] = mapped_column(String(500))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    auteur: Mapped[str | None] = mapped_column(String(300))  # « Nom <courriel> » of the agent, from the staff pages


class AlerteEnvoi(Base):
    """The ledger of alerts: one row per (convention, period, threshold), claimed before sending."""

    __tablename__ = "alerte_envoi"
    __table_args__ = (UniqueConstraint("convention_id", "periode", "seuil"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"))
    periode: Mapped[int] = mapped_column(Integer)
    # "180", "90", "30", "0", "depasse", "expiree"; "piece:<key>" for a document late (periode: its exercice)
    seuil: Mapped[str] = mapped_column(String(40))
    etat: Mapped[str] = mapped_column(String(10))  # "envoi" (claimed, being sent) | "envoye"
    destinataire: Mapped[str] = mapped_column(String(254))
    message_id: Mapped[str] = mapped_column(String(200))
    proprietaire: Mapped[str] = mapped_column(String(200))  # machine@pid of the run that claimed it (owner_tag)
    reserve_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    envoye_le: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Acces(Base):
    """A personal link to the directors' pages and calendar (`pacte acces creer`). The token itself is never
    stored: only its first characters (to find it, and to name it in `pacte acces lister`) and its SHA-256."""

    __tablename__ = "acces"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefixe: Mapped[str] = mapped_column(String(12), index=True)
    empreinte: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the token, hex
    graine: Mapped[str] = mapped_column(String(64))  # random; with the workspace's key, gives back the token
    site: Mapped[str | None] = mapped_column(String(36))  # the workspace whose key made it
    responsable: Mapped[str | None] = mapped_column(String(254), index=True)  # None: the whole team's link
    cree_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    origine: Mapped[str] = mapped_column(String(20))  # "commande" (pacte acces creer) | "courriel" (alert e-mail)
    revoque_le: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Document(Base):
    """A generated or archived file, with the fingerprints that make it verifiable."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("site", "chemin", name="uq_document_site_chemin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The workspace that made the file ([espace] identifiant of its pacte.toml): sites sharing a registry each
    # see, verify and archive their own files only.
    site: Mapped[str | None] = mapped_column(String(36), index=True)
    convention_id: Mapped[int | None] = mapped_column(
        ForeignKey("convention.id", ondelete="SET NULL"), index=True
    )
    # convention | avenant | renouvellement | denonciation | signe | pdi_pti | bilan
    nature: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(5))  # docx | pdf
    cle: Mapped[str] = mapped_column(String(80), index=True)  # stable name of the output, e.g. CCAS-2024-001
    version: Mapped[int] = mapped_column(Integer)
    chemin: Mapped[str] = mapped_column(String(500))  # relative to the workspace, POSIX separators
    archive: Mapped[bool] = mapped_column(default=False)
    sha256: Mapped[str] = mapped_column(String(64))
    modele_sha256: Mapped[str | None] = mapped_column(String(64))
    source_sha256: Mapped[str | None] = mapped_column(String(64))  # the DOCX a PDF was made from
    empreinte: Mapped[str | None] = mapped_column(String(64))  # fingerprint of the data rendered
    pdfa: Mapped[bool] = mapped_column(default=False)
    # The text of a signed act: it stays the current document whatever changes later (template, data, renewal).
    fige: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A signed copy: what was found when it was recorded (documents.signatures.Verification.as_json)
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cree_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Pacte(Base):
    """The unified PDI/PTI document: programme départemental and pacte territorial d'insertion."""

    __tablename__ = "pacte"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    departement_id: Mapped[int] = mapped_column(ForeignKey("departement.id"), index=True)
    titre: Mapped[str] = mapped_column(String(300))
    periode_debut: Mapped[int] = mapped_column(Integer)
    periode_fin: Mapped[int] = mapped_column(Integer)
    adoption_instance: Mapped[str | None] = mapped_column(String(200))
    adoption_numero: Mapped[str | None] = mapped_column(String(60))  # the adopting délibération's number
    adoption_date: Mapped[dt.date | None] = mapped_column(Date)
    # What the Assemblée does with the annual bilan, as the PDI/PTI provides: approbation or prise_acte
    bilan_decision: Mapped[str] = mapped_column(String(20), default="prise_acte", server_default="prise_acte")
    contexte: Mapped[str | None] = mapped_column(Text)
    diagnostic: Mapped[list[str]] = mapped_column(JSON, default=list)  # key figures, one per line
    methode: Mapped[str | None] = mapped_column(Text)
    gouvernance: Mapped[list[str]] = mapped_column(JSON, default=list)
    engagements: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)  # partner code → commitments

    departement: Mapped[Departement] = relationship(lazy="joined")
    liens: Mapped[list[PacteCosignataire]] = relationship(
        order_by="PacteCosignataire.rang", cascade="all, delete-orphan", lazy="selectin")
    axes: Mapped[list[Axe]] = relationship(order_by="Axe.numero", cascade="all, delete-orphan", lazy="selectin")
    # its versions once revised: the pacte as adopted (rang 0), then each revision by délibération
    revisions: Mapped[list[PacteRevision]] = relationship(
        order_by="PacteRevision.rang", cascade="all, delete-orphan", lazy="selectin")

    @property
    def cosignataires(self) -> list[Partenaire]:
        return [lien.partenaire for lien in self.liens]


class PacteCosignataire(Base):
    __tablename__ = "pacte_cosignataire"

    pacte_id: Mapped[int] = mapped_column(ForeignKey("pacte.id", ondelete="CASCADE"), primary_key=True)
    partenaire_id: Mapped[int] = mapped_column(ForeignKey("partenaire.id"), primary_key=True)
    rang: Mapped[int] = mapped_column(Integer)

    partenaire: Mapped[Partenaire] = relationship(lazy="joined")


class Axe(Base):
    __tablename__ = "axe"
    __table_args__ = (UniqueConstraint("pacte_id", "numero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pacte_id: Mapped[int] = mapped_column(ForeignKey("pacte.id", ondelete="CASCADE"))
    numero: Mapped[int] = mapped_column(Integer)
    intitule: Mapped[str] = mapped_column(String(300))
    nature: Mapped[str] = mapped_column(String(20))  # professionnelle | sociale
    objectifs: Mapped[list[str]] = mapped_column(JSON, default=list)
    referent: Mapped[str | None] = mapped_column(String(300))  # référent thématique: a function or an agent

    fiches: Mapped[list[FicheAction]] = relationship(
        order_by="FicheAction.rang", cascade="all, delete-orphan", lazy="selectin")


class FicheAction(Base):
    __tablename__ = "fiche_action"
    __table_args__ = (UniqueConstraint("axe_id", "numero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    axe_id: Mapped[int] = mapped_column(ForeignKey("axe.id", ondelete="CASCADE"))
    numero: Mapped[str] = mapped_column(String(10))  # "1.1"
    rang: Mapped[int] = mapped_column(Integer)
    intitule: Mapped[str] = mapped_column(String(300))
    contexte: Mapped[str | None] = mapped_column(Text)
    objectifs: Mapped[list[str]] = mapped_column(JSON, default=list)
    public: Mapped[str | None] = mapped_column(Text)
    pilote: Mapped[str | None] = mapped_column(String(300))
    partenaires: Mapped[list[str]] = mapped_column(JSON, default=list)  # partner codes
    modalites: Mapped[str | None] = mapped_column(Text)
    calendrier: Mapped[str | None] = mapped_column(Text)
    indicateurs: Mapped[list[str]] = mapped_column(JSON, default=list)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    financeurs: Mapped[list[str]] = mapped_column(JSON, default=list)
    referent: Mapped[str | None] = mapped_column(String(300))  # référent thématique: a function or an agent


class PacteRevision(Base):
    """One version of a pacte's axes and fiches-actions, as a délibération left them: rang 0 is the pacte as first
    adopted, then 1, 2… each revision. *contenu* is the whole consolidated content in force from *date* (axes and
    fiches in the import format, each marked with the rang that added it and those that amended it); *changements*
    what this revision added, amended and closed. Axe and FicheAction hold the latest version's content."""

    __tablename__ = "pacte_revision"
    __table_args__ = (UniqueConstraint("pacte_id", "rang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pacte_id: Mapped[int] = mapped_column(ForeignKey("pacte.id", ondelete="CASCADE"), index=True)
    rang: Mapped[int] = mapped_column(Integer)
    instance: Mapped[str | None] = mapped_column(String(200))
    numero: Mapped[str | None] = mapped_column(String(60))
    date: Mapped[dt.date | None] = mapped_column(Date)
    objet: Mapped[str | None] = mapped_column(Text)
    contenu: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    changements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    enregistre_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SuiviFiche(Base):
    """One dated state of an axe or a fiche-action of a pacte, as its référent reports it: the whole history is
    kept. Keyed by the pacte and the number (« fiche:1.1 », « axe:2 »), so that a revision never loses it."""

    __tablename__ = "suivi_fiche"
    __table_args__ = (Index("ix_suivi_fiche_pacte_cible", "pacte_id", "cible", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pacte_id: Mapped[int] = mapped_column(ForeignKey("pacte.id", ondelete="CASCADE"))
    cible: Mapped[str] = mapped_column(String(20))
    date: Mapped[dt.date] = mapped_column(Date)
    etat: Mapped[str] = mapped_column(String(20))
    commentaire: Mapped[str | None] = mapped_column(Text)
    referent: Mapped[str | None] = mapped_column(String(300))
    par: Mapped[str] = mapped_column(String(300))
    enregistre_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    pacte: Mapped[Pacte] = relationship(lazy="joined")

    @property
    def pacte_reference(self) -> str:
        return self.pacte.reference


class Realisation(Base):
    """Yearly aggregated figures of an axis, a fiche-action or a convention — never a person."""

    __tablename__ = "realisation"
    __table_args__ = (UniqueConstraint("departement_id", "annee", "cible"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departement_id: Mapped[int] = mapped_column(ForeignKey("departement.id"))
    annee: Mapped[int] = mapped_column(Integer, index=True)
    cible: Mapped[str] = mapped_column(String(60))  # "axe:1", "fiche:1.1" or "convention:REF"
    axe: Mapped[int | None] = mapped_column(Integer)
    fiche: Mapped[str | None] = mapped_column(String(10))
    convention_id: Mapped[int | None] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"))
    actions_financees: Mapped[int | None] = mapped_column(Integer)
    credits_engages: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    credits_consommes: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    personnes_accompagnees: Mapped[int | None] = mapped_column(Integer)
    entrees: Mapped[int | None] = mapped_column(Integer)
    dont_brsa: Mapped[int | None] = mapped_column(Integer)
    sorties_emploi: Mapped[int | None] = mapped_column(Integer)
    sorties_formation: Mapped[int | None] = mapped_column(Integer)
    creations_entreprise: Mapped[int | None] = mapped_column(Integer)
    # The département's own line ("departement"): households receiving the RSA at year end. Any line: a short
    # commentary (an axis's, a fiche's; the département's is its « difficultés et perspectives »).
    foyers_rsa: Mapped[int | None] = mapped_column(Integer)
    commentaire: Mapped[str | None] = mapped_column(Text)

    departement: Mapped[Departement] = relationship(lazy="joined")
    convention: Mapped[Convention | None] = relationship(lazy="joined")


class Echeance(Base):
    """The alert window of each period of a convention, kept from its recorded facts so that `pacte alertes`
    selects in SQL, on indexed dates, the few conventions that may have an alert due on a given day."""

    __tablename__ = "echeance"

    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), primary_key=True)
    numero: Mapped[int] = mapped_column(Integer, primary_key=True)
    date_limite: Mapped[dt.date] = mapped_column(Date, index=True)
    fin_visible: Mapped[dt.date] = mapped_column(Date, index=True)  # last day an alert may be due


class Etape(Base):
    """The stretches of days over which the directors' board shows a convention the same way (rules.echeances.
    etapes), kept from its recorded facts like the alert windows: a page finds each convention's stretch of the
    day, counts the bands and picks the lines it shows in SQL, on indexes alone, at any size of registry."""

    __tablename__ = "etape"
    __table_args__ = (
        # each holds every column a page reads: the stretches of a day, to count their bands; a band's lines by
        # deadline
        Index("ix_etape_au", "au", "du", "attente", "date_limite", "renouvelable", "statut"),
        Index("ix_etape_attente", "attente", "date_limite", "du", "au", "renouvelable", "statut"),
        {"sqlite_with_rowid": False},  # SQLite keeps the rows in key order: a convention's stretches together
    )

    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), primary_key=True)
    du: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # first day; the first stretch from date.min
    au: Mapped[dt.date] = mapped_column(Date)  # last day; the last stretch to date.max
    periode: Mapped[int] = mapped_column(Integer)
    date_limite: Mapped[dt.date] = mapped_column(Date)
    statut: Mapped[str] = mapped_column(String(20))  # but for « à renouveler » (renouvelable)
    renouvelable: Mapped[bool] = mapped_column()
    attente: Mapped[bool] = mapped_column()  # a decision awaited: in a band of the board


class Agent(Base):
    """A member of staff who signs in to the staff pages (`pacte agents`): matched on the e-mail (the identity
    provider's claim, or a local account with an Argon2 hash); a role (rules.roles) says what they may do."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower case
    nom: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    mot_de_passe: Mapped[str | None] = mapped_column(String(200))  # Argon2id hash; None: identity provider only
    actif: Mapped[bool] = mapped_column(default=True)
    cree_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    echecs: Mapped[int] = mapped_column(Integer, default=0)  # failed sign-ins in a row
    dernier_echec: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # sessions opened before this moment are over (sign-out ends every session of the agent, the cookie's too)
    sessions_depuis: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # the one-time link to choose a password: the SHA-256 of its token (never the token), until it expires
    invitation: Mapped[str | None] = mapped_column(String(64))
    invitation_expire: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Travail(Base):
    """Long work started from the staff pages (services.travaux): what it is, who asked for it, where it stands —
    read by every server sharing the registry, whichever one runs it."""

    __tablename__ = "travail"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    nature: Mapped[str] = mapped_column(String(20))  # documents | bilan
    parametres: Mapped[dict[str, Any]] = mapped_column(JSON)
    titre: Mapped[str] = mapped_column(String(300))
    auteur: Mapped[str] = mapped_column(String(300))  # « Nom <courriel> », as the journal names them
    etat: Mapped[str] = mapped_column(String(20))  # en_attente | en_cours | termine | echec
    phase: Mapped[str] = mapped_column(String(20), default="")
    fait: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)  # 0: how far it is cannot be said
    lignes: Mapped[list[str]] = mapped_column(JSON, default=list)  # what it did, or why it failed
    debut: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    fin: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def fini(self) -> bool:
        return self.etat in ("termine", "echec")


class Piece(Base):
    """A document a partner owes for one exercice (rules.pieces), once something happened to it: received (the
    file archived and hashed like every document) or reminded by a letter (`pacte pieces relancer`)."""

    __tablename__ = "piece"
    __table_args__ = (UniqueConstraint("convention_id", "cle", "exercice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    cle: Mapped[str] = mapped_column(String(40))  # a key of donnees/pieces.yaml
    exercice: Mapped[int] = mapped_column(Integer)
    recue_le: Mapped[dt.date | None] = mapped_column(Date)
    document: Mapped[str | None] = mapped_column(String(500))  # the received file, relative to the workspace
    relancee_le: Mapped[dt.date | None] = mapped_column(Date)  # the last reminder
    relances: Mapped[int] = mapped_column(Integer, default=0)


class Visa(Base):
    """The visa circuit of a draft convention (rules.circuit): each submission, each visa — who, when, with what
    opinion and comment, on which version (the SHA-256 of its DOCX). Appended to, never changed."""

    __tablename__ = "visa"

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    nature: Mapped[str] = mapped_column(String(12))  # soumission | visa
    tour: Mapped[int] = mapped_column(Integer)  # each submission starts a round
    etape: Mapped[int | None] = mapped_column(Integer)  # a visa: its step's index in the circuit
    attendu: Mapped[str | None] = mapped_column(String(254))  # the step as pacte.toml names it
    avis: Mapped[str | None] = mapped_column(String(12))  # favorable | defavorable
    commentaire: Mapped[str | None] = mapped_column(Text)
    par: Mapped[str] = mapped_column(String(300))  # « Nom <courriel> »
    quand: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sha256: Mapped[str] = mapped_column(String(64))

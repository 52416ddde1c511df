"""pacte_docs — conventions, PDI/PTI et bilans de la politique d'insertion d'un département."""

__version__ = "0.1.0"

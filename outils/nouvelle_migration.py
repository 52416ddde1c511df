"""Génère une migration Alembic par comparaison des modèles à une base à jour.

Usage : .venv/bin/python outils/nouvelle_migration.py "message" 0002
"""

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from pacte_docs.registry import database

with tempfile.TemporaryDirectory() as tmp:
    engine = create_engine(f"sqlite:///{Path(tmp) / 'autogen.db'}")
    database.migrate(engine)
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(database.MIGRATIONS))
        config.attributes["connection"] = connection
        command.revision(config, message=sys.argv[1], autogenerate=True, rev_id=sys.argv[2])

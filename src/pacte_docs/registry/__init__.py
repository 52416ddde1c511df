"""The registry: the database (engine, sessions, migrations), its ORM models, queries and the conventions' journal."""

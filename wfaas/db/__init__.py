"""Persistence: SQLAlchemy 2 models (models), repositories (api), engines and
transactions (session), alembic migrations (migration, migrations/)."""

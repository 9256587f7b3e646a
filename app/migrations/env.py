"""Alembic's entry point, run by app.db.Database.migrate on the connection it passes in."""

from alembic import context

connection = context.config.attributes["connection"]
# batch mode: SQLite changes a table by copying it, which later migrations may need
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

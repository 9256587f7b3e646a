"""Answers carry the client's Idempotency-Key (unique per student) and their request's hash.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(100), nullable=True))
        batch.add_column(sa.Column("request_hash", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_answers_student_idempotency_key",
                                       ["student_id", "idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_constraint("uq_answers_student_idempotency_key", type_="unique")
        batch.drop_column("request_hash")
        batch.drop_column("idempotency_key")

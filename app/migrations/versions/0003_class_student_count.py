"""Classes count their students (a join checks the size limit by updating the count, which
holds the class's row only while that one statement runs).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("classes") as batch:
        batch.add_column(sa.Column("student_count", sa.Integer, nullable=False,
                                   server_default="0"))
    op.execute("UPDATE classes SET student_count = "
               "(SELECT count(*) FROM students WHERE students.class_id = classes.id)")


def downgrade() -> None:
    with op.batch_alter_table("classes") as batch:
        batch.drop_column("student_count")

"""violation_pack: the jurisdiction pack whose rules an interaction's `violations` broke

Revision ID: c3a10f5e0008
Revises: c3a10f5e0007
Create Date: 2026-12-07 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a10f5e0008"
down_revision: str | None = "c3a10f5e0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("interactions", sa.Column("violations_jurisdiction", sa.Text(), nullable=True))
    # Flagged before this column: the account's pack now is the best record of it.
    op.execute(
        "UPDATE interactions AS i SET violations_jurisdiction = a.jurisdiction FROM accounts AS a "
        "WHERE a.tenant_id = i.tenant_id AND a.id = i.account_id "
        "AND cardinality(i.violations) > 0"
    )
    op.create_check_constraint(
        op.f("ck_interactions_violations_jurisdiction"),
        "interactions",
        "cardinality(violations) = 0 OR violations_jurisdiction IS NOT NULL",
    )


def downgrade() -> None:
    op.drop_column("interactions", "violations_jurisdiction")

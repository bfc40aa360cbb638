"""evaluation_speed: an account's schedule and last evaluation move to evaluation_schedule

Every evaluation rewrote the wide accounts row only to move `next_evaluation_at` (indexed, so
never a HOT update: a new entry in each of the table's six indexes). The narrow
evaluation_schedule row takes that churn; accounts rows change only with a decision.

Revision ID: c3a10f5e0005
Revises: c3a10f5e0004
Create Date: 2026-11-28 22:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a10f5e0005"
down_revision: str | None = "c3a10f5e0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_schedule",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("next_evaluation_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["accounts.tenant_id", "accounts.id"],
            name=op.f("fk_evaluation_schedule_tenant_id_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "account_id", name=op.f("pk_evaluation_schedule")),
    )
    op.execute(
        "INSERT INTO evaluation_schedule "
        "(tenant_id, account_id, next_evaluation_at, evaluated_at, policy_version) "
        "SELECT tenant_id, id, next_evaluation_at, evaluated_at, policy_version FROM accounts"
    )
    op.create_index(
        "ix_evaluation_schedule_due",
        "evaluation_schedule",
        ["tenant_id", "next_evaluation_at"],
        unique=False,
        postgresql_where=sa.text("next_evaluation_at IS NOT NULL"),
    )
    op.drop_index(
        "ix_accounts_due_for_evaluation",
        table_name="accounts",
        postgresql_where=sa.text("next_evaluation_at IS NOT NULL"),
    )
    for column in ("next_evaluation_at", "evaluated_at", "policy_version"):
        op.drop_column("accounts", column)


def downgrade() -> None:
    op.add_column("accounts", sa.Column("policy_version", sa.Integer(), nullable=True))
    for column in ("next_evaluation_at", "evaluated_at"):
        op.add_column("accounts", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE accounts AS a SET next_evaluation_at = s.next_evaluation_at, "
        "evaluated_at = s.evaluated_at, policy_version = s.policy_version "
        "FROM evaluation_schedule AS s WHERE s.tenant_id = a.tenant_id AND s.account_id = a.id"
    )
    op.create_index(
        "ix_accounts_due_for_evaluation",
        "accounts",
        ["tenant_id", "next_evaluation_at"],
        unique=False,
        postgresql_where=sa.text("next_evaluation_at IS NOT NULL"),
    )
    op.drop_index(
        "ix_evaluation_schedule_due",
        table_name="evaluation_schedule",
        postgresql_where=sa.text("next_evaluation_at IS NOT NULL"),
    )
    op.drop_table("evaluation_schedule")

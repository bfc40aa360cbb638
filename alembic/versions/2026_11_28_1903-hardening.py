"""hardening

Revision ID: c3a10f5e0004
Revises: c3a10f5e0003
Create Date: 2026-11-28 19:00:00+00:00
"""

from collections.abc import Sequence

revision: str = "c3a10f5e0004"
down_revision: str | None = "c3a10f5e0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""events_speed: reserved for the issue 3 (ingestion speed) workstream (no schema change yet)

Revision ID: c3a10f5e0007
Revises: c3a10f5e0006
Create Date: 2026-11-28 22:10:00+00:00
"""

from collections.abc import Sequence

revision: str = "c3a10f5e0007"
down_revision: str | None = "c3a10f5e0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

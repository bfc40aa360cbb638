"""Start a batch only when no batch in flight in this process touches one of its accounts.

Every batch locks its accounts for its whole transaction. A batch that waits on a row lock
in PostgreSQL holds the locks it already took (the lower account ids), so batches queue
behind each other even when they share nothing: a convoy, one transaction at a time. Here a
batch waits *before* taking any database lock until the accounts it names (by ref) are free
in this process, so batches that share nothing run side by side. The row locks stay the
guarantee (other processes, other endpoints); this only avoids waiting on them.

A batch holds its refs until its transaction ends (commit or rollback, seen on the session),
not until the handler returns: the commit is part of the work the next batch would wait for.
"""

import asyncio
from collections.abc import Iterable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction


class Admission:
    def __init__(self) -> None:
        self.busy: dict[tuple[int, str], int] = {}  # (tenant, ref) → batches holding it
        self.waiting: list[asyncio.Future[None]] = []  # oldest first

    def _free(self, keys: set[tuple[int, str]]) -> bool:
        return not any(key in self.busy for key in keys)

    async def enter(self, session: AsyncSession, tenant_id: int, refs: Iterable[str]) -> None:
        """Wait until these refs are free, then hold them until the session's transaction
        ends."""
        keys = {(tenant_id, ref) for ref in refs}
        while not self._free(keys):
            waiter = asyncio.get_running_loop().create_future()
            self.waiting.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self.waiting:
                    self.waiting.remove(waiter)
        for key in keys:
            self.busy[key] = self.busy.get(key, 0) + 1
        released = False

        def release(_: Session, transaction: SessionTransaction) -> None:
            nonlocal released
            if transaction.parent is not None or released:
                return  # a savepoint ended, or already released
            released = True  # the listener stays: removing it while it runs is not allowed
            self._leave(keys)

        event.listen(session.sync_session, "after_transaction_end", release)

    def _leave(self, keys: set[tuple[int, str]]) -> None:
        for key in keys:
            left = self.busy[key] - 1
            if left:
                self.busy[key] = left
            else:
                del self.busy[key]
        # Wake every waiter, oldest first; each checks its own refs again.
        for waiter in self.waiting:
            if not waiter.done():
                waiter.set_result(None)
        self.waiting.clear()


admission = Admission()

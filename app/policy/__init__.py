"""Pure decision code: facts and a `now` in, decisions and reasons out.

Nothing in this package imports SQLAlchemy, FastAPI or does I/O.
"""

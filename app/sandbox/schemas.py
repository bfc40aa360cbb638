from datetime import datetime

from pydantic import BaseModel, ConfigDict

from app.fields import Instant


class ClockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    now: Instant


class ClockOut(BaseModel):
    now: datetime
    frozen: bool


class EvaluationOut(BaseModel):
    evaluated: int
    changed: int
    as_of: datetime

"""Pure decision code: facts and a `now` in, decisions and reasons out.

Nothing in this package imports SQLAlchemy, FastAPI or does I/O.

- `document`: the policy document schema, its validation and `DEFAULT_POLICY`
  (`packs`: the jurisdiction contact packs; `names`: the literal names it uses).
- `facts`: what decisions are made from and what they are.
- `promises`: promise outcomes, the promise window, refusing a new promise.
- `tiering`: tier A / B / C with its score and rules.
- `ladder`: the stage transition table, `decide_stage`, `decide_manual_advance`.
- `evaluation`: `evaluate()`, all of the above plus `next_evaluation_at`.
- `escalation`: days past due and where an episode starts.
- `contact_rules`: `decide_contact`, may a contact be called for a whole lease, else when and
  why (`contact_facts` its inputs and outputs; `calling_window`, `contact_limits`,
  `contact_stops`, `contact_counts` its parts); `purposes`: `choose_purpose` for a task;
  `scripts`: `talking_points(purpose, stage, locale, policy)` (`talking_points`: their schema
  and validation, `talking_points_default`: the shipped en/zh lines).
- `compiled`, `digest`, `localtime`: the plain, cached forms the hot path uses.
"""

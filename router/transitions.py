"""Taking a referral from one state to another, in the database.

Each transition is one conditional UPDATE whose WHERE clause holds the states
it may start from (see `router.lifecycle`); when it changes nothing, `refusal`
says why: the referral is not the caller's (404, as if absent), or its state
forbids the action (409).
"""

from __future__ import annotations

from sqlalchemy import Connection, Update, bindparam, select, update

from router import lifecycle
from router.cases import REFERRAL_COLUMNS, find_referral_for
from router.errors import NotFound, ProblemError
from router.persistence.tables import referrals

CHANGED_COLUMNS = (*REFERRAL_COLUMNS, referrals.c.fields, referrals.c.rule_id)
_BY_ID = select(referrals.c.state).where(referrals.c.id == bindparam("referral_id"))


def transition(action: str, *, addressed: bool = True, **values) -> Update:
    """The UPDATE for `action`; bind `referral_id`, and `addressee` when the
    acting party must be the referral's contact point."""
    conditions = [
        referrals.c.id == bindparam("referral_id"),
        referrals.c.state.in_(lifecycle.sources(action)),
    ]
    if addressed:
        conditions.append(referrals.c.contact_point_id == bindparam("addressee"))

    return (
        update(referrals)
        .where(*conditions)
        .values(state=lifecycle.target(action), **values)
        .returning(*CHANGED_COLUMNS)
    )


def current_state(
    connection: Connection, referral_id: str, addressee: str | None
) -> str | None:
    """The referral's state, or None when it does not exist for `addressee`."""
    if addressee is None:
        return connection.execute(_BY_ID, {"referral_id": referral_id}).scalar()
    found = find_referral_for(connection, referral_id, addressee)

    return found.state if found is not None else None


def refusal(
    connection: Connection,
    action: str,
    referral_id: str,
    addressee: str | None = None,
) -> ProblemError:
    """Why `action` changed nothing: absent for the caller, or a wrong state."""
    state = current_state(connection, referral_id, addressee)
    if state is None:
        if addressee is None:
            return NotFound("No such referral.")
        return NotFound("No such referral is addressed to you.")

    return lifecycle.refuse(action, state)

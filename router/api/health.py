"""Health: `/livez` for the process, `/readyz` for what it depends on."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from router.delivery.broker import broker_reachable
from router.persistence.db import reading

blueprint = Blueprint("health", __name__)


@blueprint.get("/livez")
def livez():
    """The process answers; nothing else is checked."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():
    """The database and the broker both answer within a short timeout."""
    ctx = current_app.extensions["referral_router"]
    checks = {"database": _database_ok(ctx), "broker": broker_reachable(ctx.settings)}
    ready = all(checks.values())
    status = 200 if ready else 503

    return jsonify(status="ok" if ready else "unavailable", checks=checks), status


def _database_ok(ctx) -> bool:
    try:
        with reading(ctx.engine) as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False

    return True


@blueprint.get("/.well-known/referral-router-keys")
def router_keys():
    """The router's public signing key, for contact points to verify webhooks."""
    ctx = current_app.extensions["referral_router"]
    signer = ctx.signer

    return jsonify(
        router_id=ctx.settings.router_id,
        keys=[{"kid": signer.kid, "alg": signer.alg, "public_key": signer.public_pem}],
    )

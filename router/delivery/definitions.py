"""The topology as RabbitMQ definitions, for `rabbitmqctl import_definitions`.

Generated from `Topology`, so the file under `deploy/rabbitmq/` and what the
router declares at run time cannot drift apart (a test compares them). Each
contact point gets a broker user that may read its own queue and nothing
else: no configure, no write. Passwords are not shipped: every user carries
an empty password hash, which RabbitMQ accepts for no password at all, until
the operator sets one (`rabbitmqctl change_password`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kombu import Exchange, Queue

from router.delivery.broker import Topology

NOTHING = "^$"
HASHING_ALGORITHM = "rabbit_password_hashing_sha256"


def definitions(
    topology: Topology,
    contact_point_ids: Iterable[str],
    *,
    vhost: str = "/",
    router_user: str = "referral-router",
) -> dict:
    """The RabbitMQ definitions document of one router and its contact points."""
    points = sorted(set(contact_point_ids))
    queues = [
        *topology.fixed_queues(),
        *(topology.contact_point_queue(point) for point in points),
    ]
    exchanges = [
        topology.referrals,
        topology.unroutable,
        topology.parked,
        *(tier.exchange for tier in topology.retry_tiers),
    ]
    own = "^" + topology.prefix.replace(".", r"\.") + r"\..*"

    return {
        "vhosts": [{"name": vhost}],
        "users": [_user(router_user), *(_user(point) for point in points)],
        "permissions": [
            _permission(vhost, router_user, own, own, own),
            *(
                _permission(
                    vhost, point, NOTHING, NOTHING, topology.read_permission(point)
                )
                for point in points
            ),
        ],
        "exchanges": [_exchange(vhost, exchange) for exchange in exchanges],
        "queues": [_queue(vhost, queue) for queue in queues],
        "bindings": [_binding(vhost, queue) for queue in queues],
        "policies": [],
    }


def _user(name: str) -> dict:
    return {
        "name": name,
        "password_hash": "",
        "hashing_algorithm": HASHING_ALGORITHM,
        "tags": [],
    }


def _permission(vhost, user, configure, write, read) -> dict:
    return {
        "user": user,
        "vhost": vhost,
        "configure": configure,
        "write": write,
        "read": read,
    }


def _exchange(vhost: str, exchange: Exchange) -> dict:
    return {
        "name": exchange.name,
        "vhost": vhost,
        "type": exchange.type,
        "durable": True,
        "auto_delete": False,
        "internal": False,
        "arguments": dict(exchange.arguments or {}),
    }


def _queue(vhost: str, queue: Queue) -> dict:
    return {
        "name": queue.name,
        "vhost": vhost,
        "durable": True,
        "auto_delete": False,
        "arguments": dict(queue.queue_arguments or {}),
    }


def _binding(vhost: str, queue: Queue) -> dict:
    return {
        "source": queue.exchange.name,
        "vhost": vhost,
        "destination": queue.name,
        "destination_type": "queue",
        "routing_key": queue.routing_key or "",
        "arguments": {},
    }


def directory_contact_points(path: Path | None = None) -> list[str]:
    """The contact point ids of a directory file (default: the demo's)."""
    from router.demo import DEMO_DIRECTORY
    from routing_rules.yamlfile import parse_yaml

    document = parse_yaml((path or DEMO_DIRECTORY).read_text())

    return [entry["id"] for entry in document.get("contact_points", [])]

"""What every part of a running router shares: settings, clock, database,
directory and routing. Built once per process and handed to whoever needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from router.clock import Clock, SystemClock
from router.config import Settings, load_settings
from router.content_keys import ContentKeys, load_content_keys
from router.directory import DirectoryCache
from router.persistence.db import create_database_engine
from router.routing import RoutingService
from router.signer import RouterSigner, load_signer


@dataclass
class Services:
    settings: Settings
    clock: Clock
    engine: Engine
    directory: DirectoryCache
    routing: RoutingService
    signer: RouterSigner
    content_keys: ContentKeys


def build_services(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
) -> Services:
    settings = settings or load_settings()
    engine = engine or create_database_engine(settings.database_url)
    directory = DirectoryCache(engine)

    return Services(
        settings=settings,
        clock=clock or SystemClock(),
        engine=engine,
        directory=directory,
        routing=RoutingService(settings.rules_dir, directory),
        signer=load_signer(settings),
        content_keys=load_content_keys(settings),
    )

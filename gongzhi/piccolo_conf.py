"""Piccolo configuration: one PostgreSQL engine, one Piccolo app per domain package.

The DSN is applied by core.db.configure_engine() at start-up, because the embedded server's
address is only known once it runs.
"""
import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={"dsn": os.environ.get("DATABASE_URL", "postgresql://localhost/gongzhi")})

APP_REGISTRY = AppRegistry(apps=["core.piccolo_app", "tenancy.piccolo_app", "contracts.piccolo_app",
                                   "cases.piccolo_app", "evaluations.piccolo_app",
                                   "documents.piccolo_app", "meetings.piccolo_app"])

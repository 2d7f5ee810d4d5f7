from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.tables import (AuditEntry, IdempotencyRecord, OutboxEvent, WebhookDelivery,
                         WebhookSubscription)

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[AuditEntry, OutboxEvent, WebhookSubscription, WebhookDelivery,
                   IdempotencyRecord],
    migration_dependencies=[],
    commands=[],
)

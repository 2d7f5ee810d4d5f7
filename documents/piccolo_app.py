from pathlib import Path

from piccolo.conf.apps import AppConfig

from documents.pki_tables import PKI_TABLES
from documents.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="documents",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=TABLES + PKI_TABLES,
    migration_dependencies=["tenancy.piccolo_app", "contracts.piccolo_app"],
    commands=[],
)

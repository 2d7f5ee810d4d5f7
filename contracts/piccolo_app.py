from pathlib import Path

from piccolo.conf.apps import AppConfig

from contracts.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="contracts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=["tenancy.piccolo_app"],
    commands=[],
)

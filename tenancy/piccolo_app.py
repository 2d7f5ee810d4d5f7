from pathlib import Path

from piccolo.conf.apps import AppConfig

from tenancy.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="tenancy",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)

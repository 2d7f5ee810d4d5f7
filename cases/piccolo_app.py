from pathlib import Path

from piccolo.conf.apps import AppConfig

from cases.open311_tables import OPEN311_TABLES
from cases.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="cases",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[*TABLES, *OPEN311_TABLES],
    migration_dependencies=["tenancy.piccolo_app"],
    commands=[],
)

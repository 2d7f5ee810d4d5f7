from pathlib import Path

from piccolo.conf.apps import AppConfig

from evaluations.result_tables import RESULT_TABLES
from evaluations.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="evaluations",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[*TABLES, *RESULT_TABLES],
    migration_dependencies=["tenancy.piccolo_app", "contracts.piccolo_app", "cases.piccolo_app"],
    commands=[],
)

"""Bottom layer: settings, database, Redis, problem details, i18n, audit log, queue."""
import os

# Piccolo finds its engine and app registry through this module path.
os.environ.setdefault("PICCOLO_CONF", "gongzhi.piccolo_conf")

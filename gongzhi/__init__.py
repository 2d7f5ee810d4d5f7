"""Gongzhi (共治): the assembly layer — app factory, CLI, embedded services, demo data."""
import core  # noqa: F401  (sets PICCOLO_CONF)

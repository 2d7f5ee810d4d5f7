"""Demo district (placeholder until the generator lands)."""
DEMO_PASSWORD = "gongzhi-demo-2026"
LOGINS: list[tuple[str, str]] = []


async def seed_demo() -> str:
    return "no demo data yet"

"""Possible duplicates and followers.

Similar cases: open cases of the same estate and category, created in the last SIMILAR_DAYS
days, in the same building or within SIMILAR_METRES of the given point (haversine in SQL),
among the cases the caller may see; shown without reporter data. Merging (the
`mark_duplicate` action) makes the duplicate's reporter a follower of the original: followers
read the original (not its internal events) and receive its public events.
"""
from __future__ import annotations

from datetime import timezone

from cases import case_repository as repo
from cases.case_service import scope_for
from cases.schemas import SimilarCaseOut
from core.db import fetch, require_transaction
from tenancy.principal import Principal

SIMILAR_DAYS = 7
SIMILAR_METRES = 50.0
EARTH_RADIUS_M = 6_371_000.0
LIMIT = 20


def distance_sql(lat: str, lon: str) -> str:
    """Great-circle distance in metres from the point (lat, lon: SQL expressions) to the case
    `c` (haversine; exact enough at an estate's scale)."""
    return (f"(2 * {EARTH_RADIUS_M} * asin(sqrt(power(sin(radians(c.latitude - {lat}) / 2), 2)"
            f" + cos(radians({lat})) * cos(radians(c.latitude))"
            f" * power(sin(radians(c.longitude - {lon}) / 2), 2))))")


async def similar_cases(p: Principal, *, estate_id: int, category: str,
                        building_id: int | None = None, latitude: float | None = None,
                        longitude: float | None = None,
                        exclude: int | None = None) -> list[SimilarCaseOut]:
    has_point = latitude is not None and longitude is not None
    if building_id is None and not has_point:
        return []
    where, args = repo.Scope.sql(scope_for(p), 1)
    args += [estate_id, category, list(repo.OPEN_STATUSES), SIMILAR_DAYS,
             building_id, latitude if has_point else None, longitude if has_point else None,
             exclude, SIMILAR_METRES, LIMIT]
    n = len(args) - 9  # the placeholder of estate_id
    building, lat, lon, excluded = (f"${n + 4}::int", f"${n + 5}::float8", f"${n + 6}::float8",
                                    f"${n + 7}::int")
    distance = distance_sql(lat, lon)
    rows = await fetch(
        f"SELECT c.id, c.estate, c.building, c.category, c.status, c.location, c.description,"
        f" c.created_at, CASE WHEN c.latitude IS NULL OR c.longitude IS NULL OR {lat} IS NULL"
        f" THEN NULL ELSE {distance} END AS distance_m"
        f" FROM case_record c WHERE {where} AND c.estate = ${n}::int AND c.category = ${n + 1}::text"
        f" AND c.status = ANY(${n + 2}::text[]) AND c.created_at > now() - make_interval(days => ${n + 3}::int)"
        f" AND ({excluded} IS NULL OR c.id <> {excluded})"
        f" AND (({building} IS NOT NULL AND c.building = {building})"
        f" OR ({lat} IS NOT NULL AND c.latitude IS NOT NULL AND c.longitude IS NOT NULL"
        f" AND {distance} <= ${n + 8}::float8))"
        f" ORDER BY c.id DESC LIMIT ${n + 9}::int", *args)
    return [SimilarCaseOut(
        id=r["id"], estate_id=r["estate"], building_id=r["building"], category=r["category"],
        status=r["status"], location=r["location"], description=r["description"],
        created_at=r["created_at"].astimezone(timezone.utc),
        distance_m=round(r["distance_m"], 1) if r["distance_m"] is not None else None)
        for r in rows]


async def follow(tenant_id: int, case_id: int, user_id: int, via_case: int | None) -> None:
    require_transaction()
    await fetch("INSERT INTO case_follower (tenant, \"case\", \"user\", via_case, created_at)"
                " VALUES ($1, $2, $3, $4, now()) ON CONFLICT (\"case\", \"user\") DO NOTHING",
                tenant_id, case_id, user_id, via_case)

"""Stored files: all-or-nothing writes, keys that cannot leave the root, streaming reads —
against the real filesystem under tmp_path."""
from __future__ import annotations

import asyncio
import hashlib
import os
import time

import pytest
from pydantic import ValidationError

from core.settings import Settings, get_settings, reset_settings
from core.storage import (
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    Storage,
    key_for,
    storage,
)

MB = 1024 * 1024


@pytest.fixture
def store(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


def files_under(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_put_get_exists_delete_round_trip(store) -> None:
    stored = await store.put("photos/1/a.jpg", b"hello", "image/jpeg")
    assert stored.key == "photos/1/a.jpg" and stored.size == 5 and stored.content_type == "image/jpeg"
    assert await store.exists("photos/1/a.jpg")
    assert await store.get("photos/1/a.jpg") == b"hello"
    assert await store.size("photos/1/a.jpg") == 5
    assert (store.root / "photos" / "1" / "a.jpg").read_bytes() == b"hello"
    assert await store.delete("photos/1/a.jpg") is True
    assert not await store.exists("photos/1/a.jpg")
    assert await store.delete("photos/1/a.jpg") is False


async def test_put_reports_the_sha256_of_the_bytes(store) -> None:
    data = os.urandom(100_000)
    stored = await store.put("x/blob.bin", data, "application/octet-stream")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(store.path_for("x/blob.bin").read_bytes()).hexdigest() == stored.sha256


async def test_missing_objects_raise_not_found(store) -> None:
    for call in (store.get("no/such.jpg"), store.open("no/such.jpg"), store.size("no/such.jpg")):
        with pytest.raises(ObjectNotFound) as caught:
            await call
        assert caught.value.status == 404 and caught.value.key == "no/such.jpg"
    assert not await store.exists("no/such.jpg")
    await store.put("dir/file.jpg", b"x", "image/jpeg")
    with pytest.raises(ObjectNotFound):
        await store.get("dir")  # a directory is not an object


async def test_successful_writes_leave_no_temp_files(store) -> None:
    await store.put("a/one.pdf", b"1" * 1000, "application/pdf")
    await store.put("a/one.pdf", b"2" * 10, "application/pdf")

    async def chunks():
        for _ in range(3):
            yield b"z" * MB

    stored = await store.put_stream("b/two.pdf", chunks(), "application/pdf")
    assert stored.size == 3 * MB
    assert files_under(store.root) == ["a/one.pdf", "b/two.pdf"]
    assert await store.get("a/one.pdf") == b"2" * 10


async def test_a_stream_failing_midway_stores_nothing(store) -> None:
    async def failing():
        yield b"a" * MB
        yield b"b" * MB
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError, match="client went away"):
        await store.put_stream("scans/ledger.pdf", failing(), "application/pdf")
    assert not await store.exists("scans/ledger.pdf")
    assert files_under(store.root) == []


async def test_a_failed_replacement_keeps_the_old_object_whole(store) -> None:
    old = os.urandom(2 * MB)
    await store.put("scans/ledger.pdf", old, "application/pdf")

    async def failing():
        yield b"new" * 1000
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.put_stream("scans/ledger.pdf", failing(), "application/pdf")
    assert await store.get("scans/ledger.pdf") == old
    assert files_under(store.root) == ["scans/ledger.pdf"]


async def test_a_cancelled_upload_stores_nothing(store) -> None:
    async def slow():
        yield b"a" * MB
        await asyncio.sleep(30)
        yield b"never"

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(store.put_stream("up/slow.bin", slow(), "x/y"), timeout=0.2)
    assert files_under(store.root) == []


async def test_a_rename_failing_on_disk_leaves_no_temp_file(store) -> None:
    await store.put("a/b/c.jpg", b"x", "image/jpeg")  # makes a/b a directory
    with pytest.raises(OSError):
        await store.put("a/b", b"cannot replace a directory", "image/jpeg")
    with pytest.raises(OSError):
        await store.put("a/b/c.jpg/d", b"parent is a file", "image/jpeg")
    assert files_under(store.root) == ["a/b/c.jpg"]


async def test_concurrent_writers_of_one_key_leave_one_whole_object(store) -> None:
    payloads = [bytes([i]) * (512 * 1024) for i in range(12)]
    await asyncio.gather(*(store.put("same/key.bin", p, "x/y") for p in payloads))
    assert await store.get("same/key.bin") in payloads
    assert files_under(store.root) == ["same/key.bin"]


async def test_a_5_mb_object_streams_in_chunks(store) -> None:
    data = os.urandom(5 * MB)
    await store.put("big/scan.pdf", data, "application/pdf")
    chunks = [c async for c in await store.open("big/scan.pdf", chunk_size=256 * 1024)]
    assert len(chunks) == 20 and all(len(c) == 256 * 1024 for c in chunks)
    assert b"".join(chunks) == data


@pytest.mark.parametrize("key", [
    "../escape.jpg", "a/../../escape.jpg", "a/..", "/etc/passwd", "a\\..\\b", "a\x00b",
    "", "a//b", "./a", "a/", ".hidden", "a/.part", "-rf", "C:/x", "a b", "数据/x",
])
async def test_unsafe_keys_are_refused_before_touching_the_disk(store, tmp_path, key) -> None:
    with pytest.raises(InvalidKey):
        store.path_for(key)
    for call in (store.put(key, b"x", "x/y"), store.get(key), store.exists(key),
                 store.delete(key), store.open(key)):
        with pytest.raises(InvalidKey):
            await call
    assert [p for p in tmp_path.rglob("*")] == []


async def test_a_symlink_out_of_the_root_is_refused(store, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    store.root.mkdir()
    (store.root / "link").symlink_to(outside)
    with pytest.raises(InvalidKey, match="outside"):
        await store.put("link/x.jpg", b"x", "image/jpeg")
    (outside / "secret.txt").write_bytes(b"secret")
    with pytest.raises(InvalidKey):
        await store.get("link/secret.txt")
    assert [p.name for p in outside.iterdir()] == ["secret.txt"]


def test_key_for_shards_content_addressed_keys() -> None:
    digest = hashlib.sha256(b"photo").hexdigest()
    assert key_for("photos", 7, digest, ".JPG") == f"photos/7/{digest[:2]}/{digest[2:4]}/{digest}.jpg"
    assert key_for("cases/thumbs", "t-1", digest.upper(), "webp").startswith("cases/thumbs/t-1/")
    for bad in (dict(sha256="abc"), dict(ext="j/pg"), dict(ext=""), dict(tenant_id="1/2"),
                dict(namespace="../x"), dict(namespace="")):
        args = dict(namespace="photos", tenant_id=1, sha256=digest, ext="jpg") | bad
        with pytest.raises(InvalidKey):
            key_for(**args)


async def test_local_files_have_no_direct_url(store) -> None:
    assert await store.url_for("photos/1/a.jpg") is None


async def test_stale_temp_files_from_a_crash_are_swept(store) -> None:
    await store.put("p/a.jpg", b"x", "image/jpeg")
    stale, fresh = store.root / "p" / ".a.jpg.k1.part", store.root / "p" / ".b.jpg.k2.part"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    assert await store.remove_stale_temp_files(max_age_seconds=3600) == 1
    assert files_under(store.root) == ["p/.b.jpg.k2.part", "p/a.jpg"]


@pytest.fixture
def restore_settings():
    yield
    reset_settings()


def test_factory_follows_the_settings(monkeypatch, tmp_path, restore_settings) -> None:
    monkeypatch.delenv("STORAGE_DIR", raising=False)
    reset_settings()
    default = storage()
    assert isinstance(default, LocalStorage) and isinstance(default, Storage)
    assert default.root == (get_settings().data_dir / "files").absolute()
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "elsewhere"))
    reset_settings()
    assert storage().root == tmp_path / "elsewhere"
    assert storage() is storage()


def test_unknown_backends_fail_at_start_up(monkeypatch) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    with pytest.raises(ValidationError):
        Settings()

"""Shared pieces of the signing and verification tests: a small Chinese PDF rendered by
WeasyPrint with empty signature fields, an in-memory CA, principals for world users, a
registered version to sign, and poppler's pdfsig with the platform CA trusted in an NSS
database."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from documents import pki, signing
from tenancy import auth
from tenancy import repository as tenancy_repo
from tests.factories import login

HTML = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 20mm; }
body { font-family: "Noto Sans CJK SC"; font-size: 12pt; }
</style></head><body>
<h1>翠湖花园业主委员会会议纪要</h1>
<p>会议决定：更换 3 号楼电梯，费用由维修资金列支。</p>
<p>出席委员签字确认如下。</p>
</body></html>"""
# Three boxes along the bottom of the first page (PDF points from the bottom-left corner).
FIELDS = {"signer-1": (0, (40, 40, 200, 120)), "signer-2": (0, (215, 40, 375, 120)),
          "seal": (0, (390, 40, 550, 120))}
PIN = "482916"
OTHER_PIN = "739105"


def render_pdf(html: str = HTML, fields: dict | None = None) -> bytes:
    from weasyprint import HTML as WeasyHTML

    pdf = WeasyHTML(string=html).write_pdf()
    return signing.add_signature_fields(pdf, FIELDS if fields is None else fields)


def person(ca: pki.Identity, name: str, org: str) -> pki.Identity:
    key = pki.new_signing_key()
    cert = pki.issue(ca, key.public_key(), pki.make_name(name, org), purpose="sign", days=365)
    return pki.Identity(cert, key, (ca.certificate,))


def pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def pdfsig(pdf: bytes, ca_certs: list) -> str:
    """pdfsig's report on `pdf` with `ca_certs` trusted (a fresh NSS database)."""
    assert shutil.which("pdfsig") and shutil.which("certutil"), \
        "pdfsig (poppler-utils) and certutil (libnss3-tools) are needed: scripts/system_deps.sh"
    with tempfile.TemporaryDirectory() as d:
        nss = f"sql:{d}"
        subprocess.run(["certutil", "-N", "-d", nss, "--empty-password"], check=True,
                       capture_output=True)
        for i, cert in enumerate(ca_certs):
            path = Path(d) / f"ca{i}.pem"
            path.write_bytes(pem(cert))
            subprocess.run(["certutil", "-A", "-d", nss, "-n", f"ca{i}", "-t", "CT,C,C", "-i",
                            str(path)], check=True, capture_output=True)
        target = Path(d) / "doc.pdf"
        target.write_bytes(pdf)
        out = subprocess.run(["pdfsig", "-nssdir", nss, str(target)], capture_output=True,
                             text=True, timeout=60)
        return out.stdout + out.stderr


def pdfsig_signatures(report: str) -> dict[str, dict[str, str]]:
    """pdfsig's report as {field name: {label: value}}."""
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in report.splitlines():
        line = line.strip()
        if line.startswith("- Signature Field Name:"):
            current = out.setdefault(line.split(":", 1)[1].strip(), {})
        elif current is not None and line.startswith("- ") and ":" in line:
            label, value = line[2:].split(":", 1)
            current[label.strip()] = value.strip()
    return out


def pdftotext(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True,
                              text=True, check=True).stdout


async def principal(client, username: str):
    """The Principal the app builds for `username` (logged in through the API)."""
    headers = await login(client, username)
    token = headers["Authorization"].split(" ", 1)[1]
    p = await tenancy_repo.load_principal(auth.token_hash(token), auth.now())
    assert p is not None
    return p

"""`gongzhi verify FILE`: the verification report of the web page and the API, on the command
line, without the web server. By default it reads the platform CA, revocations and the document
registry from the database (DATABASE_URL, or the embedded server under DATA_DIR); with
`--no-db` it needs nothing but the file and the CA certificates given with `--trust`.
Exit status: 0 valid, 1 untrusted or unsigned, 2 tampered or not a PDF."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
from cryptography import x509

from core.i18n import gettext as _
from documents import verification

EXIT = {"valid": 0, "untrusted": 1, "unsigned": 1, "tampered": 2, "not_pdf": 2}


def _yes(flag: bool, lang: str) -> str:
    return _("yes", lang) if flag else _("no", lang)


def format_report(report: verification.Report, lang: str) -> str:
    from documents.signing import china_time

    lines = [f"{_('Verification report', lang)}: {_(report.summary, lang)}",
             f"SHA-256: {report.sha256}  ({report.size} B)"]
    for s in report.signatures:
        kind = {"document_timestamp": _("Document timestamp", lang),
                "seal": _("Electronic seal", lang)}.get(s.kind, _("Signature", lang))
        who = s.signer + (f" · {s.organization}" if s.organization and s.organization != s.signer
                          else "")
        lines.append(f"- [{s.field}] {kind}: {who}")
        lines.append(f"    {_('Intact (the signed content is unchanged)', lang)}: "
                     f"{_yes(s.intact, lang)}; {_('Valid (the signature checks out)', lang)}: "
                     f"{_yes(s.valid, lang)}; {_('Trusted (issued by a CA trusted here)', lang)}: "
                     f"{_yes(s.trusted, lang)}")
        if s.timestamp:
            lines.append(f"    {_('Timestamp', lang)}: {china_time(s.timestamp)} "
                         f"({_('Beijing time', lang)})"
                         + ("" if s.timestamp_trusted else f" — {_('not trusted', lang)}"))
        if s.revoked_at:
            lines.append("    " + _("Certificate revoked on %(date)s", lang)
                         % {"date": china_time(s.revoked_at)})
        if s.problem:
            lines.append(f"    {_('Problem', lang)}: {s.problem}")
    reg = report.registry
    if reg.matched:
        lines.append(_("Yes: this file is exactly %(number)s «%(title)s», version %(version)s.",
                       lang) % {"number": reg.number, "title": reg.title,
                                "version": reg.version})
        if reg.is_latest:
            lines.append(_("It is the latest version, with every signature added so far.", lang))
        elif not reg.is_current_version:
            lines.append(_("A newer version (%(v)s) of this document exists.", lang)
                         % {"v": reg.latest_version})
        else:
            lines.append(_("Signatures were added to this version after this copy was made; ask "
                           "for the latest file.", lang))
    return "\n".join(lines)


def as_json(report: verification.Report) -> str:
    from documents.verification_controllers import report_out
    import msgspec

    return msgspec.json.encode(report_out(report)).decode()


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM file of CA certificates to trust as well (repeatable)")
@click.option("--no-db", is_flag=True, help="Do not read the platform CA, revocations and the "
                                            "registry from the database (needs --trust)")
@click.option("--json", "as_json_", is_flag=True, help="Print the API's JSON report")
@click.option("--lang", default="zh-CN", type=click.Choice(["zh-CN", "en"]))
def verify(file: Path, trust: tuple[Path, ...], no_db: bool, as_json_: bool, lang: str) -> None:
    """Verify a PDF's signatures and whether it is a registered document."""
    data = file.read_bytes()
    extra = [c for path in trust for c in x509.load_pem_x509_certificates(path.read_bytes())]
    if no_db:
        if not extra:
            raise click.UsageError("--no-db needs the CA certificates to trust (--trust)")
        report = verification.check_pdf(data, extra)
    else:
        from core.embedded import ensure_services
        from core.db import close_pool, start_pool

        ensure_services()

        async def run():
            await start_pool()
            try:
                return await verification.verify(data, extra_roots=extra)
            finally:
                await close_pool()

        report = asyncio.run(run())
    click.echo(as_json(report) if as_json_ else format_report(report, lang))
    sys.exit(EXIT[report.verdict])

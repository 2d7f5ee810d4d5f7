"""The access matrix's expectations: persona × resource kind × read/write → outcome.

Personas are side a1's (tests/factories.py) plus `other_resident`, the owner of a unit in
another estate of the same street. Outcomes: "ok" (2xx), "denied" (403/404), "rule" (the caller
passed the permission check and a business rule refused this particular change: an active
contract is not edited, a result is computed only once the campaign is closed, one open
objection per result, one vote per voter, a signer out of turn or with a wrong PIN, minutes not
yet sealed), "public" (case events without the internal ones).

Sources, per row: DESIGN.md §2 (personas' jobs), §3 (who sees what), §4 (PIPL masking); where
DESIGN is silent, the owning package's documented rule (docstring or README paragraph) named in
the comment.
"""
from __future__ import annotations

PERSONAS = ("bureau:admin", "bureau:staff", "street_office:admin", "street_office:staff",
            "residents_committee:admin", "residents_committee:grid_worker",
            "owners_committee:admin", "owners_committee:chair", "owners_committee:member",
            "property_company:admin", "property_company:manager", "property_company:handler",
            "resident", "other_resident")
#        columns:  bureau  street  res.c.  owners' c.  property c.  resident other_resident
#                  BA BS   SA SS   RA RG   OA OC OM    PA PM PH     R        OR
_CODES = {"Y": "ok", "-": "denied", "r": "rule", "p": "public"}
_TABLE = {
    # --- read -------------------------------------------------------------------------------
    # Places: every organisation sees the places it covers (tenancy guards `view_places`); a
    # resident uses cases, not the place registry.
    ("places", "read"): "YYYYYYYYYYYY--",
    # People: owners are seen (masked) by every covering organisation (tenancy OWNER_READERS);
    # a person sees themself; an owner of another estate sees nobody here.
    ("people", "read"): "YYYYYYYYYYYYY-",
    # Full contact (logged view): DESIGN §4 "roles that need them" = tenancy CONTACT_READERS
    # (residents' committee admin/director/staff/grid worker, owners' committee admin/chair/
    # vice chair/secretary, property company admin/manager/dispatcher) and the person themself.
    ("person_contact", "read"): "----YYYY-YY-Y-",
    ("organisations", "read"): "YYYYYYYYYYYY--",
    ("memberships", "read"): "YYYYYYYYYYYY--",
    # Cases: the shared record of every body covering the estate (DESIGN §1, §3), and the
    # reporter follows their own case (§2); nobody outside the estate.
    ("cases", "read"): "YYYYYYYYYYYYY-",
    # Internal events: organisations only (cases.case_service.org_view); the reporter sees the
    # public ones.
    ("case_events", "read"): "YYYYYYYYYYYYp-",
    ("attachments", "read"): "YYYYYYYYYYYYY-",
    # Contracts: read by every organisation covering the estate; a property company its own
    # (README, contracts). Residents: not in DESIGN; contracts' rule gives them nothing.
    ("contracts", "read"): "YYYYYYYYYYYY--",
    ("contract_documents", "read"): "YYYYYYYYYYYY--",
    # Co-building agreements: the parties (the residents' committee and its partner, here the
    # property company), the street office and the bureau read them (README, contracts).
    ("agreements", "read"): "YYYYYY---YYY--",
    # Webhooks and Open311 keys: the owning organisation's administrators (tenancy
    # `administers`: its admin, or a tenant administrator = bureau admin).
    ("webhooks", "read"): "Y--------Y----",
    ("open311_keys", "read"): "Y--------Y----",
    # Campaigns: every organisation; the estate's residents for its survey (evaluations).
    ("eval_campaigns", "read"): "YYYYYYYYYYYYY-",
    # A draft submission: members of the evaluator organisation only; the bureau reads
    # submitted ones; the evaluated company never sees a draft (evaluations.submission_service).
    ("eval_submissions", "read"): "------YYY-----",
    # Survey summary (aggregates only): every organisation of the estate and its owners.
    ("eval_survey", "read"): "YYYYYYYYYYYYY-",
    ("eval_results", "read"): "YYYYYYYYYYYY--",
    ("eval_objections", "read"): "YYYYYYYYYYYY--",
    # Registered documents: the owning organisation and the organisations it concerns, the
    # bureau (documents); owners read no documents directly (meetings.notice_documents).
    ("documents", "read"): "YYYYYYYYYYYY--",
    # A joint meeting: the convener, invitees, street office and bureau; not residents.
    ("meetings", "read"): "YYYYYYYYYYYY--",
    # The vote list: the meeting's secretary only (meetings.vote_service.list_votes).
    ("votes", "read"): "----Y---------",
    ("minutes", "read"): "YYYYYYYYYYYY--",
    # Public notices: the estate's owners and its organisations (DESIGN §3 "public-notice copy").
    ("notices", "read"): "YYYYYYYYYYYYY-",
    # --- write ------------------------------------------------------------------------------
    # Estates: street office and residents' committee administrators (tenancy.guards
    # manages_places, level "estate"), or a tenant administrator.
    ("places", "write"): "Y-Y-Y---------",
    # People: PLACE_MANAGERS (street office admin, residents' committee admin/director, owners'
    # committee admin/chair) and tenant administrators.
    ("people", "write"): "Y-Y-Y-YY------",
    # An organisation: its own administrators or a tenant administrator.
    ("organisations", "write"): "Y-----Y-------",
    ("memberships", "write"): "Y--------Y----",
    # Comments: every party to the case and the reporter (DESIGN §2 "follow it").
    ("cases", "write"): "YYYYYYYYYYYYY-",
    ("case_events", "write"): "YYYYYYYYYYYY--",
    ("attachments", "write"): "YYYYYYYYYYYYY-",
    # Accepting a submitted case (cases.lifecycle "accept": dispatcher or coordinator): the
    # responsible company's admin/manager (DISPATCH_ROLES) and the residents' committee
    # covering the estate (any role); the street office acts on escalations only.
    ("case_dispatch", "write"): "----YY---YY---",
    # Contracts: bureau admins, the street office's admins, the owners' committee chair/admins
    # (README, contracts); the active contract itself refuses edits ("rule").
    ("contracts", "write"): "r-r---rr------",
    ("contract_documents", "write"): "Y-Y---YY------",
    # Agreements: the committee's admins/directors, the street office's admins, the bureau.
    ("agreements", "write"): "Y-Y-Y---------",
    ("webhooks", "write"): "Y--------Y----",
    ("open311_keys", "write"): "Y--------Y----",
    # Campaigns: DESIGN §2 gives campaigns to the housing bureau; evaluations.campaign_service
    # narrows it to the bureau's administrators.
    ("eval_campaigns", "write"): "Y-------------",
    # Submissions: the evaluator organisation's members (owners' committee: any member).
    ("eval_submissions", "write"): "------YYY-----",
    # Starting an evaluation (evaluations.submission_service): the owners' committee (any
    # member), the residents' committee's admins/directors/staff (not a grid worker), the street
    # office and the bureau; never the evaluated company (DESIGN §3). A resident naming the
    # owners' committee gets the `referenced` 422 (an organisation they cannot act for).
    ("eval_submission_start", "write"): "YYYYY-YYY---r-",
    # The satisfaction survey: owners of the estate only, one answer per household (the
    # world's owner has answered: rule).
    ("eval_survey", "write"): "------------r-",
    # Computing results: bureau administrators, once the campaign is closed (it is open: rule).
    ("eval_results", "write"): "r-------------",
    # Objections: the evaluated company's admins and managers (one is open already: rule).
    ("eval_objections", "write"): "---------rr---",
    # Signing: the listed signers only, in turn (chair, residents' committee admin, the owners'
    # committee seal by its admins); a wrong PIN is refused for the PIN.
    ("documents", "write"): "----r-rr------",
    # Meetings, votes, minutes, notices: the convener's secretary roles (meetings.meeting_service
    # CONVENERS: not a grid worker); votes by the attending organisations' representatives.
    ("meetings", "write"): "----r---------",
    ("votes", "write"): "----r---------",
    ("minutes", "write"): "----Y---------",
    ("notices", "write"): "----r---------",
}
EXPECTED = {(persona, kind, op): _CODES[row[i]] for (kind, op), row in _TABLE.items()
            for i, persona in enumerate(PERSONAS)}
assert all(len(row) == len(PERSONAS) for row in _TABLE.values())

# Which collected responses may carry the victim's full name and phone number (DESIGN §4: the
# reporter, the assigned handler and roles that need them; every such view logged): the logged
# contact view of CONTACT_READERS and the person themself; the case as read by its reporter and
# by the responsible organisation's contact roles (cases.case_service CONTACT_ROLES: the
# property company's manager here, its admin not).
UNMASKED = {*((p, "person_contact", "read") for p in PERSONAS
              if EXPECTED[(p, "person_contact", "read")] == "ok"),
            ("resident", "cases", "read"), ("property_company:manager", "cases", "read"),
            # ... and the case a contact role gets back from its own action on it.
            ("property_company:manager", "case_dispatch", "write")}

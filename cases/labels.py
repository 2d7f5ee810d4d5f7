"""Human labels of case statuses, categories and priorities (msgids; translate with `_()`)."""
from __future__ import annotations

from core.i18n import N_

STATUS_LABELS = {
    "submitted": N_("Submitted"), "accepted": N_("Accepted"), "assigned": N_("Assigned"),
    "acknowledged": N_("Acknowledged"), "in_progress": N_("In progress"),
    "resolved": N_("Resolved"), "closed": N_("Closed"), "returned": N_("Returned"),
    "rejected": N_("Rejected"), "duplicate": N_("Duplicate"), "withdrawn": N_("Withdrawn"),
}
CATEGORY_LABELS = {
    "repair": N_("Repair"), "complaint": N_("Complaint"), "safety_hazard": N_("Safety hazard"),
    "sanitation": N_("Sanitation"), "greening": N_("Greening"), "order": N_("Security and order"),
    "parking": N_("Parking"), "neighbour_dispute": N_("Neighbour dispute"), "fees": N_("Fees"),
    "suggestion": N_("Suggestion"), "inquiry": N_("Inquiry"), "other": N_("Other"),
}
PRIORITY_LABELS = {"emergency": N_("Emergency"), "urgent": N_("Urgent"), "normal": N_("Normal")}

"""Joint evaluation of property companies: schemes, campaigns, submissions, the owners' survey,
objective metrics from cases, scoring, objections and bureau exports (DESIGN.md §3 Evaluations).
"""

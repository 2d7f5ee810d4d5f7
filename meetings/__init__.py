"""Meetings: joint meetings, owners' committee meetings and owners' assembly votes, attendance,
resolutions, action items, minutes and public notices (DESIGN.md §3 Meetings).
"""

"""Complaints about reports and institutions, to the district's bureau, with tracking codes."""

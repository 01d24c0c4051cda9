"""Proficiency testing: schemes, rounds, results, ISO 13528 statistics and round reports."""

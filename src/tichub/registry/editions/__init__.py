"""Standards' editions with their dates of publication, implementation and withdrawal: a
test to an edition not yet in force, or withdrawn, on its test date is flagged."""

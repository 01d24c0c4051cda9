"""Credit-risk tiers A–D: the published rule set, the scorer, scores, appeals."""

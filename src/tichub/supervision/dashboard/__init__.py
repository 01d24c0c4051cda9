"""The regulator's dashboard: tiers and open signals by district, trends, what is due."""

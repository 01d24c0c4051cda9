"""The evidence registers (issue 15): who may see them, and their command line. The
registers themselves live with the tables they keep: equipment in ``market.equipment``,
staff in ``registry.staff``, standard editions in ``registry.editions``."""

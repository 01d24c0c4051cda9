"""Fraud signals: rules over the evidence registers and report evidence (Order 39 Art. 13
and 14), run at registration and as a batch over the registry; triage by supervisors."""

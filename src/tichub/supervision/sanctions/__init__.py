"""Sanctions: warnings, orders to correct, fines, suspension and revocation of the CMA
qualification, the serious-dishonesty list; false reports revoked in the log; the 2026
thresholds that propose revocation."""

"""Digital supervision (measure 20): evidence-based fraud signals, credit-risk tiers,
complaints, double-random inspections, sanctions and commitment-based approval."""

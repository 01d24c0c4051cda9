"""Double-random inspections (双随机、一公开): inspectors and their declared conflicts, plans
frozen and drawn from the log's next checkpoint, inspections with findings per item, and the
public disclosure of plans and results."""

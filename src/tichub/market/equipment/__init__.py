"""The equipment register: every instrument a lab tests with, its calibrations and outages.
The marketplace's shared instruments are the entries marked ``shared``."""

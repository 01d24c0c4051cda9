"""TICHub: a platform for the testing, inspection and certification industry."""

__version__ = "0.1.0"

"""Carbon: product carbon footprints, carbon-label certification, CBAM and PACT exchange."""

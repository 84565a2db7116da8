"""Zero-shot encoders, one module per model family (``base`` holds the interface)."""

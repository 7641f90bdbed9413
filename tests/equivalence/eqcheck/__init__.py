"""Independent equivalence checks for forewarn's fingerprinted code blocks (see ../README.md)."""

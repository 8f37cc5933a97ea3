"""Disputes: sales contests that a lead met the definition; a lead of either party decides."""

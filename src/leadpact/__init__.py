"""leadpact: the joint marketing–sales service level agreement, written, signed, measured and reviewed."""

__version__ = "0.1.0"

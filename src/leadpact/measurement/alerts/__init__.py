"""Alerts: a clock crossed a threshold → its owner (and manager) hear of it, by e-mail and webhook."""

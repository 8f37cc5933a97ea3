"""The pure core: calendars, periods, targets, rules, metrics, agreement schema.

Imports nothing from Django or the database; works on plain values and numpy arrays.
"""

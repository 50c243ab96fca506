"""Readers of schedule documents: hardened XML, XMLTV listings, OnAir schedules. Below the engine."""

"""Document formats: hardened XML reading, the XMLTV and OnAir schedule readers, and the writers."""

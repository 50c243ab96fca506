"""The use cases the handlers call. They see the outside world through onair.ports only."""

"""The playout engine: turns a schedule model into timed slots and a report. No AWS, no I/O.

Its entry point is onair.playout.engine.generate. This package itself imports nothing: the records import
its budget models (SlotFloor), and the functions that never run a playout (ApiFunction, FeedFunction,
ImportFunction) must not load the engine at cold start.
"""

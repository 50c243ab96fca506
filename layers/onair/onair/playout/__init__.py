"""The playout engine: turns a schedule model into timed slots. No AWS, no I/O."""

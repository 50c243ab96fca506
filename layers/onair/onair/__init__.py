"""OnAir: import broadcast schedules, store them, and turn them into playouts and EPGs.

Domain modules here import neither boto3 nor Lambda event types: only `storage.py` and `queues.py` touch
AWS, through clients injected by the handlers (functions/*/app.py).
"""

"""OnAir: import broadcast schedules, store them, and turn them into playouts and EPGs.

Layers, lowest first: models.py (and errors, keys, records); readers/ (formats in), playout/ (the engine),
writers/ (formats out); usecases/, which see the outside world through ports.py only; adapters/ (S3, SQS,
Powertools: the ports' implementations) and http/ (the routes), the only modules that import boto3,
botocore or Powertools; bootstrap.py binds the adapters for the handlers (functions/*/app.py). The
import-linter contracts of pyproject.toml (`make lint-imports`) hold this layering.
"""

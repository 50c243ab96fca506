"""Powertools Logger and Tracer, created once for every function (service name from the environment)."""

from aws_lambda_powertools import Logger, Tracer

logger = Logger()
tracer = Tracer()

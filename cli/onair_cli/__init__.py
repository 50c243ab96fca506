"""`onair`: the command-line client of the OnAir API (stdlib and botocore only; never shipped to Lambda)."""

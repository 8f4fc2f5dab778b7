"""Business rules and transactions. Plain arguments in, models or dataclasses out."""

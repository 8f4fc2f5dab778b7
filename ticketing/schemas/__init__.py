"""Marshmallow schemas: what each route accepts and answers (also the OpenAPI document)."""

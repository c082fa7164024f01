"""Imported by ``server.http`` so that every web page registers its route."""

from server.web import assets, auth, overview, report, ticket

__all__ = ["assets", "auth", "overview", "report", "ticket"]

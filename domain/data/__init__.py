"""Shipped data files for the domain (free-mail domains, company aliases)."""

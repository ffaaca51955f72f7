"""Pirsch-style account endpoints: the token and domain APIs."""

"""Matching a parent's own words to the city's FAQ, in any of the ten languages."""

"""JSON Schemas (draft 2020-12) of the spec files, shipped as package data ``compliance.schemas``."""

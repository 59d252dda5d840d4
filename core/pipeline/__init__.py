"""The migration pipeline: local stages (extract, transform, validate), load, verify."""

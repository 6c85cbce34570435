"""Reads of the gateway's read models, one module per read model (the API's and the console's)."""

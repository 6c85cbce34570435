"""The checker service: judges every journal entry against the rule catalog.

The rules themselves land with issue 4.
"""

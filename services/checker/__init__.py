"""The checker service: judges every journal entry against the rule catalog (rules land with issue 4)."""

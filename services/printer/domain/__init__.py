"""The printer's pure layer: its copy of the journal and the layout of its documents."""

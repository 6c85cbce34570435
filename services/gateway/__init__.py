"""The gateway: Kundoluk's signed webhooks in, the administrators' API out."""

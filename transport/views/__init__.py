"""Pages of the transport app (the API lives in transport.api)."""

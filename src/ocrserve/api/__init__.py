"""The HTTP layer: the FastAPI app, its routes, middleware and the page; nothing below it imports it."""

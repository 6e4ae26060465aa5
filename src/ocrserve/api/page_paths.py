"""Where the page and the API documentation are served: the browser routes serve these paths, and
auth leaves them open by default."""

ASSETS_URL = "/docs/assets"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
FAVICON_URL = "/favicon.ico"  # open without a token by default (OCR_AUTH_OPEN_PATHS), as `/` is

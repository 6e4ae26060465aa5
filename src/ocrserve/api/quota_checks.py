"""Daily page quotas per token: checked before the work, charged after it with the real count.

A page is an image, or one processed page of a PDF.  The OCR routers run `within_quota` as a
dependency: a token that has already used `OCR_DAILY_PAGE_LIMIT` pages today (UTC) gets 429
with `Retry-After` = seconds until the next UTC midnight.  Each route then calls
`charge_pages` once per document the engine returned.

Why check-then-charge rather than reserving pages up front:

- the page count is only known once the input is decoded (a PDF's pages, capped by
  `OCR_MAX_PDF_PAGES`; a URL input once fetched), so a reservation would have to guess and
  settle later;
- a request that fails (bad input, over a limit, engine not ready) costs nothing, with no
  refund path to get right on every error and every client that hangs up.

The price is a bounded overshoot: a request admitted under the limit finishes and is charged
in full even if that takes the token over (1 page used of 2, then a 3-page PDF: served, 4
used), and concurrent requests of one token may pass the check together.  The overshoot is
at most the pages of the requests in flight when the limit is reached; every later request
that day is refused.

Store calls are blocking (an SQLite write may wait on another process's lock, Redis is a
network round trip), so they run in a thread (`asyncio.to_thread`), never on the event loop.
When the store fails, the check refuses the request (503: unreachable counts must not mean
unlimited use), but a failed charge is only logged: the work is done, and losing one count is
better than throwing away the client's result.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import Request

from ..errors import ConfigError
from ..service.quota import Quota, open_store
from ..settings import Settings
from .auth import TokenSet

if TYPE_CHECKING:
    from ..service.ocr_service import Document

log = logging.getLogger("ocrserve.api.quota_checks")


def quota_from_settings(settings: Settings, tokens: TokenSet | None) -> Quota | None:
    """The quota, None when off; ConfigError when it is on but there are no tokens to count by."""
    if settings.daily_page_limit == 0:
        return None
    if tokens is None:
        raise ConfigError("OCR_DAILY_PAGE_LIMIT counts pages per API token, but no tokens are configured: "
                          "set OCR_API_TOKENS or OCR_API_TOKENS_FILE, or OCR_DAILY_PAGE_LIMIT=0")
    quota = Quota(open_store(settings), settings.daily_page_limit)
    log.info("quota on: %d pages per token per UTC day, counted by %s", quota.limit, type(quota.store).__name__)
    return quota


def _quota_and_token(request: Request) -> tuple[Quota | None, str | None]:
    return getattr(request.app.state, "quota", None), getattr(request.state, "token_id", None)


async def within_quota(request: Request) -> None:
    """Dependency of the OCR routers: 429 when the request's token has used today's pages."""
    quota, token_id = _quota_and_token(request)
    if quota is not None and token_id is not None:
        await quota.check(token_id)


async def charge_pages(request: Request, doc: Document) -> None:
    """Charge the pages the engine processed (`len(doc.results)`) to the request's token.

    Routes call it right after `service.ocr` returns: what the engine did is what is paid for.
    A no-op when quotas are off or the path is open (no token).
    """
    quota, token_id = _quota_and_token(request)
    if quota is not None and token_id is not None:
        await quota.charge(token_id, len(doc.results))

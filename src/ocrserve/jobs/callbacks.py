"""`callbackUrl` (an extension): a POST of the job's final status, signed, retried with backoff.

The receiver checks `X-OCR-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
job secret.  The URL passes the same guard as URL inputs (`OCR_URL_ALLOWLIST` opens private hosts).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import TYPE_CHECKING

import httpx

from ..errors import BadInput
from ..signed_links import LinkSigner
from ..unicode_text import utf8
from ..urlfetch import _checked_addresses, _parse
from .job import Job
from .status import job_data
from .store import JobStore

if TYPE_CHECKING:
    from ..service.ocr_service import OCRService

log = logging.getLogger("ocrserve.jobs.callbacks")
ATTEMPTS = 5
FIRST_DELAY_S = 1.0
TIMEOUT_S = 10.0
SIGNATURE_HEADER = "X-OCR-Signature"


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


async def check_callback_url(url: str, service: OCRService) -> None:
    """Refuse at submit a callback the guard would refuse at the end (scheme, private host)."""
    await _checked_addresses(_parse(url), service.fetch_policy)


async def send_callback(store: JobStore, service: OCRService, signer: LinkSigner, job: Job) -> bool:
    """Deliver the final status (any 2xx ends it); True when delivered."""
    data = job_data(job, signer, job.base_url).model_dump(exclude_none=True)
    body = utf8(json.dumps({"code": 0, "msg": "Success", "data": data}, ensure_ascii=False), what=f"job {job.id}'s callback")
    delay = FIRST_DELAY_S
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await _checked_addresses(_parse(job.callback_url or ""), service.fetch_policy)
            timestamp = int(time.time())
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(signer.secret, timestamp, body)}
            async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False) as client:
                response = await client.post(job.callback_url or "", content=body, headers=headers)
            if response.is_success:
                await asyncio.to_thread(store.index.mark_callback_done, job.id)
                log.info("job %s: callback delivered (attempt %d)", job.id[:8], attempt)
                return True
            why = f"HTTP {response.status_code}"
        except BadInput as exc:
            log.warning("job %s: callback refused: %s", job.id[:8], exc)
            return False
        except httpx.HTTPError as exc:
            why = f"{type(exc).__name__}: {exc}"
        log.info("job %s: callback attempt %d failed (%s)", job.id[:8], attempt, why)
        if attempt < ATTEMPTS:
            await asyncio.sleep(delay)
            delay *= 2
    log.warning("job %s: callback not delivered after %d attempts", job.id[:8], ATTEMPTS)
    return False

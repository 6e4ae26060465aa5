// Talking to the server: the PaddleX `POST /ocr` JSON contract, its errors and its timings, and
// `POST /v1/export` for the formats the server renders.
// Everything else on the page sees a read as `{kind, pages, timings, raw}` (result.js), and the
// job path (jobs.js) returns the same shape.
(function (ns) {
  "use strict";

  // Relative URLs, so the page keeps working behind a reverse proxy that mounts it under a prefix.
  const OCR_URL = "ocr";
  const EXPORT_URL = "v1/export";

  class ServerError extends Error {
    // status: the HTTP status; message: the server's own words; retryAfter: seconds, when it said
    constructor(status, message, retryAfter, requestId) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter;
      this.requestId = requestId;
    }
  }

  function fileKind(file) {
    // fileType 0 = PDF, 1 = image; anything else is left for the server to sniff (and refuse
    // in its own words when it is neither)
    const name = (file.name || "").toLowerCase();
    if (file.type === "application/pdf" || name.endsWith(".pdf")) return 0;
    if ((file.type || "").startsWith("image/")) return 1;
    return null;
  }

  function readBase64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => {
        const url = String(reader.result);
        resolve(url.slice(url.indexOf(",") + 1));
      };
      reader.onerror = () => reject(reader.error || new Error("the file could not be read"));
      reader.readAsDataURL(file);
    });
  }

  // `Server-Timing: queue;dur=0.1, decode;dur=3.2, ...` -> [{name, ms}]
  function parseServerTiming(header) {
    if (!header) return [];
    return header.split(",").map((part) => {
      const [name, ...params] = part.trim().split(";");
      const dur = params.map((p) => p.trim()).find((p) => p.startsWith("dur="));
      return { name: name.trim(), ms: dur ? Number(dur.slice(4)) : NaN };
    }).filter((t) => t.name);
  }

  // Retry-After is seconds or an HTTP date
  function parseRetryAfter(value) {
    if (!value) return null;
    if (/^\d+$/.test(value.trim())) return Number(value.trim());
    const when = Date.parse(value);
    return Number.isNaN(when) ? null : Math.max(0, Math.round((when - Date.now()) / 1000));
  }

  // The error text as the server wrote it, whichever contract's body shape it came in.
  function errorMessage(body, fallback) {
    if (body && typeof body === "object") {
      for (const key of ["errorMsg", "msg", "detail", "error", "message"]) {
        const value = body[key];
        if (typeof value === "string" && value) return value;
        if (value && typeof value === "object") return JSON.stringify(value);
      }
    }
    return fallback;
  }

  async function readBody(response) {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch (_) {
      return text;
    }
  }

  async function toServerError(response) {
    const body = await readBody(response);
    const fallback = typeof body === "string" && body.trim() ? body.trim() : response.statusText || "request failed";
    return new ServerError(response.status, errorMessage(body, fallback),
                           parseRetryAfter(response.headers.get("Retry-After")),
                           response.headers.get("X-Request-ID"));
  }

  // options: {useDocOrientationClassify, useTextlineOrientation, textRecScoreThresh};
  // token: sent as a Bearer token when set.  Resolves to {kind, pages, timings, raw, elapsedMs}.
  async function ocrSync(file, options, token) {
    const body = { file: await readBase64(file), visualize: true, ...options };
    const type = fileKind(file);
    if (type !== null) body.fileType = type;
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const started = performance.now();
    let response;
    try {
      response = await fetch(OCR_URL, { method: "POST", headers, body: JSON.stringify(body) });
    } catch (err) {
      throw new ServerError(0, "the server could not be reached (" + err.message + ")", null, null);
    }
    if (!response.ok) throw await toServerError(response);
    const raw = await response.json();
    const elapsedMs = performance.now() - started;
    return {
      ...ns.result.fromPaddleX(raw),
      timings: parseServerTiming(response.headers.get("Server-Timing")),
      elapsedMs,
      raw,
    };
  }

  // `POST /v1/export`: the file read again with the same options, answered as one document in
  // `format` (pdf, hocr, alto, md, txt, json).  Resolves to a Blob of the server's media type.
  async function exportFile(file, format, options, token) {
    const form = new FormData();
    form.append("file", file, file.name || "document");
    form.append("format", format);
    form.append("use_doc_orientation_classify", String(options.useDocOrientationClassify));
    form.append("use_cls", String(options.useTextlineOrientation));
    form.append("text_score", String(options.textRecScoreThresh));
    if (options.lang) form.append("lang", options.lang);
    const headers = token ? { Authorization: "Bearer " + token } : {};
    let response;
    try {
      response = await fetch(EXPORT_URL, { method: "POST", headers, body: form });
    } catch (err) {
      throw new ServerError(0, "the server could not be reached (" + err.message + ")", null, null);
    }
    if (!response.ok) throw await toServerError(response);
    return response.blob();
  }

  // A read: `/ocr`, or the async job path (every page of a long PDF, or a
  // model set served only as jobs), which answers the same `{kind, pages, ...}`.
  // job: null for `/ocr`, else {model, onProgress, signal} (jobs.js)
  function read(file, options, token, job) {
    return job ? ns.jobs.ocrJob(file, options, token, job) : ocrSync(file, options, token);
  }

  ns.api = { read, ocrSync, exportFile, readBase64, ServerError, toServerError, parseServerTiming, parseRetryAfter, errorMessage, fileKind };
})(window.OCRPage = window.OCRPage || {});

// The async job path (`/api/v2/ocr/jobs`, PaddleOCR's job API): for every page of a long PDF, and
// for a model set this server runs only as jobs.  Submit, poll the progress, then read the JSONL
// result (one PaddleX page a line) into the same `{kind, pages, timings, raw}` as `/ocr` gives.
// The job also builds the document in every download format (`outputFormats`), so the page's
// downloads are the job's own files, of every page it read.
(function (ns) {
  "use strict";

  const JOBS_URL = "api/v2/ocr/jobs";
  const POLL_MS = 1000;
  // the formats the job builds beside its JSONL -> their links' names in the job's resultUrl
  // (the server's registry of formats, from the page config: `useFormats`)
  let FILE_LINKS = {};

  function useFormats(formats) {
    FILE_LINKS = Object.fromEntries((formats || []).filter((f) => f.id !== "json").map((f) => [f.id, f.linkKey]));
  }

  function authHeaders(token) {
    return token ? { Authorization: "Bearer " + token } : {};
  }

  // The job API's envelope is {code, msg, data}: code 0 is success, else msg says why.
  async function call(url, init) {
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      throw new ns.api.ServerError(0, "the server could not be reached (" + err.message + ")", null, null);
    }
    if (!response.ok) throw await ns.api.toServerError(response);
    const body = await response.json();
    if (body.code) throw new ns.api.ServerError(response.status, body.msg || "the job API refused", null, body.logId);
    return body.data;
  }

  function wait(ms, signal) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
    });
  }

  // The client merges the JSONL lines: pages in order, the last line's dataInfo (it lists them all).
  function merge(text) {
    const lines = text.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line));
    const ocrResults = lines.flatMap((line) => line.result.ocrResults);
    const dataInfo = lines.length ? lines[lines.length - 1].result.dataInfo : {};
    return { result: { ocrResults, dataInfo } };
  }

  // model: the job API's model name; onProgress(done, total, state); signal: an AbortSignal that
  // cancels the job on the server too.  Resolves like api.ocrSync, plus jobId.
  async function ocrJob(file, options, token, { model, onProgress, signal }) {
    const form = new FormData();
    form.append("file", file, file.name || "upload");
    form.append("model", model);
    form.append("optionalPayload", JSON.stringify({ visualize: true, ...options, outputFormats: Object.keys(FILE_LINKS) }));
    const started = performance.now();
    const { jobId } = await call(JOBS_URL, { method: "POST", headers: authHeaders(token), body: form, signal });
    const statusUrl = JOBS_URL + "/" + encodeURIComponent(jobId);
    let data;
    try {
      for (;;) {
        data = await call(statusUrl, { headers: authHeaders(token), signal });
        const progress = data.extractProgress || {};
        onProgress(progress.extractedPages || 0, progress.totalPages || 0, data.state);
        if (data.state === "done" || data.state === "failed") break;
        await wait(POLL_MS, signal);
      }
    } catch (err) {
      if (signal.aborted) {  // the person cancelled: stop the work as well as the polling
        fetch(statusUrl, { method: "DELETE", headers: authHeaders(token) }).catch(() => {});
        const cancelled = new ns.api.ServerError(0, "the job was cancelled", null, null);
        cancelled.cancelled = true;
        throw cancelled;
      }
      throw err;
    }
    if (data.state === "failed") {
      const failed = new ns.api.ServerError(0, data.errorMsg || "the job failed", null, null);
      failed.heading = "Job failed";
      throw failed;
    }
    // the result link is signed: it needs no token
    const response = await fetch(data.resultUrl.jsonUrl, { signal });
    if (!response.ok) throw await ns.api.toServerError(response);
    const raw = merge(await response.text());
    const progress = data.extractProgress || {};
    const serverMs = progress.startTime && progress.endTime ? Date.parse(progress.endTime) - Date.parse(progress.startTime) : NaN;
    return {
      ...ns.result.fromPaddleX(raw),
      // the job's start to end, in whole seconds: the job API's times
      timings: Number.isFinite(serverMs) ? [{ name: "job", ms: serverMs }] : [],
      elapsedMs: performance.now() - started,
      raw,
      jobId,
      files: jobFiles(data.resultUrl || {}),  // format -> the job's signed link to its file
    };
  }

  function jobFiles(resultUrl) {
    const files = {};
    for (const [format, key] of Object.entries(FILE_LINKS)) {
      if (resultUrl[key]) files[format] = resultUrl[key];
    }
    return files;
  }

  // One of a job's files, as a Blob (its link is signed: it needs no token).
  async function download(url) {
    let response;
    try {
      response = await fetch(url);
    } catch (err) {
      throw new ns.api.ServerError(0, "the server could not be reached (" + err.message + ")", null, null);
    }
    if (!response.ok) throw await ns.api.toServerError(response);
    return response.blob();
  }

  ns.jobs = { ocrJob, merge, download, useFormats };
})(window.OCRPage = window.OCRPage || {});

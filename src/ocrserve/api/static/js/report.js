// What a read reports besides its text: the server's stage timings, and its errors in its own words.
(function (ns) {
  "use strict";

  function seconds(s) {
    if (s < 120) return s + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    return Math.round(s / 3600) + " h";
  }

  function bytes(n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(0) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  // One row per stage the server timed (Server-Timing), a bar for its share, then the round trip
  // as this browser saw it (upload, queue and download included, so never a share of the stages).
  function timings(table, doc) {
    table.textContent = "";
    const rows = doc.timings.filter((t) => Number.isFinite(t.ms));
    const total = rows.reduce((n, t) => n + t.ms, 0) || 1;
    const add = (name, ms, share) => {
      const row = table.insertRow();
      row.insertCell().textContent = name;
      const bar = row.insertCell();
      bar.className = "bar-cell";
      if (share !== null) {
        const fill = document.createElement("span");
        fill.className = "fill";
        fill.style.width = Math.max(1, Math.round(share * 100)) + "%";
        bar.appendChild(fill);
      }
      const value = row.insertCell();
      value.className = "ms";
      value.textContent = ms.toFixed(1) + " ms";
    };
    rows.forEach((t) => add(t.name, t.ms, t.ms / total));
    add("round trip, this browser", doc.elapsedMs, null);
  }

  // err: an api.ServerError (status, message, retryAfter, requestId; heading for a non-HTTP one)
  function error(box, err) {
    box.textContent = "";
    const head = document.createElement("strong");
    head.className = "error-status";
    head.textContent = err.heading || (err.status ? "HTTP " + err.status : "Error");
    const message = document.createElement("span");
    message.className = "error-message";
    message.textContent = err.message;  // the server's own words, as it sent them
    box.append(head, " ", message);
    if (err.retryAfter !== null && err.retryAfter !== undefined) {
      const retry = document.createElement("span");
      retry.className = "error-retry";
      retry.textContent = " Retry in " + seconds(err.retryAfter) + ".";
      box.appendChild(retry);
    }
    if (err.requestId) {
      const id = document.createElement("small");
      id.className = "error-id";
      id.textContent = "request " + err.requestId;
      box.append(document.createElement("br"), id);
    }
    box.hidden = false;
  }

  ns.report = { timings, error, bytes, seconds };
})(window.OCRPage = window.OCRPage || {});

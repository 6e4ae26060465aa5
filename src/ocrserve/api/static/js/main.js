// The page's wiring: server config and options, one read at a time, page navigation, the
// box <-> line highlight, timings, copy and errors.
(function (ns) {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const config = readConfig();
  const state = { file: null, doc: null, docOptions: null, page: 0, run: 0, hover: null, pinned: null,
                  localImage: null, abort: null, lastJob: null };

  function readConfig() {
    try {
      return JSON.parse($("server-config").textContent || "{}");
    } catch (_) {
      return {};
    }
  }

  // --- options ---------------------------------------------------------------------------
  // The model set this process serves is read at once through /ocr (value ""); the job API's
  // model names for other sets are read as jobs.  The server lists only the sets whose files it
  // has (page_config), so every entry can run.  One entry only: shown, not a choice.
  function initOptions() {
    const select = $("model");
    select.add(new Option(config.model || "?", "", true, true));
    const jobModels = (config.jobs && config.jobs.models) || {};
    for (const [name, set] of Object.entries(jobModels)) {
      if (set !== config.model) select.add(new Option(name + " (" + set + ", as a job)", name));
    }
    select.disabled = select.options.length < 2;
    $("model-note").textContent = select.options.length < 2
      ? "This is the only model set this server can run now."
      : "These are the model sets this server can run now: the first reads your file straight away, "
        + "the others read it in the background with a progress bar.";
    select.addEventListener("change", () => { if (state.file) run(false); });
    initLanguages();
    const defaults = config.defaults || {};
    $("doc-orientation").checked = defaults.useDocOrientationClassify !== false;
    $("line-orientation").checked = defaults.useTextlineOrientation !== false;
    $("score").value = String(defaults.textRecScoreThresh ?? 0);
    showScore();
    $("score").addEventListener("input", showScore);
    for (const id of ["doc-orientation", "line-orientation", "score"]) {
      $(id).addEventListener("change", () => { if (state.file) run(false); });
    }
    if (config.auth) $("token-box").hidden = false;
  }

  // The languages this server reads now (page config `languages`): the model set's own by default; another
  // is read by its language set's recogniser, which the server loads on first use.
  function initLanguages() {
    const select = $("lang");
    select.add(new Option("the model set's own (" + (config.model || "?") + ")", "", true, true));
    for (const code of config.languages || []) select.add(new Option(code, code));
    select.disabled = select.options.length < 2;
    $("lang-note").textContent = select.options.length < 2
      ? "No other language set is installed on this server."
      : "Another language is read by its own recogniser, with the same detector.";
    select.addEventListener("change", () => { if (state.file) run(false); });
  }

  function showScore() {
    $("score-value").textContent = Number($("score").value).toFixed(2);
  }

  function options() {
    return {
      useDocOrientationClassify: $("doc-orientation").checked,
      useTextlineOrientation: $("line-orientation").checked,
      textRecScoreThresh: Number($("score").value),
      ...($("lang").value ? { lang: $("lang").value } : {}),
    };
  }

  // --- a read ----------------------------------------------------------------------------
  function setFile(file) {
    state.file = file;
    $("file-name").textContent = file.name + " (" + ns.report.bytes(file.size) + ")";
    $("run").disabled = false;
    if (state.localImage) URL.revokeObjectURL(state.localImage);
    // shown only if the server sends no page image back (it is asked to)
    state.localImage = (file.type || "").startsWith("image/") ? URL.createObjectURL(file) : null;
    clearDocument();  // a new file: what was shown for the last one must not pass for its result
    run(false);
  }

  // The job model name that reads with this process's own model set, if the job API has one.
  function servedJobModel() {
    const jobModels = (config.jobs && config.jobs.models) || {};
    return Object.keys(jobModels).find((name) => jobModels[name] === config.model) || null;
  }

  // allPages: read every page of the PDF as a job with the served model set
  async function run(allPages) {
    if (!state.file) return;
    const mine = ++state.run;  // a newer read wins; an older answer arriving late is dropped
    if (state.abort) state.abort.abort();
    clearError();
    $("run").disabled = true;
    $("all-pages").hidden = true;
    const model = $("model").value || (allPages === true ? servedJobModel() : null);
    let job = null;
    if (model) {
      state.abort = new AbortController();
      // kept on the state as well: what was asked and seen, for a look in the console (and the tests)
      const seen = state.lastJob = { model, progress: [] };
      job = {
        model, signal: state.abort.signal,
        onProgress: (done, total, jobState) => { seen.progress.push([done, total, jobState]); showProgress(done, total, jobState); },
      };
      showProgress(0, 0, "pending");
    }
    setStatus("Reading " + state.file.name + (model ? " as a job with " + model : "") + "…", true);
    try {
      const asked = options();
      const doc = await ns.api.read(state.file, asked, getToken(), job);
      if (mine !== state.run) return;
      state.doc = doc;
      state.docOptions = asked;  // what the server-rendered downloads send again
      showDocument(doc);
    } catch (err) {
      if (mine !== state.run) return;
      if (err.cancelled) {
        setStatus("Job cancelled.", false);
        return;
      }
      // a job upload has its own limit (OCR_JOB_MAX_FILE_SIZE), a read at once the request's
      const limit = model ? config.jobs && config.jobs.maxFileSize : config.maxFileSize;
      if (err.status === 0 && limit && state.file.size > limit) {
        // a server refusing a body far over its limit may close the connection before its 413 is read
        err.message += "; the file is " + ns.report.bytes(state.file.size) + ", over this server's limit of " +
          ns.report.bytes(limit) + (model ? " for jobs" : "");
      }
      showError(err);
      setStatus("", false);
    } finally {
      if (mine === state.run) {
        $("run").disabled = false;
        $("progress-box").hidden = true;
        state.abort = null;
      }
    }
  }

  function showProgress(done, total, jobState) {
    $("progress-box").hidden = false;
    $("progress").max = Math.max(total, 1);
    $("progress").value = done;
    $("progress-text").textContent = jobState === "pending" ? "Waiting for the job to start…"
      : "Page " + done + " of " + total + " read";
  }

  function showDocument(doc) {
    const lines = doc.pages.reduce((n, p) => n + p.lines.length, 0);
    const pages = doc.kind === "pdf" ? " on " + doc.pages.length + " page" + (doc.pages.length === 1 ? "" : "s") : "";
    let note = "";
    if (!doc.jobId && doc.kind === "pdf" && config.maxPdfPages && doc.pages.length >= config.maxPdfPages) {
      note = " (this server reads at most " + config.maxPdfPages + " pages of a PDF at once)";
      $("all-pages").hidden = !servedJobModel();  // the rest, through the job path
    }
    setStatus(lines + " line" + (lines === 1 ? "" : "s") + pages + note + ".", false);
    showTimings(doc);
    $("pager").hidden = doc.kind !== "pdf";
    $("page-count").textContent = "of " + doc.pages.length;
    $("page-number").max = String(doc.pages.length);
    $("copy").disabled = false;
    setExports(true);
    setMarkdown(!doc.jobId);  // a job read every page; /layout-parsing would read only the first few
    showPage(0);
  }

  function clearDocument() {
    state.doc = null;
    state.hover = state.pinned = null;
    viewer.hide();
    lines.show([]);
    $("stage").classList.remove("filled");
    $("pager").hidden = true;
    $("timings-box").hidden = true;
    $("line-count").textContent = "";
    $("copy").disabled = true;
    setExports(false);
    setMarkdown(false);
  }

  function showPage(index) {
    const doc = state.doc;
    if (!doc || !doc.pages.length) return;
    state.page = Math.min(Math.max(index, 0), doc.pages.length - 1);
    state.hover = state.pinned = null;
    const page = doc.pages[state.page];
    $("page-number").value = String(state.page + 1);
    $("page-prev").disabled = state.page === 0;
    $("page-next").disabled = state.page === doc.pages.length - 1;
    $("line-count").textContent = "(" + page.lines.length + (doc.kind === "pdf" ? ", page " + page.number : "") + ")";
    $("stage").classList.add("filled");
    viewer.show(page, state.localImage);
    lines.show(page.lines);
    highlight(false);
  }

  // --- box <-> line ----------------------------------------------------------------------
  // Hovering (or focusing) shows a line for as long as the pointer stays; a click pins it.
  function point(index, how, from) {
    if (how === "click") state.pinned = state.pinned === index ? null : index;
    else state.hover = index;
    highlight(from === "box" && index !== null);
  }

  function highlight(reveal) {
    const active = state.hover !== null ? state.hover : state.pinned;
    viewer.highlight(active);
    lines.highlight(active, reveal);
  }

  // --- timings, status, errors -----------------------------------------------------------
  function showTimings(doc) {
    ns.report.timings($("timings"), doc);
    $("timings-box").hidden = false;
  }

  function setStatus(text, busy) {
    $("status").textContent = text;
    $("status").classList.toggle("busy", Boolean(busy));
  }

  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
  }

  function showError(err) {
    ns.report.error($("error"), err);
    if (err.status === 403) {  // a guarded server: ask for the token
      $("token-box").hidden = false;
      $("token").focus();
    }
  }

  // --- copy ------------------------------------------------------------------------------
  async function copyAll() {
    if (!state.doc) return;
    const text = ns.result.plainText(state.doc);
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      // no Clipboard API off a secure origin (plain http to another host): the old way
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    setStatus("Copied " + text.split("\n").filter(Boolean).length + " lines.", false);
  }

  // --- server state ----------------------------------------------------------------------
  async function showServer() {
    const info = $("server-info");
    try {
      const response = await fetch("health", { headers: { Accept: "application/json" } });
      const body = await response.json();
      info.textContent = [body.model, body.status, (body.providers || []).join(", ") || null,
                          body.version ? "v" + body.version : null].filter(Boolean).join(" · ") + " · ";
      if (body.status === "loading") setTimeout(showServer, 2000);
    } catch (_) {
      info.textContent = config.model ? config.model + " · " : "";
    }
  }

  // --- wiring ----------------------------------------------------------------------------
  const viewer = ns.viewer.create({
    figure: $("figure"), image: $("page-image"), svg: $("boxes"),
    onPoint: (index, how) => point(index, how, "box"),
  });
  const lines = ns.lines.create({ list: $("lines"), onPoint: (index, how) => point(index, how, "line") });
  const getToken = ns.token.bind($("token"), $("token-forget"));
  const current = () => (state.doc ? { doc: state.doc, fileName: state.file && state.file.name, file: state.file,
                                        read: { options: state.docOptions, token: getToken() } } : null);
  ns.jobs.useFormats(config.formats);
  ns.exports.registerServerFormats(config.formats);
  const setExports = ns.exports.mount($("exports"), current, showError);
  const setMarkdown = ns.markdown.bind({ button: $("markdown"), box: $("markdown-box"), text: $("markdown-text"),
                                         copy: $("markdown-copy"), current, onError: showError });

  initOptions();
  ns.input.bind({ picker: $("file"), zone: $("drop"), onFile: setFile });
  $("run").addEventListener("click", () => run(false));
  $("all-pages").addEventListener("click", () => run(true));
  $("cancel").addEventListener("click", () => { if (state.abort) state.abort.abort(); });
  $("copy").addEventListener("click", copyAll);
  $("page-prev").addEventListener("click", () => showPage(state.page - 1));
  $("page-next").addEventListener("click", () => showPage(state.page + 1));
  $("page-number").addEventListener("change", () => showPage(Number($("page-number").value) - 1));
  $("token").addEventListener("keydown", (event) => { if (event.key === "Enter" && state.file) run(false); });
  document.addEventListener("keydown", (event) => {  // Escape lets a clicked line go
    if (event.key === "Escape" && state.pinned !== null) {
      state.pinned = null;
      highlight(false);
    }
  });
  showServer();

  ns.state = state;  // for the browser tests and for a curious reader in the console
})(window.OCRPage = window.OCRPage || {});

// The download buttons: one entry per format, added with `register({id, label, extension, make})`,
// where `make(doc, fileName, file, read)` resolves to a Blob (`file`: the File that was read, to
// send to the server again; `read`: {options, token} it was read with).  A format may also say
// `unavailable(doc)`: why it cannot be made for this document (the button is then disabled, with
// that reason as its tooltip).  The buttons are drawn from this list, so nothing else changes.
// A document read as a job downloads the files the job built (`doc.files`, jobs.js): they hold
// every page it read, with the model set it read them with.
(function (ns) {
  "use strict";

  const formats = [];

  function register(format) {
    formats.push(format);
  }

  function baseName(fileName) {
    const name = (fileName || "ocr").replace(/\.[^.]+$/, "");
    return name || "ocr";
  }

  function save(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  register({
    id: "json",
    label: "JSON",
    title: "The server's answer, without the page images",
    make: (doc) => new Blob([JSON.stringify(ns.result.withoutImages(doc.raw), null, 2)],
                            { type: "application/json" }),
    extension: "json",
  });
  register({
    id: "txt",
    label: "TXT",
    title: "The text, one line per line; pages apart by a blank line",
    make: (doc) => (doc.jobId ? jobFile(doc, "txt")
                              : new Blob([ns.result.plainText(doc) + "\n"], { type: "text/plain;charset=utf-8" })),
    unavailable: (doc) => missingJobFile(doc, "txt"),
    extension: "txt",
  });

  function jobFile(doc, id) {
    return ns.jobs.download(doc.files[id]);
  }

  // a job submitted by another client, or by a server that builds no such file, has no link for it
  function missingJobFile(doc, id) {
    return doc.jobId && !(doc.files && doc.files[id]) ? "The job did not build this file" : null;
  }

  // The formats the server renders (POST /v1/export): the same file, read again with the same
  // options by the same model set, so they hold the lines the page lists; a job's own file when it
  // was read as a job (another model set, or more pages than one request reads).
  function serverFormat(id, label, extension, title) {
    register({
      id, label, extension, title,
      make: (doc, fileName, file, read) => (doc.jobId ? jobFile(doc, id)
                                                      : ns.api.exportFile(file, id, read.options, read.token)),
      unavailable: (doc) => missingJobFile(doc, id),
    });
  }
  serverFormat("pdf", "searchable PDF", "searchable.pdf", "The file as a PDF with its text selectable and searchable");
  serverFormat("hocr", "hOCR", "hocr", "hOCR (XHTML): pages, lines and words with their boxes");
  serverFormat("alto", "ALTO", "alto.xml", "ALTO XML v4: pages, lines and words with their boxes");
  serverFormat("md", "Markdown", "md", "The text as Markdown: paragraphs, lists and headings as read");

  // Draw one button per format into `container`; `current()` gives {doc, fileName, file, read} or null.
  function mount(container, current, onError) {
    container.textContent = "";
    const buttons = formats.map((format) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.id = "download-" + format.id;
      button.textContent = "Download " + format.label;
      button.title = format.title || "";
      button.disabled = true;
      button.addEventListener("click", async () => {
        const state = current();
        if (!state) return;
        button.disabled = true;  // one request per click: the server may take a while
        button.setAttribute("aria-busy", "true");
        try {
          const blob = await format.make(state.doc, state.fileName, state.file, state.read);
          save(blob, baseName(state.fileName) + "." + format.extension);
        } catch (err) {
          onError(err);
        } finally {
          button.removeAttribute("aria-busy");
          update(format, button, current() !== null);
        }
      });
      container.appendChild(button);
      return { format, button };
    });
    return (enabled) => buttons.forEach(({ format, button }) => update(format, button, enabled));

    function update(format, button, enabled) {
      const state = current();
      const reason = enabled && state && format.unavailable ? format.unavailable(state.doc) : null;
      button.disabled = !enabled || !state || Boolean(reason);
      button.title = reason || format.title || "";
    }
  }

  ns.exports = { register, mount };
})(window.OCRPage = window.OCRPage || {});

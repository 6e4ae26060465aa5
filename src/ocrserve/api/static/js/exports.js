// The download buttons: one entry per format, added with `register({id, label, suffix, make})`,
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

  function jobFile(doc, id) {
    return ns.jobs.download(doc.files[id]);
  }

  // a job submitted by another client, or by a server that builds no such file, has no link for it
  function missingJobFile(doc, id) {
    return doc.jobId && !(doc.files && doc.files[id]) ? "The job did not build this file" : null;
  }

  // What a synchronous read's JSON and text downloads are made of, here in the page: the answer at hand.
  const LOCAL = {
    json: (doc) => new Blob([JSON.stringify(ns.result.withoutImages(doc.raw), null, 2)], { type: "application/json" }),
    txt: (doc) => new Blob([ns.result.plainText(doc) + "\n"], { type: "text/plain;charset=utf-8" }),
  };

  // The server's formats (page config `formats`, from its registry of formats), in its order. The JSON
  // is always the answer at hand; any other format of a job is the job's own file; of a synchronous
  // read, the text is made here and the rest by the server (POST /v1/export): the same file, read again
  // with the same options by the same model set, so they hold the lines the page lists.
  function registerServerFormats(serverFormats) {
    for (const { id, label, title, suffix } of serverFormats || []) {
      const local = LOCAL[id];
      register({
        id, label, title, suffix,
        make: (doc, fileName, file, read) => (
          id === "json" ? local(doc)
            : doc.jobId ? jobFile(doc, id)
              : local ? local(doc) : ns.api.exportFile(file, id, read.options, read.token)),
        unavailable: id === "json" ? null : (doc) => missingJobFile(doc, id),
      });
    }
  }

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
          save(blob, baseName(state.fileName) + format.suffix);
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

  ns.exports = { register, registerServerFormats, mount };
})(window.OCRPage = window.OCRPage || {});

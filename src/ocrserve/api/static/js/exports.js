// The download buttons: one entry per format.  A format the server renders (searchable PDF,
// hOCR) is added with `register({id, label, extension, make})`, where `make(doc, fileName, file)`
// resolves to a Blob (`file`: the File that was read, to send to the server again); the buttons
// are drawn from this list, so nothing else on the page changes.
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
    make: (doc) => new Blob([ns.result.plainText(doc) + "\n"], { type: "text/plain;charset=utf-8" }),
    extension: "txt",
  });

  // Draw one button per format into `container`; `current()` gives {doc, fileName, file} or null.
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
        try {
          const blob = await format.make(state.doc, state.fileName, state.file);
          save(blob, baseName(state.fileName) + "." + format.extension);
        } catch (err) {
          onError(err);
        }
      });
      container.appendChild(button);
      return button;
    });
    return (enabled) => buttons.forEach((b) => { b.disabled = !enabled; });
  }

  ns.exports = { register, mount };
})(window.OCRPage = window.OCRPage || {});

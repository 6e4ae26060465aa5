// Three ways to hand the page a file: the picker, a drop anywhere on the page, or a paste.
(function (ns) {
  "use strict";

  function firstFile(list) {
    return list && list.length ? list[0] : null;
  }

  // onFile(file) is called once per file given; `zone` shows the drop highlight.
  function bind({ picker, zone, onFile }) {
    picker.addEventListener("change", () => {
      const file = firstFile(picker.files);
      if (file) onFile(file);
    });

    // the whole window accepts a drop, so a near miss does not open the file in the tab instead
    let depth = 0;
    window.addEventListener("dragenter", (event) => {
      if (!event.dataTransfer || !Array.from(event.dataTransfer.types || []).includes("Files")) return;
      depth += 1;
      zone.classList.add("dragging");
    });
    window.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) zone.classList.remove("dragging");
    });
    window.addEventListener("dragover", (event) => event.preventDefault());
    window.addEventListener("drop", (event) => {
      event.preventDefault();
      depth = 0;
      zone.classList.remove("dragging");
      const file = firstFile(event.dataTransfer && event.dataTransfer.files);
      if (file) onFile(file);
    });

    document.addEventListener("paste", (event) => {
      const data = event.clipboardData;
      if (!data) return;
      const file = firstFile(data.files) ||
        Array.from(data.items || []).filter((i) => i.kind === "file").map((i) => i.getAsFile()).find(Boolean);
      if (!file) return;  // a text paste into the token field stays a text paste
      event.preventDefault();
      // a pasted screenshot has a generic name; give it one that says where it came from
      const named = file.name && file.name !== "image.png" ? file
        : new File([file], "pasted." + ((file.type.split("/")[1] || "png")), { type: file.type });
      onFile(named);
    });
  }

  ns.input = { bind };
})(window.OCRPage = window.OCRPage || {});

// The Markdown view: the file that was read, sent to `POST /layout-parsing` (PaddleX's PP-StructureV3
// contract) with the options it was read with; its pages' Markdown, joined as the library joins them,
// shown as text to read and copy (headings, paragraphs in reading order, tables as pipe tables or
// HTML). Figures are named in it, not fetched: it is the Markdown a person keeps, shown as it is.
(function (ns) {
  "use strict";

  const LAYOUT_URL = "layout-parsing";

  // pages' `markdown` ({text, isStart, isEnd}) -> one document: a paragraph a page break cut joins again
  function joinPages(pages) {
    let text = "";
    pages.forEach((page, k) => {
      if (!page.text) return;
      const joins = text && !pages[k - 1].isEnd && !page.isStart;
      text += (joins ? " " : text ? "\n\n" : "") + page.text;
    });
    return text;
  }

  // options: as the read sent them ({useDocOrientationClassify, useTextlineOrientation, textRecScoreThresh})
  async function parse(file, options, token) {
    const body = {
      file: await ns.api.readBase64(file), visualize: false, returnMarkdownImages: false,
      useDocOrientationClassify: options.useDocOrientationClassify,
      useTextlineOrientation: options.useTextlineOrientation, textRecScoreThresh: options.textRecScoreThresh,
    };
    const type = ns.api.fileKind(file);
    if (type !== null) body.fileType = type;
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    let response;
    try {
      response = await fetch(LAYOUT_URL, { method: "POST", headers, body: JSON.stringify(body) });
    } catch (err) {
      throw new ns.api.ServerError(0, "the server could not be reached (" + err.message + ")", null, null);
    }
    if (!response.ok) throw await ns.api.toServerError(response);
    const raw = await response.json();
    return joinPages(raw.result.layoutParsingResults.map((page) => page.markdown));
  }

  // button: asks for the view; box: the section shown with `text` (a <pre>) and `copy`;
  // current(): {file, read: {options, token}} or null; onError(err) shows a failure.
  function bind({ button, box, text, copy, current, onError }) {
    button.addEventListener("click", async () => {
      const state = current();
      if (!state) return;
      button.disabled = true;  // one request per click: parsing a document takes a while
      button.setAttribute("aria-busy", "true");
      try {
        text.textContent = await parse(state.file, state.read.options, state.read.token);
        box.hidden = false;
      } catch (err) {
        onError(err);
      } finally {
        button.removeAttribute("aria-busy");
        button.disabled = current() === null;
      }
    });
    copy.addEventListener("click", () => navigator.clipboard.writeText(text.textContent).catch(onError));
    // enabled: a document is read; a new read hides the last Markdown
    return (enabled) => {
      button.disabled = !enabled;
      box.hidden = true;
      text.textContent = "";
    };
  }

  ns.markdown = { bind, joinPages };
})(window.OCRPage = window.OCRPage || {});

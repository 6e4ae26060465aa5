// A PaddleX `/ocr` answer as the page uses it: pages, each with its image, size and lines.
(function (ns) {
  "use strict";

  // A result image is base64 JPEG, or a signed link when the server is set to send links.
  function imageSource(value) {
    if (!value) return null;
    if (/^(https?:|data:)/i.test(value)) return value;
    return "data:image/jpeg;base64," + value;
  }

  // Polygons are in the page's own pixels (dataInfo's size); the JPEG the server sends may be
  // smaller (it caps result images at 2000 px), so the viewer scales by the page size, never by
  // the image's.
  function fromPaddleX(raw) {
    const result = raw.result || {};
    const info = result.dataInfo || {};
    const sizes = info.type === "pdf" ? info.pages || [] : [{ width: info.width, height: info.height }];
    const pages = (result.ocrResults || []).map((page, index) => {
      const pruned = page.prunedResult || {};
      const texts = pruned.rec_texts || [];
      const scores = pruned.rec_scores || [];
      const polys = pruned.rec_polys || [];
      const size = sizes[index] || {};
      return {
        number: index + 1,
        width: size.width,
        height: size.height,
        image: imageSource(page.inputImage),
        lines: texts.map((text, i) => ({ text, score: scores[i], poly: polys[i] || [] })),
      };
    });
    return { kind: info.type === "pdf" ? "pdf" : "image", pages };
  }

  // The answer without its images: what "Download JSON" saves (the images are what the page
  // asked for to draw on, and can be megabytes of base64).
  function withoutImages(raw) {
    const copy = JSON.parse(JSON.stringify(raw));
    for (const page of (copy.result && copy.result.ocrResults) || []) {
      delete page.inputImage;
      delete page.ocrImage;
      delete page.docPreprocessingImage;
    }
    return copy;
  }

  function plainText(doc) {
    return doc.pages.map((page) => page.lines.map((line) => line.text).join("\n")).join("\n\n");
  }

  // green / amber / red, matched by the legend in index.html
  function confidenceClass(score) {
    if (score >= 0.9) return "high";
    if (score >= 0.7) return "mid";
    return "low";
  }

  ns.result = { fromPaddleX, withoutImages, plainText, confidenceClass, imageSource };
})(window.OCRPage = window.OCRPage || {});

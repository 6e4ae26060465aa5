// The page image with each line's polygon drawn over it as SVG.  The SVG's viewBox is the page's
// own pixel size, so polygons are drawn in the server's coordinates and the browser scales them
// with the image, whatever size either is shown at.
(function (ns) {
  "use strict";

  function create({ figure, image, svg, onPoint }) {
    // the namespace comes from the <svg> the HTML parser made, so the script names no URL
    const SVG_NS = svg.namespaceURI;
    let polygons = [];

    function clear() {
      svg.textContent = "";
      polygons = [];
    }

    // page: {width, height, image, lines}; fallbackImage: a URL to show when the server sent none
    function show(page, fallbackImage) {
      clear();
      figure.hidden = false;
      figure.style.aspectRatio = page.width + " / " + page.height;
      svg.setAttribute("viewBox", "0 0 " + page.width + " " + page.height);
      image.alt = "Page " + page.number + " of the file";
      const source = page.image || fallbackImage || "";
      if (image.getAttribute("src") !== source) image.src = source;
      page.lines.forEach((line, index) => {
        const polygon = document.createElementNS(SVG_NS, "polygon");
        polygon.setAttribute("points", line.poly.map((p) => p[0] + "," + p[1]).join(" "));
        polygon.setAttribute("class", "box " + ns.result.confidenceClass(line.score));
        polygon.dataset.index = String(index);
        const title = document.createElementNS(SVG_NS, "title");
        title.textContent = line.text;  // the browser draws it, in the reader's own fonts
        polygon.appendChild(title);
        polygon.addEventListener("mouseenter", () => onPoint(index, "hover"));
        polygon.addEventListener("mouseleave", () => onPoint(null, "hover"));
        polygon.addEventListener("click", () => onPoint(index, "click"));
        svg.appendChild(polygon);
        polygons.push(polygon);
      });
    }

    function highlight(index) {
      polygons.forEach((polygon, i) => polygon.classList.toggle("active", i === index));
      if (index !== null && polygons[index]) {
        svg.appendChild(polygons[index]);  // last drawn is on top, so its outline is not hidden
      }
    }

    function hide() {
      clear();
      figure.hidden = true;
      image.removeAttribute("src");
    }

    return { show, highlight, hide };
  }

  ns.viewer = { create };
})(window.OCRPage = window.OCRPage || {});

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
      // a tall page (a receipt) is shown whole on screen, not as a strip wider than it needs
      figure.style.width = "min(100%, calc(85vh * " + (page.width / page.height).toFixed(4) + "))";
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
      const marker = document.createElementNS(SVG_NS, "polygon");
      marker.setAttribute("class", "marker");
      marker.setAttribute("aria-hidden", "true");
      svg.appendChild(marker);
    }

    function highlight(index) {
      polygons.forEach((polygon, i) => polygon.classList.toggle("active", i === index));
      // the lit outline is redrawn by a copy drawn last (on top of neighbours that overlap it);
      // moving the box itself under the pointer would lose its mouseleave
      const marker = svg.querySelector(".marker");
      if (!marker) return;
      const on = index !== null && polygons[index];
      marker.setAttribute("points", on ? polygons[index].getAttribute("points") : "");
      marker.classList.toggle("shown", Boolean(on));
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

// The list of recognised lines: text and confidence, colour-coded; each row is a button, so a
// keyboard reaches every line and its box with Tab.
(function (ns) {
  "use strict";

  function create({ list, onPoint }) {
    let rows = [];

    function show(lines) {
      list.textContent = "";
      rows = lines.map((line, index) => {
        const item = document.createElement("li");
        item.className = "line";
        item.dataset.index = String(index);
        const button = document.createElement("button");
        button.type = "button";
        const text = document.createElement("span");
        text.className = "text";
        text.textContent = line.text;
        const score = document.createElement("span");
        const level = ns.result.confidenceClass(line.score);
        score.className = "conf " + level;
        score.textContent = Number(line.score).toFixed(3);
        score.title = "confidence";
        button.append(text, score);
        button.setAttribute("aria-label", line.text + ", confidence " + score.textContent);
        button.addEventListener("mouseenter", () => onPoint(index, "hover"));
        button.addEventListener("mouseleave", () => onPoint(null, "hover"));
        button.addEventListener("focus", () => onPoint(index, "focus"));
        button.addEventListener("blur", () => onPoint(null, "focus"));
        button.addEventListener("click", () => onPoint(index, "click"));
        item.appendChild(button);
        list.appendChild(item);
        return item;
      });
    }

    // reveal: scroll the row into view (when the box was pointed at, not the row itself)
    function highlight(index, reveal) {
      rows.forEach((row, i) => {
        const on = i === index;
        row.classList.toggle("active", on);
        if (on) row.setAttribute("aria-current", "true");
        else row.removeAttribute("aria-current");
      });
      if (reveal && index !== null && rows[index]) rows[index].scrollIntoView({ block: "nearest" });
    }

    return { show, highlight };
  }

  ns.lines = { create };
})(window.OCRPage = window.OCRPage || {});

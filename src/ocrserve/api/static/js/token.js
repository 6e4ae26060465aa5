// The API token: in this tab's session storage only, never local storage or a cookie, so it
// goes when the tab closes and no other page on the origin can read it later.
(function (ns) {
  "use strict";

  const KEY = "ocrserve.token";

  function get() {
    try {
      return sessionStorage.getItem(KEY) || "";
    } catch (_) {
      return "";  // storage switched off: the field still works for this page view
    }
  }

  function set(value) {
    try {
      if (value) sessionStorage.setItem(KEY, value);
      else sessionStorage.removeItem(KEY);
    } catch (_) {
      // nothing to keep it in; the value in the field is used as it is
    }
  }

  // Wire the field: it starts from storage, and every edit is stored (or removed when empty).
  function bind(input, forget) {
    input.value = get();
    input.addEventListener("input", () => set(input.value.trim()));
    forget.addEventListener("click", () => {
      input.value = "";
      set("");
      input.focus();
    });
    return () => input.value.trim();
  }

  ns.token = { KEY, get, set, bind };
})(window.OCRPage = window.OCRPage || {});

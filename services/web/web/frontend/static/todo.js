// The 待办 count in the header: fetched after the page loads, and again when the phone comes
// back online. While offline nothing is asked (a page the service worker served would only
// log a failed request); without JavaScript the count is simply not shown.
(function () {
  "use strict";

  function refresh() {
    var slot = document.querySelector("[data-todo-count]");
    if (!slot || !navigator.onLine) return;
    fetch(slot.getAttribute("data-todo-count"), { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (!html) return;
        var holder = document.createElement("span");
        holder.innerHTML = html.trim();
        var count = holder.firstElementChild;
        if (count) {
          count.setAttribute("data-todo-count", slot.getAttribute("data-todo-count"));
          slot.replaceWith(count);
        }
      })
      .catch(function () { /* the network went away meanwhile: the next online event retries */ });
  }

  document.addEventListener("DOMContentLoaded", refresh);
  window.addEventListener("online", refresh);
})();

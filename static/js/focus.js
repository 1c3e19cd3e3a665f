// After a form is refused or an action is done, move focus to what the page says about it
// (the error summary first, else the status message), so a keyboard or screen-reader user
// lands on the answer instead of at the top of the page (WCAG 2.4.3, 3.3.1).
(function () {
  "use strict";
  var target = document.querySelector('[data-autofocus="error"]') ||
               document.querySelector("[data-autofocus]");
  if (target) target.focus();
})();

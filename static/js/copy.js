// Copy buttons: <button data-copy="ID" data-copy-status="ID" data-copied="text" hidden>
// copies the value of the field #ID and says so in the live region (role=status). The
// button stays hidden where the browser cannot copy; the read-only field can still be
// selected and copied by hand there.
(function () {
  "use strict";
  if (!navigator.clipboard) return;
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copyStatus);
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      navigator.clipboard.writeText(field.value).then(function () {
        status.textContent = button.dataset.copied;
      });
    });
  });
})();

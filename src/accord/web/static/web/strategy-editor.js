// The strategy editor: keep the line numbers beside the YAML as it grows (progressive
// enhancement: without this script the textarea still works, sized to the text it opened with).
(function () {
  "use strict";
  document.querySelectorAll(".code-editor").forEach(function (editor) {
    var text = editor.querySelector("textarea");
    var gutter = editor.querySelector(".code-editor__gutter");
    var problem = parseInt(editor.getAttribute("data-problem-line"), 10);
    var shown = -1;
    function lines() {
      return text.value.split("\n").length;
    }
    function renumber() {
      var count = lines();
      if (count === shown) {
        return;
      }
      shown = count;
      var parts = [];
      for (var n = 1; n <= count; n += 1) {
        parts.push(n === problem ? '<span class="is-problem">' + n + "</span>" : "<span>" + n + "</span>");
      }
      gutter.innerHTML = parts.join("\n") + "\n";
      text.rows = count + 2;
    }
    text.addEventListener("input", renumber);
    renumber();
  });
})();

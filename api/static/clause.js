/* Clause page: copy the citation, print. A file, not an inline script, for CSP (script-src 'self'). */
(function () {
  'use strict';
  function init() {
    var copy = document.getElementById('copy-btn');
    var status = document.getElementById('copy-status');
    var citation = document.getElementById('citation');
    function selectCitation() {
      var range = document.createRange();
      range.selectNodeContents(citation);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    if (copy && citation) {
      copy.addEventListener('click', function () {
        var text = citation.textContent;
        var done = function () { status.textContent = copy.getAttribute('data-copied'); };
        var failed = function () { selectCitation(); status.textContent = copy.getAttribute('data-failed'); };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(done, failed);
        } else {
          failed();
        }
      });
    }
    var print = document.getElementById('print-btn');
    if (print) { print.addEventListener('click', function () { window.print(); }); }
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', init); } else { init(); }
})();

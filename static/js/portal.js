// Tables that stack on a phone (static/css/portal.css): each body cell gets its column's header
// as data-label, which the narrow layout prints above the cell. Cells that span columns keep
// none. No inline script: the Content-Security-Policy allows only the portal's own files.
(function () {
  "use strict";
  document.querySelectorAll("main table").forEach(function (table) {
    var headers = table.querySelectorAll("thead tr:last-child th, thead tr:last-child td");
    if (!headers.length) return;
    var names = Array.prototype.map.call(headers, function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        var span = cell.colSpan || 1;
        if (span === 1 && names[column] && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", names[column]);
        }
        column += span;
      });
    });
  });
})();

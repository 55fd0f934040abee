// The run page follows a run that has not finished: progress, the queue notice, and a reload
// once it ends. A static file (the Content-Security-Policy allows no inline script); the API
// address comes from the page's #run-poll element.
(function () {
  "use strict";
  const source = document.getElementById("run-poll");
  if (!source) { return; }
  const url = source.dataset.url;
  function poll() {
    fetch(url, {credentials: "same-origin"}).then(r => r.json()).then(d => {
      document.getElementById("done").textContent = d.samples_done;
      document.getElementById("bar").value = d.progress_percent;
      const notice = document.getElementById("queue-notice");
      notice.textContent = d.queue_notice || ""; notice.hidden = !d.queue_notice;
      if (["succeeded", "failed", "cancelled"].includes(d.status)) { location.reload(); }
      else { setTimeout(poll, 1500); }
    }).catch(() => setTimeout(poll, 3000));
  }
  poll();
})();

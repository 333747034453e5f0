// leadgate web app: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // "Tick all" for the bulk form of the MQL and MQA queues.
  var all = document.getElementById("tick-all");
  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll('input[type=checkbox][form=bulk]:not(#tick-all)').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
  // SLA countdowns tick down each minute.
  function fmt(ms) {
    var m = Math.round(Math.abs(ms) / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60);
    var text = d ? d + "d " + h + "h" : (h ? h + "h " + String(m % 60).padStart(2, "0") + "m" : m + "m");
    return ms < 0 ? text + " over" : text + " left";
  }
  var started = Date.now();
  var counters = Array.prototype.slice.call(document.querySelectorAll(".countdown[data-due][data-left]"));
  function tick() {
    counters.forEach(function (el) {
      el.textContent = fmt(Number(el.dataset.left) * 1000 - (Date.now() - started));
    });
  }
  if (counters.length) { setInterval(tick, 60000); }
  // A report being computed: look again every few seconds (without script: the "Reload" link).
  var waiting = document.querySelector("[data-reload-seconds]");
  if (waiting) {
    setTimeout(function () { window.location.reload(); }, Number(waiting.dataset.reloadSeconds) * 1000);
  }
})();

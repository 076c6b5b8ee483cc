// Draws the report's charts with uPlot from the JSON data element. When done it
// sets data-charts on <body> to the number of charts drawn; any error sets
// data-error (the head's window.onerror does that for uncaught ones).
(function () {
	"use strict";
	var body = document.body;
	var data = JSON.parse(document.getElementById("data").textContent);
	var utc = function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); };
	var fromZero = function (u, min, max) { return [0, max > 0 ? max * 1.05 : 1]; };
	var drawn = 0;
	// The server's unhealthy or not-ready periods, shaded behind every chart.
	var bands = data.bands || [];
	var shade = function (u) {
		var ctx = u.ctx;
		ctx.save();
		ctx.fillStyle = "rgba(192, 57, 43, 0.15)";
		bands.forEach(function (b) {
			var x0 = u.valToPos(b.from, "x", true), x1 = u.valToPos(b.to, "x", true);
			var left = Math.max(x0, u.bbox.left), right = Math.min(x1, u.bbox.left + u.bbox.width);
			if (right > left) { ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height); }
		});
		ctx.restore();
	};
	(data.charts || []).forEach(function (c) {
		try {
			var el = document.getElementById(c.id);
			var width = Math.max(320, Math.min(el.clientWidth || 960, 1160));
			var series = [{ label: "time (UTC)" }];
			c.series.forEach(function (s) {
				series.push({ label: s.label, stroke: s.color, width: 2, points: { show: c.data[0].length < 40 } });
			});
			new uPlot({
				title: c.title,
				width: width,
				height: 260,
				tzDate: utc,
				scales: { y: { range: fromZero } },
				axes: [{}, { label: c.unit, size: 60 }],
				series: series,
				hooks: { drawClear: [shade] }
			}, c.data, el);
			drawn++;
		} catch (e) {
			body.dataset.error = c.id + ": " + (e && e.message ? e.message : String(e));
		}
	});
	body.dataset.charts = String(drawn);
})();

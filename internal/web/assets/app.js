// perfharness live UI: polls /api/state every second and renders it; the
// controls POST JSON to /api/*. No framework, no request beyond this origin.
(function () {
	"use strict";

	const POLL_MS = 1000;
	const $ = (id) => document.getElementById(id);

	let polls = 0;
	let status = null;   // the last Status
	let run = null;      // the last run view, or null
	let charts = null;   // {rps, latency, users}
	let startFilled = false;
	let classesKey = null;
	let ended = false;   // quit succeeded: stop polling
	let busy = false;

	function fail(err) {
		const text = err && err.stack ? err.stack : String(err);
		document.body.dataset.error = text;
		if (window.console) console.error(err);
	}
	window.addEventListener("error", (e) => fail(e.error || e.message));
	window.addEventListener("unhandledrejection", (e) => fail(e.reason));

	// ---- formatting ----
	function isNum(v) { return typeof v === "number" && isFinite(v); }
	function ms(v) {
		if (!isNum(v)) return "–";
		if (v >= 100) return String(Math.round(v));
		if (v >= 10) return v.toFixed(1);
		return v.toFixed(2);
	}
	function rate(v) { return isNum(v) ? v.toFixed(2) : "–"; }
	function int(v) { return isNum(v) ? String(Math.round(v)) : "–"; }
	function pct(v) { return isNum(v) ? (v < 10 ? v.toFixed(2) : v.toFixed(1)) + "%" : "–"; }
	function withUnit(v, unit) {
		if (!isNum(v)) return "–";
		const s = String(Math.round(v * 1000) / 1000);
		if (!unit) return s;
		return unit === "%" ? s + unit : s + " " + unit;
	}

	// ---- DOM helpers (text only: server strings never become markup) ----
	function el(tag, attrs, ...children) {
		const e = document.createElement(tag);
		if (attrs) {
			for (const [k, v] of Object.entries(attrs)) {
				if (k === "class") e.className = v;
				else if (k === "text") e.textContent = v;
				else e.setAttribute(k, v);
			}
		}
		for (const c of children) e.append(c);
		return e;
	}
	function td(text, cls) { return el("td", cls ? {class: cls, text} : {text}); }
	function fill(tbody, rows, empty, cols) {
		if (rows.length === 0) {
			tbody.replaceChildren(el("tr", null, el("td", {class: "name muted", colspan: String(cols), text: empty})));
			return;
		}
		tbody.replaceChildren(...rows);
	}
	function show(node, on) { node.hidden = !on; }

	// ---- messages ----
	function message(text, info) {
		const m = $("message");
		m.textContent = text || "";
		m.classList.toggle("info", !!info);
		show(m, !!text);
	}

	// ---- rendering ----
	function renderStatus(st) {
		status = st;
		const state = $("state");
		state.textContent = st.state || "unknown";
		state.className = "state " + (st.state || "");
		$("users").textContent = st.users + " / " + st.target_users;
		$("host").textContent = st.host || "–";
		$("scenario").textContent = st.scenario || "";
		if (st.scenario) document.title = st.scenario + " · perfharness";

		const live = st.state === "running" || st.state === "spawning";
		$("stop").disabled = busy || !live;
		$("edit").disabled = busy || !live;
		$("reset").disabled = busy || st.state === "idle" && !run;
		$("edit-submit").disabled = busy;
		$("start-submit").disabled = busy;
		show($("quit"), !!st.idle);
		$("quit").disabled = busy;
		if (!live && !$("edit-panel").hidden) closeEdit();

		const canStart = !!st.idle && (st.state === "idle" || st.state === "stopped");
		show($("start-panel"), canStart);
		if (canStart) renderStartForm(st);

		const se = $("status-error");
		se.textContent = st.error ? "Last error: " + st.error : "";
		show(se, !!st.error);
	}

	function renderStartForm(st) {
		if (!startFilled) {
			startFilled = true;
			if (st.host && !$("start-host").value) $("start-host").value = st.host;
			if (st.target_users > 0) $("start-users").value = String(st.target_users);
			if (st.spawn_rate > 0) $("start-rate").value = String(st.spawn_rate);
		}
		const classes = st.classes || [];
		const key = classes.join("\n");
		if (key === classesKey) return;
		classesKey = key;
		const box = $("start-classes");
		box.replaceChildren(...classes.map((c) => {
			const cb = el("input", {type: "checkbox", value: c, name: "class"});
			cb.checked = true;
			return el("label", null, cb, document.createTextNode(c));
		}));
		show($("start-classes-box"), classes.length > 0);
	}

	function renderStats(r) {
		const rows = (r ? r.entries : []).map((e) => {
			const tr = el("tr", e.aggregate ? {class: "total"} : null,
				td(e.method, "left"), td(e.name, "name"), td(int(e.requests)), td(int(e.failures), e.failures > 0 ? "fail" : ""),
				td(ms(e.median_ms)), td(ms(e.p95_ms)), td(ms(e.p99_ms)), td(ms(e.avg_ms)),
				td(ms(e.min_ms)), td(ms(e.max_ms)), td(int(e.avg_bytes)), td(rate(e.rps)), td(rate(e.fail_ps)));
			return tr;
		});
		fill($("stats-table").tBodies[0], r && r.entries.length > 1 ? rows : [], "No requests yet.", 13);

		const total = r && r.entries.length ? r.entries[r.entries.length - 1] : null;
		const s = r ? r.series : null;
		const recent = s && s.rps.length ? s.rps[s.rps.length - 1] : (total ? total.rps : null);
		$("rps").textContent = rate(recent);
		$("failures-pct").textContent = total && total.requests > 0 ? pct(100 * total.failures / total.requests) : "–";
	}

	function renderFailures(r) {
		const fs = r ? r.failures : [];
		fill($("failures-table").tBodies[0], fs.map((f) => el("tr", null,
			td(int(f.occurrences)), td(f.method, "left"), td(f.name, "name"), td(f.error, "name"))), "No failures.", 4);
		const c = $("failures-count");
		c.textContent = fs.length ? String(fs.reduce((a, f) => a + f.occurrences, 0)) : "";
		c.className = "count" + (fs.length ? " bad" : "");
	}

	function renderExceptions(r) {
		const xs = r ? r.exceptions : [];
		fill($("exceptions-table").tBodies[0], xs.map((x) => el("tr", null,
			td(int(x.count)), td(x.message, "name"), el("td", {class: "name"}, el("pre", {text: x.traceback || ""})))),
		"No exceptions.", 3);
		const c = $("exceptions-count");
		c.textContent = xs.length ? String(xs.reduce((a, x) => a + x.count, 0)) : "";
		c.className = "count" + (xs.length ? " bad" : "");
	}

	const gradeClass = {"Target": "g-target", "Acceptable": "g-acceptable", "Needs investigation": "g-investigate", "Poor": "g-poor"};

	function result(gated, failed) {
		if (!gated) return el("span", {class: "muted", text: "info"});
		return failed ? el("span", {class: "failed", text: "FAIL"}) : el("span", {class: "pass", text: "PASS"});
	}

	function renderTargets(r) {
		const v = $("verdict");
		const badge = $("verdict-badge");
		const reasons = $("verdict-reasons");
		if (!r) {
			v.textContent = "No run yet.";
			v.className = "verdict";
			badge.textContent = "";
			reasons.replaceChildren();
		} else {
			const graded = r.checks.length + r.alerts.length > 0;
			v.textContent = (r.verdict.pass ? "PASS" : "FAIL") + (graded ? "" : " (no targets graded)") +
				(status && (status.state === "running" || status.state === "spawning") ? " — as the run stands" : "");
			v.className = "verdict " + (r.verdict.pass ? "pass" : "fail");
			badge.textContent = r.verdict.pass ? "pass" : "fail";
			badge.className = "count " + (r.verdict.pass ? "good" : "bad");
			reasons.replaceChildren(...r.verdict.reasons.map((x) => el("li", {text: x})));
		}
		const checks = r ? r.checks : [];
		fill($("checks-table").tBodies[0], checks.map((c) => el("tr", null,
			td(c.endpoint || "Aggregated", "name"), td(c.metric, "left"), td(withUnit(c.value, c.unit)),
			el("td", null, el("span", {class: "grade " + (gradeClass[c.grade] || "g-none"), text: c.grade || "—"})),
			td(c.gated ? "yes" : "no"), el("td", null, result(c.gated, !c.pass)), td(c.message, "name"))),
		"No checks.", 7);
		const alerts = r ? r.alerts : [];
		fill($("alerts-table").tBodies[0], alerts.map((a) => el("tr", null,
			td(a.name, "left"), td(withUnit(a.value)), td(withUnit(a.limit)), el("td", null, result(true, a.fired)), td(a.message, "name"))),
		"No alerts configured.", 5);

		const g = r ? r.generator : null;
		const fields = [];
		if (g && g.model) {
			fields.push(["Model", g.model === "arrivals" ? "arrivals (open), " + rate(g.rate) + " iterations/s" : g.model + " (closed)"]);
			if (g.clock) fields.push(["Latency targets graded on", g.clock + " time"]);
			if (g.model === "arrivals") fields.push(["Iterations", int(g.iterations) + " started, " + int(g.dropped) + " dropped"]);
			fields.push(["Start lag", "p99 " + ms(g.lag_p99_ms) + " ms, max " + ms(g.lag_max_ms) + " ms"]);
			fields.push(["Generator", g.saturated ? "SATURATED: " + g.reasons.join("; ") : "kept up with its schedule"]);
			if (g.advice) fields.push(["Advice", g.advice]);
			for (const n of g.notes) fields.push(["Note", n]);
		}
		$("generator").replaceChildren(...(fields.length ? fields.flatMap(([k, val]) => [el("dt", {text: k}), el("dd", {text: val})])
			: [el("dd", {class: "muted", text: "No generator figures yet."})]));
	}

	// ---- charts ----
	function chartWidth(node) {
		return node.clientWidth || Math.max(320, document.documentElement.clientWidth - 60);
	}

	function makeChart(id, title, yLabel, series) {
		const node = $(id);
		const opts = {
			title, width: chartWidth(node), height: 260,
			scales: {x: {time: true}},
			series: [{}].concat(series.map(([label, stroke]) => ({label, stroke, width: 2, spanGaps: false}))),
			axes: [{}, {label: yLabel}],
		};
		return new uPlot(opts, [[]].concat(series.map(() => [])), node);
	}

	function initCharts() {
		charts = {
			rps: makeChart("chart-rps", "Requests and failures per second", "per second",
				[["RPS", "#2e7d32"], ["Failures/s", "#c62828"]]),
			latency: makeChart("chart-latency", "Response times (service time)", "ms",
				[["p50 (ms)", "#1f6feb"], ["p95 (ms)", "#ef6c00"]]),
			users: makeChart("chart-users", "Users", "users", [["Users", "#6a1b9a"]]),
		};
	}

	function resizeCharts() {
		if (!charts) return;
		for (const [name, c] of Object.entries(charts)) {
			const w = $("chart-" + name).clientWidth;
			if (w > 0 && w !== c.width) c.setSize({width: w, height: c.height});
		}
	}

	function renderCharts(r) {
		const s = r ? r.series : {time: [], users: [], rps: [], fail_ps: [], p50_ms: [], p95_ms: []};
		charts.rps.setData([s.time, s.rps, s.fail_ps]);
		charts.latency.setData([s.time, s.p50_ms, s.p95_ms]);
		charts.users.setData([s.time, s.users]);
		document.body.dataset.chartPoints = String(charts.rps.data[0].length);
	}

	function render(state) {
		run = state.run;
		renderStatus(state.status);
		renderStats(run);
		renderFailures(run);
		renderExceptions(run);
		renderTargets(run);
		renderCharts(run);
	}

	// ---- polling ----
	async function poll() {
		let state = null;
		try {
			const res = await fetch("/api/state", {cache: "no-store", headers: {Accept: "application/json"}});
			if (!res.ok) throw new Error("GET /api/state: HTTP " + res.status);
			state = await res.json();
		} catch (e) {
			const st = $("state");
			st.textContent = "disconnected";
			st.className = "state disconnected";
		}
		if (state) {
			try {
				render(state);
				polls++;
				document.body.dataset.polls = String(polls);
			} catch (e) {
				fail(e);
			}
		}
		if (!ended) setTimeout(poll, POLL_MS);
	}

	// ---- controls ----
	function setBusy(on) {
		busy = on;
		if (status) renderStatus(status);
	}

	async function post(path, body) {
		setBusy(true);
		try {
			const res = await fetch(path, {
				method: "POST",
				headers: {"Content-Type": "application/json", Accept: "application/json"},
				body: JSON.stringify(body || {}),
			});
			let data = null;
			try { data = await res.json(); } catch (e) { data = null; }
			if (!res.ok) {
				message((data && data.error) || path + ": HTTP " + res.status);
				return null;
			}
			message("");
			return data;
		} catch (e) {
			message(path + ": " + e.message);
			return null;
		} finally {
			busy = false;
			if (status) renderStatus(status);
		}
	}

	function afterControl(data) {
		if (data && data.status) renderStatus(data.status);
	}

	function openEdit() {
		if (status) {
			$("edit-users").value = String(status.target_users);
			$("edit-rate").value = String(status.spawn_rate > 0 ? status.spawn_rate : 1);
		}
		show($("edit-panel"), true);
		$("edit").setAttribute("aria-expanded", "true");
		$("edit-users").focus();
	}
	function closeEdit() {
		show($("edit-panel"), false);
		$("edit").setAttribute("aria-expanded", "false");
	}

	function init() {
		$("edit").addEventListener("click", () => ($("edit-panel").hidden ? openEdit() : closeEdit()));
		$("edit-cancel").addEventListener("click", closeEdit);
		$("edit-form").addEventListener("submit", async (ev) => {
			ev.preventDefault();
			const data = await post("/api/scale", {
				users: parseInt($("edit-users").value, 10),
				spawn_rate: parseFloat($("edit-rate").value),
			});
			if (data) { closeEdit(); afterControl(data); }
		});
		$("stop").addEventListener("click", async () => afterControl(await post("/api/stop")));
		$("reset").addEventListener("click", async () => afterControl(await post("/api/reset")));
		$("quit").addEventListener("click", async () => {
			const data = await post("/api/quit");
			if (data) {
				ended = true;
				afterControl(data);
				message("The test has ended; you can close this page.", true);
			}
		});
		$("start-form").addEventListener("submit", async (ev) => {
			ev.preventDefault();
			const classes = Array.from($("start-classes").querySelectorAll("input[type=checkbox]:checked"), (c) => c.value);
			afterControl(await post("/api/start", {
				host: $("start-host").value.trim(),
				users: parseInt($("start-users").value, 10),
				spawn_rate: parseFloat($("start-rate").value),
				classes,
				duration: $("start-duration").value.trim(),
			}));
		});

		for (const tab of document.querySelectorAll("#tabs .tab")) {
			tab.addEventListener("click", () => {
				for (const t of document.querySelectorAll("#tabs .tab")) {
					t.classList.toggle("active", t === tab);
					t.setAttribute("aria-selected", String(t === tab));
				}
				for (const p of document.querySelectorAll(".tabpanel")) show(p, p.id === "tab-" + tab.dataset.tab);
				if (tab.dataset.tab === "charts") resizeCharts();
			});
		}
		window.addEventListener("resize", resizeCharts);

		initCharts();
		poll();
	}

	try {
		init();
	} catch (e) {
		fail(e);
	}
})();

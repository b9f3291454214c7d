// socialpulse live alerts page. Plain JS, no build step, no external resources.
// Mention text is hostile input: the DOM is built with createElement + textContent only (never innerHTML),
// and the server's Content-Security-Policy forbids inline scripts and styles.
"use strict";

(function () {
  const PALETTE = ["#4fa3ff", "#34c38f", "#f2c744", "#c084fc", "#ff8a3d", "#2dd4bf", "#f472b6", "#a3b1c2"];
  const MAX_ALERTS = 600;
  const KPI_EVERY_MS = 10000;
  const CHART_EVERY_MS = 60000;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const state = {
    alerts: new Map(),   // alert_id -> alert view object
    cards: new Map(),    // alert_id -> rendered element (rebuilt when the alert changes)
    fresh: new Set(),    // alert ids that arrived live and are not rendered yet
    brands: new Set(),
    chartBrands: [],
    pending: new Set(),  // alert ids with an action in flight
  };

  const $ = (id) => document.getElementById(id);

  const { SEVERITIES, SEV_RANK, el, money, pct, relTime, safeStatus, buildCard, customerLink, postAction,
          actionPhrase } = window.SP;

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  function visible(a) {
    const f = filters();
    if (f.brand && a.brand !== f.brand) return false;
    if ((SEV_RANK[a.severity] ?? 0) < (SEV_RANK[f.severity] ?? 0)) return false;
    const status = safeStatus(a.status);
    if (f.status === "open" && status !== "open") return false;
    if (f.status === "active" && status === "resolved") return false;
    return true;
  }

  function filters() {
    return { brand: $("f-brand").value, severity: $("f-severity").value, status: $("f-status").value,
             sort: $("f-sort").value };
  }

  function renderAlerts() {
    const list = [...state.alerts.values()].filter(visible);
    const newest = (x, y) => (y.created_at > x.created_at ? 1 : y.created_at < x.created_at ? -1 : 0);
    const STATUS_RANK = { open: 0, acked: 1, resolved: 2 };
    if ($("f-sort").value === "severity") {
      list.sort((x, y) => (STATUS_RANK[safeStatus(x.status)] - STATUS_RANK[safeStatus(y.status)]) ||
                          ((SEV_RANK[y.severity] ?? 0) - (SEV_RANK[x.severity] ?? 0)) || newest(x, y));
    } else {
      list.sort(newest);
    }
    const nodes = list.map((a) => {
      let card = state.cards.get(a.alert_id);
      if (!card) {
        card = buildCard(a, { pending: state.pending.has(a.alert_id), fresh: state.fresh.delete(a.alert_id),
                              onAct: act });
        state.cards.set(a.alert_id, card);
      }
      return card;
    });
    $("alerts").replaceChildren(...nodes);
    $("alerts-empty").hidden = nodes.length > 0;
    const open = [...state.alerts.values()].filter((a) => safeStatus(a.status) === "open").length;
    $("alert-count").textContent = nodes.length + " shown · " + open + " open on this page";
    document.title = (open ? "(" + open + ") " : "") + "socialpulse · live alerts";
  }

  // Bursts of events (a replay, a spike) are coalesced into one render.
  let renderTimer = null;
  function scheduleRender() {
    if (renderTimer === null) renderTimer = setTimeout(() => { renderTimer = null; renderAlerts(); }, 50);
  }

  function upsert(a, live) {
    if (!a || typeof a.alert_id !== "string") return;
    const known = state.alerts.get(a.alert_id);
    // A status the page already knows (e.g. acked) wins over an older copy that says "open".
    if (known && known.status !== "open" && a.status === "open") a.status = known.status;
    if (live && !known) state.fresh.add(a.alert_id);
    state.alerts.set(a.alert_id, a);
    state.cards.delete(a.alert_id);
    if (a.brand && !state.brands.has(a.brand)) {
      state.brands.add(a.brand);
      renderBrandOptions();
    }
  }

  function trim() {
    if (state.alerts.size <= MAX_ALERTS) return;
    const byAge = [...state.alerts.values()].sort((x, y) =>
      (safeStatus(x.status) === "resolved") - (safeStatus(y.status) === "resolved") ||
      (x.created_at < y.created_at ? 1 : -1));
    for (const a of byAge.slice(MAX_ALERTS)) {
      state.alerts.delete(a.alert_id);
      state.cards.delete(a.alert_id);
    }
  }

  function applyAction(act) {
    const a = state.alerts.get(act.alert_id);
    if (!a) return;
    if (act.verdict) {  // a verdict on the complaint model: the card shows it was recorded
      a.verdict = act.verdict;
      a.verdict_by = act.by;
      state.cards.delete(a.alert_id);
      return;
    }
    if (!act.status) return;
    if (a.status === "resolved" && act.status === "acked") return;  // a late ack never reopens a resolve
    a.status = act.status;
    state.cards.delete(a.alert_id);
  }

  // --- actions --------------------------------------------------------------------------------------------
  async function act(alertId, action) {
    state.pending.add(alertId);
    state.cards.delete(alertId);
    renderAlerts();
    try {
      const done = await postAction(alertId, action, $("f-by").value.trim());
      if (done === null) return unauthorized();
      applyAction(done);
      hideBanner("action");
      setTimeout(done.verdict ? loadPrecision : loadKpis, 2000);  // the sink needs a moment to write it
    } catch (err) {
      showBanner("Could not " + actionPhrase(action) + " (" + err.message + "). Try again.", "action");
    } finally {
      state.pending.delete(alertId);
      state.cards.delete(alertId);
      renderAlerts();
    }
  }

  // --- banner and connection state ------------------------------------------------------------------------
  let bannerKind = null;
  function showBanner(text, kind) {
    bannerKind = kind;
    $("banner").textContent = text;
    $("banner").hidden = false;
  }
  function hideBanner(kind) {
    if (bannerKind === kind) $("banner").hidden = true;
  }

  function setConn(kind, text) {
    $("conn").className = "conn conn-" + kind;
    $("conn-text").textContent = text;
  }

  let stopped = false;
  function unauthorized() {
    stopped = true;
    if (source) source.close();
    setConn("down", "signed out");
    showBanner("Not signed in (or the dashboard was restarted with a new token): open the URL printed by " +
               "`socialpulse dashboard`.", "auth");
  }

  // --- live stream ----------------------------------------------------------------------------------------
  let source = null;
  function connect() {
    source = new EventSource("/api/stream");
    source.addEventListener("open", () => setConn("live", "live"));
    source.addEventListener("snapshot", (ev) => {
      const data = JSON.parse(ev.data);
      for (const a of data.alerts || []) upsert(a, false);
      trim();
      renderAlerts();
      setConn(data.live === false ? "wait" : "live", data.live === false ? "live (joining…)" : "live");
      if (data.error) showBanner(data.error, "snapshot"); else hideBanner("snapshot");
      document.body.dataset.snapshot = String(data.alerts ? data.alerts.length : 0);
    });
    source.addEventListener("live", () => setConn("live", "live"));
    source.addEventListener("alert", (ev) => {
      upsert(JSON.parse(ev.data), true);
      trim();
      scheduleRender();
    });
    source.addEventListener("action", (ev) => {
      applyAction(JSON.parse(ev.data));
      scheduleRender();
    });
    source.addEventListener("error", async () => {
      if (stopped) return;
      setConn("down", "reconnecting…");
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. 401): find out why, then retry.
        const probe = await fetch("/api/kpis", { credentials: "same-origin" }).catch(() => null);
        if (probe && probe.status === 401) return unauthorized();
        setTimeout(connect, 3000);
      }
    });
  }

  // --- KPIs -----------------------------------------------------------------------------------------------
  async function loadKpis() {
    if (stopped) return;
    const brand = $("f-brand").value;
    try {
      const resp = await fetch("/api/kpis" + (brand ? "?brand=" + encodeURIComponent(brand) : ""),
                               { credentials: "same-origin" });
      if (resp.status === 401) return unauthorized();
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      const k = await resp.json();
      $("k-rate").textContent = k.mentions_per_min.toFixed(k.mentions_per_min < 10 ? 1 : 0);
      $("k-neg").textContent = pct(k.negative_share);
      $("k-complaints").textContent = String(k.complaints);
      $("k-open").textContent = String(k.open_alerts);
      $("k-open").classList.toggle("hot", k.open_alerts > 0);
      $("k-critical").textContent = String(k.critical_open);
      $("k-critical").classList.toggle("hot", k.critical_open > 0);
      $("k-acked").textContent = String(k.acked_alerts);
      $("k-updated").textContent = new Date().toLocaleTimeString();
      showWarnings(k.warnings || []);
      hideBanner("kpis");
    } catch (err) {
      $("k-updated").textContent = "stale (" + err.message + ")";
    }
  }

  // Configuration warnings (e.g. no brands configured): a banner of their own, apart from transient errors.
  function showWarnings(warnings) {
    const box = $("config-warning");
    box.replaceChildren(...warnings.map((w) => el("p", "", w)));
    box.hidden = warnings.length === 0;
  }

  // --- measured alert precision (verdicts on complaint alerts, 7 days) -------------------------------------
  function precisionText(p) {
    if (p.precision === null || p.precision === undefined) return "–";
    return pct(p.precision);
  }

  function precisionRow(p, overall) {
    const tr = el("tr", overall ? "overall" : (p.noisy ? "noisy" : ""));
    tr.dataset.brand = overall ? "" : p.brand;
    const range = p.low === null || p.low === undefined ? "" : pct(p.low) + "–" + pct(p.high);
    tr.append(el("td", overall ? "muted" : "alert-brand", overall ? "all brands" : (p.brand || "(no brand)")),
              el("td", "num precision", precisionText(p)), el("td", "num muted", range),
              el("td", "num reviewed", p.reviewed + " of " + p.alerts));
    tr.title = p.not_complaint + " not a complaint, " + p.confirmed + " confirmed of " + p.reviewed + " reviewed; " +
               p.alerts + " complaint alerts in the period" + (p.noisy ? " · few reviews: noisy" : "");
    return tr;
  }

  async function loadPrecision() {
    if (stopped) return;
    try {
      const resp = await fetch("/api/precision?days=7", { credentials: "same-origin" });
      if (resp.status === 401) return unauthorized();
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      const v = await resp.json();
      const brands = v.brands || [];
      const rows = brands.map((p) => precisionRow(p, false));
      if (rows.length > 1 && v.overall) rows.push(precisionRow(v.overall, true));
      if (!rows.length) {
        const tr = el("tr");
        const td = el("td", "muted", "no complaint alerts in " + v.days + " days");
        td.colSpan = 4;
        tr.append(td);
        rows.push(tr);
      }
      $("precision").tBodies[0].replaceChildren(...rows);
      const noisy = brands.some((p) => p.noisy);
      $("precision-note").textContent = noisy ? v.note : "";
      $("precision-note").hidden = !noisy;
      document.body.dataset.precision = String(brands.length);
    } catch (err) {
      $("precision-note").textContent = "precision unavailable (" + err.message + ")";
      $("precision-note").hidden = false;
    }
  }

  // --- advocates and detractors (customer value over 30 days) ---------------------------------------------
  function personItem(p) {
    const li = el("li", p.advocacy >= 0 ? "advocate" : "detractor");
    li.dataset.customerId = p.customer_id;
    li.append(customerLink(p.customer_id, p.customer_id), el("span", "muted", p.is_prospect ? "prospect" : p.tier));
    li.append(el("span", "reach", (p.advocacy > 0 ? "+" : "") + money.format(p.advocacy) + " reach"));
    li.title = p.positive + " positive · " + p.negative + " negative of " + p.mentions + " mentions · referral value " +
               money.format(p.referral_value) + (p.is_prospect ? "" : " · lifetime value " + money.format(p.lifetime_value));
    return li;
  }

  async function loadAdvocates() {
    if (stopped) return;
    try {
      const resp = await fetch("/api/advocates?days=30&limit=5", { credentials: "same-origin" });
      if (resp.status === 401) return unauthorized();
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      const v = await resp.json();
      for (const [id, people] of [["advocates", v.advocates], ["detractors", v.detractors]]) {
        const items = (people || []).map(personItem);
        $(id).replaceChildren(...(items.length ? items : [el("li", "muted", "nobody yet")]));
      }
      document.body.dataset.advocates = String((v.advocates || []).length + (v.detractors || []).length);
    } catch (err) {
      $("advocates").replaceChildren(el("li", "muted", "unavailable (" + err.message + ")"));
    }
  }

  // --- sentiment chart (inline SVG) -----------------------------------------------------------------------
  async function loadChart() {
    if (stopped) return;
    const hours = $("f-hours").value;
    const brand = $("f-brand").value;
    try {
      const resp = await fetch("/api/sentiment?hours=" + encodeURIComponent(hours) +
                               (brand ? "&brand=" + encodeURIComponent(brand) : ""), { credentials: "same-origin" });
      if (resp.status === 401) return unauthorized();
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      const data = await resp.json();
      drawChart(data.series || [], Number(data.hours) || 24);
      for (const s of data.series || []) {
        if (s.brand && !state.brands.has(s.brand)) {
          state.brands.add(s.brand);
          renderBrandOptions();
        }
      }
    } catch (err) {
      drawChart([], Number(hours) || 24, "chart unavailable (" + err.message + ")");
    }
  }

  // A brand keeps its colour across refreshes (first come, first served; reused when the palette runs out).
  const brandColors = new Map();
  function colorSlot(brand) {
    if (!brandColors.has(brand)) brandColors.set(brand, brandColors.size % PALETTE.length);
    return brandColors.get(brand);
  }

  function drawChart(series, hours, message) {
    const W = 400, H = 230, L = 32, R = 8, T = 10, B = 24;
    const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Hourly sentiment per brand" });
    const HOUR = 3600 * 1000;
    const end = Math.floor(Date.now() / HOUR) * HOUR;
    const start = end - (hours - 1) * HOUR;
    const x = (t) => L + ((t - start) / Math.max(HOUR, end - start)) * (W - L - R);
    const y = (v) => T + (1 - (v + 1) / 2) * (H - T - B);

    for (const v of [1, 0.5, 0, -0.5, -1]) {
      root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v === 0 ? "zero" : "grid" }));
      const label = svg("text", { x: L - 6, y: y(v) + 3, "text-anchor": "end", class: "axis-label" });
      label.textContent = (v > 0 ? "+" : "") + v;
      root.append(label);
    }
    // Time ticks every `step` hours counted back from the current hour, so they are evenly spaced.
    const step = hours <= 6 ? 1 : hours <= 24 ? 4 : hours <= 72 ? 12 : 24;
    for (let t = end; t >= start; t -= step * HOUR) {
      const d = new Date(t);
      const anchor = t === end ? "end" : x(t) - L < 20 ? "start" : "middle";
      const label = svg("text", { x: x(t), y: H - 8, "text-anchor": anchor, class: "axis-label" });
      label.textContent = hours <= 48
        ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
        : d.toLocaleDateString([], { month: "short", day: "numeric" });
      root.append(label);
    }

    const legend = $("legend");
    const items = [];
    series.forEach((s) => {
      const slot = colorSlot(s.brand);
      const color = PALETTE[slot];
      const pts = (s.points || [])
        .map((p) => ({ t: Date.parse(p.hour), v: Math.max(-1, Math.min(1, Number(p.avg))), n: p.n }))
        .filter((p) => !Number.isNaN(p.t) && p.t >= start - HOUR && p.t <= end + HOUR);
      if (!pts.length) return;
      // Break the line where an hour has no mentions rather than drawing across the gap.
      let d = "";
      pts.forEach((p, j) => {
        const joined = j > 0 && p.t - pts[j - 1].t <= HOUR;
        d += (joined ? " L" : " M") + x(p.t).toFixed(1) + " " + y(p.v).toFixed(1);
      });
      root.append(svg("path", { d: d.trim(), class: "series", stroke: color }));
      for (const p of pts) {
        const dot = svg("circle", { cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.4, fill: color });
        const tip = svg("title");
        tip.textContent = s.brand + " · " + new Date(p.t).toLocaleString() + " · avg " + p.v.toFixed(2) + " · " +
                          p.n + " mentions";
        dot.append(tip);
        root.append(dot);
      }
      const li = el("li");
      li.append(el("span", "swatch c" + slot), el("span", "", s.brand),
                el("span", "muted", "(" + s.mentions + ")"));
      items.push(li);
    });
    if (!items.length) {
      const t = svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "nodata" });
      t.textContent = message || "no mentions in this period";
      root.append(t);
    }
    $("chart").replaceChildren(root);
    legend.replaceChildren(...items);
  }

  // --- filters --------------------------------------------------------------------------------------------
  function renderBrandOptions() {
    const select = $("f-brand");
    const current = select.value;
    const options = [el("option", "", "all brands")];
    options[0].value = "";
    for (const b of [...state.brands].sort((p, q) => p.localeCompare(q))) {
      const o = el("option", "", b);
      o.value = b;
      options.push(o);
    }
    select.replaceChildren(...options);
    select.value = current;
  }

  function restoreFilters() {
    try {
      const saved = JSON.parse(localStorage.getItem("socialpulse.filters") || "{}");
      if (saved.brand) {
        state.brands.add(saved.brand);
        renderBrandOptions();
        $("f-brand").value = saved.brand;
      }
      if (SEVERITIES.includes(saved.severity)) $("f-severity").value = saved.severity;
      if (["active", "open", "all"].includes(saved.status)) $("f-status").value = saved.status;
      if (["newest", "severity"].includes(saved.sort)) $("f-sort").value = saved.sort;
      if (typeof saved.by === "string") $("f-by").value = saved.by.slice(0, 80);
    } catch (_) { /* ignore a corrupt entry */ }
  }

  function saveFilters() {
    const f = filters();
    f.by = $("f-by").value;
    try { localStorage.setItem("socialpulse.filters", JSON.stringify(f)); } catch (_) { /* private mode */ }
  }

  function init() {
    restoreFilters();
    for (const id of ["f-brand", "f-severity", "f-status", "f-sort"]) {
      $(id).addEventListener("change", () => {
        saveFilters();
        renderAlerts();
        if (id === "f-brand") { loadKpis(); loadChart(); }
      });
    }
    $("f-by").addEventListener("change", saveFilters);
    $("f-hours").addEventListener("change", loadChart);
    $("filters").addEventListener("submit", (ev) => ev.preventDefault());
    renderAlerts();
    connect();
    loadKpis();
    loadChart();
    loadAdvocates();
    loadPrecision();
    setInterval(loadKpis, KPI_EVERY_MS);
    setInterval(loadPrecision, CHART_EVERY_MS);
    setInterval(loadChart, CHART_EVERY_MS);
    setInterval(loadAdvocates, CHART_EVERY_MS);
    // Relative times ("3 min ago") drift: refresh them in place every 30 s.
    setInterval(() => {
      for (const t of document.querySelectorAll("time.alert-time")) t.textContent = relTime(t.dateTime);
    }, 30000);
  }

  document.addEventListener("DOMContentLoaded", init);
})();

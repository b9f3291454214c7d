// socialpulse customer page: search, the 360 profile, open alerts with ack/resolve and verdicts, the timeline across
// channels ("Missed complaint" on mentions the model did not flag) and "link to a customer" for prospects. DOM
// built with textContent only (see common.js).
"use strict";

(function () {
  const { el, money, relTime, clockTime, safeStatus, verdictChip, buildCard, customerLink, postAction,
          postMentionVerdict, actionPhrase } = window.SP;
  const $ = (id) => document.getElementById(id);
  const state = { id: null, profile: null, pending: new Set() };

  function showBanner(text) {
    $("banner").textContent = text;
    $("banner").hidden = false;
  }
  function hideBanner() { $("banner").hidden = true; }

  async function getJson(url) {
    const resp = await fetch(url, { credentials: "same-origin" });
    if (resp.status === 401) {
      showBanner("Not signed in: open the URL printed by `socialpulse dashboard`, then come back.");
      throw new Error("signed out");
    }
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(body.error || "HTTP " + resp.status);
    return body;
  }

  // --- search -------------------------------------------------------------------------------------------------
  async function search(q) {
    try {
      const data = await getJson("/api/customers?q=" + encodeURIComponent(q));
      hideBanner();
      const results = data.results || [];
      if (results.length === 1) return open(results[0].customer_id);
      const items = results.map((r) => {
        const li = el("li", r.is_prospect ? "prospect" : "customer");
        li.append(customerLink(r.customer_id, r.customer_id), el("span", "", r.name || ""),
                  el("span", "muted", r.tier), el("span", "muted", (r.matched || []).join(", ")));
        return li;
      });
      $("result-list").replaceChildren(...(items.length ? items : [el("li", "muted", "nobody matches " + data.q)]));
      $("result-count").textContent = results.length + " found";
      $("results").hidden = false;
    } catch (err) {
      showBanner("Search failed: " + err.message);
    }
  }

  // --- profile ------------------------------------------------------------------------------------------------
  function fact(dl, label, value, id) {
    const dt = el("dt", "", label);
    const dd = el("dd", "", value);
    if (id) dd.id = id;
    dl.append(dt, dd);
  }

  function when(iso) {
    return iso ? clockTime(iso) + " (" + relTime(iso) + ")" : "–";
  }

  function renderProfile(p) {
    $("p-title").textContent = (p.name ? p.name + " · " : "") + p.customer_id;
    $("p-kind").textContent = p.is_prospect ? "prospect" : p.tier;
    $("p-kind").className = "status-chip " + (p.is_prospect ? "status-open" : "status-acked");
    const linked = $("p-linked");
    linked.hidden = !p.linked_to;
    if (p.linked_to) {
      linked.replaceChildren(document.createTextNode("Linked to customer "), customerLink(p.linked_to, p.linked_to),
                             document.createTextNode(": this prospect's history also shows on the customer's page."));
    }
    const dl = $("p-facts");
    dl.replaceChildren();
    fact(dl, "Tier", p.tier, "p-tier");
    fact(dl, "Lifetime value", p.is_prospect ? "–" : money.format(p.lifetime_value), "p-ltv");
    fact(dl, "Referral value", money.format(p.referral_value), "p-crv");
    fact(dl, "Advocacy", (p.advocacy > 0 ? "+" : "") + money.format(p.advocacy) + " reach", "p-advocacy");
    fact(dl, "Influence", Number(p.influence || 0).toFixed(2), "p-influence");
    fact(dl, "Followers", money.format(p.followers || 0));
    fact(dl, "Mentions", p.mentions + " (" + p.positive + " positive, " + p.negative + " negative)", "p-mentions");
    fact(dl, "First seen", when(p.first_seen), "p-first");
    fact(dl, "Last seen", when(p.last_seen), "p-last");

    const rows = (p.identities || []).map((i) => {
      const tr = el("tr");
      tr.append(el("td", "", i.channel), el("td", "", i.handle), el("td", "muted", i.since ? clockTime(i.since) : "prospect"));
      return tr;
    });
    $("p-identities").tBodies[0].replaceChildren(...rows);
    $("link-form").hidden = !p.is_prospect || !!p.linked_to;

    renderAlerts(p);
    const items = (p.timeline || []).map(timelineItem);
    $("p-timeline").replaceChildren(...(items.length ? items : [el("li", "muted", "nothing yet")]));
    const links = (p.links || []).map((l) => el("li", "", clockTime(l.at) + " · " + l.action + " " + l.identity +
      (l.action === "link" ? " → " : " ← ") + l.customer_id + (l.previous_customer_id ? " (from " + l.previous_customer_id + ")" : "") +
      " · by " + l.by + " (" + l.source + ")"));
    $("p-links").replaceChildren(...(links.length ? links : [el("li", "muted", "no manual links")]));
    $("profile").hidden = false;
    $("hint").hidden = true;
    document.title = p.customer_id + " · socialpulse";
    document.body.dataset.profile = p.customer_id;
  }

  function renderAlerts(p) {
    const cards = (p.open_alerts || []).map((a) =>
      buildCard(a, { pending: state.pending.has(a.alert_id), fresh: false, onAct: act }));
    $("p-alerts").replaceChildren(...(cards.length ? cards : [el("p", "muted", "no open alerts")]));
    $("p-alert-count").textContent = cards.length ? "(" + cards.length + ")" : "";
  }

  function timelineItem(t) {
    const li = el("li", "tl tl-" + t.kind + " sent-" + t.sentiment_label);
    li.dataset.kind = t.kind;
    li.dataset.ref = t.ref_id;
    const head = el("div", "tl-head");
    const time = el("time", "alert-time", clockTime(t.at));
    time.dateTime = t.at;
    head.append(time, el("span", "alert-channel", t.channel));
    if (t.brand) head.append(el("span", "alert-brand", t.brand));
    if (t.kind === "alert") {
      head.append(el("span", "sev-chip sev-" + (t.severity || "low"), t.alert_type + " · " + t.severity),
                  el("span", "status-chip status-" + safeStatus(t.status), t.status));
    } else {
      head.append(el("span", "sentiment", t.sentiment_label + " " + Number(t.sentiment_compound).toFixed(2)));
      if (t.is_complaint) head.append(el("span", "sev-chip sev-medium", "complaint"));
      if (t.author) head.append(el("span", "muted", t.author));
    }
    li.append(head, el("p", "tl-text", t.text));
    if (t.cues && t.cues.length) li.append(el("div", "muted small tl-cues", "cues: " + t.cues.join(", ")));
    const feedback = timelineFeedback(t);
    if (feedback) li.append(feedback);
    return li;
  }

  // A mention the model did not flag can be marked "Missed complaint"; a verdict already given is shown instead.
  function timelineFeedback(t) {
    const box = el("div", "tl-feedback");
    const chip = verdictChip(t.verdict, t.verdict_by);
    if (chip) box.append(chip);
    if (t.kind === "mention" && !t.is_complaint && t.verdict !== "missed_complaint") {
      const button = el("button", "missed", "Missed complaint");
      button.type = "button";
      button.title = "The model missed it: this mention is a complaint (recorded for its training)";
      button.addEventListener("click", () => markMissed(t, box, button));
      box.append(button);
    }
    return box.childNodes.length ? box : null;
  }

  async function markMissed(t, box, button) {
    button.disabled = true;
    button.textContent = "recording…";
    try {
      const done = await postMentionVerdict(t.ref_id, "missed_complaint", $("f-by").value.trim());
      if (done === null) return showBanner("Not signed in: open the URL printed by `socialpulse dashboard`.");
      t.verdict = done.verdict;
      t.verdict_by = done.by;
      box.replaceChildren(verdictChip(done.verdict, done.by));
      hideBanner();
    } catch (err) {
      button.disabled = false;
      button.textContent = "Missed complaint";
      showBanner("Could not record the missed complaint (" + err.message + "). Try again.");
    }
  }

  async function open(id) {
    if (location.hash !== "#" + encodeURIComponent(id)) {
      location.hash = encodeURIComponent(id);  // hashchange loads it
      return;
    }
    state.id = id;
    try {
      const p = await getJson("/api/customers/" + encodeURIComponent(id));
      state.profile = p;
      hideBanner();
      $("results").hidden = true;
      renderProfile(p);
    } catch (err) {
      $("profile").hidden = true;
      showBanner("Could not open " + id + ": " + err.message);
    }
  }

  // --- actions ------------------------------------------------------------------------------------------------
  async function act(alertId, action) {
    state.pending.add(alertId);
    renderAlerts(state.profile);
    try {
      const done = await postAction(alertId, action, $("f-by").value.trim());
      if (done === null) return showBanner("Not signed in: open the URL printed by `socialpulse dashboard`.");
      const a = (state.profile.open_alerts || []).find((x) => x.alert_id === alertId);
      if (a && done.status) a.status = done.status;
      if (a && done.verdict) { a.verdict = done.verdict; a.verdict_by = done.by; }
      for (const item of document.querySelectorAll("#p-timeline li.tl-alert")) {
        if (item.dataset.ref !== alertId) continue;
        const chip = item.querySelector(".status-chip");
        if (chip && done.status) {
          chip.textContent = done.status;
          chip.className = "status-chip status-" + safeStatus(done.status);
        }
        if (done.verdict) {
          const box = item.querySelector(".tl-feedback") || item.appendChild(el("div", "tl-feedback"));
          box.replaceChildren(verdictChip(done.verdict, done.by));
        }
      }
      hideBanner();
    } catch (err) {
      showBanner("Could not " + actionPhrase(action) + " (" + err.message + "). Try again.");
    } finally {
      state.pending.delete(alertId);
      renderAlerts(state.profile);
    }
  }

  async function linkProspect(ev) {
    ev.preventDefault();
    const target = $("link-target").value.trim();
    if (!target) return;
    $("link-go").disabled = true;
    $("link-result").textContent = "linking…";
    try {
      const by = $("f-by").value.trim();
      const resp = await fetch("/api/customers/" + encodeURIComponent(state.id) + "/link", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(by ? { customer_id: target, by: by } : { customer_id: target }),
      });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(body.error || "HTTP " + resp.status);
      $("link-result").replaceChildren(document.createTextNode("linked to "), customerLink(body.customer_id, body.customer_id),
                                       document.createTextNode(": its history moves there once the worker applies it."));
      $("link-result").dataset.linked = body.customer_id;
    } catch (err) {
      $("link-result").textContent = "not linked: " + err.message;
    } finally {
      $("link-go").disabled = false;
    }
  }

  function init() {
    try {
      const saved = JSON.parse(localStorage.getItem("socialpulse.filters") || "{}");
      if (typeof saved.by === "string") $("f-by").value = saved.by.slice(0, 80);
    } catch (_) { /* ignore a corrupt entry */ }
    $("search").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const q = $("q").value.trim();
      if (q) search(q);
    });
    $("link-form").addEventListener("submit", linkProspect);
    window.addEventListener("hashchange", () => {
      const id = decodeURIComponent(location.hash.slice(1));
      if (id) open(id);
    });
    const id = decodeURIComponent(location.hash.slice(1));
    if (id) open(id);
  }

  document.addEventListener("DOMContentLoaded", init);
})();

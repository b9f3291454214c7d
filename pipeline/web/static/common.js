// socialpulse pages: what the live alerts page (app.js) and the customer page (customer.js) share.
// Mention text is hostile input: the DOM is built with createElement + textContent only (never innerHTML),
// and the server's Content-Security-Policy forbids inline scripts and styles.
"use strict";

window.SP = (function () {
  const SEVERITIES = ["low", "medium", "high", "critical"];
  const SEV_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]));
  const TYPE_LABELS = {
    complaint: "Complaint",
    repeat_complaint: "Repeat complaint",
    cross_channel_complaint: "Cross-channel complaint",
    vip_complaint: "VIP complaint",
    spike: "Negative spike",
  };
  // Verdicts on the complaint model (recorded in ClickHouse complaint_feedback, docs/operations.md).
  const VERDICT_LABELS = {
    not_complaint: "not a complaint",
    complaint: "a complaint",
    missed_complaint: "missed complaint",
  };

  // --- DOM helpers (textContent only) -----------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function labelled(label, value, className) {
    const span = el("span", className || "");
    span.append(document.createTextNode(label + " "), el("b", "", value));
    return span;
  }

  // --- formatting -----------------------------------------------------------------------------------------
  const money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

  function relTime(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return "";
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 45) return "just now";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  }

  function clockTime(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? "" : d.toLocaleString();
  }

  function pct(x) {
    return x === null || x === undefined ? "–" : (x * 100).toFixed(x < 0.1 ? 1 : 0) + "%";
  }

  function safeSeverity(sev) {
    return SEVERITIES.includes(sev) ? sev : "low";
  }

  function safeStatus(status) {
    return ["open", "acked", "resolved"].includes(status) ? status : "open";
  }

  function safeVerdict(verdict) {
    return Object.prototype.hasOwnProperty.call(VERDICT_LABELS, verdict) ? verdict : null;
  }

  // "Recorded: not a complaint · by ann" once a verdict is known (given here or seen from another page).
  function verdictChip(verdict, by) {
    const v = safeVerdict(verdict);
    if (!v) return null;
    return el("span", "verdict-chip verdict-" + v, "Recorded: " + VERDICT_LABELS[v] + (by ? " · by " + by : ""));
  }

  function customerLine(a) {
    const cust = el("div", "alert-customer");
    const who = a.is_prospect ? "prospect" : (a.customer_tier || "customer");
    const line = labelled("Customer", who + (a.is_prospect ? "" : " · " + a.customer_id),
                          a.type === "vip_complaint" ? "vip" : "");
    cust.append(line);
    if (a.customer_id) cust.append(customerLink(a.customer_id, a.is_prospect ? "prospect page" : "customer page"));
    if (!a.is_prospect) cust.append(labelled("Value", money.format(a.customer_lifetime_value || 0)));
    cust.append(labelled("Influence", Number(a.influence || 0).toFixed(2)));
    cust.append(labelled("Prior complaints", a.prior_complaints + " in " + a.prior_window_days + " d"));
    const channels = (a.channels_complained_on || []).join(", ");
    if (channels) cust.append(labelled("Channels", channels));
    cust.append(labelled("Sentiment", Number(a.sentiment_compound || 0).toFixed(2)));
    return cust;
  }

  // --- alert cards ----------------------------------------------------------------------------------------
  // opts: pending (an action is in flight), fresh (arrived live), onAct(alertId, action).
  function buildCard(a, opts) {
    const sev = safeSeverity(a.severity);
    const status = safeStatus(a.status);
    const card = el("article", "alert sev-" + sev + " status-" + status);
    card.dataset.alertId = a.alert_id;
    card.dataset.severity = sev;

    const head = el("div", "alert-head");
    head.append(el("span", "sev-chip sev-" + sev, sev));
    head.append(el("span", "alert-type", TYPE_LABELS[a.type] || a.type));
    if (a.brand) head.append(el("span", "alert-brand", a.brand));
    head.append(el("span", "alert-channel", "on " + a.channel));
    const time = el("time", "alert-time", relTime(a.created_at));
    time.dateTime = a.created_at;
    time.title = clockTime(a.created_at);
    head.append(time);
    head.append(el("span", "status-chip status-" + status, status));
    if (a.assignee) head.append(el("span", "alert-channel", "→ " + a.assignee));
    card.append(head);

    // A spike is about a brand and an hour: its context is that hour's most negative mentions.
    if (a.type === "spike" && a.top_mentions && a.top_mentions.length) {
      const top = el("ol", "alert-top");
      for (const t of a.top_mentions) {
        const li = el("li", "", t.text);
        li.title = t.mention_id + " · compound " + Number(t.sentiment_compound).toFixed(2);
        top.append(li);
      }
      card.append(top);
    } else {
      card.append(el("p", "alert-text", a.text));
    }

    if (a.reasons && a.reasons.length) {
      const reasons = el("ul", "alert-reasons");
      for (const r of a.reasons) reasons.append(el("li", "", r));
      card.append(reasons);
    }

    if (a.type !== "spike") card.append(customerLine(a));

    const actions = el("div", "alert-actions");
    const ack = el("button", "ack", status === "acked" ? "Acked" : "Ack");
    ack.type = "button";
    ack.disabled = status !== "open" || opts.pending;
    ack.addEventListener("click", () => opts.onAct(a.alert_id, "ack"));
    const resolve = el("button", "resolve", status === "resolved" ? "Resolved" : "Resolve");
    resolve.type = "button";
    resolve.disabled = status === "resolved" || opts.pending;
    resolve.addEventListener("click", () => opts.onAct(a.alert_id, "resolve"));
    actions.append(ack, resolve);
    // Verdicts on the complaint model: complaint alerts only (a spike is about volume, not one mention's text).
    if (a.type !== "spike") {
      const verdict = safeVerdict(a.verdict);
      const notComplaint = el("button", "verdict verdict-not", "Not a complaint");
      notComplaint.type = "button";
      notComplaint.title = "The model was wrong: this is not a complaint (recorded for its training and precision)";
      notComplaint.disabled = opts.pending || verdict === "not_complaint";
      notComplaint.addEventListener("click", () => opts.onAct(a.alert_id, "not_complaint"));
      const confirm = el("button", "verdict verdict-yes", "Is a complaint");
      confirm.type = "button";
      confirm.title = "The model was right: confirm this complaint (counts towards measured precision)";
      confirm.disabled = opts.pending || verdict === "complaint";
      confirm.addEventListener("click", () => opts.onAct(a.alert_id, "complaint"));
      actions.append(notComplaint, confirm);
      const chip = verdictChip(verdict, a.verdict_by);
      if (chip) actions.append(chip);
    }
    card.append(actions);

    if (opts.fresh) card.classList.add("fresh");
    return card;
  }

  // A link to the customer (or prospect) page; ids go into the fragment, never into markup.
  function customerLink(customerId, label) {
    const a = el("a", "customer-link", label || customerId);
    a.href = "/customer#" + encodeURIComponent(customerId);
    a.dataset.customerId = customerId;
    return a;
  }

  // POST an action (ack, resolve, or a verdict: not_complaint, complaint) on an alert; resolves to the action
  // view, or null when signed out (401); an error carries the server's reason.
  function postAction(alertId, action, by) {
    return postJson("/api/alerts/" + encodeURIComponent(alertId) + "/" + action, by);
  }

  // POST "missed_complaint" on a mention the model did not flag (the customer page's timeline).
  function postMentionVerdict(mentionId, verdict, by) {
    return postJson("/api/mentions/" + encodeURIComponent(mentionId) + "/" + verdict, by);
  }

  async function postJson(url, by) {
    const resp = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(by ? { by: by } : {}),
    });
    if (resp.status === 401) return null;
    if (!resp.ok) {
      const body = await resp.json().catch(() => ({}));
      throw new Error(body.error || "HTTP " + resp.status);
    }
    return resp.json();
  }

  // What the error banner calls an action ("Could not mark the alert not a complaint").
  function actionPhrase(action) {
    const v = safeVerdict(action);
    return v ? "mark the alert " + VERDICT_LABELS[v] : action + " the alert";
  }

  // Sign out (the topbar's form): POST /logout by fetch, which sends the page's Origin; a form navigation sends
  // "Origin: null" under the page's Referrer-Policy (no-referrer), which the server refuses. Then the signed-out
  // page, whatever the answer (already signed out: 401).
  function wireSignOut() {
    const form = document.querySelector("form.signout");
    if (!form) return;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        await fetch("/logout", { method: "POST", credentials: "same-origin" });
        location.replace("/signed-out");
      } catch (err) {
        button.disabled = false;
        button.textContent = "Sign out (failed, retry)";
      }
    });
  }
  document.addEventListener("DOMContentLoaded", wireSignOut);

  return { SEVERITIES, SEV_RANK, TYPE_LABELS, VERDICT_LABELS, el, labelled, money, relTime, clockTime, pct,
           safeSeverity, safeStatus, safeVerdict, verdictChip, buildCard, customerLink, postAction,
           postMentionVerdict, actionPhrase };
})();

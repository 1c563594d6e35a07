// Customer 360 dashboard: vanilla JS, no dependencies, no external requests.
// Every piece of user data is put into the page with textContent / createTextNode / setAttribute, never as HTML.
(function () {
  "use strict";

  var KEY_STORAGE = "c360.apiKey";
  var API_BASE = "/api/v1/";
  var REQUEST_TIMEOUT_MS = 20000;
  var LIVE_RETRY_MIN_MS = 1000;
  var LIVE_RETRY_MAX_MS = 30000;
  var LIVE_MAX_LINE = 4 * 1024 * 1024; // An update longer than this is refused rather than buffered.
  var SEARCH_PAGE_SIZE = 20;
  var AT_RISK_PAGE_SIZE = 10;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  // ---------------------------------------------------------------------------------------------------------------
  // API key (sessionStorage, with an in-memory fallback when storage is unavailable)
  // ---------------------------------------------------------------------------------------------------------------

  var memoryKey = null;

  function getKey() {
    try {
      var stored = window.sessionStorage.getItem(KEY_STORAGE);
      if (stored) return stored;
    } catch (e) { /* storage disabled */ }
    return memoryKey;
  }

  function setKey(key) {
    memoryKey = key;
    try { window.sessionStorage.setItem(KEY_STORAGE, key); } catch (e) { /* storage disabled */ }
  }

  function clearKey() {
    memoryKey = null;
    try { window.sessionStorage.removeItem(KEY_STORAGE); } catch (e) { /* storage disabled */ }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // URL fragment: #key=<secret>&customer=<email|phone|id>&view=kpis|search&q=<query>
  // Parsed by hand so that "+" in phone numbers stays a "+" (URLSearchParams would turn it into a space).
  // ---------------------------------------------------------------------------------------------------------------

  function safeDecode(text) {
    try { return decodeURIComponent(text); } catch (e) { return text; }
  }

  function parseFragment(hash) {
    var params = new Map();
    var text = String(hash || "").replace(/^#/, "");
    if (!text) return params;
    text.split("&").forEach(function (part) {
      if (!part) return;
      var index = part.indexOf("=");
      var name = safeDecode(index < 0 ? part : part.slice(0, index));
      var value = index < 0 ? "" : safeDecode(part.slice(index + 1));
      params.set(name, value);
    });
    return params;
  }

  function buildFragment(params) {
    var parts = [];
    params.forEach(function (value, name) {
      if (value === undefined || value === null || value === "") return;
      parts.push(encodeURIComponent(name) + "=" + encodeURIComponent(value));
    });
    return parts.join("&");
  }

  function fragmentFor(entries) {
    return "#" + buildFragment(new Map(entries));
  }

  function replaceFragment(params) {
    var rest = buildFragment(params);
    var url = location.pathname + location.search + (rest ? "#" + rest : "");
    try {
      history.replaceState(history.state, "", url);
    } catch (e) {
      // Without the History API the key stays visible; better than losing it.
    }
  }

  // Takes the key out of the fragment (storing it) and removes it from the address bar.
  function consumeKeyFromFragment() {
    var params = parseFragment(location.hash);
    if (params.has("key")) {
      var key = params.get("key").trim();
      params.delete("key");
      if (key) setKey(key);
      replaceFragment(params);
    }
    return params;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // DOM helpers (no innerHTML anywhere)
  // ---------------------------------------------------------------------------------------------------------------

  function appendChildren(node, children) {
    children.forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      if (Array.isArray(child)) { appendChildren(node, child); return; }
      if (typeof child === "string" || typeof child === "number") {
        node.appendChild(document.createTextNode(String(child)));
      } else {
        node.appendChild(child);
      }
    });
  }

  function setAttributes(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (name) {
      var value = attrs[name];
      if (value === undefined || value === null || value === false) return;
      if (name === "class") node.setAttribute("class", value);
      else if (name === "text") node.textContent = String(value);
      else if (name === "dataset") Object.keys(value).forEach(function (k) { node.dataset[k] = String(value[k]); });
      else if (name.slice(0, 2) === "on" && typeof value === "function") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    });
  }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    setAttributes(node, attrs);
    appendChildren(node, Array.prototype.slice.call(arguments, 2));
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttributes(node, attrs);
    appendChildren(node, Array.prototype.slice.call(arguments, 2));
    return node;
  }

  // An element showing user-provided text: always dir="auto" so Persian renders right-to-left.
  function userText(tag, text, cls, attrs) {
    var a = Object.assign({ dir: "auto", class: cls }, attrs || {});
    var node = el(tag, a);
    node.textContent = text === undefined || text === null ? "" : String(text);
    return node;
  }

  function $(selector) { return document.querySelector(selector); }

  function viewRoot() { return document.getElementById("view"); }

  // ---------------------------------------------------------------------------------------------------------------
  // Formatting
  // ---------------------------------------------------------------------------------------------------------------

  function num(value) {
    if (value === undefined || value === null || value === "") return null;
    var n = Number(value);
    return Number.isFinite(n) ? n : null;
  }

  var numberFormats = new Map();
  function numberFormat(digits) {
    if (!numberFormats.has(digits)) {
      numberFormats.set(digits, new Intl.NumberFormat("en-US", { maximumFractionDigits: digits }));
    }
    return numberFormats.get(digits);
  }

  function fmtNumber(value, digits) {
    var n = num(value);
    if (n === null) return "—";
    return numberFormat(digits === undefined ? 1 : digits).format(n);
  }

  function fmtCount(value) {
    var n = num(value);
    return numberFormat(0).format(n === null ? 0 : n);
  }

  function fmtPercent(value, digits) {
    var n = num(value);
    return n === null ? "—" : fmtNumber(n, digits === undefined ? 1 : digits) + "%";
  }

  // ISO-4217 minor-unit digits that differ from 2. IRR amounts are whole rials (the contract's "minor units").
  var MINOR_DIGITS = new Map([
    ["BIF", 0], ["CLP", 0], ["DJF", 0], ["GNF", 0], ["IRR", 0], ["ISK", 0], ["JPY", 0], ["KMF", 0], ["KRW", 0],
    ["PYG", 0], ["RWF", 0], ["UGX", 0], ["UYI", 0], ["VND", 0], ["VUV", 0], ["XAF", 0], ["XOF", 0], ["XPF", 0],
    ["BHD", 3], ["IQD", 3], ["JOD", 3], ["KWD", 3], ["LYD", 3], ["OMR", 3], ["TND", 3]
  ]);

  function fmtMoney(money) {
    if (!money || typeof money !== "object") return "—";
    var code = String(money.currencyCode || "");
    var minor = num(money.amountMinor) || 0;
    if (!code) return money.amountMinor === undefined ? "—" : fmtCount(minor);
    var digits = MINOR_DIGITS.has(code) ? MINOR_DIGITS.get(code) : 2;
    var major = minor / Math.pow(10, digits);
    try {
      return new Intl.NumberFormat("en-US", {
        style: "currency", currency: code, currencyDisplay: "code",
        minimumFractionDigits: digits, maximumFractionDigits: digits
      }).format(major);
    } catch (e) {
      return major.toFixed(digits) + " " + code;
    }
  }

  var dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  var dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
  var relativeFormat = typeof Intl.RelativeTimeFormat === "function"
    ? new Intl.RelativeTimeFormat("en", { numeric: "auto" }) : null;

  function parseTime(ts) {
    if (!ts) return null;
    var d = new Date(ts);
    return isNaN(d.getTime()) ? null : d;
  }

  function fmtDateTime(ts) {
    var d = parseTime(ts);
    return d ? dateTimeFormat.format(d) : "—";
  }

  function fmtDate(ts) {
    var d = parseTime(ts);
    return d ? dateFormat.format(d) : "—";
  }

  function fmtRelative(ts) {
    var d = parseTime(ts);
    if (!d || !relativeFormat) return "";
    var seconds = (d.getTime() - Date.now()) / 1000;
    var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600],
      ["minute", 60], ["second", 1]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1] || units[i][0] === "second") {
        return relativeFormat.format(Math.round(seconds / units[i][1]), units[i][0]);
      }
    }
    return "";
  }

  function timeEl(ts, withRelative) {
    if (!parseTime(ts)) return el("span", { class: "muted", text: "—" });
    var label = withRelative ? fmtRelative(ts) + " · " + fmtDateTime(ts) : fmtDateTime(ts);
    return el("time", { datetime: ts, title: ts, text: label });
  }

  // "TOUCHPOINT_KIND_PAGE_VIEW" → "Page view".
  function enumLabel(value, prefix) {
    if (value === undefined || value === null || value === "") return "—";
    var text = String(value);
    if (prefix && text.indexOf(prefix) === 0) text = text.slice(prefix.length);
    if (text === "UNSPECIFIED") return "—";
    text = text.toLowerCase().replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function enumSlug(value, prefix) {
    var text = String(value || "");
    if (prefix && text.indexOf(prefix) === 0) text = text.slice(prefix.length);
    return text.toLowerCase().replace(/[^a-z0-9]+/g, "-") || "unspecified";
  }

  var BAND_NAMES = new Map([
    ["HEALTH_BAND_GREEN", "green"], ["HEALTH_BAND_YELLOW", "yellow"], ["HEALTH_BAND_RED", "red"],
    ["1", "green"], ["2", "yellow"], ["3", "red"]
  ]);

  // green / yellow / red from the band, or from the default thresholds when the band is unset.
  function bandName(band, score) {
    var key = band === undefined || band === null ? "" : String(band);
    if (BAND_NAMES.has(key)) return BAND_NAMES.get(key);
    var s = num(score);
    if (s === null) return "unknown";
    return s >= 70 ? "green" : s >= 40 ? "yellow" : "red";
  }

  var TRENDS = new Map([
    ["SCORE_TREND_IMPROVING", { arrow: "↑", label: "Improving", cls: "up" }],
    ["SCORE_TREND_DECLINING", { arrow: "↓", label: "Declining", cls: "down" }],
    ["SCORE_TREND_STABLE", { arrow: "→", label: "Stable", cls: "flat" }],
    ["SCORE_TREND_INSUFFICIENT_DATA", { arrow: "·", label: "Not enough data", cls: "none" }]
  ]);

  function sentimentName(sentiment) {
    if (!sentiment) return null;
    var label = String(sentiment.label || "");
    if (label === "SENTIMENT_LABEL_POSITIVE" || label === "3") return "positive";
    if (label === "SENTIMENT_LABEL_NEGATIVE" || label === "1") return "negative";
    if (label === "SENTIMENT_LABEL_NEUTRAL" || label === "2") return "neutral";
    var score = num(sentiment.score);
    if (score === null) return null;
    return score > 0.05 ? "positive" : score < -0.05 ? "negative" : "neutral";
  }

  function displayName(customer) {
    if (!customer) return "";
    return [customer.givenName, customer.familyName]
      .filter(function (part) { return part && String(part).trim(); })
      .join(" ").trim();
  }

  function shortId(id) {
    var text = String(id || "");
    return text.length > 13 ? text.slice(0, 8) + "…" + text.slice(-4) : text;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------------------------------------------

  var STATUS_CODES = new Map([
    [400, "INVALID_ARGUMENT"], [401, "UNAUTHENTICATED"], [403, "PERMISSION_DENIED"], [404, "NOT_FOUND"],
    [409, "ABORTED"], [412, "FAILED_PRECONDITION"], [429, "RESOURCE_EXHAUSTED"], [499, "CANCELLED"],
    [500, "INTERNAL"], [501, "UNIMPLEMENTED"], [502, "UNAVAILABLE"], [503, "UNAVAILABLE"], [504, "DEADLINE_EXCEEDED"]
  ]);

  function ApiError(code, message, status) {
    this.name = "ApiError";
    this.code = code;
    this.message = message;
    this.status = status;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;

  function api(method, body) {
    var key = getKey();
    if (!key) return Promise.reject(new ApiError("UNAUTHENTICATED", "No API key given.", 401));
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var request;
    try {
      request = fetch(API_BASE + method, {
        method: "POST",
        headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(body || {}),
        cache: "no-store",
        credentials: "omit",
        signal: controller ? controller.signal : undefined
      });
    } catch (e) {
      request = Promise.reject(e);
    }
    return request.then(function (response) {
      return response.text().then(function (text) {
        if (timer) clearTimeout(timer);
        var data = null;
        if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
        if (!response.ok) {
          var code = data && typeof data.code === "string" && data.code
            ? data.code : (STATUS_CODES.get(response.status) || "HTTP_" + response.status);
          var message = data && typeof data.message === "string"
            ? data.message : (response.statusText || "HTTP " + response.status);
          throw new ApiError(code, message, response.status);
        }
        if (!data || typeof data !== "object") {
          throw new ApiError("INTERNAL", "The gateway did not answer with JSON.", response.status);
        }
        return data;
      });
    }, function (error) {
      if (timer) clearTimeout(timer);
      if (controller && controller.signal.aborted) {
        throw new ApiError("DEADLINE_EXCEEDED", "The gateway did not answer within " + REQUEST_TIMEOUT_MS / 1000 + " s.", 0);
      }
      throw new ApiError("UNAVAILABLE", "Could not reach the gateway (" + (error && error.message || error) + ").", 0);
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Page state, errors, loading
  // ---------------------------------------------------------------------------------------------------------------

  var generation = 0; // Bumped by every navigation; answers for an older one are dropped.

  function setState(state) { document.body.dataset.state = state; }

  function clearError() {
    var box = document.getElementById("error");
    box.replaceChildren();
    box.hidden = true;
    delete box.dataset.code;
  }

  function showError(error) {
    var box = document.getElementById("error");
    var code = error && error.code ? String(error.code) : "ERROR";
    var message = error && error.message ? String(error.message) : String(error);
    box.replaceChildren(el("strong", { class: "error-code", text: code }), document.createTextNode(": "),
      userText("span", message, "error-message"));
    box.dataset.code = code;
    box.hidden = false;
  }

  function isAuthError(error) {
    return error && (error.code === "UNAUTHENTICATED" || error.status === 401);
  }

  function loadingBlock(text) {
    return el("div", { id: "loading", class: "loading", role: "status" },
      el("span", { class: "spinner", "aria-hidden": "true" }), " " + text);
  }

  function renderLoading(text) {
    var root = viewRoot();
    root.setAttribute("aria-busy", "true");
    root.replaceChildren(loadingBlock(text));
  }

  function renderView(children) {
    var root = viewRoot();
    root.removeAttribute("aria-busy");
    root.replaceChildren.apply(root, children.filter(Boolean));
  }

  // A failure of the whole view: show it in #error; an unknown key also brings the key form back.
  function failView(error, gen, retry) {
    if (gen !== generation) return;
    if (isAuthError(error)) {
      clearKey();
      updateChrome();
      renderView([keyForm("Your API key was not accepted. Enter a valid one to continue.")]);
    } else {
      var actions = el("p", { class: "actions" });
      if (retry) actions.appendChild(el("button", { type: "button", class: "button", onclick: retry, text: "Try again" }));
      actions.appendChild(el("a", { class: "button secondary", href: "#view=search", text: "Back to search" }));
      renderView([el("section", { class: "card empty-state" },
        el("h2", { text: "This view could not be loaded" }),
        el("p", { class: "muted", text: "See the message above. Other views may still work." }), actions)]);
    }
    showError(error);
    setState("error");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Router
  // ---------------------------------------------------------------------------------------------------------------

  function currentView(params) {
    if (!getKey()) return "login";
    if (params.get("customer")) return "customer";
    if (params.get("view") === "kpis") return "kpis";
    if (params.get("view") === "segments") return "segments";
    return "search";
  }

  function updateChrome(view) {
    var signOut = document.getElementById("sign-out");
    signOut.hidden = !getKey();
    ["search", "kpis", "segments"].forEach(function (name) {
      var link = document.getElementById("nav-" + name);
      if (view === name || (view === "customer" && name === "search")) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  }

  function route() {
    stopLive();
    var params = consumeKeyFromFragment();
    var gen = ++generation;
    var view = currentView(params);
    clearError();
    document.body.dataset.view = view;
    updateChrome(view);
    window.scrollTo(0, 0);
    if (view === "login") return showLogin(gen);
    if (view === "customer") return showCustomer(params.get("customer").trim(), gen);
    if (view === "kpis") return showKpis(gen);
    if (view === "segments") return showSegments(gen);
    return showSearch(params.get("q") || "", gen);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Key form
  // ---------------------------------------------------------------------------------------------------------------

  function keyForm(message) {
    var input = el("input", {
      id: "api-key-input", name: "api-key", type: "password", autocomplete: "off", spellcheck: "false",
      required: true, placeholder: "c360_…", "aria-describedby": "key-help"
    });
    var form = el("form", { id: "key-form", class: "key-form", novalidate: true },
      el("label", { for: "api-key-input", text: "API key" }),
      el("div", { class: "inline-field" }, input, el("button", { type: "submit", class: "button", text: "Continue" })));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var key = input.value.trim();
      if (!key) { input.focus(); return; }
      if (!/^[\x21-\x7e]+$/.test(key)) {
        showError(new ApiError("INVALID_ARGUMENT", "An API key consists of printable ASCII characters without spaces.", 0));
        input.focus();
        return;
      }
      setKey(key);
      route();
    });
    setTimeout(function () { input.focus(); }, 0);
    return el("section", { id: "login", class: "card login" },
      el("h1", { text: "Sign in" }),
      message ? el("p", { class: "warning", text: message }) : null,
      el("p", { id: "key-help", class: "muted",
        text: "Enter a gateway API key. It is kept only in this browser tab (sessionStorage) and sent as a Bearer token." }),
      form);
  }

  function showLogin(gen) {
    if (gen !== generation) return;
    document.title = "Sign in · Customer 360";
    renderView([keyForm(null)]);
    setState("ready");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // View 1: customer search
  // ---------------------------------------------------------------------------------------------------------------

  function showSearch(initialQuery, gen) {
    document.title = "Customers · Customer 360";
    var input = el("input", {
      id: "search-input", type: "search", name: "q", dir: "auto", autocomplete: "off", spellcheck: "false",
      placeholder: "Name or email, e.g. amir or امیر", "aria-label": "Search customers"
    });
    input.value = initialQuery;
    var results = el("ul", { id: "search-results", class: "results" });
    var status = el("p", { id: "search-status", class: "muted", role: "status" });
    var more = el("button", { id: "search-more", type: "button", class: "button secondary", hidden: true, text: "Load more" });
    var form = el("form", { id: "search-form", class: "search-form", role: "search" },
      input, el("button", { type: "submit", class: "button", text: "Search" }));

    var seq = 0;
    var nextToken = "";
    var debounce = null;

    function run(query, token) {
      if (gen !== generation) return Promise.resolve();
      var mine = ++seq;
      var appending = Boolean(token);
      setState("loading");
      results.setAttribute("aria-busy", "true");
      status.replaceChildren(el("span", { class: "spinner small", "aria-hidden": "true" }),
        appending ? " Loading more…" : " Searching…");
      more.disabled = true;
      if (!appending) {
        replaceFragment(new Map([["view", "search"], ["q", query]]));
      }
      var body = { query: query, page: { pageSize: SEARCH_PAGE_SIZE } };
      if (token) body.page.pageToken = token;
      return api("ListCustomers", body).then(function (answer) {
        if (gen !== generation || mine !== seq) return;
        var customers = Array.isArray(answer.customers) ? answer.customers : [];
        if (!appending) results.replaceChildren();
        customers.forEach(function (customer) { results.appendChild(customerResult(customer)); });
        nextToken = answer.page && answer.page.nextPageToken ? String(answer.page.nextPageToken) : "";
        more.hidden = !nextToken;
        more.disabled = false;
        results.removeAttribute("aria-busy");
        var shown = results.children.length;
        if (shown === 0) {
          status.replaceChildren(query
            ? el("span", {}, "No customers match “", userText("bdi", query), "”.")
            : "No customers yet.");
        } else {
          status.textContent = shown + (shown === 1 ? " customer" : " customers") + (nextToken ? " shown, more available" : "");
        }
        clearError();
        setState("ready");
      }).catch(function (error) {
        if (gen !== generation || mine !== seq) return;
        results.removeAttribute("aria-busy");
        more.disabled = false;
        status.textContent = "";
        if (isAuthError(error)) { failView(error, gen); return; }
        showError(error);
        setState("error");
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(debounce);
      run(input.value.trim(), "");
    });
    input.addEventListener("input", function () {
      clearTimeout(debounce);
      debounce = setTimeout(function () { run(input.value.trim(), ""); }, 300);
    });
    more.addEventListener("click", function () { if (nextToken) run(input.value.trim(), nextToken); });

    renderView([el("section", { class: "card search-card" },
      el("h1", { text: "Customers" }),
      form, status, results, el("div", { class: "actions" }, more))]);
    if (window.matchMedia && window.matchMedia("(pointer: fine)").matches) input.focus();
    return run(initialQuery.trim(), "");
  }

  function primaryIdentifier(customer) {
    var ids = Array.isArray(customer.identifiers) ? customer.identifiers : [];
    var email = ids.filter(function (i) { return i && i.kind === "IDENTIFIER_KIND_EMAIL"; })[0];
    return email || ids[0] || null;
  }

  function customerResult(customer) {
    var id = String(customer.customerId || "");
    var name = displayName(customer);
    var demographics = customer.demographics || {};
    var identifier = primaryIdentifier(customer);
    var place = [demographics.city, demographics.countryCode].filter(Boolean);
    var meta = el("div", { class: "result-meta" },
      identifier ? userText("span", identifier.value, "result-identifier") : null,
      place.length ? userText("span", place.join(", "), "result-place") : null,
      el("span", { class: "mono muted", title: id, text: shortId(id) }));
    var tags = Array.isArray(customer.tags) && customer.tags.length
      ? el("div", { class: "chips" }, customer.tags.slice(0, 6).map(function (tag) { return userText("span", tag, "chip"); }))
      : null;
    var link = el("a", { class: "result-link", href: fragmentFor([["customer", id]]) },
      el("div", { class: "result-main" },
        name ? userText("span", name, "result-name") : el("span", { class: "result-name muted", text: "Name hidden or not given" }),
        customer.lifecycleStage ? el("span", { class: "badge stage-" + enumSlug(customer.lifecycleStage, "LIFECYCLE_STAGE_"),
          text: enumLabel(customer.lifecycleStage, "LIFECYCLE_STAGE_") }) : null,
        customer.loyaltyTier ? el("span", { class: "badge tier-" + enumSlug(customer.loyaltyTier, "LOYALTY_TIER_"),
          text: enumLabel(customer.loyaltyTier, "LOYALTY_TIER_") }) : null),
      meta, tags);
    return el("li", { class: "result", dataset: { customerId: id } }, link);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // View 2: the 360° page
  // ---------------------------------------------------------------------------------------------------------------

  // What the #customer= value names: an email, a phone (E.164), "crm:<id>", "id:<id>", or a Customer 360 id.
  function lookupFor(ref) {
    var match = /^(email|phone|crm|id):(.+)$/i.exec(ref);
    if (match) {
      var kind = match[1].toLowerCase();
      var value = match[2].trim();
      if (kind === "id") return { customerId: value };
      var kinds = { email: "IDENTIFIER_KIND_EMAIL", phone: "IDENTIFIER_KIND_PHONE", crm: "IDENTIFIER_KIND_CRM_ID" };
      return { identifier: { kind: kinds[kind], value: value } };
    }
    if (ref.indexOf("@") > 0) return { identifier: { kind: "IDENTIFIER_KIND_EMAIL", value: ref } };
    if (/^\+[0-9][0-9 ().-]{6,}$/.test(ref)) return { identifier: { kind: "IDENTIFIER_KIND_PHONE", value: ref.replace(/[ ().-]/g, "") } };
    return { customerId: ref };
  }

  function showCustomer(ref, gen) {
    document.title = "Customer · Customer 360";
    setState("loading");
    renderLoading("Loading the 360° view…");
    var lookup = lookupFor(ref);
    var request = api("GetCustomer360", lookup).catch(function (error) {
      // Not an id after all? Try it as an external CRM id.
      if (lookup.customerId && !UUID_RE.test(ref) && (error.code === "NOT_FOUND" || error.code === "INVALID_ARGUMENT")) {
        return api("GetCustomer360", { identifier: { kind: "IDENTIFIER_KIND_CRM_ID", value: ref } })
          .catch(function () { throw error; });
      }
      throw error;
    });
    return request.then(function (view) {
      if (gen !== generation) return;
      renderCustomer(view);
      setState("ready");
      startLive(view, gen);
    }).catch(function (error) {
      if (gen !== generation) return;
      if (!(error instanceof ApiError)) {
        console.error(error);
        error = new ApiError("INTERNAL", "The dashboard could not show this answer: " + (error && error.message), 0);
      }
      failView(error, gen, function () { route(); });
    });
  }

  function card(id, title, missing, body, extraClass) {
    var section = el("section", { id: id, class: "card" + (extraClass ? " " + extraClass : "") },
      el("h2", { text: title }));
    if (missing) {
      section.classList.add("unavailable");
      section.appendChild(el("p", { class: "muted unavailable-text", text: "Not available right now." }));
    } else {
      appendChildren(section, [body]);
    }
    return section;
  }

  function missingNotice(missing, statuses) {
    if (!missing.length) return null;
    var details = (statuses || []).filter(function (s) { return s && !s.ok; }).map(function (s) {
      return el("li", {},
        el("strong", { text: String(s.section || "?") }),
        s.service ? " (" + s.service + ")" : "",
        s.errorCode ? " — " + s.errorCode : "",
        s.errorMessage ? ": " : "", s.errorMessage ? userText("span", s.errorMessage) : null);
    });
    return el("div", { class: "notice warning-notice", role: "note" },
      el("p", { id: "missing-sections", dataset: { sections: missing.join(",") },
        text: "Not available right now: " + missing.join(", ") }),
      details.length ? el("ul", { class: "notice-details" }, details) : null);
  }

  function renderCustomer(view) {
    var missingList = Array.isArray(view.missingSections) ? view.missingSections.map(String) : [];
    var missing = new Set(missingList);
    var profile = view.profile || null;
    var customerId = String(view.customerId || (profile && profile.customerId) || "");
    var name = displayName(profile);
    document.title = (name || "Customer " + shortId(customerId)) + " · Customer 360";

    var notices = el("div", { class: "notices" },
      view.personalDataRedacted ? el("div", { id: "redacted-notice", class: "notice info-notice", role: "note",
        text: "Personal data hidden for your role" }) : null,
      view.resolvedFrom ? el("div", { id: "resolved-notice", class: "notice info-notice", role: "note" },
        "This customer was merged: ", el("span", { class: "mono", text: String(view.resolvedFrom) }),
        " now resolves to ", el("span", { class: "mono", text: customerId }), ".") : null,
      missingNotice(missingList, view.sectionStatuses));

    renderView([el("div", { id: "customer-view", class: "customer-view", dataset: { customerId: customerId } },
      el("nav", { class: "breadcrumbs" }, el("a", { href: "#view=search", text: "← Customers" }), liveIndicator()),
      notices,
      el("div", { class: "grid grid-top" },
        profileCard(view, profile, name, missing.has("profile")),
        healthCard(view.health, missing.has("health"))),
      el("div", { class: "grid" },
        feedbackCard(view.feedback, missing.has("feedback")),
        activityCard(view, missing)),
      commentsCard(view.recentFeedback, missing.has("feedback"), view.personalDataRedacted),
      el("div", { class: "grid" },
        plansCard(view.successPlans, missing.has("success_plans")),
        alertsCard(view.openAlerts, missing.has("alerts"))),
      timelineCard(view.recentTimeline, missing.has("timeline"), view.personalDataRedacted))]);
  }

  function definition(term, value) {
    if (value === null || value === undefined || value === "") return null;
    return [el("dt", { text: term }), el("dd", {}, value)];
  }

  function profileCard(view, profile, name, missing) {
    var customerId = String(view.customerId || "");
    var heading = name
      ? userText("h1", name, "customer-name", { id: "customer-name" })
      : el("h1", { id: "customer-name", class: "customer-name muted",
        text: view.personalDataRedacted ? "Name hidden" : "Customer " + shortId(customerId) });
    var section = el("section", { id: "profile", class: "card profile-card" + (missing ? " unavailable" : "") },
      heading, el("p", { class: "mono muted customer-id", title: "Customer 360 id", text: customerId }));
    if (missing || !profile) {
      section.appendChild(el("p", { class: "muted", text: missing ? "Profile not available right now." : "No profile." }));
      return section;
    }
    var identifiers = Array.isArray(profile.identifiers) ? profile.identifiers : [];
    var demographics = profile.demographics || {};
    var place = [demographics.city, demographics.countryCode].filter(Boolean).join(", ");
    var tags = Array.isArray(profile.tags) ? profile.tags : [];
    var loyalty = profile.loyaltyTier || profile.loyaltyPoints
      ? el("span", {},
        profile.loyaltyTier ? el("span", { class: "badge tier-" + enumSlug(profile.loyaltyTier, "LOYALTY_TIER_"),
          text: enumLabel(profile.loyaltyTier, "LOYALTY_TIER_") }) : null,
        " ", el("span", { id: "loyalty-points", text: fmtCount(profile.loyaltyPoints) + " points" }))
      : null;
    section.appendChild(el("dl", { class: "facts" },
      definition("Identifiers", identifiers.length ? el("ul", { id: "identifiers", class: "plain-list" },
        identifiers.map(function (identifier) {
          return el("li", {}, el("span", { class: "muted", text: enumLabel(identifier.kind, "IDENTIFIER_KIND_") + " " }),
            userText("span", identifier.value, "identifier-value"));
        })) : (view.personalDataRedacted ? el("span", { class: "muted", text: "Hidden" }) : null)),
      definition("Location", place ? userText("span", place, null, { id: "customer-location" }) : null),
      definition("Language", demographics.language ? userText("span", demographics.language) : null),
      definition("Company", demographics.company ? userText("span", demographics.company) : null),
      definition("Lifecycle", profile.lifecycleStage ? el("span", { id: "lifecycle-stage",
        class: "badge stage-" + enumSlug(profile.lifecycleStage, "LIFECYCLE_STAGE_"),
        text: enumLabel(profile.lifecycleStage, "LIFECYCLE_STAGE_") }) : null),
      definition("Loyalty", loyalty),
      definition("Customer since", profile.createdAt ? timeEl(profile.createdAt) : null)));
    if (tags.length) {
      section.appendChild(el("div", { id: "tags", class: "chips" },
        tags.map(function (tag) { return userText("span", tag, "chip"); })));
    }
    return section;
  }

  // A semicircle gauge: the score (0–100) as the filled share of the arc, coloured by band.
  function gauge(score, band) {
    var value = Math.max(0, Math.min(100, score));
    var arc = "M 10 60 A 50 50 0 0 1 110 60";
    var graphic = svg("svg", { viewBox: "0 0 120 66", class: "gauge-svg", role: "img",
      "aria-label": "Health score " + Math.round(score) + " of 100, " + band },
      svg("path", { d: arc, class: "gauge-track", pathLength: "100" }),
      value > 0 ? svg("path", { d: arc, class: "gauge-value band-" + band, pathLength: "100",
        "stroke-dasharray": value.toFixed(2) + " 100" }) : null);
    return el("div", { id: "health-gauge", class: "gauge", dataset: { band: band, score: String(Math.round(score)) } },
      el("div", { class: "gauge-dial" },
        graphic,
        el("div", { class: "gauge-label" },
          el("span", { id: "health-score", class: "gauge-score", text: String(Math.round(score)) }),
          el("span", { class: "gauge-max", text: "/ 100" }))),
      el("div", { class: "gauge-band" }, el("span", { id: "health-band", class: "badge band-" + band, text: band })));
  }

  function healthCard(health, missing) {
    if (missing) return card("health", "Health", true);
    if (!health) {
      return card("health", "Health", false, el("p", { class: "muted", text: "No health score computed yet." }));
    }
    var score = num(health.score) || 0;
    var band = bandName(health.band, score);
    var change = num(health.change30d);
    var components = Array.isArray(health.components) ? health.components : [];
    var missingComponents = Array.isArray(health.missingComponents) ? health.missingComponents : [];

    var summary = el("div", { class: "health-summary" },
      gauge(score, band),
      el("div", { class: "health-facts" },
        change !== null ? el("p", { id: "health-change", class: "change " + (change < 0 ? "down" : change > 0 ? "up" : "flat"),
          text: (change < 0 ? "▼ " : change > 0 ? "▲ " : "■ ") + fmtNumber(Math.abs(change), 1) + " points in 30 days" }) : null,
        num(health.previousScore) !== null ? el("p", { class: "muted", text: "Previous score " + fmtNumber(health.previousScore, 0) }) : null,
        health.computedAt ? el("p", { class: "muted" }, "Computed ", timeEl(health.computedAt, true)) : null));

    var table = components.length ? el("div", { class: "table-wrap" }, el("table", { id: "health-components", class: "table" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: "Component" }), el("th", { scope: "col", class: "num", text: "Value" }),
        el("th", { scope: "col", class: "num", text: "Weight" }), el("th", { scope: "col", text: "Why" }))),
      el("tbody", {}, components.map(function (component) {
        var value = num(component.value) || 0;
        var inputs = component.inputs && typeof component.inputs === "object" ? Object.keys(component.inputs) : [];
        return el("tr", { dataset: { kind: enumSlug(component.kind, "HEALTH_COMPONENT_KIND_") } },
          el("th", { scope: "row", text: enumLabel(component.kind, "HEALTH_COMPONENT_KIND_") }),
          el("td", { class: "num" }, el("span", { class: "badge band-" + bandName(null, value), text: fmtNumber(value, 0) })),
          el("td", { class: "num nowrap", title: "configured weight → weight after renormalising",
            text: fmtPercent((num(component.weight) || 0) * 100, 0) + " → " + fmtPercent((num(component.effectiveWeight) || 0) * 100, 0) }),
          el("td", {},
            userText("div", component.explanation || ""),
            inputs.length ? el("div", { class: "chips small" }, inputs.map(function (name) {
              return userText("span", name + ": " + component.inputs[name], "chip");
            })) : null));
      })))) : el("p", { class: "muted", text: "No components." });

    var missingList = missingComponents.length ? el("div", { class: "missing-components" },
      el("h3", { text: "Left out" }),
      el("ul", { id: "missing-components", class: "plain-list" }, missingComponents.map(function (item) {
        return el("li", { dataset: { kind: enumSlug(item.kind, "HEALTH_COMPONENT_KIND_") } },
          el("strong", { text: enumLabel(item.kind, "HEALTH_COMPONENT_KIND_") }), " — ", userText("span", item.reason || "no reason given"));
      }))) : null;

    return card("health", "Health", false, [summary, table, missingList], "health-card");
  }

  function scoreTile(id, label, scale, score) {
    if (!score) {
      return el("div", { id: id, class: "score-tile empty" },
        el("div", { class: "tile-label", text: label }),
        el("div", { class: "tile-value muted", text: "—" }),
        el("div", { class: "tile-sub muted", text: "No responses" }));
    }
    var trend = TRENDS.get(String(score.trend || "")) || null;
    var latest = num(score.latestScore) || 0;
    return el("div", { id: id, class: "score-tile", dataset: { score: String(latest) } },
      el("div", { class: "tile-label", text: label }),
      el("div", { class: "tile-value" }, String(latest), el("span", { class: "tile-scale", text: " / " + scale })),
      trend ? el("div", { class: "trend " + trend.cls, text: trend.arrow + " " + trend.label }) : null,
      el("div", { class: "tile-sub muted", text: fmtCount(score.responses) + (num(score.responses) === 1 ? " response" : " responses") +
        (score.latestAnsweredAt ? " · " + fmtDate(score.latestAnsweredAt) : "") }));
  }

  function feedbackCard(feedback, missing) {
    if (missing) return card("feedback", "Feedback", true);
    if (!feedback) return card("feedback", "Feedback", false, el("p", { class: "muted", text: "No survey responses yet." }));
    var sentiment = feedback.sentiment || null;
    var mean = sentiment ? num(sentiment.meanScore) : null;
    return card("feedback", "Feedback", false, [
      el("div", { id: "feedback-scores", class: "score-tiles" },
        scoreTile("feedback-nps", "NPS", 10, feedback.nps),
        scoreTile("feedback-csat", "CSAT", 5, feedback.csat),
        scoreTile("feedback-ces", "CES", 7, feedback.ces)),
      feedback.latestNpsCategory && feedback.latestNpsCategory !== "NPS_CATEGORY_UNSPECIFIED"
        ? el("p", {}, "Latest NPS answer: ", el("span", { class: "badge nps-" + enumSlug(feedback.latestNpsCategory, "NPS_CATEGORY_"),
          text: enumLabel(feedback.latestNpsCategory, "NPS_CATEGORY_") })) : null,
      sentiment ? el("p", { id: "sentiment-summary" }, "Sentiment ",
        el("span", { class: "badge sentiment-" + (sentimentName({ score: mean }) || "none"), text: mean === null ? "—" : fmtNumber(mean, 2) }),
        " over " + fmtCount(sentiment.comments) + (num(sentiment.comments) === 1 ? " comment" : " comments"),
        el("span", { class: "muted", text: " (" + fmtCount(sentiment.positive) + " positive, " + fmtCount(sentiment.neutral) +
          " neutral, " + fmtCount(sentiment.negative) + " negative)" })) : null
    ]);
  }

  function activityCard(view, missing) {
    var parts = [];
    if (missing.has("engagement")) {
      parts.push(el("p", { class: "muted", text: "Engagement not available right now." }));
    } else if (view.engagement) {
      var windows = Array.isArray(view.engagement.windows) ? view.engagement.windows : [];
      parts.push(el("p", {}, el("strong", { text: fmtCount(view.engagement.totalTouchpoints) }), " touchpoints in total",
        view.engagement.lastSeenAt ? el("span", { class: "muted" }, " · last seen ", timeEl(view.engagement.lastSeenAt, true)) : null));
      if (windows.length) {
        parts.push(el("table", { id: "engagement-windows", class: "table compact" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Window" }),
            el("th", { scope: "col", class: "num", text: "Touchpoints" }), el("th", { scope: "col", class: "num", text: "Active days" }))),
          el("tbody", {}, windows.map(function (w) {
            return el("tr", {}, el("th", { scope: "row", text: "Last " + fmtCount(w.days) + " days" }),
              el("td", { class: "num", text: fmtCount(w.touchpoints) }), el("td", { class: "num", text: fmtCount(w.activeDays) }));
          }))));
      }
    }
    if (missing.has("commerce")) {
      parts.push(el("p", { class: "muted", text: "Commerce not available right now." }));
    } else if (view.commerce) {
      var commerce = view.commerce;
      var segment = commerce.rfm && commerce.rfm.segment;
      parts.push(el("dl", { id: "commerce", class: "facts" },
        definition("Orders", fmtCount(commerce.orders)),
        definition("Net revenue", commerce.netRevenue ? fmtMoney(commerce.netRevenue) : "—"),
        definition("RFM segment", segment ? el("span", { class: "badge", text: enumLabel(segment, "RFM_SEGMENT_") }) : "—"),
        definition("Last purchase", commerce.lastPurchaseAt ? timeEl(commerce.lastPurchaseAt) : null)));
    }
    if (missing.has("support")) {
      parts.push(el("p", { class: "muted", text: "Support not available right now." }));
    } else if (view.support) {
      parts.push(el("dl", { id: "support", class: "facts" },
        definition("Tickets opened", fmtCount(view.support.ticketsOpened)),
        definition("Open now", fmtCount(view.support.ticketsOpen)),
        definition("First-contact resolution", num(view.support.firstContactResolutionRate) !== null
          ? fmtPercent(num(view.support.firstContactResolutionRate) * 100, 0) : null)));
    }
    if (!parts.length) parts.push(el("p", { class: "muted", text: "No activity recorded." }));
    return card("activity", "Activity", false, parts);
  }

  function commentsCard(responses, missing, redacted) {
    if (missing) return card("comments", "Recent feedback", true);
    var list = Array.isArray(responses) ? responses : [];
    if (!list.length) return card("comments", "Recent feedback", false, el("p", { class: "muted", text: "No recent responses." }));
    return card("comments", "Recent feedback", false, el("ul", { id: "recent-feedback", class: "comment-list" },
      list.map(function (response) {
        var mood = sentimentName(response.sentiment);
        var score = num(response.score) || 0;
        return el("li", { class: "comment", dataset: { sentiment: mood || "none" } },
          el("div", { class: "comment-head" },
            el("span", { class: "badge", text: surveyLabel(response.surveyType) + " " + score }),
            mood ? el("span", { class: "badge sentiment-" + mood,
              text: mood + (num(response.sentiment.score) !== null ? " " + fmtNumber(response.sentiment.score, 2) : "") }) : null,
            response.answeredAt ? el("span", { class: "muted small" }, timeEl(response.answeredAt, true)) : null),
          response.comment
            ? userText("p", response.comment, "comment-text")
            : el("p", { class: "muted comment-text", text: redacted ? "Comment hidden" : "No comment" }));
      })));
  }

  function surveyLabel(type) {
    var text = String(type || "").replace(/^SURVEY_TYPE_/, "");
    return text === "NPS" || text === "CSAT" || text === "CES" ? text : enumLabel(type, "SURVEY_TYPE_");
  }

  var GOAL_STATUS_CLASS = new Map([
    ["GOAL_STATUS_ACHIEVED", "good"], ["GOAL_STATUS_ON_TRACK", "good"], ["GOAL_STATUS_AT_RISK", "warn"],
    ["GOAL_STATUS_MISSED", "bad"], ["GOAL_STATUS_NOT_STARTED", "neutral"], ["GOAL_STATUS_CANCELLED", "neutral"]
  ]);

  function progressBar(fraction, cls, label) {
    var pct = Math.max(0, Math.min(1, num(fraction) || 0)) * 100;
    var fill = el("div", { class: "progress-fill " + (cls || "") });
    fill.style.width = pct.toFixed(1) + "%";
    return el("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(Math.round(pct)), "aria-label": label, title: Math.round(pct) + "%" }, fill);
  }

  function plansCard(plans, missing) {
    if (missing) return card("plans", "Success plans", true);
    var list = Array.isArray(plans) ? plans : [];
    if (!list.length) return card("plans", "Success plans", false, el("p", { class: "muted", text: "No active success plans." }));
    return card("plans", "Success plans", false, el("div", { id: "success-plans", class: "plans" }, list.map(function (plan) {
      var goals = Array.isArray(plan.goals) ? plan.goals : [];
      return el("article", { class: "plan", dataset: { planId: String(plan.planId || "") } },
        el("header", { class: "plan-head" },
          userText("h3", plan.title || "Untitled plan", "plan-title"),
          plan.status ? el("span", { class: "badge", text: enumLabel(plan.status, "SUCCESS_PLAN_STATUS_") }) : null),
        el("p", { class: "muted small" }, "Owner ", userText("span", plan.csmOwnerId || "—"),
          plan.endsAt ? " · ends " + fmtDate(plan.endsAt) : ""),
        num(plan.progress) !== null ? el("div", { class: "plan-progress" },
          progressBar(plan.progress, "", "Plan progress"), el("span", { class: "small", text: fmtPercent(num(plan.progress) * 100, 0) })) : null,
        goals.length ? el("ul", { class: "goals" }, goals.map(function (goal) {
          var status = String(goal.status || "");
          var cls = GOAL_STATUS_CLASS.get(status) || "neutral";
          var unit = goal.unit ? " " + goal.unit : "";
          return el("li", { class: "goal", dataset: { status: enumSlug(status, "GOAL_STATUS_") } },
            el("div", { class: "goal-head" },
              userText("span", goal.title || "Untitled goal", "goal-title"),
              status ? el("span", { class: "badge status-" + cls, text: enumLabel(status, "GOAL_STATUS_") }) : null),
            el("div", { class: "goal-metric small" },
              userText("span", goal.metric || ""), ": ",
              el("bdi", { text: fmtNumber(goal.currentValue || 0, 2) + " / " + fmtNumber(goal.targetValue || 0, 2) }),
              unit ? userText("span", unit) : null,
              goal.dueAt ? el("span", { class: "muted", text: " · due " + fmtDate(goal.dueAt) }) : null),
            el("div", { class: "goal-progress" },
              progressBar(goal.progress, "status-" + cls, "Goal progress"),
              el("span", { class: "small", text: fmtPercent((num(goal.progress) || 0) * 100, 0) })));
        })) : el("p", { class: "muted small", text: "No goals yet." }));
    })));
  }

  function alertsCard(alerts, missing) {
    if (missing) return card("alerts", "Open alerts", true);
    var list = Array.isArray(alerts) ? alerts : [];
    if (!list.length) return card("alerts", "Open alerts", false, el("p", { class: "muted", text: "No open alerts." }));
    return card("alerts", "Open alerts", false, el("ul", { id: "open-alerts", class: "alert-list" }, list.map(function (alert) {
      return el("li", { class: "alert-item", dataset: { kind: enumSlug(alert.kind, "ALERT_KIND_"), state: enumSlug(alert.state, "ALERT_STATE_") } },
        el("div", { class: "alert-head" },
          el("span", { class: "badge alert-" + enumSlug(alert.kind, "ALERT_KIND_"), text: enumLabel(alert.kind, "ALERT_KIND_") }),
          el("span", { class: "muted small", text: enumLabel(alert.state, "ALERT_STATE_") }),
          alert.raisedAt ? el("span", { class: "muted small" }, timeEl(alert.raisedAt, true)) : null),
        userText("p", alert.message || "", "alert-message"));
    })));
  }

  var DIRECTIONS = new Map([
    ["TOUCHPOINT_DIRECTION_INBOUND", { arrow: "↘", label: "from customer" }],
    ["TOUCHPOINT_DIRECTION_OUTBOUND", { arrow: "↗", label: "to customer" }]
  ]);

  function timelineCard(touchpoints, missing, redacted) {
    if (missing) return card("timeline-card", "Recent timeline", true);
    var list = (Array.isArray(touchpoints) ? touchpoints : []).slice();
    if (!list.length) return card("timeline-card", "Recent timeline", false, el("p", { class: "muted", text: "No touchpoints yet." }));
    list.sort(function (a, b) {
      var ta = parseTime(a.occurredAt), tb = parseTime(b.occurredAt);
      return (tb ? tb.getTime() : 0) - (ta ? ta.getTime() : 0);
    });
    return card("timeline-card", "Recent timeline", false, el("ol", { id: "timeline", class: "timeline" }, list.map(function (tp) {
      var direction = DIRECTIONS.get(String(tp.direction || ""));
      return el("li", { class: "tp", dataset: { kind: enumSlug(tp.kind, "TOUCHPOINT_KIND_"), channel: enumSlug(tp.channel, "CHANNEL_") } },
        el("div", { class: "tp-head" },
          el("span", { class: "badge channel", text: enumLabel(tp.channel, "CHANNEL_") }),
          el("span", { class: "tp-kind", text: enumLabel(tp.kind, "TOUCHPOINT_KIND_") }),
          direction ? el("span", { class: "muted small", title: direction.label, text: direction.arrow + " " + direction.label }) : null,
          el("span", { class: "tp-time muted small" }, timeEl(tp.occurredAt, true))),
        tp.body ? userText("p", tp.body, "tp-body") : null);
    })), redacted ? "timeline-redacted" : "");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The 360° page, live: WatchCustomer360 as newline-delimited JSON, each update's sections merged into the page
  // ---------------------------------------------------------------------------------------------------------------

  // The view's fields by section (gateway.proto, Customer360View). An update lists the sections it carries;
  // a listed section's fields that are absent from its JSON are empty now, so they are removed, not kept.
  var SECTION_FIELDS = {
    profile: ["profile", "resolvedFrom"], consents: ["consents"], timeline: ["recentTimeline"],
    engagement: ["engagement", "bestContact"], commerce: ["commerce"], support: ["support", "openTickets"],
    feedback: ["feedback", "recentFeedback"], success_plans: ["successPlans"], health: ["health"],
    alerts: ["openAlerts"]
  };
  var SECTION_ORDER = Object.keys(SECTION_FIELDS);
  // The cards that show each section, briefly highlighted when it changed.
  var SECTION_CARDS = {
    profile: ["profile"], consents: [], timeline: ["timeline-card"], engagement: ["activity"],
    commerce: ["activity"], support: ["activity"], feedback: ["feedback", "comments"], success_plans: ["plans"],
    health: ["health"], alerts: ["alerts"]
  };
  var LIVE_LABELS = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", off: "Not live" };
  // Answers a retry cannot change.
  var LIVE_FINAL_CODES = new Set(["UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND", "INVALID_ARGUMENT",
    "UNIMPLEMENTED"]);

  var live = null; // The watch of the customer shown: { customerId, view, status, controller, timer, delay, updates }.

  function liveIndicator() {
    var status = live ? live.status : "off";
    return el("span", { id: "live-indicator", class: "live-indicator", role: "status", "aria-live": "polite",
      dataset: { live: status }, title: live && live.detail ? live.detail : "" },
      el("span", { class: "live-dot", "aria-hidden": "true" }),
      el("span", { class: "live-label", text: LIVE_LABELS[status] }));
  }

  function setLive(state, status, detail) {
    state.status = status;
    state.detail = detail || "";
    var node = document.getElementById("live-indicator");
    if (!node || live !== state) return;
    node.dataset.live = status;
    node.title = state.detail;
    var label = node.querySelector(".live-label");
    if (label) label.textContent = LIVE_LABELS[status];
  }

  // Stops following: the page is left, another view is shown, or the watch ended for good.
  function stopLive() {
    var state = live;
    live = null;
    if (!state) return;
    clearTimeout(state.timer);
    if (state.controller) state.controller.abort();
  }

  function startLive(view, gen) {
    stopLive();
    if (gen !== generation) return;
    var customerId = String(view.customerId || "");
    if (!customerId) return;
    live = { customerId: customerId, view: view, status: "connecting", detail: "", controller: null, timer: null,
      delay: LIVE_RETRY_MIN_MS, updates: 0 };
    connectLive(live);
  }

  function connectLive(state) {
    if (live !== state) return;
    var key = getKey();
    if (!key) { setLive(state, "off", "No API key."); return; }
    if (typeof AbortController !== "function" || typeof TextDecoder !== "function") {
      setLive(state, "off", "This browser cannot follow live updates.");
      return;
    }
    var controller = new AbortController();
    state.controller = controller;
    setLive(state, state.updates ? "reconnecting" : "connecting");
    var request;
    try {
      request = fetch(API_BASE + "WatchCustomer360", {
        method: "POST",
        headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json", "Accept": "application/x-ndjson" },
        body: JSON.stringify({ customerId: state.customerId }),
        cache: "no-store",
        credentials: "omit",
        signal: controller.signal
      });
    } catch (e) {
      request = Promise.reject(e);
    }
    request.then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) {
          var data = null;
          try { data = JSON.parse(text); } catch (e) { data = null; }
          throw new ApiError(data && data.code ? String(data.code) : (STATUS_CODES.get(response.status) || "HTTP_" + response.status),
            data && data.message ? String(data.message) : "HTTP " + response.status, response.status);
        });
      }
      if (!response.body || typeof response.body.getReader !== "function") {
        throw new ApiError("UNIMPLEMENTED", "This browser cannot read streamed answers.", 0);
      }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var pending = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (live !== state) { reader.cancel().catch(function () {}); return; }
          if (chunk.done) throw new ApiError("UNAVAILABLE", "The live view ended.", 0);
          pending += decoder.decode(chunk.value, { stream: true });
          var lines = pending.split("\n");
          pending = lines.pop();
          lines.forEach(function (line) {
            if (!line.trim() || live !== state) return;
            applyLiveUpdate(state, JSON.parse(line));
          });
          if (pending.length > LIVE_MAX_LINE) throw new ApiError("RESOURCE_EXHAUSTED", "An update was too large.", 0);
          return pump();
        });
      }
      return pump();
    }).catch(function (error) {
      if (live !== state) return;
      state.controller = null;
      var code = error instanceof ApiError ? error.code : "UNAVAILABLE";
      var message = error && error.message ? String(error.message) : String(error);
      if (LIVE_FINAL_CODES.has(code)) {
        setLive(state, "off", code + ": " + message);
        return;
      }
      // Backoff with jitter, so that many pages do not come back at the same instant.
      var wait = Math.round(state.delay * (0.75 + Math.random() * 0.5));
      state.delay = Math.min(state.delay * 2, LIVE_RETRY_MAX_MS);
      setLive(state, "reconnecting", code + ": " + message + " Retrying in " + Math.ceil(wait / 1000) + " s.");
      state.timer = setTimeout(function () { connectLive(state); }, wait);
    });
  }

  // `update.view` with only `update.sections` filled, merged into the view shown so far.
  function mergeUpdate(current, update) {
    var incoming = update && update.view && typeof update.view === "object" ? update.view : {};
    var sections = (Array.isArray(update.sections) ? update.sections : []).map(String)
      .filter(function (section) { return Object.prototype.hasOwnProperty.call(SECTION_FIELDS, section); });
    var next = Object.assign({}, current || {});
    // Followed to a survivor after a merge: nothing of the customer shown before stays.
    if (incoming.customerId && String(incoming.customerId) !== String(next.customerId || "")) next = {};
    sections.forEach(function (section) {
      SECTION_FIELDS[section].forEach(function (field) {
        if (Object.prototype.hasOwnProperty.call(incoming, field)) next[field] = incoming[field];
        else delete next[field];
      });
    });
    var statuses = (Array.isArray(next.sectionStatuses) ? next.sectionStatuses : [])
      .filter(function (status) { return status && sections.indexOf(String(status.section)) < 0; })
      .concat(Array.isArray(incoming.sectionStatuses) ? incoming.sectionStatuses : []);
    statuses.sort(function (a, b) {
      return SECTION_ORDER.indexOf(String(a.section)) - SECTION_ORDER.indexOf(String(b.section));
    });
    next.sectionStatuses = statuses;
    next.missingSections = statuses.filter(function (status) { return !status.ok; })
      .map(function (status) { return String(status.section); });
    if (incoming.customerId) next.customerId = incoming.customerId;
    next.personalDataRedacted = Boolean(incoming.personalDataRedacted);
    if (incoming.generatedAt) next.generatedAt = incoming.generatedAt;
    return next;
  }

  function applyLiveUpdate(state, update) {
    state.view = mergeUpdate(state.view, update);
    if (state.view.customerId) state.customerId = String(state.view.customerId);
    state.updates += 1;
    state.delay = LIVE_RETRY_MIN_MS;
    state.status = "live";
    state.detail = "Updated " + fmtDateTime(new Date().toISOString());
    var x = window.scrollX, y = window.scrollY;
    renderCustomer(state.view);
    window.scrollTo(x, y);
    var root = document.getElementById("customer-view");
    if (root) {
      root.dataset.updates = String(state.updates);
      root.dataset.lastCause = String(update.cause || "");
    }
    if (update.cause === "initial") return;
    (Array.isArray(update.sections) ? update.sections : []).forEach(function (section) {
      (SECTION_CARDS[section] || []).forEach(function (id) {
        var cardNode = document.getElementById(id);
        if (cardNode) cardNode.classList.add("live-updated");
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // View 3: KPI overview
  // ---------------------------------------------------------------------------------------------------------------

  function showKpis(gen) {
    document.title = "KPIs · Customer 360";
    setState("loading");
    renderLoading("Loading KPIs…");
    var settle = function (promise) {
      return promise.then(function (value) { return { ok: true, value: value }; },
        function (error) { return { ok: false, error: error }; });
    };
    return Promise.all([
      settle(api("GetKpiDashboard", {})),
      settle(api("ListAtRisk", { page: { pageSize: AT_RISK_PAGE_SIZE } }))
    ]).then(function (answers) {
      if (gen !== generation) return;
      if (!answers[0].ok) throw answers[0].error;
      renderKpis(answers[0].value, answers[1]);
      setState("ready");
    }).catch(function (error) {
      if (gen !== generation) return;
      if (!(error instanceof ApiError)) {
        console.error(error);
        error = new ApiError("INTERNAL", "The dashboard could not show this answer: " + (error && error.message), 0);
      }
      failView(error, gen, function () { route(); });
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Segments (outreach-service, through the gateway's forwarding of customer360.v1.OutreachService)
  // ---------------------------------------------------------------------------------------------------------------

  var OUTREACH = "customer360.v1.OutreachService/";

  function showSegments(gen) {
    document.title = "Segments · Customer 360";
    setState("loading");
    renderLoading("Loading segments…");
    return api(OUTREACH + "ListSegments", { page: { pageSize: 100 } }).then(function (answer) {
      var segments = Array.isArray(answer.segments) ? answer.segments : [];
      return Promise.all(segments.map(function (segment) {
        return api(OUTREACH + "GetSegmentStats", { segmentId: segment.segmentId }).then(
          function (stats) { return { segment: segment, stats: stats }; },
          function () { return { segment: segment, stats: null }; });
      }));
    }).then(function (rows) {
      if (gen !== generation) return;
      renderSegments(rows);
      setState("ready");
    }).catch(function (error) {
      if (gen !== generation) return;
      if (!(error instanceof ApiError)) {
        console.error(error);
        error = new ApiError("INTERNAL", "The dashboard could not show this answer: " + (error && error.message), 0);
      }
      failView(error, gen, function () { route(); });
    });
  }

  // One row per segment: who is in it and how they fare, so segments compare at a glance (which churn most).
  function renderSegments(rows) {
    var header = el("tr", {}, ["Segment", "Members", "NPS", "CSAT", "Churned", "At risk", "Mean CLV", "Health"].map(
      function (title, index) { return el("th", { scope: "col", class: index > 0 && index < 7 ? "num" : "", text: title }); }));
    var body = rows.map(function (row) {
      var segment = row.segment, stats = row.stats || {};
      var bands = [["green", stats.green], ["yellow", stats.yellow], ["red", stats.red], ["unscored", stats.unscored]];
      return el("tr", { id: "segment-row-" + segment.segmentId, dataset: { size: String(num(segment.size) || 0) } },
        el("td", {}, userText("strong", segment.name, "segment-name", { dir: "auto" }),
          segment.description ? userText("div", segment.description, "muted", { dir: "auto" }) : null),
        el("td", { class: "num segment-size", text: fmtCount(segment.size || 0) }),
        el("td", { class: "num", text: row.stats && num(stats.nps) !== null ? fmtNumber(stats.nps, 0) : "—" }),
        el("td", { class: "num", text: row.stats && num(stats.meanCsat) !== null ? fmtNumber(stats.meanCsat, 2) : "—" }),
        el("td", { class: "num segment-churn", text: row.stats ? fmtPercent((num(stats.churnRate) || 0) * 100) : "—" }),
        el("td", { class: "num", text: row.stats ? fmtPercent((num(stats.atRiskRate) || 0) * 100) : "—" }),
        el("td", { class: "num", text: row.stats && num(stats.meanClvMinor) !== null ? fmtNumber(stats.meanClvMinor / 100, 2) : "—" }),
        el("td", { class: "segment-bands" }, bands.map(function (band) {
          return el("span", { class: "band-pill band-" + band[0], title: band[0], text: fmtCount(band[1] || 0) });
        })));
    });
    var table = rows.length
      ? el("div", { class: "table-wrap" }, el("table", { id: "segments-table", class: "table" }, el("thead", {}, header), el("tbody", {}, body)))
      : el("p", { id: "segments-empty", class: "muted", text: "No segments yet. CreateSegment (outreach-service) saves one." });
    renderView([el("section", { id: "segments", class: "card" },
      el("h1", { text: "Segments" }),
      el("p", { class: "muted", text: "Members update themselves as customers change; mean CLV in major units of the deployment currency." }),
      table)]);
  }

  function kpiTile(id, label, value, sub, opts) {
    opts = opts || {};
    return el("div", { class: "kpi-tile" + (opts.unavailable ? " unavailable" : "") + (opts.cls ? " " + opts.cls : "") },
      el("div", { class: "tile-label", text: label }),
      el("div", { id: id, class: "kpi-value", dataset: { value: opts.raw === null || opts.raw === undefined ? "" : String(opts.raw) },
        text: opts.unavailable ? "—" : value }),
      el("div", { class: "tile-sub muted", text: opts.unavailable ? "Not available right now" : sub }));
  }

  // A horizontal bar chart: rows of { label, value, cls }.
  function barChart(id, title, rows) {
    var rowHeight = 28, labelWidth = 150, width = 480, valueRoom = 64;
    var max = rows.reduce(function (m, r) { return Math.max(m, r.value); }, 0);
    var height = Math.max(rows.length, 1) * rowHeight + 4;
    var chart = svg("svg", { id: id, class: "bar-chart", viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": title + ": " + rows.map(function (r) { return r.label + " " + r.value; }).join(", ") });
    rows.forEach(function (row, index) {
      var y = index * rowHeight + 4;
      var barWidth = max > 0 ? (width - labelWidth - valueRoom) * row.value / max : 0;
      chart.appendChild(svg("g", { class: "bar-row", "data-label": row.label, "data-value": String(row.value) },
        svg("title", { text: row.label + ": " + fmtCount(row.value) }),
        svg("text", { x: String(labelWidth - 8), y: String(y + 14), class: "chart-label", "text-anchor": "end", text: row.label }),
        svg("rect", { x: String(labelWidth), y: String(y + 2), width: String(Math.max(barWidth, row.value > 0 ? 2 : 0)),
          height: "18", rx: "3", class: "bar " + (row.cls || "") }),
        svg("text", { x: String(labelWidth + barWidth + 6), y: String(y + 15), class: "chart-value", text: fmtCount(row.value) })));
    });
    if (!rows.length) {
      chart.appendChild(svg("text", { x: "8", y: "18", class: "chart-label", text: "No data" }));
    }
    return chart;
  }

  function renderKpis(dash, atRisk) {
    var missingList = Array.isArray(dash.missingSections) ? dash.missingSections.map(String) : [];
    var missing = new Set(missingList);
    var feedback = dash.feedback || {};
    var health = dash.health || {};
    var support = dash.support || {};
    var nps = num(dash.nps), csat = num(dash.csatPercent), ces = num(dash.cesMean), churn = num(dash.churnRatePercent);
    var fcr = num(support.firstContactResolutionRate);
    var npsCounts = feedback.nps || null;
    var windowText = dash.window && (dash.window.start || dash.window.end)
      ? fmtDate(dash.window.start) + " – " + fmtDate(dash.window.end) : "Last 30 days";

    var tiles = el("div", { id: "kpi-tiles", class: "kpi-tiles" },
      kpiTile("kpi-nps", "NPS", fmtNumber(nps, 1),
        npsCounts && num(npsCounts.responses) ? fmtCount(npsCounts.promoters) + " promoters · " + fmtCount(npsCounts.detractors) +
          " detractors of " + fmtCount(npsCounts.responses) : (nps === null ? "No responses in the window" : "−100 … 100"),
        { unavailable: missing.has("feedback"), raw: nps }),
      kpiTile("kpi-csat", "CSAT", fmtPercent(csat, 1),
        feedback.csat && num(feedback.csat.responses) ? fmtCount(feedback.csat.responses) + " responses" : "satisfied (4–5 of 5)",
        { unavailable: missing.has("feedback"), raw: csat }),
      kpiTile("kpi-ces", "CES", ces === null ? "—" : fmtNumber(ces, 2),
        "mean effort score, 1–7 (higher is easier)", { unavailable: missing.has("feedback"), raw: ces }),
      kpiTile("kpi-churn", "Churn rate", fmtPercent(churn, 1),
        fmtCount(dash.churnedCustomers) + " churned · " + fmtCount(dash.customers) + " customers",
        { unavailable: missing.has("churn"), raw: churn }),
      kpiTile("kpi-at-risk", "At-risk customers", fmtCount(dash.atRiskCustomers),
        "in the red health band", { unavailable: missing.has("health"), raw: num(dash.atRiskCustomers) || 0, cls: "risk" }),
      kpiTile("kpi-fcr", "First-contact resolution", fcr === null ? "—" : fmtPercent(fcr * 100, 1),
        fmtCount(support.ticketsOpened) + " tickets opened", { unavailable: missing.has("support"), raw: fcr === null ? null : fcr * 100 }),
      kpiTile("kpi-clv", "Mean CLV", fmtMoney(dash.averageHistoricClv),
        "historic, over customers with purchases", { unavailable: missing.has("commerce"),
          raw: dash.averageHistoricClv ? num(dash.averageHistoricClv.amountMinor) || 0 : null }));

    var bandRows = [
      { label: "Green", value: num(health.green) || 0, cls: "band-green" },
      { label: "Yellow", value: num(health.yellow) || 0, cls: "band-yellow" },
      { label: "Red", value: num(health.red) || 0, cls: "band-red" }
    ];
    var segments = (Array.isArray(dash.segments) ? dash.segments : [])
      .filter(function (s) { return s && s.segment && s.segment !== "RFM_SEGMENT_UNSPECIFIED"; })
      .map(function (s) { return { label: enumLabel(s.segment, "RFM_SEGMENT_"), value: num(s.customers) || 0, cls: "segment" }; })
      .sort(function (a, b) { return b.value - a.value; });

    renderView([el("div", { id: "kpi-view", class: "kpi-view" },
      el("div", { class: "view-head" },
        el("h1", { text: "KPI overview" }),
        el("p", { class: "muted", text: windowText + (dash.generatedAt ? " · generated " + fmtDateTime(dash.generatedAt) : "") })),
      el("div", { class: "notices" }, missingNotice(missingList, dash.sectionStatuses)),
      tiles,
      el("div", { class: "grid" },
        card("health-bands", "Health bands", missing.has("health"), [
          barChart("chart-health-bands", "Customers by health band", bandRows),
          el("p", { class: "muted small", text: fmtCount(health.customersScored) + " customers scored" })]),
        card("segments", "RFM segments", missing.has("commerce"), segments.length
          ? barChart("chart-segments", "Customers by RFM segment", segments)
          : el("p", { class: "muted", text: "No segments yet." }))),
      atRiskCard(atRisk))]);
  }

  function atRiskCard(answer) {
    var section = el("section", { id: "at-risk", class: "card" }, el("h2", { text: "At risk, lowest health first" }));
    if (!answer.ok) {
      section.classList.add("unavailable");
      section.appendChild(el("p", { id: "at-risk-error", class: "inline-error" },
        el("strong", { text: String(answer.error.code || "ERROR") }), ": ", userText("span", answer.error.message || "")));
      return section;
    }
    var customers = (Array.isArray(answer.value.customers) ? answer.value.customers : []).slice();
    customers.sort(function (a, b) {
      return (num(a.latest && a.latest.score) || 0) - (num(b.latest && b.latest.score) || 0);
    });
    if (!customers.length) {
      section.appendChild(el("p", { class: "muted", text: "No customers at risk." }));
      return section;
    }
    section.appendChild(el("ol", { id: "at-risk-list", class: "at-risk-list" }, customers.map(function (entry) {
      var id = String(entry.customerId || "");
      var score = num(entry.latest && entry.latest.score) || 0;
      var band = bandName(entry.latest && entry.latest.band, score);
      var alerts = num(entry.openAlerts) || 0;
      return el("li", { class: "at-risk-item", dataset: { customerId: id, score: String(Math.round(score)) } },
        el("a", { class: "at-risk-link", href: fragmentFor([["customer", id]]) },
          el("span", { class: "badge score band-" + band, text: String(Math.round(score)) }),
          el("span", { class: "mono", title: id, text: id }),
          el("span", { class: "muted small", text: alerts + (alerts === 1 ? " open alert" : " open alerts") }),
          entry.csmOwnerId ? el("span", { class: "muted small" }, "CSM ", userText("span", entry.csmOwnerId)) : null));
    })));
    return section;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------------------------------------------

  function start() {
    document.getElementById("sign-out").addEventListener("click", function () {
      clearKey();
      replaceFragment(new Map());
      route();
    });
    window.addEventListener("hashchange", route);
    window.addEventListener("pagehide", stopLive);
    route();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
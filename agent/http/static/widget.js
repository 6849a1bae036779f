/*
 * The support bot's web chat widget: plain JavaScript, no build step, no third-party code.
 *
 * Embed it with one tag (the server URL defaults to where the script came from):
 *
 *   <script src="https://HOST/widget.js" data-key="site-key" defer></script>
 *
 * data-key          the public widget key (scope `widget`): it may only open conversations
 * data-server       the API's base URL, when it is not the script's origin (e.g. behind a proxy path)
 * data-title        the header title (default: bot.yaml widget.title, or the bot's name)
 * data-color        the main colour as a CSS hex colour, #1f5fbf (default: bot.yaml widget.primary_color)
 * data-position     bottom-right | bottom-left (default: bot.yaml widget.position)
 * data-target       the id of an element to show the chat in, inline, instead of a launcher button
 * data-storage      session (default: this tab, across reloads) | local (every tab, until the token expires)
 * data-open         true: the panel opens as the page loads (default: bot.yaml widget.start_open)
 * data-key-from-url the key is the page's ?key= parameter (the /widget page uses this)
 *
 * The widget opens a conversation with the widget key (POST /v1/conversations) and then uses only
 * that conversation's token: messages stream as Server-Sent Events, read with fetch() (EventSource
 * cannot POST). The conversation id and token are kept in sessionStorage (or localStorage), so a
 * reload shows the conversation again. Everything lives in a shadow root: the site's CSS cannot
 * break it, and its CSS cannot leak out.
 */
(() => {
  "use strict";

  const script =
    document.currentScript || document.querySelector('script[src$="/widget.js"], script[src*="/widget.js?"]');
  if (!script) return;

  const HEX = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
  const POSITIONS = ["bottom-right", "bottom-left"];
  const URL_IN_TEXT = /https?:\/\/[^\s<>"')\]]+[^\s<>"')\].,;:!?]/g;
  const MESSAGE_TIMEOUT_MS = 120000; // a decoder on a busy CPU can take seconds; a hung server must not hang us
  const REQUEST_TIMEOUT_MS = 20000;
  const fmt = new Intl.NumberFormat("en");

  /** A failure the customer is shown: `kind` picks the wording and the way out. */
  class WidgetError extends Error {
    constructor(kind, message, extra = {}) {
      super(message);
      this.kind = kind;
      Object.assign(this, extra);
    }
  }

  // --- options from the script tag ---------------------------------------------------

  function readOptions(el) {
    const d = el.dataset;
    const problems = [];
    let server = "";
    try {
      server = (d.server ? new URL(d.server, location.href).href : new URL(el.src, location.href).origin).replace(
        /\/+$/,
        "",
      );
    } catch {
      problems.push(`data-server="${d.server}" is not a URL; expected e.g. https://chat.example.com`);
    }
    let key = (d.key || "").trim();
    if (!key && "keyFromUrl" in d) key = (new URLSearchParams(location.search).get("key") || "").trim();
    const color = d.color && d.color.trim();
    if (color && !HEX.test(color)) problems.push(`data-color="${color}" is not a CSS hex colour like #1f5fbf`);
    if (d.position && !POSITIONS.includes(d.position)) {
      problems.push(`data-position="${d.position}" is not one of ${POSITIONS.join(", ")}`);
    }
    if (d.storage && !["session", "local"].includes(d.storage)) {
      problems.push(`data-storage="${d.storage}" is not session or local`);
    }
    if (d.open && !["true", "false"].includes(d.open)) problems.push(`data-open="${d.open}" is not true or false`);
    const target = d.target ? document.getElementById(d.target) : null;
    if (d.target && !target) problems.push(`data-target="${d.target}": no element has that id`);
    // A site owner's mistake is told in the console, naming the attribute; the widget still runs on defaults.
    for (const problem of problems) console.error(`support widget: ${problem}; the setting is ignored.`);
    return {
      server,
      key,
      fromUrl: "keyFromUrl" in d,
      title: d.title && d.title.trim(),
      color: color && HEX.test(color) ? color : null,
      position: POSITIONS.includes(d.position) ? d.position : null,
      storage: d.storage === "local" ? "local" : "session",
      open: d.open === "true" ? true : d.open === "false" ? false : null,
      target,
    };
  }

  // --- small helpers ---------------------------------------------------------------------

  /** An element with attributes (`on*` become listeners) and children (strings become text). */
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else if (name === "class") el.className = value;
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) el.append(child);
    return el;
  }

  function icon(path, label) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
    p.setAttribute("d", path);
    svg.append(p);
    return label ? [svg, h("span", { class: "saw-sr" }, label)] : [svg];
  }

  const ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z",
    restart: "M12 5V2L7 6l5 4V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-7z",
    send: "M3 20.5 21 12 3 3.5v6.6l12 1.9-12 1.9z",
    up: "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6c-.4.4-.6.9-.6 1.4v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z",
    down: "M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1l1.1 1 6.6-6.6c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2H7c-.8 0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z",
  };

  /** Black or white text, whichever has the higher WCAG contrast on `hex` (as the server computes it). */
  function contrastText(hex) {
    let digits = hex.slice(1);
    if (digits.length === 3) digits = [...digits].map((c) => c + c).join("");
    const [r, g, b] = [0, 2, 4].map((i) => {
      const c = parseInt(digits.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    return 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.0556 ? "#ffffff" : "#111111";
  }

  /** Text with its web addresses as links; never HTML from the server. */
  function richText(text) {
    const out = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(URL_IN_TEXT)) {
      out.append(text.slice(last, match.index));
      out.append(h("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]));
      last = match.index + match[0].length;
    }
    out.append(text.slice(last));
    return out;
  }

  const chars = (text) => [...text].length; // code points, as the server counts them

  function storageArea(kind) {
    try {
      const area = kind === "local" ? window.localStorage : window.sessionStorage;
      const probe = "support-widget:probe";
      area.setItem(probe, "1");
      area.removeItem(probe);
      return area;
    } catch {
      return null; // storage blocked (privacy settings): the conversation lasts as long as the page
    }
  }

  // --- the API -----------------------------------------------------------------------------

  async function errorFrom(response, withToken) {
    let code = "error";
    let message = `the server answered ${response.status}`;
    try {
      const body = await response.json();
      if (body && typeof body.message === "string") message = body.message;
      if (body && typeof body.error === "string") code = body.error;
    } catch {
      /* not JSON: keep the status line */
    }
    const status = response.status;
    const extra = { status, code, detail: message };
    if (status === 429) {
      // Retry-After is readable cross-origin only when the server exposes it; its message says it too.
      const header = Number.parseInt(response.headers.get("Retry-After") || "", 10);
      const spoken = /retry in (\d+)/i.exec(message);
      const wait = Number.isFinite(header) ? header : spoken ? Number(spoken[1]) : 10;
      return new WidgetError("rate_limited", message, { ...extra, retryAfter: Math.max(1, wait) });
    }
    if (status === 413 || (status === 422 && /body\.text|characters|too long/i.test(message))) {
      return new WidgetError("too_long", message, extra);
    }
    if (status === 401 || status === 403) return new WidgetError(withToken ? "expired" : "refused", message, extra);
    if (status === 404 && withToken) return new WidgetError("not_found", message, extra);
    if (status === 409) return new WidgetError("ended", message, extra);
    if (status === 422) return new WidgetError("invalid", message, extra);
    return new WidgetError("unavailable", message, extra);
  }

  class Api {
    constructor(server) {
      this.server = server;
    }

    async call(path, { method = "GET", token = null, body, stream = false, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
      const headers = { Accept: stream ? "text/event-stream" : "application/json" };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), timeoutMs);
      let response;
      try {
        response = await fetch(this.server + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: abort.signal,
          credentials: "omit", // the token is the only credential: no cookies, no ambient authority
          cache: "no-store",
        });
      } catch (err) {
        clearTimeout(timer);
        if (err && err.name === "AbortError") throw new WidgetError("timeout", "no answer in time");
        throw new WidgetError("unreachable", String((err && err.message) || err));
      }
      if (!response.ok) {
        clearTimeout(timer);
        throw await errorFrom(response, Boolean(token));
      }
      // The body may still be streaming: the timer stays until the caller has read it.
      response.done = () => clearTimeout(timer);
      return response;
    }

    async json(path, options) {
      const response = await this.call(path, options);
      try {
        return await response.json();
      } catch {
        throw new WidgetError("unavailable", "the server's answer was not JSON");
      } finally {
        response.done();
      }
    }
  }

  /** The Server-Sent Events of one response, one {event, data} at a time (comments and ids skipped). */
  async function* readEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const parse = (block) => {
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      return data.length ? { event, data: data.join("\n") } : null;
    };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
        // Lines may end in \r\n, \r or \n; a \r at the very end may be half of a \r\n still to come.
        const keep = !done && buffer.endsWith("\r") ? "\r" : "";
        buffer = (keep ? buffer.slice(0, -1) : buffer).replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event) yield event;
        }
        buffer += keep;
        if (done) break;
      }
      const last = parse(buffer); // an event not followed by a blank line before the stream closed
      if (last) yield last;
    } finally {
      reader.releaseLock();
    }
  }

  // --- the widget ----------------------------------------------------------------------------

  class ChatWidget {
    constructor(options) {
      this.options = options;
      this.api = new Api(options.server);
      this.storage = storageArea(options.storage);
      this.storageKey = `support-widget:${options.server}:${options.key}`;
      this.config = null;
      this.conversation = null; // {id, token, expiresAt, greeting}
      this.busy = false;
      this.waitUntil = 0;
      this.started = false;
      this.inline = Boolean(options.target);
      this.build();
    }

    // --- the page ---

    build() {
      const o = this.options;
      this.host = this.inline ? o.target : document.body.appendChild(h("div", { class: "saw-host" }));
      const root = this.host.shadowRoot || this.host.attachShadow({ mode: "open" });
      root.replaceChildren();
      this.host.style.setProperty("visibility", "hidden"); // until the styles are in: no flash of raw markup
      const reveal = () => this.host.style.removeProperty("visibility");
      root.append(h("link", { rel: "stylesheet", href: `${o.server}/widget.css`, onload: reveal, onerror: reveal }));
      setTimeout(reveal, 3000);

      this.titleEl = h("h2", { class: "saw-title", id: "saw-title" }, o.title || "Chat");
      this.restartButton = h(
        "button",
        { type: "button", class: "saw-icon-button saw-restart", title: "New conversation", onclick: () => this.restart() },
        ...icon(ICONS.restart, "Start a new conversation"),
      );
      const header = h("div", { class: "saw-header" }, this.titleEl, this.restartButton);
      if (!this.inline) {
        header.append(
          h(
            "button",
            { type: "button", class: "saw-icon-button saw-close", title: "Close", onclick: () => this.toggle(false) },
            ...icon(ICONS.close, "Close the chat"),
          ),
        );
      }
      this.handoffEl = h("p", { class: "saw-handoff", role: "status", hidden: true });
      this.log = h("div", {
        class: "saw-log",
        role: "log",
        "aria-live": "polite",
        "aria-relevant": "additions",
        "aria-labelledby": "saw-title",
        tabindex: "0",
      });
      this.errorText = h("span", { class: "saw-error-text" });
      this.errorAction = h("button", { type: "button", class: "saw-error-action", hidden: true });
      this.errorEl = h("div", { class: "saw-error", role: "alert", hidden: true }, this.errorText, this.errorAction);
      this.input = h("textarea", {
        id: "saw-input",
        class: "saw-input",
        rows: "1",
        autocomplete: "off",
        "aria-describedby": "saw-count",
        oninput: () => this.onInput(),
        onkeydown: (e) => this.onKey(e),
      });
      this.count = h("span", { id: "saw-count", class: "saw-count", "aria-live": "polite" });
      this.sendButton = h("button", { type: "submit", class: "saw-send" }, ...icon(ICONS.send), h("span", {}, "Send"));
      this.form = h(
        "form",
        { class: "saw-form", onsubmit: (e) => (e.preventDefault(), this.send()) },
        h("label", { for: "saw-input", class: "saw-sr" }, "Your message"),
        this.input,
        this.sendButton,
        this.count,
      );
      this.panel = h(
        "section",
        { class: "saw-panel", id: "saw-panel", "aria-labelledby": "saw-title", onkeydown: (e) => this.onPanelKey(e) },
        header,
        this.handoffEl,
        this.log,
        this.errorEl,
        this.form,
      );
      this.frame = h("div", { class: `saw ${this.inline ? "saw-inline" : "saw-floating"}` });
      if (!this.inline) {
        this.panel.hidden = true;
        this.launcher = h(
          "button",
          {
            type: "button",
            class: "saw-launcher",
            "aria-expanded": "false",
            "aria-controls": "saw-panel",
            onclick: () => this.toggle(),
          },
          ...icon(ICONS.chat),
          h("span", { class: "saw-sr saw-launcher-label" }, "Open the chat"),
        );
        this.frame.append(this.panel, this.launcher);
      } else {
        this.frame.append(this.panel);
      }
      root.append(this.frame);
      this.applyLook();
    }

    applyLook() {
      const o = this.options;
      const c = this.config;
      const primary = o.color || (c && c.primary_color) || "#1f5fbf";
      const onPrimary = o.color ? contrastText(o.color) : (c && c.text_on_primary) || contrastText(primary);
      this.host.style.setProperty("--saw-primary", primary);
      this.host.style.setProperty("--saw-on-primary", onPrimary);
      // The focus ring is the main colour where that shows on white, else dark: always visible.
      this.host.style.setProperty("--saw-ring", onPrimary === "#ffffff" ? primary : "#1d2330");
      if (c) {
        this.host.style.setProperty("--saw-bot-bg", c.bot_bubble_color);
        this.host.style.setProperty("--saw-bot-fg", c.text_on_bot_bubble);
      }
      const title = o.title || (c && c.title) || "Chat";
      this.titleEl.textContent = title;
      this.frame.dataset.position = o.position || (c && c.position) || "bottom-right";
      this.input.placeholder = (c && c.placeholder) || "Type your question";
      if (this.launcher) this.launcher.querySelector(".saw-launcher-label").textContent = `Chat with ${title}`;
    }

    // --- start-up ---

    async init() {
      if (!this.options.key) {
        const how = this.options.fromUrl ? "open this page as /widget?key=YOUR_WIDGET_KEY" : 'add data-key="…"';
        this.showError({ kind: "no_key" }, `This chat has no widget key: ${how}.`);
        this.setEnabled(false);
        if (this.inline) this.toggle(true);
        return;
      }
      const saved = this.load();
      try {
        this.config = await this.api.json("/v1/widget/config");
      } catch (err) {
        this.setEnabled(false);
        this.showError(err, null, { label: "Try again", run: () => this.retryInit() });
        if (this.inline || (saved && saved.open)) this.toggle(true);
        return;
      }
      this.applyLook();
      this.onInput();
      const open = this.inline || (saved && saved.open) || (this.options.open ?? this.config.start_open);
      if (open) this.toggle(true, { focus: false }); // opened by the page, not the customer: focus stays put
    }

    async retryInit() {
      this.clearError();
      this.setEnabled(true);
      this.started = false;
      await this.init();
      if (!this.errorEl.hidden) return;
      if (!this.started) await this.start();
    }

    /** Open or close the panel (launcher mode); the first opening starts or resumes the conversation. */
    toggle(open = this.panel.hidden, { focus = true } = {}) {
      if (!this.inline) {
        this.panel.hidden = !open;
        this.launcher.setAttribute("aria-expanded", String(open));
        this.frame.classList.toggle("saw-open", open);
        this.save({ open });
      }
      if (open) {
        this.onInput(); // the message box can size itself only once it is shown
        if (focus) this.input.focus();
        if (!this.started && this.config) this.start();
      } else if (this.launcher) {
        this.launcher.focus();
      }
    }

    async start() {
      this.started = true;
      const saved = this.load();
      if (saved && saved.id && saved.token) {
        if (saved.expiresAt && Date.parse(saved.expiresAt) <= Date.now()) {
          this.forget();
          this.notice("Your previous chat session expired, so this is a new conversation.");
        } else if (await this.resume(saved)) {
          return;
        }
      }
      await this.open();
    }

    /** Show a stored conversation again (after a reload); false when it cannot be resumed. */
    async resume(saved) {
      this.conversation = saved;
      const typing = this.addTyping();
      let record;
      try {
        record = await this.api.json(`/v1/conversations/${encodeURIComponent(saved.id)}`, { token: saved.token });
      } catch (err) {
        typing.remove();
        if (err.kind === "not_found") {
          // Opened but nothing said yet: the store has no turns for it.
          this.addGreeting(saved.greeting);
          return true;
        }
        if (err.kind === "expired") {
          this.forget();
          this.notice("Your previous chat session expired, so this is a new conversation.");
          return false;
        }
        this.showError(err, null, { label: "Try again", run: () => this.reload() });
        return true;
      }
      typing.remove();
      const turns = Array.isArray(record.turns) ? record.turns : [];
      const storedGreeting = turns.length && turns[0].role === "bot";
      if (!storedGreeting) this.addGreeting(saved.greeting);
      let replies = 0;
      for (const turn of turns) {
        if (turn.role === "customer") {
          this.addMessage("customer", turn.text);
        } else {
          const isGreeting = replies === 0 && storedGreeting && turn === turns[0];
          const message = this.addMessage("bot", turn.text, { seq: turn.seq, greeting: isGreeting });
          if (!isGreeting) replies += 1;
          if (turn.trace && turn.trace.source === "handoff") this.setHandoff(true);
          if (!isGreeting) this.addFeedback(message);
        }
      }
      if (record.status === "handoff") this.setHandoff(true);
      if (record.status === "ended") this.showEnded();
      this.scrollDown();
      return true;
    }

    async reload() {
      this.clearError();
      this.log.replaceChildren();
      this.started = false;
      await this.start();
    }

    /** A new conversation with the widget key; its token is all the widget uses from here on. */
    async open() {
      const typing = this.addTyping();
      let created;
      try {
        created = await this.api.json("/v1/conversations", { method: "POST", token: this.options.key });
      } catch (err) {
        typing.remove();
        if (err.kind === "expired") err.kind = "refused"; // the widget key itself was refused
        this.started = false;
        this.showError(err, null, { label: "Try again", run: () => (this.clearError(), this.start()) });
        return;
      }
      typing.remove();
      if (!created.token) {
        // Only a server without a token secret does this, and only for a chat key: a key meant for servers.
        console.warn("support widget: the server issued no conversation token; use a widget key (scope widget).");
      }
      this.conversation = {
        id: created.conversation_id,
        token: created.token || this.options.key,
        expiresAt: created.expires_at || null,
        greeting: created.greeting || (this.config && this.config.greeting) || "",
      };
      this.save(this.conversation);
      this.setEnabled(true);
      this.addGreeting(this.conversation.greeting);
    }

    async restart() {
      const old = this.conversation;
      this.forget();
      this.conversation = null;
      this.log.replaceChildren();
      this.clearError();
      this.setHandoff(false);
      this.setEnabled(true);
      if (old && old.token) {
        // Best effort: an unreachable server must not stop the customer starting again.
        this.api
          .call(`/v1/conversations/${encodeURIComponent(old.id)}/end`, { method: "POST", token: old.token })
          .then((r) => r.done())
          .catch(() => {});
      }
      this.started = true;
      await this.open();
      this.input.focus();
    }

    // --- sending ---

    onKey(event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    }

    onPanelKey(event) {
      if (event.key === "Escape" && !this.inline) {
        event.preventDefault();
        this.toggle(false);
      }
    }

    onInput() {
      const limit = this.config ? this.config.max_message_chars : Infinity;
      const n = chars(this.input.value);
      // Grow with the text up to five lines or so (scrollHeight leaves out the 1px borders).
      this.input.style.setProperty("height", "auto");
      const needed = this.input.scrollHeight; // 0 while the panel is hidden: keep the stylesheet's height then
      if (needed) this.input.style.setProperty("height", `${Math.min(needed + 2, 140)}px`);
      else this.input.style.removeProperty("height");
      const over = n > limit;
      this.count.hidden = !(n > limit * 0.8);
      this.count.textContent = this.count.hidden ? "" : `${fmt.format(n)} / ${fmt.format(limit)}`;
      this.count.classList.toggle("saw-over", over);
      this.input.setAttribute("aria-invalid", String(over));
    }

    async send() {
      const text = this.input.value.trim();
      if (!text || this.busy) return;
      const limit = this.config ? this.config.max_message_chars : Infinity;
      if (chars(text) > limit) {
        this.showError({ kind: "too_long", length: chars(text) });
        this.input.focus();
        return;
      }
      if (this.sendButton.disabled) return; // waiting out a rate limit, or no conversation to send to
      if (!this.conversation) {
        await this.open();
        if (!this.conversation) return;
      }
      this.clearError();
      this.busy = true;
      this.form.classList.add("saw-busy");
      this.input.value = "";
      this.onInput();
      const mine = this.addMessage("customer", text);
      const bubble = this.addTyping();
      let accepted = false; // once the stream has begun, the server has the message: keep it on screen
      try {
        const { id, token } = this.conversation;
        const response = await this.api.call(`/v1/conversations/${encodeURIComponent(id)}/messages`, {
          method: "POST",
          token,
          body: { text },
          stream: true,
          timeoutMs: MESSAGE_TIMEOUT_MS,
        });
        accepted = true;
        let reply;
        try {
          reply = await this.readReply(response, bubble);
        } finally {
          response.done();
        }
        this.finishReply(bubble, reply);
      } catch (err) {
        bubble.remove();
        if (!accepted) {
          mine.remove();
          if (!this.input.value) this.input.value = text; // nothing typed is lost
          this.onInput();
        }
        this.showError(err.kind ? err : new WidgetError("unreachable", String(err)), null, null, chars(text));
      } finally {
        this.busy = false;
        this.form.classList.remove("saw-busy");
        this.scrollDown();
      }
    }

    /** The reply of a message response: streamed text into `bubble` as it comes, then the final reply. */
    async readReply(response, bubble) {
      const type = response.headers.get("Content-Type") || "";
      if (!type.includes("text/event-stream") || !response.body) return response.json(); // a server that does not stream
      let shown = "";
      for await (const { event, data } of readEvents(response)) {
        let payload;
        try {
          payload = JSON.parse(data);
        } catch {
          throw new WidgetError("unavailable", `the server sent an unreadable '${event}' event`);
        }
        if (event === "delta") {
          shown += payload.text || "";
          this.setBubbleText(bubble, shown, true);
        } else if (event === "reply") {
          return payload;
        } else if (event === "error") {
          const code = payload.error || "error";
          const kind = { rate_limited: "rate_limited", conflict: "ended", validation_error: "invalid" }[code];
          throw new WidgetError(kind || "unavailable", payload.message || code, { code, detail: payload.message });
        }
      }
      throw new WidgetError("cut_off", "the stream ended before the reply");
    }

    finishReply(bubble, reply) {
      bubble.classList.remove("saw-typing");
      bubble.classList.toggle("saw-replaced", Boolean(reply.replace));
      // The final text is what the bot's guard accepted; with `replace` it differs from what streamed.
      this.setBubbleText(bubble, reply.text || "", false);
      bubble.removeAttribute("aria-busy");
      if (typeof reply.seq === "number") bubble.dataset.seq = String(reply.seq);
      const source = reply.source || (reply.trace && reply.trace.source);
      if (reply.handoff || source === "handoff") this.setHandoff(true);
      this.addFeedback(bubble);
    }

    // --- the message log ---

    addMessage(role, text, { seq = null, greeting = false } = {}) {
      const who = role === "customer" ? "You" : this.titleEl.textContent;
      const el = h(
        "div",
        { class: `saw-msg saw-msg-${role}${greeting ? " saw-greeting" : ""}`, "data-seq": seq },
        h("span", { class: "saw-sr" }, `${who}: `),
        h("p", { class: "saw-text" }, richText(text)),
      );
      this.log.append(el);
      this.scrollDown();
      return el;
    }

    addGreeting(text) {
      if (text) this.addMessage("bot", text, { greeting: true });
    }

    addTyping() {
      const el = h(
        "div",
        { class: "saw-msg saw-msg-bot saw-typing", "aria-busy": "true" },
        h("span", { class: "saw-sr" }, `${this.titleEl.textContent} is typing`),
        h("span", { class: "saw-dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")),
      );
      this.log.append(el);
      this.scrollDown();
      return el;
    }

    setBubbleText(bubble, text, streaming) {
      const who = h("span", { class: "saw-sr" }, `${this.titleEl.textContent}: `);
      bubble.replaceChildren(who, h("p", { class: "saw-text" }, richText(text)));
      bubble.classList.toggle("saw-streaming", streaming);
      bubble.classList.remove("saw-typing");
      this.scrollDown();
    }

    addFeedback(bubble) {
      if (!this.config || !this.config.feedback || bubble.classList.contains("saw-greeting")) return;
      const group = h("div", { class: "saw-feedback", role: "group", "aria-label": "Was this answer helpful?" });
      for (const [rating, label] of [
        ["up", "Helpful"],
        ["down", "Not helpful"],
      ]) {
        group.append(
          h(
            "button",
            {
              type: "button",
              class: `saw-icon-button saw-thumb saw-thumb-${rating}`,
              "aria-pressed": "false",
              title: label,
              onclick: (e) => this.rate(bubble, rating, e.currentTarget),
            },
            ...icon(ICONS[rating], label),
          ),
        );
      }
      bubble.append(group);
    }

    async rate(bubble, rating, button) {
      const { id, token } = this.conversation || {};
      if (!id) return;
      try {
        if (!bubble.dataset.seq) await this.numberReplies();
        const seq = Number(bubble.dataset.seq);
        if (!Number.isFinite(seq)) throw new WidgetError("unavailable", "this reply is not in the transcript");
        const response = await this.api.call(`/v1/conversations/${encodeURIComponent(id)}/feedback`, {
          method: "POST",
          token,
          body: { seq, rating },
        });
        response.done();
        for (const b of bubble.querySelectorAll(".saw-thumb")) b.setAttribute("aria-pressed", String(b === button));
      } catch (err) {
        this.showError(err);
      }
    }

    /** Give streamed replies their turn numbers from the transcript: the n-th reply is the n-th bot turn after a customer turn. */
    async numberReplies() {
      const { id, token } = this.conversation;
      const record = await this.api.json(`/v1/conversations/${encodeURIComponent(id)}`, { token });
      let customerSeen = false;
      const seqs = [];
      for (const turn of record.turns || []) {
        if (turn.role === "customer") customerSeen = true;
        else if (customerSeen) seqs.push(turn.seq);
      }
      const replies = [...this.log.querySelectorAll(".saw-msg-bot:not(.saw-greeting):not(.saw-typing)")];
      replies.forEach((el, i) => {
        if (seqs[i] !== undefined) el.dataset.seq = String(seqs[i]);
      });
    }

    scrollDown() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    // --- states ---

    setEnabled(enabled) {
      this.input.disabled = !enabled;
      this.sendButton.disabled = !enabled || Date.now() < this.waitUntil;
    }

    setHandoff(on) {
      this.handoffEl.hidden = !on;
      this.handoffEl.textContent = on
        ? (this.config && this.config.handoff_notice) || "A person from our team will reply here."
        : "";
      this.frame.classList.toggle("saw-handed-off", on);
    }

    notice(text) {
      const el = h("p", { class: "saw-notice" }, text);
      this.log.append(el);
    }

    showEnded() {
      this.setEnabled(false);
      this.showError({ kind: "ended" });
    }

    /** One clear line for a failure, with the way out where there is one. */
    showError(err, text = null, action = null, length = null) {
      const limit = this.config ? fmt.format(this.config.max_message_chars) : "the limit";
      const newChat = { label: "Start a new conversation", run: () => this.restart() };
      let line = text;
      let way = action;
      switch (err.kind) {
        case "unreachable":
          line = "Can't reach the chat service. Check your connection, then try again.";
          break;
        case "timeout":
          line = "The chat service did not answer in time. Please try again.";
          break;
        case "rate_limited":
          line = `You're sending messages faster than the chat allows. Please wait ${err.retryAfter} s, then send again.`;
          this.holdSend(err.retryAfter);
          break;
        case "too_long": {
          const n = err.length || length;
          line = n
            ? `Your message is ${fmt.format(n)} characters; the limit is ${limit}. Please shorten it.`
            : `Your message is too long; the limit is ${limit} characters. Please shorten it.`;
          break;
        }
        case "expired":
          line = "Your chat session has expired.";
          way = newChat;
          this.forget();
          this.setEnabled(false);
          break;
        case "ended":
          line = "This conversation has ended.";
          way = newChat;
          this.setEnabled(false);
          break;
        case "refused":
          line = `This chat is not set up correctly: the server refused its widget key (${err.detail || err.message}).`;
          break;
        case "cut_off":
          line = "The reply was cut off before it finished. Please send your message again.";
          break;
        case "invalid":
          line = `The server could not take that message: ${err.detail || err.message}`;
          break;
        case "no_key":
          break;
        default:
          line = line || `The chat service is having trouble (${err.detail || err.message}). Please try again shortly.`;
      }
      this.errorEl.dataset.kind = err.kind || "error";
      this.errorText.textContent = line;
      this.errorAction.hidden = !way;
      this.errorAction.onclick = way ? () => way.run() : null;
      if (way) this.errorAction.textContent = way.label;
      this.errorEl.hidden = false;
    }

    clearError() {
      this.errorEl.hidden = true;
      this.errorText.textContent = "";
      delete this.errorEl.dataset.kind;
    }

    /** After a 429: the send button counts down the server's Retry-After, then clears the error. */
    holdSend(seconds) {
      this.waitUntil = Date.now() + seconds * 1000;
      const label = this.sendButton.querySelector("span:last-child");
      const tick = () => {
        const left = Math.ceil((this.waitUntil - Date.now()) / 1000);
        this.sendButton.classList.toggle("saw-waiting", left > 0);
        if (left > 0) {
          this.sendButton.disabled = true;
          label.textContent = `Wait ${left} s`;
          setTimeout(tick, 250);
        } else {
          this.sendButton.disabled = this.input.disabled;
          label.textContent = "Send";
          if (this.errorEl.dataset.kind === "rate_limited") this.clearError();
        }
      };
      tick();
    }

    // --- what survives a reload ---

    load() {
      if (!this.storage) return null;
      try {
        return JSON.parse(this.storage.getItem(this.storageKey) || "null");
      } catch {
        return null;
      }
    }

    save(fields) {
      if (!this.storage) return;
      try {
        this.storage.setItem(this.storageKey, JSON.stringify({ ...(this.load() || {}), ...fields }));
      } catch {
        /* storage full or blocked: the conversation lasts as long as the page */
      }
    }

    forget() {
      const open = this.load() && this.load().open;
      if (this.storage) this.storage.removeItem(this.storageKey);
      if (open) this.save({ open });
    }
  }

  const start = () => new ChatWidget(readOptions(script)).init();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
})();

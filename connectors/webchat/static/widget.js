/*
 * 12345 政务服务热线在线咨询组件。
 *
 * 嵌入方式（一个标签）：
 *   <script src="https://<host>/webhooks/web/static/widget.js" defer></script>
 * 可选属性：data-server（默认为本脚本所在站点）、data-title、data-open="true"。
 *
 * 通过 Rasa 的 socket.io 通道（web）对话；会话号、对话记录和待发送消息保存在
 * localStorage，刷新页面或断网重连后继续同一会话。所有文字都用 textContent 写入。
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.hl12345Widget) {
    return;
  }
  window.hl12345Widget = true;

  var BASE = new URL(script.src, location.href);
  var DIR = new URL(".", BASE).href;
  var SERVER = script.getAttribute("data-server") || BASE.origin;
  var TITLE = script.getAttribute("data-title") || "12345 政务服务热线在线咨询";
  var START_OPEN = script.getAttribute("data-open") === "true";

  var WELCOME =
    "您好！我是12345政务服务热线智能助手。请直接输入您要咨询的问题，" +
    "也可以在这里登记投诉、求助、建议等诉求。";
  var MAX_CHARS = 500;
  var MAX_HISTORY = 200;
  var TYPING_TIMEOUT_MS = 15000;
  var RECONNECTED_NOTICE_MS = 5000;
  var REFUSED_RETRY_MS = 60000;
  var STORE_PREFIX = "hl12345:" + SERVER + ":";
  var URL_PATTERN = /https?:\/\/[^\s<>"'，。！？；：、（）【】《》“”‘’]+/g;
  var URL_TRAILING = /[.,;:!?)\]}'"]+$/;

  // ---- localStorage（隐私模式下可能不可用，此时只在内存中保存） ----

  var memory = {};

  function load(key, fallback) {
    var raw;
    try {
      raw = window.localStorage.getItem(STORE_PREFIX + key);
    } catch (err) {
      raw = memory[key];
    }
    if (raw === null || raw === undefined) {
      return fallback;
    }
    try {
      return JSON.parse(raw);
    } catch (err) {
      return fallback;
    }
  }

  function save(key, value) {
    var raw = JSON.stringify(value);
    memory[key] = raw;
    try {
      window.localStorage.setItem(STORE_PREFIX + key, raw);
    } catch (err) {
      // 存储已满或被禁用：保留内存中的副本。
    }
  }

  // ---- DOM 工具 ----

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function button(className, text, label) {
    var node = el("button", className, text);
    node.type = "button";
    if (label) {
      node.setAttribute("aria-label", label);
    }
    return node;
  }

  function safeHref(candidate) {
    try {
      var url = new URL(candidate);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  // 把一行文字中的 http(s) 网址变成链接，其余部分作为纯文本。
  function appendLinkified(parent, line) {
    var last = 0;
    line.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(URL_TRAILING, "");
      var href = safeHref(url);
      if (!href) {
        return match;
      }
      parent.appendChild(document.createTextNode(line.slice(last, offset)));
      var link = el("a", "hl-link", url);
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      parent.appendChild(link);
      last = offset + url.length;
      return match;
    });
    parent.appendChild(document.createTextNode(line.slice(last)));
  }

  function appendText(parent, text, linkify) {
    String(text).split("\n").forEach(function (line, index) {
      if (index > 0) {
        parent.appendChild(document.createElement("br"));
      }
      if (linkify) {
        appendLinkified(parent, line);
      } else {
        parent.appendChild(document.createTextNode(line));
      }
    });
  }

  function newId() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }

  // ---- 状态 ----

  function loadList(key) {
    var value = load(key, []);
    return Array.isArray(value) ? value : [];
  }

  var history = loadList("history");
  var outbox = loadList("outbox");
  var sessionId = load("session", null);
  var largeFont = load("large", false) === true;
  var socket = null;
  var confirmed = false;
  var everConnected = false;
  var typingTimer = null;
  var statusTimer = null;

  // ---- 界面 ----

  var stylesheet = document.createElement("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = DIR + "widget.css";
  document.head.appendChild(stylesheet);

  var root = el("div", "hl-root");
  var launcher = button("hl-launcher", "在线咨询");
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "hl-panel");

  var panel = el("section", "hl-panel");
  panel.id = "hl-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-labelledby", "hl-title");

  var header = el("div", "hl-header");
  var title = el("h2", "hl-title", TITLE);
  title.id = "hl-title";
  var tools = el("div", "hl-tools");
  var humanButton = button("hl-tool hl-human", "转人工");
  var largeButton = button("hl-tool hl-large-toggle", "大字号");
  var rateButton = button("hl-tool hl-rate", "结束并评价");
  var closeButton = button("hl-close", "×", "关闭咨询窗口");
  tools.append(humanButton, largeButton, rateButton, closeButton);
  header.append(title, tools);

  var status = el("div", "hl-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");

  var log = el("div", "hl-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "对话记录");
  log.tabIndex = 0;

  var typing = el("div", "hl-typing");
  typing.setAttribute("aria-live", "polite");

  var rating = el("div", "hl-rating");
  rating.hidden = true;
  rating.setAttribute("role", "group");
  rating.setAttribute("aria-labelledby", "hl-rating-prompt");
  var ratingPrompt = el("p", "hl-rating-prompt", "请您为本次服务打分：");
  ratingPrompt.id = "hl-rating-prompt";
  var stars = el("div", "hl-stars");
  var starButtons = [];
  for (var n = 1; n <= 5; n += 1) {
    var star = button("hl-star", "★", n + " 星");
    star.setAttribute("aria-pressed", "false");
    starButtons.push(star);
    stars.appendChild(star);
  }
  var ratingThanks = el("p", "hl-rating-thanks", "感谢评价！");
  ratingThanks.hidden = true;
  rating.append(ratingPrompt, stars, ratingThanks);

  var notice = el("div", "hl-notice");
  notice.setAttribute("role", "alert");

  var form = el("form", "hl-form");
  var inputLabel = el("label", "hl-visually-hidden", "请输入您的问题");
  inputLabel.htmlFor = "hl-input";
  var input = el("textarea", "hl-input");
  input.id = "hl-input";
  input.rows = 1;
  input.placeholder = "请输入您的问题，按回车发送";
  input.setAttribute("aria-describedby", "hl-input-hint");
  var inputHint = el("span", "hl-visually-hidden", "按回车发送，Shift 加回车换行，最多500字");
  inputHint.id = "hl-input-hint";
  var sendButton = el("button", "hl-send", "发送");
  sendButton.type = "submit";
  form.append(inputLabel, inputHint, input, sendButton);

  panel.append(header, status, log, typing, rating, notice, form);
  root.append(launcher, panel);

  // ---- 消息显示 ----

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function renderEntry(entry) {
    var row = el("div", "hl-row hl-row--" + entry.from);
    row.setAttribute("data-id", entry.id);
    row.appendChild(
      el("span", "hl-visually-hidden", entry.from === "bot" ? "智能客服说：" : "我说：")
    );
    var bubble = el("div", "hl-msg hl-msg--" + entry.from);
    if (entry.text) {
      appendText(bubble, entry.text, entry.from === "bot");
    }
    var imageHref = entry.image && safeHref(entry.image);
    if (imageHref) {
      var imageLink = el("a", "hl-link");
      imageLink.href = imageHref;
      imageLink.target = "_blank";
      imageLink.rel = "noopener noreferrer";
      var image = el("img", "hl-image");
      image.src = imageHref;
      image.alt = "图片（点击查看大图）";
      imageLink.appendChild(image);
      bubble.appendChild(imageLink);
    }
    if (entry.pending) {
      bubble.appendChild(el("span", "hl-pending", "等待发送"));
    }
    row.appendChild(bubble);
    if (entry.buttons && entry.buttons.length) {
      row.appendChild(renderChoices(entry));
    }
    log.appendChild(row);
  }

  function renderChoices(entry) {
    var group = el("div", "hl-choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "可选回复");
    entry.buttons.forEach(function (choice) {
      var option = button("hl-choice", choice.title);
      option.disabled = Boolean(entry.used);
      option.addEventListener("click", function () {
        if (entry.used) {
          return;
        }
        if (send(choice.payload, choice.title)) {
          entry.used = true;
          save("history", history);
          Array.prototype.forEach.call(group.children, function (child) {
            child.disabled = true;
          });
          input.focus();
        }
      });
      group.appendChild(option);
    });
    return group;
  }

  function remember(entry) {
    history.push(entry);
    var excess = history.length - MAX_HISTORY;
    if (excess > 0) {
      history.splice(0, excess);
      var rows = log.querySelectorAll(".hl-row");
      for (var i = 0; i < excess; i += 1) {
        log.removeChild(rows[i]);
      }
    }
    save("history", history);
    renderEntry(entry);
    scrollToEnd();
  }

  function renderHistory() {
    log.textContent = "";
    log.appendChild(el("div", "hl-msg hl-msg--hint", WELCOME));
    history.forEach(renderEntry);
    scrollToEnd();
  }

  function setTyping(on) {
    clearTimeout(typingTimer);
    typing.textContent = on ? "正在输入…" : "";
    typing.classList.toggle("hl-typing--on", on);
    if (on) {
      typingTimer = setTimeout(function () {
        setTyping(false);
      }, TYPING_TIMEOUT_MS);
    }
  }

  function setStatus(text, transient) {
    clearTimeout(statusTimer);
    status.textContent = text;
    status.classList.toggle("hl-status--on", Boolean(text));
    if (transient) {
      statusTimer = setTimeout(function () {
        setStatus("");
      }, RECONNECTED_NOTICE_MS);
    }
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.classList.toggle("hl-notice--on", Boolean(text));
  }

  // ---- 收发 ----

  function online() {
    return Boolean(socket && socket.connected && confirmed);
  }

  // 按顺序发出待发送消息；每条在发出时即移出队列，保证不会重复发送。
  function flush() {
    outbox = loadList("outbox");
    while (outbox.length && online()) {
      var item = outbox.shift();
      save("outbox", outbox);
      socket.emit("user_uttered", { message: item.message, session_id: sessionId });
      markSent(item.id);
      setTyping(true);
    }
  }

  function markSent(id) {
    history.forEach(function (entry) {
      if (entry.id === id) {
        delete entry.pending;
      }
    });
    save("history", history);
    var row = log.querySelector('.hl-row[data-id="' + id + '"]');
    var badge = row && row.querySelector(".hl-pending");
    if (badge) {
      badge.parentNode.removeChild(badge);
    }
  }

  // 发送一条消息（display 为显示给市民看的文字）；被拒绝时返回 false。
  function send(message, display) {
    var shown = display || message;
    if (!String(message).trim()) {
      return false;
    }
    if (Array.from(shown).length > MAX_CHARS) {
      showNotice("消息请不要超过500字，您可以分几次发送。");
      return false;
    }
    showNotice("");
    var id = newId();
    remember({ id: id, from: "user", text: shown, pending: true });
    outbox = loadList("outbox");
    outbox.push({ id: id, message: message });
    save("outbox", outbox);
    flush();
    return true;
  }

  function receive(data) {
    setTyping(false);
    if (!data || typeof data !== "object") {
      return;
    }
    var offered = data.quick_replies || data.buttons;
    var choices = (Array.isArray(offered) ? offered : []).filter(function (choice) {
      return choice && typeof choice.payload === "string" && choice.title;
    });
    var attachment = data.attachment;
    var image =
      attachment && attachment.type === "image" && attachment.payload
        ? safeHref(attachment.payload.src)
        : null;
    if (!data.text && !image && !choices.length) {
      return;
    }
    remember({
      id: newId(),
      from: "bot",
      text: data.text ? String(data.text) : "",
      image: image || undefined,
      buttons: choices.map(function (choice) {
        return { title: String(choice.title), payload: choice.payload };
      }),
    });
  }

  function connect() {
    socket = window.io(SERVER, { path: "/socket.io" });
    socket.on("connect", function () {
      confirmed = false;
      socket.emit("session_request", { session_id: sessionId });
    });
    socket.on("session_confirm", function (data) {
      var id = data && typeof data === "object" ? data.session_id : data;
      if (!id) {
        return;
      }
      sessionId = String(id);
      save("session", sessionId);
      confirmed = true;
      if (everConnected) {
        setStatus("已重新连接", true);
      } else {
        setStatus("");
      }
      everConnected = true;
      flush();
    });
    socket.on("bot_uttered", receive);
    socket.on("disconnect", function (reason) {
      confirmed = false;
      setTyping(false);
      setStatus("连接中断，正在重新连接…");
      if (reason === "io server disconnect") {
        socket.connect();
      }
    });
    socket.on("connect_error", function (error) {
      // Refused by the server (too many connections from this address): show its
      // reason and try again in a minute; otherwise the client retries by itself.
      if (!socket.active) {
        setStatus(String((error && error.message) || "暂时无法连接，请稍后再试。"));
        setTimeout(function () {
          socket.connect();
        }, REFUSED_RETRY_MS);
        return;
      }
      setStatus(everConnected ? "连接中断，正在重新连接…" : "正在连接服务，请稍候…");
    });
  }

  // 浏览器报告断网时立即断开，恢复联网后立即重连，不必等心跳超时。
  window.addEventListener("offline", function () {
    if (socket && socket.connected) {
      socket.disconnect();
    }
  });
  window.addEventListener("online", function () {
    if (socket && !socket.connected) {
      socket.connect();
    }
  });

  function start() {
    if (typeof window.io !== "function") {
      setStatus("在线咨询暂时无法加载，请稍后刷新页面或拨打12345热线。");
      return;
    }
    connect();
  }

  // ---- 界面交互 ----

  function setOpen(open, moveFocus) {
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      scrollToEnd();
    }
    if (moveFocus) {
      (open ? input : launcher).focus();
    }
  }

  function setLarge(on) {
    largeFont = on;
    panel.classList.toggle("hl-large", on);
    largeButton.setAttribute("aria-pressed", String(on));
    save("large", on);
  }

  function resetRating() {
    starButtons.forEach(function (star) {
      star.disabled = false;
      star.setAttribute("aria-pressed", "false");
      star.classList.remove("hl-star--on");
    });
    ratingPrompt.hidden = false;
    ratingThanks.hidden = true;
  }

  function rate(value) {
    if (!send('/rate{"rating":"' + value + '"}', "评价：" + value + " 星")) {
      return;
    }
    starButtons.forEach(function (star, index) {
      star.disabled = true;
      star.setAttribute("aria-pressed", String(index + 1 === value));
      star.classList.toggle("hl-star--on", index < value);
    });
    ratingPrompt.hidden = true;
    ratingThanks.hidden = false;
    input.focus();
  }

  launcher.addEventListener("click", function () {
    setOpen(true, true);
  });
  closeButton.addEventListener("click", function () {
    setOpen(false, true);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false, true);
    }
  });
  humanButton.addEventListener("click", function () {
    send("/request_human", "转人工");
  });
  largeButton.addEventListener("click", function () {
    setLarge(!largeFont);
  });
  rateButton.addEventListener("click", function () {
    resetRating();
    rating.hidden = false;
    starButtons[0].focus();
  });
  starButtons.forEach(function (star, index) {
    star.addEventListener("click", function () {
      rate(index + 1);
    });
  });

  function submitInput() {
    if (send(input.value.trim())) {
      input.value = "";
    }
    input.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitInput();
  });
  input.addEventListener("keydown", function (event) {
    // 回车发送，Shift+回车换行；输入法选字时按的回车不发送。
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submitInput();
    }
  });
  input.addEventListener("input", function () {
    if (Array.from(input.value).length <= MAX_CHARS) {
      showNotice("");
    }
  });

  function mount() {
    document.body.appendChild(root);
    setLarge(largeFont);
    renderHistory();
    setOpen(START_OPEN, false);
    if (typeof window.io === "function") {
      start();
    } else {
      var loader = document.createElement("script");
      loader.src = DIR + "socket.io.min.js";
      loader.onload = start;
      loader.onerror = start;
      document.head.appendChild(loader);
    }
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();

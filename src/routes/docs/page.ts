// The interactive API reference at /docs: one self-contained page (no CDN, no fonts, nothing fetched but
// /openapi.json and the calls the reader makes), rendering the document with DOM calls only, never innerHTML.

const STYLE = `
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5b6570; --line: #d5dbe1; --bg: #fff; --code: #f4f6f8; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ec; --muted: #9aa4ae; --line: #36404a; --bg: #14181c; --code: #1e242a; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 16px 24px; border-bottom: 1px solid var(--line); display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
header h1 { font-size: 20px; margin: 0; }
header .token { margin-left: auto; display: flex; gap: 8px; align-items: center; }
main { max-width: 1100px; margin: 0 auto; padding: 8px 24px 48px; }
h2 { margin: 32px 0 8px; font-size: 17px; text-transform: capitalize; }
details.op { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
details.op > summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 12px; align-items: baseline; }
.method { font: 600 12px ui-monospace, monospace; text-transform: uppercase; min-width: 56px; text-align: center; padding: 2px 6px; border-radius: 4px; color: #fff; background: #4a6fa5; }
.method.post { background: #3f8f5f; } .method.put, .method.patch { background: #a0782c; } .method.delete { background: #a54a4a; }
.path { font-family: ui-monospace, monospace; }
.summary { color: var(--muted); }
.lock { font-size: 12px; color: var(--muted); margin-left: auto; }
.body { padding: 4px 16px 16px; border-top: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; font-size: 14px; }
td code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
pre { background: var(--code); padding: 8px; border-radius: 4px; overflow: auto; max-height: 420px; margin: 4px 0; }
input, textarea, button, select { font: inherit; }
input[type=text], input[type=password], textarea { width: 100%; padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
button { padding: 4px 14px; border: 1px solid var(--line); border-radius: 4px; background: var(--code); color: var(--fg); cursor: pointer; }
.status { font-weight: 600; }
.muted { color: var(--muted); }
`;

const SCRIPT = `
(function () {
  var el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  };
  var tokenInput = document.getElementById("token");
  var main = document.querySelector("main");

  function typeOf(schema) {
    if (!schema) return "";
    if (schema.enum) return schema.enum.join(" | ");
    var t = Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type || "");
    if (schema.pattern) t += " /" + schema.pattern + "/";
    if (schema.format) t += " (" + schema.format + ")";
    return t;
  }

  function operation(path, method, op) {
    var params = op.parameters || [];
    var inputs = {};
    var rows = params.map(function (p) {
      var input = el("input", { type: "text", placeholder: p.schema && p.schema.default !== undefined ? String(p.schema.default) : "" });
      inputs[p.in + ":" + p.name] = input;
      return el("tr", {}, [
        el("td", {}, [el("code", { text: p.name }), p.required ? el("span", { class: "muted", text: " required" }) : null]),
        el("td", { text: p.in }),
        el("td", {}, [el("code", { text: typeOf(p.schema) })]),
        el("td", { text: p.description || "" }),
        el("td", {}, [input]),
      ]);
    });
    var body = null;
    if (op.requestBody) {
      var media = Object.keys(op.requestBody.content)[0];
      body = el("textarea", { rows: "5", text: "{}" });
      body.dataset.media = media;
    }
    var result = el("div", {});
    var send = el("button", { type: "button", text: "Send" });
    send.addEventListener("click", function () {
      var url = path.replace(/\\{([^}]+)\\}/g, function (_, name) {
        var v = inputs["path:" + name] ? inputs["path:" + name].value : "";
        return encodeURIComponent(v);
      });
      var query = new URLSearchParams();
      params.forEach(function (p) {
        var v = inputs[p.in + ":" + p.name].value;
        if (p.in === "query" && v !== "") query.set(p.name, v);
      });
      if (query.toString()) url += "?" + query.toString();
      var headers = {};
      if (tokenInput.value) headers.Authorization = "Bearer " + tokenInput.value;
      params.forEach(function (p) {
        var v = inputs[p.in + ":" + p.name].value;
        if (p.in === "header" && v !== "") headers[p.name] = v;
      });
      var init = { method: method.toUpperCase(), headers: headers };
      if (body) { init.body = body.value; headers["Content-Type"] = body.dataset.media; }
      result.replaceChildren(el("p", { class: "muted", text: init.method + " " + url + " …" }));
      fetch(url, init).then(function (res) {
        return res.text().then(function (text) {
          var shown = text;
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
          var meta = ["content-type", "x-total-count", "x-data-freshness", "x-request-id"].map(function (h) {
            return res.headers.get(h) ? h + ": " + res.headers.get(h) : null;
          }).filter(Boolean).join("\\n");
          result.replaceChildren(
            el("p", {}, [el("span", { class: "status", text: res.status + " " + res.statusText }), " ", el("code", { class: "muted", text: init.method + " " + url })]),
            meta ? el("pre", { text: meta }) : null,
            el("pre", { text: shown }),
          );
        });
      }).catch(function (err) { result.replaceChildren(el("p", { text: "Request failed: " + err })); });
    });
    var responses = Object.keys(op.responses || {}).map(function (status) {
      var r = op.responses[status];
      var content = r.content || {};
      return el("details", {}, [
        el("summary", {}, [el("code", { text: status }), " " + (r.description || ""), Object.keys(content).length ? el("span", { class: "muted", text: "  " + Object.keys(content).join(", ") }) : null]),
        Object.keys(content).length ? el("pre", { text: JSON.stringify(content, null, 2) }) : null,
      ]);
    });
    var roles = op["x-roles"] ? "token: " + op["x-roles"].join(" or ") : "public";
    return el("details", { class: "op", id: op.operationId }, [
      el("summary", {}, [el("span", { class: "method " + method, text: method }), el("span", { class: "path", text: path }), el("span", { class: "summary", text: op.summary || "" }), el("span", { class: "lock", text: roles })]),
      el("div", { class: "body" }, [
        op.description ? el("p", { text: op.description }) : null,
        rows.length ? el("table", {}, [el("thead", {}, [el("tr", {}, ["name", "in", "type", "meaning", "value"].map(function (h) { return el("th", { text: h }); }))]), el("tbody", {}, rows)]) : null,
        body ? el("div", {}, [el("p", { class: "muted", text: "Body (" + body.dataset.media + ")" }), body, el("pre", { text: JSON.stringify(op.requestBody.content[body.dataset.media].schema, null, 2) })]) : null,
        el("p", {}, [send]),
        result,
        el("h4", { text: "Responses" }),
      ].concat(responses)),
    ]);
  }

  fetch("openapi.json").then(function (r) { return r.json(); }).then(function (doc) {
    document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
    document.title = doc.info.title + " API reference";
    if (doc.info.description) main.appendChild(el("p", { class: "muted", text: doc.info.description }));
    var byTag = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags && op.tags[0]) || "other";
        (byTag[tag] = byTag[tag] || []).push(operation(path, method, op));
      });
    });
    Object.keys(byTag).forEach(function (tag) {
      main.appendChild(el("h2", { text: tag }));
      byTag[tag].forEach(function (node) { main.appendChild(node); });
    });
    // A link to #operationId opens that operation.
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) { target.open = true; target.scrollIntoView(); }
  }).catch(function (err) { main.appendChild(el("p", { text: "Could not load openapi.json: " + err })); });
})();
`;

/** The page, with the nonce its inline style and script need under its Content-Security-Policy. */
export function docsPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
<h1 id="title">API reference</h1>
<a href="openapi.json">openapi.json</a>
<label class="token">Token <input id="token" type="password" autocomplete="off" placeholder="portal or admin token"></label>
</header>
<main></main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}

export function docsContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

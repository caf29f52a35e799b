// Files between the kernel and the browser, never through the server's disk.
// Download: a button; its click asks the kernel for the file, whose bytes come back as
// message buffers (in chunks) and become a Blob saved with an <a download> and an object
// URL made here. Upload: a button that opens the browser's file chooser; the chosen
// file's bytes go to the kernel as message buffers (in chunks). Neither keeps the bytes
// in the widget's state, which a notebook saves.

const CHUNK = 4 * 1024 * 1024;

function button(model, onClick) {
  const node = document.createElement("button");
  node.type = "button";
  node.className = "jupyter-widgets jupyter-button widget-button kyc-transfer-button";
  node.style.width = "auto"; // the words are never cut off ("Download the templ…")
  node.style.maxWidth = "100%";
  node.addEventListener("click", onClick);
  const draw = () => {
    node.textContent = model.get("busy") ? model.get("busy_label") : model.get("label");
    // Busy is said, not disabled: a disabled button would drop keyboard focus (WCAG 2.4.3).
    node.disabled = Boolean(model.get("disabled"));
    node.setAttribute("aria-busy", model.get("busy") ? "true" : "false");
    node.title = model.get("hint") || "";
    node.classList.toggle("mod-primary", model.get("button_style") === "primary");
  };
  draw();
  for (const name of ["label", "busy", "busy_label", "disabled", "hint", "button_style"]) {
    model.on("change:" + name, draw);
  }
  return node;
}

function statusLine(model) {
  const node = document.createElement("span");
  node.className = "kyc-transfer-status";
  const draw = () => {
    const status = model.get("status") || "";
    const alert = model.get("status_is_error");
    node.textContent = status;
    node.setAttribute("role", alert ? "alert" : "status");
    node.style.color = alert ? "#b00020" : "";
    node.style.display = status ? "" : "none";
  };
  draw();
  model.on("change:status", draw);
  model.on("change:status_is_error", draw);
  return node;
}

function save(name, mime, parts, el) {
  const blob = new Blob(parts, { type: mime || "application/octet-stream" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.style.display = "none";
  el.appendChild(link);
  link.click();
  setTimeout(() => {
    URL.revokeObjectURL(url);
    link.remove();
  }, 60000);
}

function renderDownload(model, el) {
  let incoming = null;
  el.appendChild(button(model, () => {
    if (!model.get("busy")) model.send({ event: "click" });
  }));
  el.appendChild(statusLine(model));
  const onMessage = (message, buffers) => {
    if (!message || typeof message !== "object") return;
    if (message.event === "file") {
      incoming = { name: message.name, mime: message.mime, count: message.chunks, parts: [] };
    } else if (message.event === "chunk" && incoming) {
      for (const buffer of buffers || []) {
        incoming.parts.push(buffer.buffer ? buffer : new Uint8Array(buffer));
      }
    }
    if (incoming && incoming.parts.length >= incoming.count) {
      const done = incoming;
      incoming = null;
      save(done.name, done.mime, done.parts, el);
    }
  };
  model.on("msg:custom", onMessage);
  return () => model.off("msg:custom", onMessage);
}

function renderUpload(model, el) {
  const input = document.createElement("input");
  input.type = "file";
  input.hidden = true;
  input.tabIndex = -1;
  input.className = "kyc-transfer-input";
  const syncAccept = () => {
    input.accept = model.get("accept") || "";
  };
  syncAccept();
  model.on("change:accept", syncAccept);
  el.appendChild(button(model, () => input.click()));
  el.appendChild(input);
  el.appendChild(statusLine(model));
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    input.value = ""; // the same file can be chosen again (a sheet uploaded twice)
    if (!file) return;
    const limit = model.get("max_bytes");
    if (limit && file.size > limit) {
      model.send({ event: "too-large", name: file.name, size: file.size });
      return;
    }
    const data = new Uint8Array(await file.arrayBuffer());
    const chunks = Math.max(1, Math.ceil(data.byteLength / CHUNK));
    model.send({ event: "start", name: file.name, size: data.byteLength, chunks });
    for (let index = 0; index < chunks; index += 1) {
      const part = data.slice(index * CHUNK, (index + 1) * CHUNK);
      model.send({ event: "chunk", index }, undefined, [part.buffer]);
    }
  });
}

function render({ model, el }) {
  el.classList.add("kyc-transfer", "kyc-transfer-" + model.get("kind"));
  el.style.display = "inline-flex";
  el.style.flexWrap = "wrap";
  el.style.alignItems = "center";
  el.style.gap = "0.5em";
  el.style.maxWidth = "100%";
  return model.get("kind") === "upload" ? renderUpload(model, el) : renderDownload(model, el);
}

export default { render };

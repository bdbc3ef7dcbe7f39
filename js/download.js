// File download: Python builds a file (a CSV table, an HTML record) and sends it in ONE custom
// message when the reader asks for it; this module turns the message into a Blob and clicks a
// temporary link with a `download` name, so the browser saves the file. Nothing is kept in the
// widget's state: the page never carries the files, only the one that was asked for, once.
//
// Message (Python: nbexplain.widgets._export.FileDownload.save):
//   {type: "download", filename: string, mime: string, content: string}
//
// The handler is registered once per model (anywidget's `initialize`), so a download happens
// once per front-end however many times the widget is displayed.

/** A file name without path separators or control characters (the browser's own rules apply too). */
export function safeFilename(name) {
  const cleaned = String(name ?? "")
    .replace(/[\\/:*?"<>|]/g, "-")
    .split("")
    .filter((character) => character.charCodeAt(0) >= 32)
    .join("")
    .trim();
  return cleaned || "download";
}

/** Save `content` as `filename` in `doc`'s browser: a Blob behind a clicked, removed link. */
export function saveFile(filename, content, mime = "text/plain", doc = globalThis.document) {
  const blob = new Blob([content], { type: mime || "application/octet-stream" });
  const url = URL.createObjectURL(blob);
  const link = doc.createElement("a");
  link.href = url;
  link.download = safeFilename(filename);
  link.rel = "noopener";
  link.style.display = "none";
  doc.body.appendChild(link);
  link.click();
  link.remove();
  // the click has started the download; the URL can go once the browser has read it
  setTimeout(() => URL.revokeObjectURL(url), 30000);
  return link.download;
}

/** The custom-message handler: acts on download messages only. */
export function onMessage(message, doc = globalThis.document) {
  if (!message || message.type !== "download") {
    return null;
  }
  return saveFile(message.filename, message.content ?? "", message.mime, doc);
}

// Only the default export holds the lifecycle: anywidget reads a module with a named `render`
// export the legacy way and would never call `initialize`.
function initialize({ model }) {
  const handler = (message) => onMessage(message);
  model.on("msg:custom", handler);
  return () => model.off("msg:custom", handler);
}

function render({ el }) {
  // nothing to see: the buttons that ask for files are ipywidgets beside it
  el.classList.add("nbexplain-file-download");
  el.style.display = "none";
}

export default { initialize, render };

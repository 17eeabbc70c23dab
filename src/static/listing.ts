/**
 * HTML listings of directories without an index (`--dir-listing`): directories first, then files,
 * with size and modification time, sortable by name, size or time.
 *
 * @module
 */

import { join } from "path";
import type { ResponseWriter } from "../http/writer.ts";
import { STATUS } from "../http/status.ts";

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** One row of a directory listing. */
interface ListingEntry {
  name: string;
  dir: boolean;
  size: number;
  mtime: number;
}

const LISTING_STYLE =
  `body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{font-size:1.3rem;font-weight:600;word-break:break-all}table{border-collapse:collapse;width:100%}
th,td{padding:.35rem .6rem;text-align:left;border-bottom:1px solid #e5e7eb}th a{color:inherit}
td.n{font-variant-numeric:tabular-nums;text-align:right;white-space:nowrap}th.n{text-align:right}
tr:hover td{background:#f6f7f9}a{color:#1d4ed8;text-decoration:none}a:hover{text-decoration:underline}
footer{color:#888;font-size:.85rem;margin-top:1rem}`;

/** `1.5 MiB`, `12 KiB`, `980 B`. */
function humanSize(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/**
 * An HTML listing of `dir`: directories first, then files, with size and modification time,
 * sortable by name, size or time (`?sort=size&order=desc`, as Caddy's browse page does).
 */
export async function listing(
  res: ResponseWriter,
  dir: string,
  rel: string,
  dotfiles: boolean,
  query: string,
  accept?: string,
): Promise<void> {
  const params = new URLSearchParams(query);
  const sort = ["name", "size", "modified"].includes(params.get("sort") ?? "") ? params.get("sort")! : "name";
  const desc = params.get("order") === "desc";
  const entries: ListingEntry[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!dotfiles && e.name.startsWith(".")) continue;
    let size = 0;
    let mtime = 0;
    try {
      const st = await Deno.lstat(join(dir, e.name));
      size = st.size;
      mtime = st.mtime?.getTime() ?? 0;
    } catch {
      // gone meanwhile: listed without details
    }
    entries.push({ name: e.name, dir: e.isDirectory, size, mtime });
  }
  const by = (a: ListingEntry, b: ListingEntry) =>
    sort === "size"
      ? a.size - b.size
      : sort === "modified"
      ? a.mtime - b.mtime
      : a.name.localeCompare(b.name);
  entries.sort((a, b) => (a.dir !== b.dir ? (a.dir ? -1 : 1) : (desc ? -by(a, b) : by(a, b))));
  if (wantsJson(accept)) {
    // Caddy's browse JSON: what a script needs to walk the tree.
    const json = entries.map((e) => ({
      name: e.name,
      size: e.size,
      mtime: new Date(e.mtime).toISOString(),
      is_dir: e.dir,
    }));
    return await res.send(
      STATUS.OK,
      [["Content-Type", "application/json"], ["Vary", "Accept"]],
      JSON.stringify(json),
    );
  }
  const title = escapeHtml("/" + rel);
  const head = (key: string, label: string, numeric = false) => {
    const next = sort === key && !desc ? "desc" : "asc";
    const mark = sort === key ? (desc ? " ↓" : " ↑") : "";
    return `<th${
      numeric ? ' class="n"' : ""
    }><a href="?sort=${key}&amp;order=${next}">${label}${mark}</a></th>`;
  };
  const rows = entries.map((e) => {
    const href = encodeURIComponent(e.name) + (e.dir ? "/" : "");
    const when = e.mtime > 0 ? new Date(e.mtime).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "";
    return `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(e.name)}${e.dir ? "/" : ""}</a></td>` +
      `<td class="n">${e.dir ? "—" : humanSize(e.size)}</td><td class="n">${when}</td></tr>`;
  });
  if (rel !== "") {
    rows.unshift(`<tr><td><a href="../">../</a></td><td class="n"></td><td class="n"></td></tr>`);
  }
  const files = entries.filter((e) => !e.dir).length;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Index of ${title}</title><style>${LISTING_STYLE}</style></head>
<body><h1>Index of ${title}</h1>
<table><thead><tr>${head("name", "Name")}${head("size", "Size", true)}${
    head("modified", "Modified", true)
  }</tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>
<footer>${entries.length - files} directories, ${files} files · ferry</footer></body></html>
`;
  await res.send(STATUS.OK, [["Content-Type", "text/html; charset=utf-8"], [
    "X-Content-Type-Options",
    "nosniff",
  ], ["Vary", "Accept"]], html);
}

/** Whether an Accept header asks for JSON before HTML (`application/json` named, HTML not first). */
function wantsJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const json = accept.indexOf("application/json");
  if (json < 0) return false;
  const html = accept.indexOf("text/html");
  return html < 0 || json < html;
}

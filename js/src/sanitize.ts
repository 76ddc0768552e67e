// Strings from Python that reach the page. Every one is text (textContent), except a basemap's
// attribution: tile providers require a credit with links ("&copy; <a href=...>OpenStreetMap
// </a>"), and Leaflet puts attributions into the page as HTML. So an attribution goes through
// `attributionHtml`, an allow-list rebuilt from scratch: links with http(s) hrefs, bold and
// italic, character references; every other tag is dropped (its text kept, as text), and no
// attribute survives but a link's checked href. Nothing the input says is copied as markup:
// the output is written by this module, so it holds no markup the allow-list does not name.
// No DOM is needed (it runs in node for the unit tests, and before the map exists).

/** Tags kept (without attributes, except a link's href). */
const KEPT = new Set(["a", "b", "strong", "i", "em"]);
/** Tags whose content is code, not text: dropped with it. */
const DROPPED_WITH_CONTENT = new Set(["script", "style", "template", "noscript", "iframe"]);

const escapeText = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

// A character reference is safe as it is in text (it decodes to one character, never markup):
// keep "&copy;" and "&#169;" readable; any other "&" is a literal ampersand.
const REFERENCE = /^&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});/;

function textOf(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "&") {
      const ref = REFERENCE.exec(s.slice(i, i + 40));
      if (ref) {
        out += ref[0];
        i += ref[0].length - 1;
        continue;
      }
    }
    out += escapeText(ch);
  }
  return out;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** An attribute's value as the browser would read it (character references decoded), so the
 * scheme check sees what the browser would follow ("jav&#x61;script:" is "javascript:"). */
function decodeAttribute(s: string): string | null {
  let unknown = false;
  const out = s.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);?/g, (m, ref: string) => {
    if (ref[0] !== "#") {
      const named = NAMED[ref.toLowerCase()];
      if (named === undefined) unknown = true;
      return named ?? m;
    }
    const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : "\ufffd";
  });
  return unknown ? null : out;
}

/** An http(s) URL (absolute, or scheme-relative "//host/..."), else null. Browsers ignore tabs
 * and newlines inside URLs and spaces around them: no such character is allowed at all. */
export function safeHref(value: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u0020\u007f-\u009f\u2028\u2029]/.test(value)) return null;
  return /^(?:https?:)?\/\//i.test(value) ? value : null;
}

function hrefOf(attrs: string): string | null {
  const m = /(?:^|[\s/])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i.exec(attrs);
  if (!m) return null;
  const decoded = decodeAttribute((m[1] ?? m[2] ?? m[3] ?? "").trim());
  return decoded === null ? null : safeHref(decoded);
}

const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|<!--[\s\S]*?(?:-->|$)/g;

/** A basemap attribution as HTML that holds only links to http(s) URLs, <b>, <strong>, <i>,
 * <em> and text. Links open in a new tab without access to this page (noopener). */
export function attributionHtml(input: string): string {
  let out = "";
  const open: string[] = [];
  let skipUntil: string | null = null; // inside <script> ... </script>: dropped
  let last = 0;
  for (const m of input.matchAll(TAG)) {
    const before = input.slice(last, m.index);
    last = m.index + m[0].length;
    if (skipUntil === null) out += textOf(before);
    if (m[2] === undefined) continue; // a comment
    const closing = m[1] === "/";
    const name = m[2].toLowerCase();
    if (skipUntil !== null) {
      if (closing && name === skipUntil) skipUntil = null;
      continue;
    }
    if (DROPPED_WITH_CONTENT.has(name) && !closing) {
      skipUntil = name;
      continue;
    }
    if (!KEPT.has(name)) continue;
    if (closing) {
      const at = open.lastIndexOf(name);
      if (at < 0) continue;
      // Close what was opened inside it too: the output stays well nested.
      while (open.length > at) out += `</${open.pop()}>`;
      continue;
    }
    if (name === "a") {
      const href = hrefOf(m[3]);
      out += href === null
        ? "<a>"
        : `<a href="${escapeText(href)}" target="_blank" rel="noopener noreferrer">`;
    } else {
      out += `<${name}>`;
    }
    open.push(name);
  }
  if (skipUntil === null) out += textOf(input.slice(last));
  while (open.length) out += `</${open.pop()}>`;
  return out;
}

const TILE_PLACEHOLDERS = new Set(["{z}", "{x}", "{y}", "{s}", "{r}", "{-y}"]);

/** A tile URL template the page may load: http(s), scheme-relative or relative; else null
 * ("javascript:", "data:" and every other scheme are refused, as Python refuses them). */
export function safeTileUrl(value: unknown): string | null {
  if (typeof value !== "string" || value === "") return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u0020\u007f-\u009f\u2028\u2029\\]/.test(value)) return null;
  // Leaflet throws on a placeholder it has no value for, on every tile of every pan.
  const names = value.match(/\{[^}]*\}/g) ?? [];
  if (!names.every((p) => TILE_PLACEHOLDERS.has(p))) return null;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(value);
  return scheme === null || /^https?$/i.test(scheme[1]) ? value : null;
}

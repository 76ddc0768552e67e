import { describe, expect, it } from "vitest";
import { attributionHtml, safeHref, safeTileUrl } from "../src/sanitize";

describe("attributionHtml", () => {
  it("keeps the credits tile providers write", () => {
    expect(attributionHtml("&copy; OpenStreetMap contributors")).toBe(
      "&copy; OpenStreetMap contributors",
    );
    expect(
      attributionHtml('&copy; <a href="https://www.openstreetmap.org/copyright">OSM</a> &amp; <b>x</b> <i>y</i>'),
    ).toBe(
      '&copy; <a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener noreferrer">OSM</a> &amp; <b>x</b> <i>y</i>',
    );
  });

  const payloads = [
    "<img src=x onerror=window.__pwned=1>",
    '"><svg onload=window.__pwned=1>',
    "<script>window.__pwned=1</script>",
    '<a href="javascript:window.__pwned=1">x</a>',
    '<a href="jav&#x61;script:window.__pwned=1">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    "<a href=java\tscript:alert(1)>x</a>",
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="https://ok.org" onclick="window.__pwned=1" style="x">x</a>',
    "<b onmouseover=alert(1)>bold</b>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<!--><img src=x onerror=alert(1)>-->",
    "<<img src=x onerror=alert(1)>img src=x onerror=alert(1)>",
    "<svg><a xlink:href=javascript:alert(1)><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="https://x.org"><img src=x onerror=alert(1)></a>',
    "<img src=x onerror=alert(1)",
  ];

  it.each(payloads)("leaves nothing that runs in %s", (payload) => {
    const out = attributionHtml(payload);
    // Every tag left is one of ours, with only our attributes.
    const tags = out.match(/<[^>]*>/g) ?? [];
    for (const tag of tags) {
      expect(tag).toMatch(
        /^<(\/?(a|b|strong|i|em)|a href="https?:\/\/[^"<>\s]*" target="_blank" rel="noopener noreferrer")>$/,
      );
    }
    expect(out).not.toMatch(/<(img|svg|script|iframe|style|math)/i);
    expect(out).not.toMatch(/href="(?!https?:)/);
  });

  it("keeps text as text", () => {
    expect(attributionHtml("a < b > c & d \"e\"")).toBe("a &lt; b &gt; c &amp; d &quot;e&quot;");
    expect(attributionHtml("<script>alert(1)</script>after")).toBe("after");
    expect(attributionHtml("<u>under</u>")).toBe("under");
  });

  it("closes what it opened", () => {
    expect(attributionHtml("<b><i>x</b> y")).toBe("<b><i>x</i></b> y");
    expect(attributionHtml("<em>open")).toBe("<em>open</em>");
    expect(attributionHtml("</b>stray")).toBe("stray");
  });
});

describe("URLs", () => {
  it("takes http(s) links only", () => {
    expect(safeHref("https://a.org/x?y=1&z=2")).toBe("https://a.org/x?y=1&z=2");
    expect(safeHref("//a.org/")).toBe("//a.org/");
    for (const bad of ["javascript:alert(1)", "data:text/html,x", "/relative", "java\tscript:x", " https://a"]) {
      expect(safeHref(bad)).toBeNull();
    }
  });

  it("takes http(s), scheme-relative and relative tile templates", () => {
    for (const ok of [
      "https://{s}.tile.org/{z}/{x}/{y}{r}.png",
      "http://t.org/{z}/{x}/{-y}.png",
      "//t.org/{z}/{x}/{y}.png",
      "tiles/{z}/{x}/{y}.png",
    ]) {
      expect(safeTileUrl(ok)).toBe(ok);
    }
    for (const bad of [
      "javascript:alert(1)//{z}/{x}/{y}",
      "JAVASCRIPT:x",
      "data:image/png;base64,{z}{x}{y}",
      " javascript:x",
      "java\nscript:x",
      "https://t.org/{z}/{x}/{y}{evil}",
      "https:\\\\evil.org/{z}",
      42,
      null,
      "",
    ]) {
      expect(safeTileUrl(bad)).toBeNull();
    }
  });
});

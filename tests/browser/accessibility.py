"""Check pages in a real browser: axe-core (WCAG 2.1 A/AA and best practice) and reflow.

axe-core comes from npm (``package.json``, installed by ``make assets``) and is injected
into each page. A page is checked at a desktop and at a phone size; at the phone size
its content must also fit the viewport (WCAG 1.4.10: no sideways scrolling at 320 px).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SIZES = {"1280x800": {"width": 1280, "height": 800}, "320x640": {"width": 320, "height": 640}}
PHONE = "320x640"

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')), count: v.nodes.length}));
}"""

# The widest element that sticks out past the right edge, to say what overflows.
MEASURE_REFLOW = """() => {
  const doc = document.documentElement;
  if (doc.scrollWidth <= doc.clientWidth) return null;
  let widest = null, right = doc.clientWidth;
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > right + 1 && el.offsetParent !== null) {
      right = r.right;
      widest = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (el.className && typeof el.className === 'string'
                ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    }
  }
  return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, widest: widest};
}"""


@dataclass(frozen=True)
class Finding:
    """One failed check: an axe rule or reflow, on one page at one size."""

    where: str  # who saw which page, e.g. "employee GET /courses/3"
    size: str
    rule: str
    impact: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where} @{self.size}: {self.rule} ({self.impact}) {self.detail}"


def check_page(page, where: str) -> list[Finding]:
    """axe at every size, and reflow at the phone size, for the page as it is now."""
    findings = []
    # Folded content (a row's menu, a form in a disclosure) is checked unfolded too.
    page.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        if not page.evaluate("typeof axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        for v in page.evaluate(RUN_AXE, AXE_TAGS):
            findings.append(Finding(where, size, v["id"], v["impact"] or "",
                                    f"{v['help']}: {v['count']}× e.g. {v['targets']}"))
        if size == PHONE:
            overflow = page.evaluate(MEASURE_REFLOW)
            if overflow:
                findings.append(Finding(where, size, "reflow", "serious",
                                        f"content {overflow['scrollWidth']} px wide in "
                                        f"{overflow['clientWidth']} px; widest: "
                                        f"{overflow['widest']}"))
    page.set_viewport_size(SIZES["1280x800"])
    return findings


def report(findings: list[Finding], pages_checked: int) -> str:
    # pages_checked counts every page state checked: pages, and forms in their error state.
    """A readable failure message: per rule, how many pages, then every finding."""
    by_rule: dict[str, set[str]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, set()).add(f"{f.where}@{f.size}")
    lines = [f"{len(findings)} findings on {pages_checked} pages × {len(SIZES)} sizes:"]
    lines += [f"  {rule}: {len(where)} page-sizes" for rule, where in sorted(by_rule.items())]
    lines += [str(f) for f in findings]
    return "\n".join(lines)

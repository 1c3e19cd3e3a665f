"""The payloads, and the checks that find them where they became markup: in a page (parsed,
not searched for one spelling), in feeds and exports, and in e-mails."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import re
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

from icalendar import Calendar
from openpyxl import load_workbook

from frikomport.notifications.models import OutboxMessage
from frikomport.notifications.transports import build_mime

PAYLOAD = ("<img src=x onerror=alert('XSS1')><script>alert('XSS2')</script>"
           "\"'><svg onload=alert('XSS3')>")
# Phone numbers hold 40 characters: a shorter payload that still breaks out of attributes.
SHORT_PAYLOAD = "\"'><svg onload=alert('XSS3')>"
URL_PAYLOAD = "https://example.org/\"'><svg onload=alert('XSS3')>"
# How the payload looks when it is (correctly) escaped in HTML: by Jinja, and its opening
# tag whoever escaped it (Markdown, search highlighting, a truncated echo).
ESCAPED = "&lt;img src=x onerror=alert(&#39;XSS1&#39;)&gt;&lt;script&gt;"
ESCAPED_TAG = "&lt;img src=x onerror"
ESCAPED_SHORT = "&#34;&#39;&gt;&lt;svg onload"
# Sent, unencoded, in the query string of every request of the walk (no spaces: a request
# line has none). Spelt differently from the stored payload, so that its escaped echo does
# not count as the stored text being shown.
QUERY_PAYLOAD = ("<svg/onload=alert('QXSS1')><script>alert('QXSS2')</script>"
                 "\"'><svg/onload=alert('QXSS3')>")
RAW_SPELLINGS = ("<img src=x", "<script>alert(", "<svg onload", "<svg/onload")
MARKDOWN = "\n\n".join([
    "## Innhold",
    "**fet** og *kursiv* og [trygg lenke](https://example.org/kurs)",
    "[lenke1](javascript:alert('XSS4'))",
    "[lenke2](JaVaScRiPt:alert('XSS4'))",
    "[lenke3](data:text/html;base64,PHNjcmlwdD5hbGVydCgnWFNTNCcpPC9zY3JpcHQ+)",
    "[lenke4](vbscript:msgbox('XSS4'))",
    "![bilde](javascript:alert('XSS4'))",
    "<script>alert('XSS5')</script>",
    "<a href=\"javascript:alert('XSS6')\" onclick=\"alert('XSS6')\">rå lenke</a>",
    "<img src=x onerror=alert('XSS7')>",
    "[lenke5](https://example.org/\"onmouseover=\"alert('XSS8'))",
    "<details open ontoggle=alert('XSS9')>x</details>",
    "[lenke6]: javascript:alert('XSS4')\n\n[referanse][lenke6]",
    PAYLOAD,
])
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


# Checking HTML ----------------------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "background",
                  "data", "xlink:href", "cite", "longdesc", "manifest", "ping"}
SAFE_SCHEMES = {"http", "https", "mailto"}
# Elements the portal's own templates never use: any of them came from stored text.
FOREIGN_ELEMENTS = {"svg", "math", "iframe", "frame", "frameset", "object", "embed", "applet",
                    "base", "style", "template", "noscript", "xmp", "plaintext", "portal"}
ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_.:-]*")


class MarkupCheck(HTMLParser):
    """Lists every element, attribute or URL in a page that no template of the portal
    writes: what is left when stored or echoed text became markup."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        shown = self.get_starttag_text()[:120]
        if tag in FOREIGN_ELEMENTS:
            self.problems.append(f"<{tag}> element: {shown}")
        if tag == "script" and not _own_path(values.get("src"), "/static/"):
            self.problems.append(f"inline or foreign script: {shown}")
        if tag == "img" and not _own_path(values.get("src"), "/"):
            self.problems.append(f"image from elsewhere: {shown}")
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            self.problems.append(f"meta refresh: {shown}")
        for name, value in attrs:
            if name.startswith("on") or not ATTRIBUTE_NAME.fullmatch(name):
                self.problems.append(f"attribute {name!r}: {shown}")
            elif name in URL_ATTRIBUTES and value and not _safe_url(value):
                self.problems.append(f"{name}={value!r}: {shown}")
            elif name == "style" and value and re.search(r"expression|url\(|javascript",
                                                         value, re.I):
                self.problems.append(f"style={value!r}: {shown}")

    handle_startendtag = handle_starttag


def _own_path(value: str | None, prefix: str) -> bool:
    return bool(value) and value.startswith(prefix) and not value.startswith(("//", "/\\"))


def _safe_url(value: str) -> bool:
    compact = re.sub(r"[\x00-\x20]", "", value).lower()
    scheme = re.match(r"([a-z][a-z0-9+.-]*):", compact)
    return scheme is None or scheme.group(1) in SAFE_SCHEMES


def markup_problems(html: str) -> list[str]:
    checker = MarkupCheck()
    checker.feed(html)
    checker.close()
    lowered = html.lower()
    return checker.problems + [f"raw {raw!r} in the page" for raw in RAW_SPELLINGS
                               if raw.lower() in lowered]


def shows_payload_escaped(html: str) -> bool:
    return ESCAPED_TAG in html or ESCAPED_SHORT in html


# Checking feeds, exports and e-mails -------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
ATOM_ELEMENTS = {"feed", "title", "id", "link", "updated", "generator", "entry", "published",
                 "author", "name", "category", "summary", "content"}


def document_problems(content_type: str, body: bytes) -> tuple[list[str], bool]:
    """(problems, whether the payload is in it as text) for a non-HTML answer."""
    if "calendar" in content_type:
        return _calendar(body)
    if "spreadsheetml" in content_type:
        workbook = load_workbook(io.BytesIO(body))
        cells = [str(cell.value) for sheet in workbook for row in sheet.iter_rows()
                 for cell in row if cell.value is not None]
        return [], any(PAYLOAD in cell for cell in cells)
    if "svg" in content_type:
        return _svg(body)
    if "atom" in content_type or "xml" in content_type:
        return _atom(body)
    if "csv" in content_type:
        text = body.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
        problems = ["control character in the CSV"] if CONTROL.search(
            text.replace("\r\n", "").replace("\n", "")) else []
        return problems, any(PAYLOAD in cell for row in rows for cell in row)
    if "json" in content_type:
        data = json.loads(body)
        return [], PAYLOAD in json.dumps(data, ensure_ascii=False)
    return [], False


def _calendar(body: bytes) -> tuple[list[str], bool]:
    problems = []
    if re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", body):
        problems.append("control character in the calendar")
    calendar = Calendar.from_ical(body)
    texts = [str(component.get(name, "")) for component in calendar.walk("VEVENT")
             for name in ("summary", "description", "location")]
    return problems, any(PAYLOAD in text or SHORT_PAYLOAD in text for text in texts)


ACTIVE_SVG = {"script", "foreignObject", "iframe", "object", "embed", "handler"}


def _svg(body: bytes) -> tuple[list[str], bool]:
    """A chart: text in text nodes only, nothing that runs or embeds a document."""
    root = ElementTree.fromstring(body)
    problems = []
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name in ACTIVE_SVG:
            problems.append(f"<{name}> in the SVG")
        problems += [f"{attribute} on <{name}> in the SVG" for attribute, value in
                     element.attrib.items() if attribute.lower().startswith("on")
                     or value.strip().lower().startswith("javascript:")]
    return problems, any(PAYLOAD in (element.text or "") for element in root.iter())


def _atom(body: bytes) -> tuple[list[str], bool]:
    problems = [f"raw {raw!r} in the feed" for raw in RAW_SPELLINGS
                if raw.encode() in body]
    root = ElementTree.fromstring(body)
    found = False
    for element in root.iter():
        name = element.tag.removeprefix(ATOM)
        if not element.tag.startswith(ATOM) or name not in ATOM_ELEMENTS:
            problems.append(f"element {element.tag} in the feed")
        texts = [element.text or "", *element.attrib.values()]
        found = found or any(PAYLOAD in text for text in texts)
        if name == "content" and element.get("type") == "html":
            # A feed reader renders this as HTML: it must be as harmless as a page.
            problems += [f"feed content: {p}" for p in markup_problems(element.text or "")]
    return problems, found


def email_problems(message: OutboxMessage, sender: str) -> list[str]:
    """An e-mail is plain text: one-line subject, no header injection, no control
    characters (a calendar attachment must stay well-formed too)."""
    problems = []
    if "\n" in message.subject or "\r" in message.subject or CONTROL.search(message.subject):
        problems.append(f"subject is not one plain line: {message.subject!r}")
    if CONTROL.search(message.body_text.replace("\n", "").replace("\t", "")):
        problems.append("control character in the body")
    mime = build_mime(message, sender)
    parsed = email.message_from_bytes(bytes(mime), policy=email.policy.default)
    if parsed["Subject"] != message.subject:
        problems.append(f"subject header changed in transit: {parsed['Subject']!r}")
    if parsed["Bcc"] is not None or parsed["Cc"] is not None:
        problems.append("a header was injected")
    for part in parsed.walk():
        if part.get_content_type() == "text/html":
            problems.append("an HTML part (would need escaping)")
        elif part.get_content_type() == "text/calendar":
            content = part.get_content()
            problems += _calendar(content.encode() if isinstance(content, str) else content)[0]
    if any(entity in message.subject + message.body_text for entity in ("&lt;", "&#39;")):
        problems.append("HTML-escaped text in a plain-text e-mail (shown as &lt; …)")
    return problems


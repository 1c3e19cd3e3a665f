"""Where text becomes markup or mail: a Markdown description may not smuggle links to
``javascript:`` or raw HTML through (nor could it, were raw HTML let through to the
sanitiser); every e-mail template, and every e-mail the flows queued, is plain text — a
single-line subject, no header injection, no control characters, the payload as plain
text; and no template switches escaping off."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from frikomport.db import utcnow
from frikomport.notifications.services import queue_email, render_email
from frikomport.tenancy.models import Role
from tests.factories import in_days
from tests.helpers import outbox
from tests.xss.checks import ESCAPED_TAG, MARKDOWN, PAYLOAD, email_problems, markup_problems

ROOT = Path(__file__).resolve().parents[2]


# Markdown --------------------------------------------------------------------------------

DESCRIPTION = re.compile(r'<div class="course__description">(.*?)</div>', re.S)


def test_markdown_description_is_sanitised(xss_setup):
    with xss_setup.app.app_context():
        response = xss_setup.clients["anonymous"].get(
            f"/courses/{xss_setup.ids['markdown_course']}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert not markup_problems(html), markup_problems(html)
    description = DESCRIPTION.search(html)[1]
    # Markdown is rendered (not escaped wholesale) …
    assert "<strong>fet</strong>" in description and "<em>kursiv</em>" in description
    assert '<a href="https://example.org/kurs"' in description
    assert "<h2>Innhold</h2>" in description
    # … raw HTML is shown as text, and no link but http(s) survives (the hostile links
    # are there as text, so they were not simply lost).
    assert "&lt;script&gt;alert(" in description and ESCAPED_TAG in description
    assert re.findall(r'<a href="([^":]*):', description) == ["https", "https"]
    for name in ("lenke1", "lenke2", "lenke3", "lenke4", "lenke5", "bilde"):
        assert name in description
    assert not re.search(r"<(?!/?(?:p|br|strong|em|ul|ol|li|a|h2|h3|h4|blockquote|code|pre|"
                         r"table|thead|tbody|tr|th|td|hr)\b)[a-z]", description)


def test_sanitiser_holds_even_if_markdown_passed_html_through(monkeypatch):
    """nh3 is the last line: with raw HTML switched on in the Markdown renderer, the
    description still comes out without script, handlers or dangerous links."""
    from markdown_it import MarkdownIt

    from frikomport.courses import markdown

    monkeypatch.setattr(markdown, "_renderer", MarkdownIt("commonmark", {"html": True}))
    html = str(markdown.render_markdown(MARKDOWN + "\n\n<p><a href='javascript:alert(1)'>x</a>"
                                        "<iframe src=//evil.example></iframe></p>"))
    assert not markup_problems(html), markup_problems(html)
    assert "<strong>fet</strong>" in html and "alert('XSS5')" not in html


# E-mails ---------------------------------------------------------------------------------

def _email_templates() -> list[str]:
    return sorted(p.stem for p in (ROOT / "templates" / "email").glob("*.txt")
                  if not p.name.startswith("_"))


def test_every_email_the_flows_sent_is_plain_text(xss_setup):
    with xss_setup.app.app_context():
        sender = xss_setup.app.config["MAIL_FROM"]
        messages = outbox()
        failures = [(m.to_address, m.subject, p) for m in messages
                    for p in email_problems(m, sender)]
        carrying = [m for m in messages if PAYLOAD in m.subject + m.body_text]
        subjects = [m.subject for m in messages]
    assert not failures, failures
    # The flows sent every kind of e-mail there is, each with the payload in it.
    sent = {name.removeprefix("email/").removesuffix(".txt")
            for name in xss_setup.templates if name.startswith("email/")}
    assert set(_email_templates()) <= sent, set(_email_templates()) - sent
    assert len(carrying) == len(messages) >= len(_email_templates()), subjects
    message = next(m for m in messages if "Viktig" in m.subject)
    assert PAYLOAD in message.subject and message.body_text.count(PAYLOAD) >= 2


@pytest.mark.parametrize("template", _email_templates())
def test_every_email_template_renders_plain_text(xss_setup, template):
    """Each template, rendered directly with objects whose every text is hostile (line
    breaks, control characters and the payload)."""

    def text(value):
        return f"{value}\r\nBcc: evil@example.org\x0b\x1b[31m {PAYLOAD}"

    organisation = SimpleNamespace(name=text("Alfa kommune"), slug="alfa")
    location = SimpleNamespace(name=text("Rådhuset"), room=text("Sal A"),
                               address=text("Gata 1"))
    sessions = [SimpleNamespace(starts_at=start, ends_at=end) for start, end in
                (in_days(3), in_days(4))]
    course = SimpleNamespace(id=1, title=text("Førstehjelp"), organisation=organisation,
                             sessions=sessions, location=location,
                             starts_at=sessions[0].starts_at, seats_left=3)
    registration = SimpleNamespace(name=text("Gunnar Gjest"), course=course)
    user = SimpleNamespace(name=text("Eva Employee"))
    link = "https://kurs.example.org/x/token"

    class Bag:
        def add(self, item):
            self.item = item

    bag = Bag()
    with xss_setup.app.app_context(), xss_setup.app.test_request_context():
        subject, body = render_email(
            template, "nb", user=user, link=link, registration=registration, course=course,
            course_url=link, cancel_url=link, promoted=True, position=2, by_organiser=True,
            reason=text("Syk"), subject=text("Emne"), body=text("Linje 1\n\nLinje 2"),
            organisation=organisation, name=text("Ivar"), inviter=text("Anne Admin"),
            role=Role.ORGANISER, days=7, hours=2, login=link, reset=link,
            **_competence_context(text, user, course, link))
        message = queue_email(bag, "someone@example.org", subject, body)
        message.id, message.created_at = 1, utcnow()
        problems = email_problems(message, xss_setup.app.config["MAIL_FROM"])
    assert not problems, (template, problems, message.subject)
    assert PAYLOAD in message.subject + message.body_text, template


def _competence_context(text, user, course, link) -> dict:
    """What the certificate and competence e-mails are rendered with: hostile texts."""
    competence = SimpleNamespace(name=text("HLR"))
    certificate = SimpleNamespace(name=text("Gunnar Gjest"), course_title=text("Førstehjelp"),
                                  host_name=text("Alfa kommune"), code="ABCD-EFGH-JKMN")
    record = SimpleNamespace(title=text("Kurs hos Røde Kors"), competence=competence,
                             user=user, decided_by=user, decision_note=text("Uleselig"),
                             valid_until=date(2030, 1, 1))
    return {"certificate": certificate, "verify_url": link, "mine_url": link,
            "competence": competence, "valid_until": date(2030, 1, 1),
            "offers": [(course, link)], "leader": user,
            "renewals": [(competence, [(course, link)])],
            "lines": [(user, competence, date(2030, 1, 1))], "competences": [competence],
            "record": record, "approved": False, "url": link}


# The rule behind it ------------------------------------------------------------------------

MARKUP_MADE = {"frikomport/courses/markdown.py", "frikomport/search/whoosh_query.py",
               "frikomport/search/postgres_backend.py",
               "frikomport/templating.py"}  # escaped course text in a lang="nb" element


def test_templates_never_switch_escaping_off():
    """No template marks text safe; Markup is made only where sanitised or escaped markup
    is produced (the Markdown renderer, the search backends' highlighted snippets, the
    ``written`` filter's lang element around escaped text)."""
    switches = re.compile(r"\|\s*safe\b|autoescape\s+false|\bMarkup\s*\(|\|\s*unescape\b")
    found = [f"{path.relative_to(ROOT)}: {match[0]}"
             for path in (ROOT / "templates").rglob("*") if path.is_file()
             for match in [switches.search(path.read_text(encoding="utf-8"))] if match]
    assert not found, found
    makers = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "frikomport").rglob("*.py")
                    if re.search(r"\bMarkup\s*\(", path.read_text(encoding="utf-8")))
    assert set(makers) <= MARKUP_MADE, makers

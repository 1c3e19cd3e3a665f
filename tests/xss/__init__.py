"""Stored and echoed text is never rendered as markup (cross-site scripting).

A world is seeded with an XSS payload in every text the portal stores (``conftest.py``):
through the factories (:func:`tests.seeded_world.seed_world`) and through the portal's own
forms, so that form filters, audit details, flash messages, the outbox and e-mails carry it
too (course form with a hostile Markdown description, vocabulary, organisation settings,
invitations, sign-up, profile, guest registration, organiser message, cancel reason).
The payloads and the checks that find them turned into markup are in ``checks.py``. Then:

* ``test_pages.py``: every GET route of ``app.url_map`` is visited as every role, with a
  payload also in the query string (pages echo it, e.g. the language switch's ``next``).
  An HTML answer may contain no element, attribute or URL that came from the payload —
  checked by parsing it, not by looking for one spelling — and the key pages must show the
  payload *escaped*, so that the test cannot pass because the payload is missing. Feeds and
  exports (iCalendar, Atom, CSV, XLSX, JSON) must be well-formed and carry the payload as
  text; the Atom feed's HTML content is checked like a page;
* ``test_search.py``: the search page, with a query matching the payload-carrying courses,
  with the Whoosh index built, in the database fallback (index missing while it is rebuilt)
  and, on PostgreSQL, with the PostgreSQL backend: snippets must be escaped;
* ``test_text_and_mail.py``: every e-mail template, and every e-mail the flows queued:
  plain text, a single-line subject, no header injection, no control characters, the
  payload as plain text; a Markdown description may not smuggle links to ``javascript:``
  or raw HTML through; no template switches escaping off.
"""

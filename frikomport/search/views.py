"""/search and the typeahead endpoint."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user

from frikomport.courses import queries
from frikomport.extensions import db, limiter
from frikomport.inputs import int_arg
from frikomport.search import service
from frikomport.search.interface import FACETS, SearchQuery, Viewer
from frikomport.tenancy.services import list_organisations

bp = Blueprint("search", __name__, url_prefix="/search")
MAX_QUERY = 200
MAX_PAGE = 500
# The parameters the search page understands; links on the page carry only these.
PARAMETERS = ("q", "sort", "page", "past", *FACETS)


def _query_from(args) -> SearchQuery:
    sort = args.get("sort", "relevance")
    return SearchQuery(
        text=args.get("q", "").strip()[:MAX_QUERY], viewer=Viewer.for_user(current_user),
        organisation=args.get("organisation", ""), category=args.get("category", ""),
        service_area=args.get("service_area", ""), month=args.get("month", ""),
        free_seats=args.get("free_seats") == "1",
        sort=sort if sort in ("relevance", "date") else "relevance",
        page=int_arg(args, "page", 1, 1, MAX_PAGE),
        include_past=args.get("past") == "1",
    )


@bp.get("/")
def results():
    query = _query_from(request.args)
    found, degraded = service.search(current_user, query)
    names = {o.slug: o.name for o in list_organisations(db.session)}
    args = {name: request.args[name] for name in PARAMETERS if request.args.get(name)}
    courses = queries.courses_by_id(db.session, current_user,
                                    [hit.course_id for hit in found.hits])
    return render_template("search/results.html", query=query, results=found,
                           degraded=degraded, organisation_names=names, args=args,
                           courses=courses)


@bp.get("/suggest")
@limiter.limit("120 per minute")
def suggest():
    prefix = request.args.get("q", "")[:MAX_QUERY]
    return jsonify([{"id": s.course_id, "title": s.title,
                     "url": url_for("courses.detail", course_id=s.course_id)}
                    for s in service.suggest(current_user, prefix)])

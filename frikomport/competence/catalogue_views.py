"""The competence catalogue: the region's (site admin) and an organisation's own."""

from flask import Blueprint

bp = Blueprint("competence_catalogue", __name__)

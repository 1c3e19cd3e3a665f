"""The region's demand for competences, and inviting people who need a course."""

from flask import Blueprint

bp = Blueprint("competence_demand", __name__)

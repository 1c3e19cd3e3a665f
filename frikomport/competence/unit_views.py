"""Units, their members and leaders, requirements and the competence matrix."""

from flask import Blueprint

bp = Blueprint("units", __name__)

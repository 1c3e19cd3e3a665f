"""My competence: what a person holds, external certificates and their approval."""

from flask import Blueprint

bp = Blueprint("my_competence", __name__)

"""Course certificates (kursbevis): download and public verification."""

from flask import Blueprint

bp = Blueprint("certificates", __name__)

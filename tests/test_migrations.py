"""The migrations build exactly the schema the models describe, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from frikomport.extensions import db


def test_models_match_migrations(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_every_tenant_owned_table_carries_organisation_id(app):
    tenant_owned = {"membership", "audit_event", "course", "course_session",
                    "course_attachment", "category", "service_area", "location"}
    columns = {t: {c["name"] for c in inspect(db.engine).get_columns(t)} for t in tenant_owned}
    assert all("organisation_id" in names for names in columns.values())

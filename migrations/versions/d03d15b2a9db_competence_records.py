"""competence records: competences, what grants them, what people hold, units (issue 14)

- ``competence``: the region's catalogue (organisation NULL) and organisations' own;
- ``course_competence``: what attending a course grants;
- ``competence_record``: a person's evidence (course attendance or an approved external
  certificate) with its validity, one per registration and competence;
- ``unit``, ``unit_leader`` and ``membership.unit_id``: units, their leaders and members;
- ``competence_requirement``: what a unit (or a job title in it) must hold;
- ``certificate``: course certificates (kursbevis) with their verification code;
- ``competence_reminder`` and ``course_invitation``: what was sent, so nothing is sent
  twice.

Revision ID: d03d15b2a9db
Revises: e8a2c6f1b5d7
Create Date: 2026-11-30 18:11:10.812586

"""
from alembic import op
import sqlalchemy as sa

import frikomport.db


# revision identifiers, used by Alembic.
revision = 'd03d15b2a9db'
down_revision = 'e8a2c6f1b5d7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('competence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('validity_months', sa.Integer(), nullable=True),
    sa.Column('created_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('validity_months IS NULL OR (validity_months >= 1 AND validity_months <= 600)', name=op.f('ck_competence_validity_in_range')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_competence_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competence')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_competence_organisation_id'))
    )
    with op.batch_alter_table('competence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competence_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('uq_competence_region_name', ['name'], unique=True, sqlite_where=sa.text('organisation_id IS NULL'), postgresql_where=sa.text('organisation_id IS NULL'))

    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_unit_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_unit_organisation_id'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('competence_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('competence_id', sa.Integer(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('sent_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['competence_id'], ['competence.id'], name=op.f('fk_competence_reminder_competence_id_competence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_competence_reminder_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competence_reminder')),
    sa.UniqueConstraint('user_id', 'competence_id', 'valid_until', 'days', name=op.f('uq_competence_reminder_user_id'))
    )
    with op.batch_alter_table('competence_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competence_reminder_competence_id'), ['competence_id'], unique=False)

    op.create_table('competence_requirement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('competence_id', sa.Integer(), nullable=False),
    sa.Column('job_title', sa.String(length=200), nullable=False),
    sa.Column('created_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['competence_id'], ['competence.id'], name=op.f('fk_competence_requirement_competence_id_competence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_competence_requirement_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_competence_requirement_unit_id_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competence_requirement')),
    sa.UniqueConstraint('unit_id', 'competence_id', 'job_title', name=op.f('uq_competence_requirement_unit_id'))
    )
    with op.batch_alter_table('competence_requirement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competence_requirement_competence_id'), ['competence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_competence_requirement_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('unit_leader',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_unit_leader_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_unit_leader_unit_id_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_unit_leader_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_leader')),
    sa.UniqueConstraint('unit_id', 'user_id', name=op.f('uq_unit_leader_unit_id'))
    )
    with op.batch_alter_table('unit_leader', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_leader_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_leader_user_id'), ['user_id'], unique=False)

    op.create_table('course_competence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('competence_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['competence_id'], ['competence.id'], name=op.f('fk_course_competence_competence_id_competence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_competence_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_course_competence_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_competence')),
    sa.UniqueConstraint('course_id', 'competence_id', name=op.f('uq_course_competence_course_id'))
    )
    with op.batch_alter_table('course_competence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_competence_competence_id'), ['competence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_competence_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('course_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_invitation_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_course_invitation_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user_account.id'], name=op.f('fk_course_invitation_sent_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_course_invitation_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_invitation')),
    sa.UniqueConstraint('course_id', 'user_id', name=op.f('uq_course_invitation_course_id'))
    )
    with op.batch_alter_table('course_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_invitation_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_invitation_user_id'), ['user_id'], unique=False)

    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('course_title', sa.String(length=200), nullable=False),
    sa.Column('host_name', sa.String(length=200), nullable=False),
    sa.Column('instructor', sa.String(length=200), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('teaching_minutes', sa.Integer(), nullable=False),
    sa.Column('competences', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('issued_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', frikomport.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_certificate_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_certificate_registration_id_registration'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_certificate_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('code', name=op.f('uq_certificate_code')),
    sa.UniqueConstraint('registration_id', name=op.f('uq_certificate_registration_id'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_user_id'), ['user_id'], unique=False)

    op.create_table('competence_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('competence_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('course', 'external', name='record_source', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='record_status', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', frikomport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=300), nullable=False),
    sa.Column('created_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['competence_id'], ['competence.id'], name=op.f('fk_competence_record_competence_id_competence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_competence_record_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_competence_record_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_competence_record_registration_id_registration'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_competence_record_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competence_record'))
    )
    with op.batch_alter_table('competence_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competence_record_competence_id'), ['competence_id'], unique=False)
        batch_op.create_index('ix_competence_record_holding', ['user_id', 'competence_id', 'status', 'valid_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_competence_record_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('uq_competence_record_registration', ['registration_id', 'competence_id'], unique=True)

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_membership_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_membership_unit_id_unit'), 'unit', ['unit_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_membership_unit_id_unit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_membership_unit_id'))
        batch_op.drop_column('unit_id')

    with op.batch_alter_table('competence_record', schema=None) as batch_op:
        batch_op.drop_index('uq_competence_record_registration')
        batch_op.drop_index(batch_op.f('ix_competence_record_organisation_id'))
        batch_op.drop_index('ix_competence_record_holding')
        batch_op.drop_index(batch_op.f('ix_competence_record_competence_id'))

    op.drop_table('competence_record')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_user_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_organisation_id'))

    op.drop_table('certificate')
    with op.batch_alter_table('course_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_invitation_user_id'))
        batch_op.drop_index(batch_op.f('ix_course_invitation_organisation_id'))

    op.drop_table('course_invitation')
    with op.batch_alter_table('course_competence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_competence_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_course_competence_competence_id'))

    op.drop_table('course_competence')
    with op.batch_alter_table('unit_leader', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_leader_user_id'))
        batch_op.drop_index(batch_op.f('ix_unit_leader_organisation_id'))

    op.drop_table('unit_leader')
    with op.batch_alter_table('competence_requirement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competence_requirement_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_competence_requirement_competence_id'))

    op.drop_table('competence_requirement')
    with op.batch_alter_table('competence_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competence_reminder_competence_id'))

    op.drop_table('competence_reminder')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_organisation_id'))

    op.drop_table('unit')
    with op.batch_alter_table('competence', schema=None) as batch_op:
        batch_op.drop_index('uq_competence_region_name', sqlite_where=sa.text('organisation_id IS NULL'), postgresql_where=sa.text('organisation_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_competence_organisation_id'))

    op.drop_table('competence')

"""single sign-on per organisation (issue 15)

- ``identity_provider``: an organisation's OpenID Connect client (one per organisation),
  its secret encrypted;
- ``sso_domain``: the e-mail domains it vouches for, each owned by one organisation and
  counted once the site admin has approved it;
- ``external_identity``: a person's ``sub`` at a provider, linked to their account;
- ``sso_attempt``: logins on their way to a provider (state hash, nonce, PKCE verifier);
- ``sso_session``: which provider a login session came from, for logging out there.

Revision ID: f032ac7c486a
Revises: d03d15b2a9db
Create Date: 2026-11-30 21:26:14.467288

"""
from alembic import op
import sqlalchemy as sa

import frikomport.db


# revision identifiers, used by Alembic.
revision = 'f032ac7c486a'
down_revision = 'd03d15b2a9db'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('identity_provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('authorization_origin', sa.String(length=300), server_default='', nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('client_secret_encrypted', sa.Text(), nullable=False),
    sa.Column('scopes', sa.String(length=300), nullable=False),
    sa.Column('email_claim', sa.String(length=64), nullable=False),
    sa.Column('allow_local_passwords', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_identity_provider_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_provider')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_identity_provider_organisation_id'))
    )
    op.create_table('external_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('linked_by', sa.String(length=10), server_default='created', nullable=False),
    sa.Column('created_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', frikomport.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_external_identity_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_provider.id'], name=op.f('fk_external_identity_provider_id_identity_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_external_identity_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_identity')),
    sa.UniqueConstraint('provider_id', 'subject', name='uq_external_identity_subject'),
    sa.UniqueConstraint('provider_id', 'user_id', name='uq_external_identity_user')
    )
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identity_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_external_identity_user_id'), ['user_id'], unique=False)

    op.create_table('sso_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('next_url', sa.String(length=500), nullable=False),
    sa.Column('expires_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_provider.id'], name=op.f('fk_sso_attempt_provider_id_identity_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_attempt')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_sso_attempt_state_hash'))
    )
    with op.batch_alter_table('sso_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_attempt_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_attempt_provider_id'), ['provider_id'], unique=False)

    op.create_table('sso_domain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('approved_at', frikomport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', frikomport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user_account.id'], name=op.f('fk_sso_domain_approved_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_sso_domain_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_provider.id'], name=op.f('fk_sso_domain_provider_id_identity_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_domain')),
    sa.UniqueConstraint('domain', name=op.f('uq_sso_domain_domain'))
    )
    with op.batch_alter_table('sso_domain', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_domain_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_domain_provider_id'), ['provider_id'], unique=False)

    op.create_table('sso_session',
    sa.Column('login_session_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('end_session_endpoint', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['login_session_id'], ['login_session.id'], name=op.f('fk_sso_session_login_session_id_login_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_provider.id'], name=op.f('fk_sso_session_provider_id_identity_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('login_session_id', name=op.f('pk_sso_session'))
    )
    with op.batch_alter_table('sso_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_session_provider_id'), ['provider_id'], unique=False)



def downgrade():
    with op.batch_alter_table('sso_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_session_provider_id'))

    op.drop_table('sso_session')
    with op.batch_alter_table('sso_domain', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_domain_provider_id'))
        batch_op.drop_index(batch_op.f('ix_sso_domain_organisation_id'))

    op.drop_table('sso_domain')
    with op.batch_alter_table('sso_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_attempt_provider_id'))
        batch_op.drop_index(batch_op.f('ix_sso_attempt_expires_at'))

    op.drop_table('sso_attempt')
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_identity_user_id'))
        batch_op.drop_index(batch_op.f('ix_external_identity_organisation_id'))

    op.drop_table('external_identity')
    op.drop_table('identity_provider')

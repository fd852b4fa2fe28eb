from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from idp.models import new_user_handle
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('realm_name', fields.CharField(default='', db_index=True, max_length=64)),
                ('type', fields.CharField(db_index=True, max_length=64)),
                ('outcome', fields.CharField(default='success', max_length=16)),
                ('username', fields.CharField(default='', max_length=255)),
                ('client', fields.CharField(default='', max_length=1024)),
                ('ip_address', fields.CharField(default='', max_length=64)),
                ('error_id', fields.CharField(default='', max_length=16)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_event', 'app': 'idp', 'pk_attr': 'id', 'table_description': 'One admin action or sign-in decision. Holds no secret and no attribute value.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Realm',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('display_name', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'realm', 'app': 'idp', 'pk_attr': 'id', 'table_description': 'A space of users, groups and applications, as in Keycloak.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Group',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('realm', fields.ForeignKeyField('idp.Realm', source_field='realm_id', db_constraint=True, to_field='id', related_name='groups', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=255)),
            ],
            options={'table': 'user_group', 'app': 'idp', 'unique_together': (('realm', 'name'),), 'pk_attr': 'id', 'table_description': 'A named set of users, sent to applications in the ``groups`` attribute or claim.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SigningKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('realm', fields.ForeignKeyField('idp.Realm', source_field='realm_id', db_constraint=True, to_field='id', related_name='signing_keys', on_delete=OnDelete.CASCADE)),
                ('kid', fields.CharField(unique=True, max_length=64)),
                ('algorithm', fields.CharField(default='RS256', max_length=16)),
                ('private_key_encrypted', fields.BinaryField()),
                ('certificate_pem', fields.TextField(unique=False)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'signing_key', 'app': 'idp', 'pk_attr': 'id', 'table_description': "A realm's signing key pair, its private key encrypted with the secret key."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TtlEntry',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=200)),
                ('value', fields.TextField(unique=False)),
                ('expires_at', fields.FloatField(db_index=True)),
            ],
            options={'table': 'ttl_entry', 'app': 'idp', 'pk_attr': 'key', 'table_description': 'A short-lived entry of the database TTL store (see :mod:`idp.ttl`).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('realm', fields.ForeignKeyField('idp.Realm', source_field='realm_id', db_constraint=True, to_field='id', related_name='users', on_delete=OnDelete.CASCADE)),
                ('username', fields.CharField(max_length=255)),
                ('email', fields.CharField(null=True, max_length=320)),
                ('display_name', fields.CharField(default='', max_length=255)),
                ('enabled', fields.BooleanField(default=True)),
                ('user_handle', fields.BinaryField(default=new_user_handle)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('groups', fields.ManyToManyField('idp.Group', unique=True, db_constraint=True, through='user_group_membership', forward_key='group_id', backward_key='user_account_id', related_name='members', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'user_account', 'app': 'idp', 'unique_together': (('realm', 'username'), ('realm', 'email')), 'pk_attr': 'id', 'table_description': 'A person. There is no password: a person proves who they are with a passkey.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EnrolmentToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('idp.User', source_field='user_id', db_constraint=True, to_field='id', related_name='enrolment_tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('purpose', fields.CharField(default='enrolment', max_length=32)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'enrolment_token', 'app': 'idp', 'pk_attr': 'id', 'table_description': 'A single-use, expiring link that lets a person register a passkey.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PasskeyCredential',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('idp.User', source_field='user_id', db_constraint=True, to_field='id', related_name='credentials', on_delete=OnDelete.CASCADE)),
                ('credential_id', fields.BinaryField()),
                ('credential_id_hash', fields.CharField(unique=True, max_length=64)),
                ('public_key', fields.BinaryField()),
                ('sign_count', fields.BigIntField(default=0)),
                ('transports', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('aaguid', fields.CharField(default='', max_length=36)),
                ('name', fields.CharField(default='Passkey', max_length=100)),
                ('backup_eligible', fields.BooleanField(default=False)),
                ('backed_up', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'passkey_credential', 'app': 'idp', 'pk_attr': 'id', 'table_description': 'A WebAuthn public key credential registered to a user.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SsoSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('id_hash', fields.CharField(unique=True, max_length=64)),
                ('realm', fields.ForeignKeyField('idp.Realm', source_field='realm_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('idp.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('auth_time', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('authn_method', fields.CharField(default='passkey', max_length=32)),
                ('clients', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'sso_session', 'app': 'idp', 'pk_attr': 'id', 'table_description': "A person's single sign-on session, shared by every application of a realm."},
            bases=['Model'],
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('idp', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='ServiceProvider',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('realm', fields.ForeignKeyField('idp.Realm', source_field='realm_id', db_constraint=True, to_field='id', related_name='saml_service_providers', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=64)),
                ('entity_id', fields.CharField(max_length=1024)),
                ('acs', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('slo_url', fields.CharField(default='', max_length=1024)),
                ('slo_binding', fields.CharField(default='', max_length=80)),
                ('metadata_xml', fields.TextField(null=True, unique=False)),
                ('authn_requests_signed', fields.BooleanField(default=False)),
                ('signing_certificates', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('nameid_format', fields.CharField(default='unspecified', max_length=16)),
                ('attribute_mapping', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('preset', fields.CharField(default='generic', max_length=16)),
                ('enabled', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'saml_service_provider', 'app': 'saml', 'unique_together': (('realm', 'name'), ('realm', 'entity_id')), 'pk_attr': 'id', 'table_description': 'A SAML 2.0 service provider (Jira, Confluence, any SAML application).'},
            bases=['Model'],
        ),
    ]

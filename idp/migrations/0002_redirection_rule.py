from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('idp', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RedirectionRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('realm', fields.ForeignKeyField('idp.Realm', source_field='realm_id', db_constraint=True, to_field='id', related_name='redirection_rules', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=64)),
                ('enabled', fields.BooleanField(default=True)),
                ('priority', fields.IntField(default=100)),
                ('clients', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('condition_kind', fields.CharField(max_length=32)),
                ('condition_params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('action_kind', fields.CharField(max_length=32)),
                ('action_target', fields.CharField(default='', max_length=2048)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'redirection_rule', 'app': 'idp', 'unique_together': (('realm', 'name'),), 'pk_attr': 'id', 'table_description': 'One ordered rule of a realm deciding where a person signs in.'},
            bases=['Model'],
        ),
    ]

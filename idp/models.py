"""The durable records of the identity core, stored through tortoise-orm.

Short-lived state (login transactions, WebAuthn challenges, replay caches) does not live here
but in :mod:`idp.ttl`. Protocol front ends keep their client registrations in their own model
modules (``protocols.saml.models``) that point at :class:`Realm`.
"""

from __future__ import annotations

import secrets
from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = [
    "AuditEvent",
    "EnrolmentToken",
    "Group",
    "PasskeyCredential",
    "Realm",
    "SigningKey",
    "SsoSession",
    "TtlEntry",
    "User",
]


def new_user_handle() -> bytes:
    """A WebAuthn user handle: 64 random bytes, no personal data.

    WebAuthn Level 3 §14.6.1: https://www.w3.org/TR/webauthn-3/#sctn-user-handle-privacy
    """
    return secrets.token_bytes(64)


class Realm(Model):
    """A space of users, groups and applications, as in Keycloak."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "realm"


class Group(Model):
    """A named set of users, sent to applications in the ``groups`` attribute or claim."""

    id = fields.IntField(primary_key=True)
    realm: fields.ForeignKeyRelation[Realm] = fields.ForeignKeyField(
        "idp.Realm", related_name="groups", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=255)

    class Meta:
        table = "user_group"
        unique_together = (("realm", "name"),)


class User(Model):
    """A person. There is no password: a person proves who they are with a passkey."""

    id = fields.IntField(primary_key=True)
    realm: fields.ForeignKeyRelation[Realm] = fields.ForeignKeyField(
        "idp.Realm", related_name="users", on_delete=fields.CASCADE
    )
    username = fields.CharField(max_length=255)
    email = fields.CharField(max_length=320, null=True)
    display_name = fields.CharField(max_length=255, default="")
    enabled = fields.BooleanField(default=True)
    user_handle = fields.BinaryField(default=new_user_handle)
    created_at = fields.DatetimeField(auto_now_add=True)
    groups: fields.ManyToManyRelation[Group] = fields.ManyToManyField(
        "idp.Group", related_name="members", through="user_group_membership"
    )
    credentials: fields.ReverseRelation[PasskeyCredential]

    class Meta:
        table = "user_account"
        unique_together = (("realm", "username"), ("realm", "email"))


class PasskeyCredential(Model):
    """A WebAuthn public key credential registered to a user.

    Field names follow WebAuthn Level 3 §4 (credential ID, credential public key, signature
    counter, backup eligibility and state).
    """

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "idp.User", related_name="credentials", on_delete=fields.CASCADE
    )
    credential_id = fields.BinaryField()
    credential_id_hash = fields.CharField(max_length=64, unique=True)
    public_key = fields.BinaryField()
    sign_count = fields.BigIntField(default=0)
    transports: fields.JSONField[list[str]] = fields.JSONField(default=list)
    aaguid = fields.CharField(max_length=36, default="")
    name = fields.CharField(max_length=100, default="Passkey")
    backup_eligible = fields.BooleanField(default=False)
    backed_up = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "passkey_credential"


class EnrolmentToken(Model):
    """A single-use, expiring link that lets a person register a passkey.

    Only the SHA-256 of the token is stored; the token itself is shown once, in the link.
    """

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "idp.User", related_name="enrolment_tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharField(max_length=32, default="enrolment")
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "enrolment_token"


class SsoSession(Model):
    """A person's single sign-on session, shared by every application of a realm.

    The browser holds a random session id in a cookie; only its SHA-256 is stored, so a copy
    of the database does not let anyone take over a session.
    """

    id = fields.IntField(primary_key=True)
    id_hash = fields.CharField(max_length=64, unique=True)
    realm: fields.ForeignKeyRelation[Realm] = fields.ForeignKeyField(
        "idp.Realm", related_name="sessions", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "idp.User", related_name="sessions", on_delete=fields.CASCADE
    )
    auth_time = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    authn_method = fields.CharField(max_length=32, default="passkey")
    clients: fields.JSONField[list[str]] = fields.JSONField(default=list)

    class Meta:
        table = "sso_session"


class SigningKey(Model):
    """A realm's signing key pair, its private key encrypted with the secret key."""

    id = fields.IntField(primary_key=True)
    realm: fields.ForeignKeyRelation[Realm] = fields.ForeignKeyField(
        "idp.Realm", related_name="signing_keys", on_delete=fields.CASCADE
    )
    kid = fields.CharField(max_length=64, unique=True)
    algorithm = fields.CharField(max_length=16, default="RS256")
    private_key_encrypted = fields.BinaryField()
    certificate_pem = fields.TextField()
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "signing_key"


class AuditEvent(Model):
    """One admin action or sign-in decision. Holds no secret and no attribute value."""

    id = fields.BigIntField(primary_key=True)
    realm_name = fields.CharField(max_length=64, default="", db_index=True)
    type = fields.CharField(max_length=64, db_index=True)
    outcome = fields.CharField(max_length=16, default="success")
    username = fields.CharField(max_length=255, default="")
    client = fields.CharField(max_length=1024, default="")
    ip_address = fields.CharField(max_length=64, default="")
    error_id = fields.CharField(max_length=16, default="")
    details: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_event"


class TtlEntry(Model):
    """A short-lived entry of the database TTL store (see :mod:`idp.ttl`)."""

    key = fields.CharField(max_length=200, primary_key=True)
    value = fields.TextField()
    expires_at = fields.FloatField(db_index=True)

    class Meta:
        table = "ttl_entry"

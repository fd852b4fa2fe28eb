"""First start: the ``master`` realm and its first administrator, ready to sign in."""

from __future__ import annotations

import logging

from idp.directory import create_realm, create_user
from idp.enrolment import issue_enrolment_link
from idp.models import Realm, User
from idp.settings import Settings

__all__ = ["ensure_first_admin", "ensure_master_realm"]

log = logging.getLogger(__name__)

ADMIN_GROUP = "admins"


async def ensure_master_realm() -> Realm:
    """The ``master`` realm, created on first use so that every command finds it."""
    return await Realm.get_or_none(name="master") or await create_realm(
        "master", display_name="Portcullis"
    )


async def ensure_first_admin(settings: Settings) -> str | None:
    """Create user ``admin`` in ``master`` when the realm has no users yet.

    Returns the admin's single-use enrolment link when one was issued, ``None`` when the realm
    was already set up. An admin who never used the link gets a new one on the next start.
    """
    realm = await ensure_master_realm()
    admin = await User.get_or_none(realm=realm, username="admin")
    if admin is None:
        if await User.filter(realm=realm).exists():
            return None
        admin = await create_user(realm, username="admin", display_name="Administrator",
                                  groups=[ADMIN_GROUP])
    if await admin.credentials.all().exists():
        return None
    link = await issue_enrolment_link(admin, settings=settings)
    log.info("bootstrap.admin_enrolment_issued", extra={"realm": "master"})
    return str(link)

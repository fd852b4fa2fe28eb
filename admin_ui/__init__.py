"""The admin web UI and the admin REST API under ``/admin/``.

Not built yet: admins manage realms, users, enrolment links and SAML service providers with the
``portcullis`` command for now (see README). The web UI and REST API are planned work.
"""

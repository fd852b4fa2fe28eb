"""The SAML 2.0 identity provider, on pysaml2, Atlassian-compatible by default.

The modules, in the order a sign-in meets them::

    views           the Quart blueprint: /realms/{realm}/protocol/saml[/descriptor|/clients/x]
    inbound         decode, parse and read what arrives: AuthnRequest or LogoutRequest
    bindings        HTTP-Redirect and HTTP-POST: bounds, inflation, RelayState, hardened XML
    authn_request   the AuthnRequest as a frozen value; ACS resolution; checks against the SP
    authn_context   what a passkey sign-in claims, and which requested contexts it meets
    signatures      inbound signatures against the SP's registered certificates
    sso             the Web Browser SSO profile: session reuse, login transaction, completer
    subject         NameID and released attributes of the signed-in person
    response        the signed Response (or a refusal) built by pysaml2
    slo             SP-initiated single logout and the signed LogoutResponse
    context         the per-application caches, and :func:`~protocols.saml.context.refuse`
    idp             each realm's pysaml2 Server, built once and kept
    metadata        the IdP's descriptor, and reading an SP's metadata
    registration    what an SP registration holds and how it is validated
    registry        SP registrations in the database and in memory
    presets         Jira, Confluence, Bitbucket, JSM and generic, from a base URL
    cli             ``portcullis saml add|list|remove|enable|disable``
    crypto          in-process XML signing and verification for pysaml2
    errors          SAML errors carrying their status codes
    models          the ``saml_service_provider`` table

Only :mod:`views` imports Quart.
"""

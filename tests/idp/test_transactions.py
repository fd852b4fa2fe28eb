"""Login transactions: begun by a protocol, loaded by the pages, finished once."""

from __future__ import annotations

import pytest

from idp.errors import ExpiredError
from idp.transactions import TransactionStore
from idp.ttl import DatabaseTtlStore


@pytest.fixture
def transactions(db: None) -> TransactionStore:
    return TransactionStore(DatabaseTtlStore(), ttl=60)


async def test_begun_transaction_loads_with_its_request(transactions: TransactionStore) -> None:
    begun = await transactions.begin(realm="master", protocol="saml", client="https://sp",
                                     request={"acs": "https://sp/acs"}, force_authn=True)
    loaded = await transactions.load("master", begun.id)
    assert loaded == begun
    assert loaded.force_authn and not loaded.is_passive


async def test_transaction_finishes_once(transactions: TransactionStore) -> None:
    begun = await transactions.begin(realm="master", protocol="saml", client="c", request={})
    assert (await transactions.finish("master", begun.id)).id == begun.id
    with pytest.raises(ExpiredError):
        await transactions.finish("master", begun.id)
    with pytest.raises(ExpiredError):
        await transactions.load("master", begun.id)


async def test_transaction_belongs_to_its_realm(transactions: TransactionStore) -> None:
    begun = await transactions.begin(realm="master", protocol="saml", client="c", request={})
    with pytest.raises(ExpiredError):
        await transactions.load("other", begun.id)


@pytest.mark.parametrize("bad_id", ["", "short", "x" * 65, "é" * 30])
async def test_malformed_id_is_refused(transactions: TransactionStore, bad_id: str) -> None:
    with pytest.raises(ExpiredError):
        await transactions.load("master", bad_id)
